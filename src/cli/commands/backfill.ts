/**
 * `ses-audit backfill s3://bucket/prefix`: the log files a trail bucket already holds, into the table (the
 * work is src/backfill/run.ts; this file is the command line: options, progress, summary, resume hint).
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { cloudTrailClients, makeDynamoClient, makeS3Client } from '../../aws.js';
import { Backfill, type BackfillDeps, type BackfillOptions } from '../../backfill/run.js';
import { ENV, loadConfig, type Config } from '../../config.js';
import { Ledger } from '../../store/ledger.js';
import { cloudTrailKeySource, fileKeySource } from '../../trail/public-keys.js';
import { InputError, isRetryable, reasonOf } from '../../errors.js';
import type { TrailSummary } from '../../pipeline.js';
import { parseS3Uri, s3Uri } from '../../trail/object.js';
import { s3Error } from '../../trail/source.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, dynamoProblem, explain } from '../explain.js';
import { badRecordWarnings, formatBytes, shellQuote } from '../format.js';
import type { CliIO } from '../io.js';
import { day, duration, integer } from '../parse.js';
import { Progress, bar, formatDuration, formatRate } from '../progress.js';
import { displayWidth } from '../table.js';

export const DEFAULT_BACKFILL_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
const DEFAULT_PROGRESS_MS = 5000;

const HELP_AFTER = `
PREFIX is a key prefix as ListObjectsV2 takes it: the bucket root, a trail's prefix ("my trail/"),
".../AWSLogs/", an organization ("AWSLogs/o-xxxxxxxxxx/"), an account, ".../CloudTrail/REGION/" or deeper.
End it with "/" to mean a folder. Digest, Insights and other files that are not log files are skipped.
--since and --until select by the delivery date in the keys (UTC days): a date (2026-11-20), today,
yesterday, an age (7d: the day 7 days ago) or an ISO time (its day).

On a terminal a progress line is redrawn in place; otherwise a progress line is printed periodically.
A summary follows. A file that fails gets one line "error: s3://BUCKET/KEY: REASON" and the others go on.
Exit status 0 when every file was processed, 1 when any failed, 2 on usage errors, 130 when interrupted.
Ctrl-C stops listing and lets the files in flight finish (Ctrl-C again abandons them); the summary so far
and the --start-after KEY to resume with are printed. Rows have deterministic keys: running again, or over
files already processed, overwrites rows and never duplicates them.
Environment: TABLE_NAME (required unless --dry-run), WRITE_CONCURRENCY, RETENTION_DAYS, KEEP_READ_ONLY,
KEEP_DATA_EVENTS, EXPECTED_BUCKET_OWNER, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's
usual credentials and region settings.`;

export interface BackfillHooks {
  /**
   * Subscribes to interrupts (Ctrl-C) and returns the unsubscribe function. Default: this process's SIGINT
   * and SIGTERM, for as long as the command runs.
   */
  onInterrupt?: (handler: () => void) => () => void;
  /** Called after each file is finished (processed or failed), with the count so far. */
  onFileDone?: (done: number) => void;
  /** ListObjectsV2 MaxKeys (tests). */
  pageSize?: number;
  /** The terminal bar's redraw period (tests: 0 redraws on every finished file, whatever the machine's speed). */
  redrawMs?: number;
}

interface RunOptions extends BackfillOptions {
  dryRun: boolean;
  progressMs: number;
}

/** The backfill command; `hooks` let tests interrupt it and page the listing. */
export function backfillCommandWith(hooks: BackfillHooks): CommandFactory {
  return ({ io, setExitCode }) =>
    new Command('backfill')
      .summary("process a trail bucket's existing log files")
      .description("Processes the CloudTrail log files already in a trail bucket and writes their SES audit rows to the table.")
      .usage('s3://BUCKET[/PREFIX] [options]')
      .argument('<s3-uri>', 's3://BUCKET[/PREFIX]')
      .option('--since <day>', 'only log files delivered on or after DAY (UTC, from the key path)', day())
      .option('--until <day>', 'only log files delivered on or before DAY (inclusive)', day())
      .option(
        '--concurrency <n>',
        `files processed at once (default ${DEFAULT_BACKFILL_CONCURRENCY}, at most ${MAX_CONCURRENCY}); each file writes with WRITE_CONCURRENCY BatchWriteItem calls in flight`,
        integer(1, MAX_CONCURRENCY),
      )
      .option('--dry-run', 'write nothing; count records, SES events and rows')
      .option('--start-after <key>', 'list only keys after KEY (resume an interrupted run: it prints the KEY to use)')
      .option('--progress-interval <duration>', 'seconds between progress lines when stderr is not a terminal (default 5; 0: none)', duration({ minMs: 0, maxMs: 86_400_000 }))
      .option('--region <region>', REGION_HELP)
      .option('--profile <name>', PROFILE_HELP)
      .addHelpText('after', HELP_AFTER)
      .action(async (target, opts) => {
        const uri = parseS3Uri(target);
        if (!uri || !uri.bucket) throw new UsageError(`${target}: not an s3://BUCKET/PREFIX`);
        if (opts.since && opts.until && opts.since > opts.until) throw new UsageError(`--since ${opts.since} is after --until ${opts.until}`);
        const env = awsEnv(io.env, opts);
        const options: RunOptions = {
          bucket: uri.bucket,
          prefix: uri.key,
          since: opts.since,
          until: opts.until,
          startAfter: opts.startAfter || undefined,
          concurrency: opts.concurrency ?? DEFAULT_BACKFILL_CONCURRENCY,
          dryRun: Boolean(opts.dryRun),
          progressMs: opts.progressInterval ?? DEFAULT_PROGRESS_MS,
        };
        setExitCode(await runBackfill(options, io, env, hooks));
      });
}

