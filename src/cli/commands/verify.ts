/**
 * `ses-audit verify [--since T] [--until T] [--grace DURATION] [--json] [--rows] [--repair]`: reconciles the
 * ingestion ledger with CloudTrail's signed digests over a window of delivery time (DESIGN.md, Trust).
 */
import { makeDynamoClient, makeS3Client } from '../../aws.js';
import { loadConfig, ENV } from '../../config.js';
import { ConfigError, InputError } from '../../errors.js';
import { checkRows, repair, type RepairResult, type RowsCheck } from '../../repair.js';
import { Ledger } from '../../store/ledger.js';
import type { VerifyReport } from '../../store/reconcile.js';
import { DEFAULT_TABLE_NAME } from '../../store/schema.js';
import { DEFAULT_GRACE_MS, reconcileWindow } from '../../trust.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, explain } from '../explain.js';
import { write, type CliIO } from '../io.js';
import { duration, time, utcSecond } from '../parse.js';
import { lastSecond, type TimeBound } from '../../store/history.js';

const DAY_MS = 86_400_000;

const HELP_AFTER = `
The window is on delivery time: a log file's is the timestamp in its key, a digest's its digestEndTime;
digests up to an hour after --until count too, since they attest the window's last files. Default: the
last 24 hours. --grace (default 2h) leaves files delivered that recently out of "unattested" and
"missing": their digest may not be out yet. T as for history; DURATION like 30m, 2h, 1d.

Reports: missing (files a valid digest lists that were never ingested), unattested (ingested files no
valid digest lists), tampered (ingested files whose hash differs from their digest's), failed (files whose
reading failed), invalid digests and chain gaps. Each file is in at most one list. Exit 0 when every log
file is accounted for and no digest is invalid or out of chain, 1 otherwise.

--rows also reads the untrusted files (and the attested files that could hold the same events) from S3 to
list the rows that came from them, and those that replaced a row an attested file had written.
--repair (implies --rows) ingests the missing files, the attested version of tampered files (a versioned
bucket keeps it), and the attested files whose rows were overwritten; then reports again.

Needs LEDGER_TABLE_NAME (the stack's LedgerTableName output); TABLE_NAME for --rows and --repair.`;

export const verifyCommand: CommandFactory = ({ io, setExitCode }) =>
  new Command('verify')
    .summary("reconcile the ingestion ledger with CloudTrail's signed digests")
    .description('Reconciles the ingestion ledger with the digests over a window of delivery time.')
    .option('--since <time>', 'from T on (default: 24 hours ago)', time())
    .option('--until <time>', 'up to and including T (default: now)', time())
    .option('--grace <duration>', 'leave files this recent out of unattested and missing (default 2h)', duration({ minMs: 0, maxMs: 30 * DAY_MS, bareUnit: 'h' }))
    .option('--json', 'print the report as one JSON object')
    .option('--rows', 'list the rows from untrusted files (reads those files from S3)')
    .option('--repair', 're-ingest from attested sources what can be repaired, then report again')
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (opts) => {
      const now = new Date();
      const since: TimeBound = opts.since ?? { utc: utcSecond(now.getTime() - DAY_MS), isDate: false };
      const until = opts.until ? lastSecond(opts.until) : utcSecond(now.getTime());
      if (since.utc > until) throw new UsageError(`--since ${since.utc} is after --until ${until}`);
      const env = awsEnv(io.env, opts);
      const ok = await runVerify(io, env, {
        since: since.utc,
        until,
        graceMs: opts.grace ?? DEFAULT_GRACE_MS,
        json: Boolean(opts.json),
        rows: Boolean(opts.rows || opts.repair),
        repair: Boolean(opts.repair),
        now,
      });
      setExitCode(ok ? 0 : 1);
    });

export interface VerifyOptions {
  since: string;
  until: string;
  graceMs: number;
  json: boolean;
  rows: boolean;
  repair: boolean;
  now: Date;
}

