/**
 * `ses-audit findings [--since T] [--until T] [--severity S] [--json]`: the rows that matched a finding rule
 * (DESIGN.md, Findings), newest first, from the sparse index bySeverity: one Query per severity, never a Scan.
 */
import { makeDynamoClient } from '../../aws.js';
import { InputError } from '../../errors.js';
import { whoOf } from '../../ses/actor.js';
import { FINDING_RULES } from '../../ses/findings.js';
import { SEVERITIES, type AuditRow, type Severity } from '../../ses/row.js';
import { lastSecond, queryFindings, type TimeBound } from '../../store/history.js';
import { DEFAULT_TABLE_NAME } from '../../store/schema.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, explain } from '../explain.js';
import { write, type CliIO } from '../io.js';
import { integer, time } from '../parse.js';
import { renderTable, tableWidth, type Column } from '../table.js';

export const DEFAULT_FINDINGS_LIMIT = 100;

const HELP_AFTER = `
S is high, medium or low (default low: every finding); T as for history (a date, an ISO time with a zone,
today, yesterday, or an age such as 7d). Without --since, from the beginning.

The rules (docs/findings.md has the attack step each one catches, its sources and how to tune it):
${FINDING_RULES.map((r) => `  ${r.id.padEnd(32)} ${r.severity.padEnd(7)} ${r.description}`).join('\n')}

Environment: TABLE_NAME (default ${DEFAULT_TABLE_NAME}), AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's usual
credentials and region settings.`;

function severity(raw: string): Severity {
  const s = raw.trim().toLowerCase();
  const found = SEVERITIES.find((v) => v === s);
  if (!found) throw new UsageError(`--severity ${JSON.stringify(raw)}: one of ${SEVERITIES.join(', ')}`);
  return found;
}

export const findingsCommand: CommandFactory = ({ io }) =>
  new Command('findings')
    .summary('rows that matched a finding rule (SES abuse, risky changes), newest first')
    .description('Rows with findings of severity S or higher, newest first, from the bySeverity index.')
    .option('--severity <s>', 'high, medium or low (default low: all)', severity)
    .option('--since <time>', 'from T on', time())
    .option('--until <time>', 'up to and including T', time())
    .option('--limit <n>', `at most N rows (default ${DEFAULT_FINDINGS_LIMIT})`, integer(1, 1_000_000))
    .option('--json', 'one JSON object per line (the row as stored, and "who") instead of a table')
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (opts) => {
      if (opts.since && opts.until && opts.since.utc > lastSecond(opts.until)) {
        throw new UsageError(`--since ${opts.since.utc} is after --until ${lastSecond(opts.until)}`);
      }
      await runFindings(io, awsEnv(io.env, opts), {
        threshold: opts.severity ?? 'low',
        since: opts.since,
        until: opts.until,
        limit: opts.limit ?? DEFAULT_FINDINGS_LIMIT,
        json: Boolean(opts.json),
      });
    });

export interface FindingsOptions {
  threshold: Severity;
  since?: TimeBound;
  until?: TimeBound;
  limit: number;
  json: boolean;
}

export async function runFindings(io: CliIO, env: CliIO['env'], o: FindingsOptions): Promise<number> {
  const tableName = env.TABLE_NAME || DEFAULT_TABLE_NAME;
  const client = makeDynamoClient(env);
  try {
    await client.config.region();
    const rows: AuditRow[] = [];
    let more = false;
    for await (const row of queryFindings(client, tableName, { ...o, limit: o.limit + 1, whole: o.json })) {
      if (rows.length === o.limit) {
        more = true;
        break;
      }
      rows.push(row);
      if (o.json) await write(io.stdout, `${JSON.stringify({ ...row, who: whoOf(row) })}\n`);
    }
    if (rows.length === 0) {
      io.stderr.write(`no findings of severity ${o.threshold}${o.threshold === 'high' ? '' : ' or higher'}${windowText(o)}\n`);
      return 0;
    }
    if (!o.json) await write(io.stdout, formatFindings(rows, tableWidth(io.columns, io.env)));
    if (more) io.stderr.write(`(newest ${o.limit === 1 ? 'row' : `${o.limit} rows`} shown; more with --limit N)\n`);
    return rows.length;
  } catch (err) {
    throw new InputError(explain(err, env, { tableName }), err);
  } finally {
    client.destroy();
  }
}

function windowText(o: FindingsOptions): string {
  if (o.since && o.until) return ` between ${o.since.utc} and ${lastSecond(o.until)}`;
  if (o.since) return ` since ${o.since.utc}`;
  if (o.until) return ` until ${lastSecond(o.until)}`;
  return '';
}

/** TIME, SEVERITY, FINDING, IDENTITY, ACTION and WHO stay; ACCOUNT and REGION follow as the width allows. */
export function formatFindings(rows: AuditRow[], width?: number): string {
  const columns: Column<AuditRow>[] = [
    { header: 'TIME', value: (r) => r.eventKey.split('#')[0] || r.eventTime },
    { header: 'SEVERITY', value: (r) => r.severity ?? '-' },
    // The finding ids are what the view is for: kept whole as long as anything else can give way.
    { header: 'FINDING', value: (r) => (r.findings ?? []).join(','), soft: 32, min: 24 },
    { header: 'IDENTITY', value: (r) => r.identity, soft: 26, min: 12, ellipsis: 'middle' },
    { header: 'ACTION', value: (r) => r.eventName, soft: 22, min: 10, drop: 3 },
    { header: 'WHO', value: (r) => whoOf(r), soft: 20, min: 8, ellipsis: 'middle' },
    { header: 'ACCOUNT', value: (r) => r.accountId ?? '-', drop: 2 },
    { header: 'REGION', value: (r) => r.awsRegion ?? '-', drop: 1 },
  ];
  return renderTable(columns, rows, width);
}