export const backfillCommand: CommandFactory = backfillCommandWith({});

async function runBackfill(o: RunOptions, io: CliIO, env: CliIO['env'], hooks: BackfillHooks): Promise<number> {
  const config = loadConfig(env, { requireTable: !o.dryRun });
  const s3 = makeS3Client(env);
  // Every file in flight has its own writer with WRITE_CONCURRENCY calls: size the socket pool for all of them.
  const dynamo = o.dryRun ? undefined : makeDynamoClient(env, { forWriter: true, maxSockets: o.concurrency * config.writeConcurrency });
  // The ledger, as the function keeps it: files recorded, digests verified, so the window can be verified.
  const ledgerClient = dynamo && config.ledgerTableName ? makeDynamoClient(env) : undefined;
  const trust =
    ledgerClient && config.ledgerTableName
      ? {
          ledger: new Ledger(ledgerClient, config.ledgerTableName),
          keys: config.publicKeysFile ? await fileKeySource(config.publicKeysFile) : cloudTrailKeySource(cloudTrailClients(env)),
        }
      : undefined;
  try {
    // Without a region nothing can be listed: say so before starting.
    await s3.config.region();
    if (dynamo) {
      const problem = await checkTable(dynamo, config.tableName, env);
      if (problem) throw new InputError(problem);
    }
    return await new BackfillCommand(o, config, io, env, hooks, s3, dynamo, trust).run();
  } finally {
    s3.destroy();
    dynamo?.destroy();
    ledgerClient?.destroy();
  }
}

/**
 * A missing table, an unreachable DynamoDB or refused credentials would fail every file: say so once, before
 * starting. Throttling, server errors and a missing DescribeTable permission are left to the writes.
 */
async function checkTable(client: DynamoDBClient, tableName: string, env: CliIO['env']): Promise<string | undefined> {
  try {
    await client.send(new DescribeTableCommand({ TableName: tableName }));
    return undefined;
  } catch (err) {
    const explained = explain(err, env, { tableName });
    if (dynamoProblem(err, tableName, env) !== undefined || explained !== reasonOf(err)) return explained;
    const name = err instanceof Error ? err.name : '';
    if (name === 'AccessDeniedException' || isRetryable(err)) return undefined;
    return `cannot use table ${tableName}: ${name ? `${name}: ` : ''}${reasonOf(err)}`;
  }
}

const processInterrupts = (handler: () => void): (() => void) => {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
};

/** One run as the user sees it: the opening line, the progress, the messages, the summary. */
class BackfillCommand {
  private readonly backfill: Backfill;
  private readonly progress: Progress;
  private readonly started = performance.now();
  private readonly target: string;
  private unsubscribe: () => void = () => undefined;

  constructor(
    private readonly o: RunOptions,
    private readonly config: Config,
    private readonly io: CliIO,
    private readonly env: CliIO['env'],
    private readonly hooks: BackfillHooks,
    s3: S3Client,
    private readonly dynamo: DynamoDBClient | undefined,
    trust?: BackfillDeps['trust'],
  ) {
    this.target = s3Uri({ bucket: o.bucket, key: o.prefix });
    this.progress = new Progress({
      stream: io.stderr,
      tty: Boolean(io.isTTY),
      intervalMs: o.progressMs,
      ...(hooks.redrawMs !== undefined ? { redrawMs: hooks.redrawMs } : {}),
      render: (mode, columns) => this.render(mode, columns),
    });
    this.backfill = new Backfill(o, {
      s3,
      dynamo,
      ...(trust ? { trust } : {}),
      config,
      pageSize: hooks.pageSize,
      onFileDone: hooks.onFileDone,
      changed: () => this.progress.tick(),
      fileFailed: (uri, err) => this.progress.log(`error: ${uri}: ${explain(err, this.env)}`),
      badRecords: (uri, summary: TrailSummary) => {
        for (const line of badRecordWarnings(uri, summary)) this.progress.log(line);
      },
    });
  }