/** Runs and prints the reconciliation; true when the (final) report is clean. */
export async function runVerify(io: CliIO, env: CliIO['env'], o: VerifyOptions): Promise<boolean> {
  const ledgerTable = env[ENV.ledgerTableName];
  if (!ledgerTable) {
    throw new ConfigError(`${ENV.ledgerTableName} is not set: verify reads the ingestion ledger (the stack's LedgerTableName output)`);
  }
  const config = loadConfig({ ...env, [ENV.tableName]: env[ENV.tableName] || DEFAULT_TABLE_NAME });
  const dynamo = makeDynamoClient(env);
  const writer = o.repair ? makeDynamoClient(env, { forWriter: true }) : undefined;
  const s3 = o.rows ? makeS3Client(env) : undefined;
  const ledger = new Ledger(dynamo, ledgerTable);
  try {
    await dynamo.config.region();
    const window = { since: o.since, until: o.until, now: o.now, graceMs: o.graceMs };
    let { report, logFiles, digests } = await reconcileWindow(ledger, window);
    let rows: RowsCheck | undefined;
    let repaired: RepairResult | undefined;
    if (s3) {
      const deps = { s3, dynamo, ...(writer ? { writer } : {}), ledger, config, now: () => new Date() };
      rows = await checkRows(deps, report, logFiles);
      if (o.repair) {
        const attested = new Map(digests.filter((d) => d.verdict === 'valid').flatMap((d) => Object.entries(d.files)));
        repaired = await repair(deps, report, rows, (uri) => attested.get(uri));
        ({ report, logFiles, digests } = await reconcileWindow(ledger, window));
        rows = await checkRows(deps, report, logFiles);
      }
    }
    if (o.json) await write(io.stdout, `${JSON.stringify({ ...report, ...(rows ? { rows } : {}), ...(repaired ? { repaired } : {}) })}\n`);
    else await write(io.stdout, formatReport(ledgerTable, report, rows, repaired));
    return report.ok;
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw new InputError(explain(err, env, { tableName: ledgerTable }), err);
  } finally {
    dynamo.destroy();
    writer?.destroy();
    s3?.destroy();
  }
}

export function formatReport(ledgerTable: string, r: VerifyReport, rows?: RowsCheck, repaired?: RepairResult): string {
  const lines: string[] = [];
  const hours = (s: number) => (s % 3600 === 0 ? `${s / 3600}h` : `${Math.round(s / 60)}m`);
  lines.push(`ledger ${ledgerTable}: log files delivered ${r.window.since} .. ${r.window.until} (grace ${hours(r.window.graceSeconds)})`);
  lines.push(`  log files  ${r.logFiles.ingested} ingested, ${r.logFiles.attested} attested`);
  const unverifiable = r.digests.unverifiable ? `, ${r.digests.unverifiable} unverifiable (no signature to check)` : '';
  lines.push(`  digests    ${r.digests.verified} verified, ${r.digests.invalid} invalid, ${r.digests.chainGaps} chain gaps${unverifiable}`);
  const list = (title: string, items: string[]) => {
    if (items.length === 0) return;
    lines.push(`  ${title} (${items.length}):`);
    for (const item of items) lines.push(`    ${item}`);
  };
  list('MISSING: a valid digest lists them, never ingested', r.missing);
  list('UNATTESTED: ingested, no valid digest lists them', r.unattested);
  list('TAMPERED: content differs from what the digest attests', r.tampered);
  list('FAILED: reading failed', r.failed);
  list('INVALID DIGESTS', r.invalidDigests.map((p) => `${p.uri}: ${p.reason}`));
  list('CHAIN GAPS', r.chainGaps.map((p) => `${p.uri}: ${p.reason}`));
  if (rows) {
    list('rows from untrusted files', rows.untrusted.map((x) => `${x.identity}  ${x.eventKey}  from ${x.sourceObject}`));
    list('of which replaced attested rows', rows.overwritten.map((x) => `${x.identity}  ${x.eventKey}  (attested in ${x.attestedSource})`));
    list('could not be read', rows.unreadable.map((p) => `${p.uri}: ${p.reason}`));
  }
  if (repaired) {
    list('repair: ingested', repaired.reingested);
    list(
      'repair: rows restored from the attested version (the current object still differs: restore it in S3)',
      repaired.restoredVersions.map((v) => `${v.uri} (version ${v.versionId})`),
    );
    list('repair: not repairable', repaired.notRepairable.map((p) => `${p.uri}: ${p.reason}`));
  }
  const problems = r.missing.length + r.unattested.length + r.tampered.length + r.failed.length + r.digests.invalid + r.digests.chainGaps;
  lines.push(r.ok ? 'verdict: every log file is accounted for' : `verdict: ${problems} problem${problems === 1 ? '' : 's'}`);
  return `${lines.join('\n')}\n`;
}