  async run(): Promise<number> {
    const o = this.o;
    const window = [o.since && `since ${o.since}`, o.until && `until ${o.until}`].filter(Boolean).join(', ');
    this.io.stderr.write(
      `backfill ${this.target}${window ? ` (${window})` : ''}${o.startAfter ? ` after ${o.startAfter}` : ''}: ` +
        `${o.concurrency} file${o.concurrency === 1 ? '' : 's'} at a time, ` +
        `${this.dynamo ? `writing to ${this.config.tableName}` : 'dry run, writing nothing'}` +
        `${this.dynamo ? (this.config.ledgerTableName ? `, recording files and digests in ${this.config.ledgerTableName}` : ` (no ${ENV.ledgerTableName}: nothing recorded in the ledger, digests skipped)`) : ''}\n`,
    );
    this.unsubscribe = (this.hooks.onInterrupt ?? processInterrupts)(() => this.interrupt());
    this.progress.start();
    try {
      await this.backfill.run();
    } finally {
      this.unsubscribe();
      this.progress.stop();
    }
    return this.finish();
  }

  private interrupt(): void {
    const n = this.backfill.inFlight;
    if (this.backfill.interrupt() === 'stopping') {
      this.progress.log(
        n ? `stopping: letting ${n} file${n === 1 ? '' : 's'} in flight finish (Ctrl-C again to abandon ${n === 1 ? 'it' : 'them'})` : 'stopping',
      );
    } else {
      // A third Ctrl-C gets Node's default: the process ends at once.
      this.unsubscribe();
      this.progress.log('abandoning the files in flight');
    }
  }

  /**
   * The progress text. While nothing is found yet it says what the listing has seen; then files, rate and
   * ETA always show, and the bar, bytes, rows and byte rate go (in that order, last first) when the
   * terminal is too narrow for them.
   */
  private render(mode: 'bar' | 'line', columns?: number): string {
    const b = this.backfill;
    const t = b.totals;
    const listing = !b.listingDone;
    const elapsedS = Math.max(1e-3, (performance.now() - this.started) / 1000);
    if (listing && t.found === 0) {
      const l = b.listStats;
      return `listing ${this.target}: ${l.objects} key${l.objects === 1 ? '' : 's'} in ${l.requests} request${l.requests === 1 ? '' : 's'}, no log files${this.o.since || this.o.until ? ' in the window' : ''} yet`;
    }
    const done = t.processed + t.failed;
    const bytes = b.bytesDone;
    const more = listing ? '+' : '';
    const fraction = t.foundBytes > 0 ? bytes / t.foundBytes : t.found > 0 ? done / t.found : 0;
    const byteRate = bytes / elapsedS;
    let eta = '--';
    if (t.found > 0 && done >= t.found && !listing) eta = '0 s';
    else if (byteRate > 0 && t.foundBytes > 0) eta = `${listing ? '≥' : ''}${formatDuration(((t.foundBytes - bytes) / byteRate) * 1000)}`;
    else if (done > 0) eta = `${listing ? '≥' : ''}${formatDuration(((t.found - done) / (done / elapsedS)) * 1000)}`;
    const percent = `${Math.floor(fraction * 100)}%`;
    const files = `${done}/${t.found}${more} files`;
    const rate = `${formatRate(done / elapsedS)} files/s`;
    const etaText = `ETA ${eta}${listing ? ' (still listing)' : ''}`;
    const failed = t.failed ? `${t.failed} failed` : '';
    const sizes = `${formatBytes(bytes)}/${formatBytes(t.foundBytes)}${more}`;
    const rows = this.dynamo ? `${t.rowsWritten} rows written` : `${t.rows} rows`;
    const byteRateText = `${formatBytes(Math.round(byteRate))}/s`;
    if (mode === 'line') {
      const parts = [files, sizes, rows, rate, byteRateText, etaText, failed, t.skipped ? `${t.skipped} skipped` : ''];
      return `progress: ${percent}, ${parts.filter(Boolean).join(', ')}`;
    }
    // Widest first; each next form drops the least needed part.
    const forms = [
      [bar(fraction), percent, [files, sizes, rows, rate, byteRateText, etaText, failed]],
      [bar(fraction), percent, [files, sizes, rate, etaText, failed]],
      [bar(fraction, 10), percent, [files, rate, etaText, failed]],
      ['', percent, [files, rate, etaText, failed]],
      ['', percent, [files, rate, `ETA ${eta}`, failed]],
    ] as const;
    const text = (f: (typeof forms)[number]) => `${f[0] ? `${f[0]} ` : ''}${f[1]} ${f[2].filter(Boolean).join(', ')}`;
    const fits = forms.find((f) => columns === undefined || displayWidth(text(f)) < columns);
    return text(fits ?? forms[forms.length - 1]);
  }

  private finish(): number {
    const b = this.backfill;
    const t = b.totals;
    const o = this.o;
    const ms = performance.now() - this.started;
    const err = this.io.stderr;
    if (b.listError !== undefined) err.write(`error: ${this.target}: ${this.listingReason(b.listError)}\n`);
    if (t.found === 0 && !b.stopping && b.listError === undefined) {
      const window = o.since || o.until ? ` dated ${o.since ?? '…'} to ${o.until ?? '…'}` : '';
      err.write(`note: no CloudTrail log files${window} under ${this.target}\n`);
    }
    const interrupted = b.stopping;
    if (interrupted) {
      const bits = [];
      if (t.abandoned) bits.push(`${t.abandoned} file${t.abandoned === 1 ? '' : 's'} in flight abandoned`);
      if (t.notStarted) bits.push(`${t.notStarted} listed file${t.notStarted === 1 ? '' : 's'} not started`);
      err.write(`interrupted${bits.length ? `: ${bits.join(', ')}` : ''}\n`);
    }
    const l = b.listStats;
    const listing = [`listing: ${l.objects} key${l.objects === 1 ? '' : 's'} in ${l.requests} ListObjectsV2 request${l.requests === 1 ? '' : 's'}`];
    if (l.jumps) listing.push(`${l.jumps} of them skipping ahead over dates outside the window`);
    if (t.outside) listing.push(`${t.outside} key${t.outside === 1 ? '' : 's'} outside the window passed over`);
    err.write(`${listing.join(', ')}\n`);
    const files = [`${t.processed} file${t.processed === 1 ? '' : 's'} processed`, `${t.failed} failed`, `${t.skipped} skipped (not log files)`];
    if (t.digests) files.push(`${t.digests} digest${t.digests === 1 ? '' : 's'} recorded`);
    const content = [`${t.records} records`, `${t.sesEvents} SES events`];
    content.push(this.dynamo ? `${t.rowsWritten} rows written` : `${t.rows} rows (dry run: nothing written)`);
    if (t.filtered) content.push(`${t.filtered} filtered`);
    if (t.duplicates) content.push(`${t.duplicates} repeated events`);
    if (t.badRecords) content.push(`${t.badRecords} bad records`);
    const retries = [];
    if (t.fileRetries) retries.push(`${t.fileRetries} file retries`);
    if (t.writeRetries) retries.push(`${t.writeRetries} write retries`);
    err.write(
      `summary: ${files.join(', ')}; ${content.join(', ')}; ` +
        `${formatBytes(t.sourceBytes)} read (${formatBytes(t.jsonBytes)} JSON) in ${formatDuration(ms)}, ` +
        `${formatRate((t.processed + t.failed) / Math.max(ms / 1000, 1e-3))} files/s` +
        `${retries.length ? `; ${retries.join(', ')}` : ''}\n`,
    );
    const resume = b.resumeKey;
    if (interrupted || (b.listError !== undefined && resume !== undefined)) {
      const again = ['ses-audit', 'backfill', this.target];
      if (o.since) again.push('--since', o.since);
      if (o.until) again.push('--until', o.until);
      if (o.concurrency !== DEFAULT_BACKFILL_CONCURRENCY) again.push('--concurrency', String(o.concurrency));
      if (o.dryRun) again.push('--dry-run');
      if (resume !== undefined) again.push('--start-after', resume);
      err.write(`to resume: ${again.map(shellQuote).join(' ')}\n`);
    }
    if (interrupted) return 130;
    return t.failed || b.listError !== undefined ? 1 : 0;
  }

  /** One line for a failed ListObjectsV2 call. */
  private listingReason(err: unknown): string {
    const explained = explain(err, this.env, { service: 'S3' });
    if (explained !== reasonOf(err)) return explained;
    const name = err instanceof Error ? err.name : '';
    if (name === 'NoSuchBucket') return 'no such bucket';
    const status = s3StatusOf(err);
    if (name === 'AccessDenied' || status === 403) {
      return 'access denied listing the bucket (s3:ListBucket on the bucket, and the expected bucket owner)';
    }
    return reasonOf(s3Error(err)).replace(/^S3 read failed/, 'listing failed');
  }
}

function s3StatusOf(err: unknown): number | undefined {
  if (typeof err !== 'object' || err === null || !('$metadata' in err)) return undefined;
  const meta = err.$metadata;
  if (typeof meta !== 'object' || meta === null || !('httpStatusCode' in meta)) return undefined;
  return typeof meta.httpStatusCode === 'number' ? meta.httpStatusCode : undefined;
}
