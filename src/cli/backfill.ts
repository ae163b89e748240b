/**
 * `ses-audit backfill s3://bucket/prefix`: the log files a trail bucket already holds, into the table.
 *
 * Listing and processing overlap: one lister walks the bucket with ListObjectsV2 and feeds a bounded queue
 * that `--concurrency` workers drain (GetObject streamed into the same pipeline as the Lambda). Memory stays
 * flat however large the bucket.
 *
 * Listing with a date window: keys sort by path, and a trail's files for one region sit under
 * `.../CloudTrail/REGION/YYYY/MM/DD/`, so the days of a region are contiguous and in date order. When the
 * lister meets a key dated before `--since`, it restarts the listing (StartAfter) at that region's first day
 * in the window; after `--until`, it jumps past the region. Accounts, regions, organization trails and
 * custom prefixes are discovered on the way, with no extra calls; the only keys listed outside the window
 * are those of the page that reveals a region boundary. When the prefix itself names a region folder, the
 * first request starts at `--since`. No object body outside the window is ever read.
 */
import { DescribeTableCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, type S3Client } from '@aws-sdk/client-s3';
import { makeDynamoClient, makeS3Client } from '../aws.js';
import { dynamoProblem } from '../store/table.js';
import { loadConfig, type Config } from '../config.js';
import { SesAuditError, isRetryable, reasonOf } from '../errors.js';
import { ingest } from '../ingest.js';
import { processTrail, type TrailSummary } from '../pipeline.js';
import { classifyKey } from '../trail/keys.js';
import { parseS3Uri, s3Uri } from '../trail/object.js';
import type { ByteSource } from '../trail/reader.js';
import { openS3Object, s3Error } from '../trail/source.js';
import { badRecordWarnings, formatBytes } from './format.js';
import { UsageError, parseCommandArgs, usageFailure, type CliIO, type Command } from './io.js';
import { Progress, bar, formatDuration, formatRate } from './progress.js';

export const DEFAULT_BACKFILL_CONCURRENCY = 4;
const MAX_CONCURRENCY = 64;
/** Log files listed ahead of the workers (two ListObjectsV2 pages). */
const QUEUE_CAPACITY = 2000;
/** Attempts per file when the failure is retryable (throttling, network, writes that ran out of retries). */
const FILE_ATTEMPTS = 3;

export const BACKFILL_HELP = `Usage: ses-audit backfill s3://BUCKET[/PREFIX] [options]

Processes the CloudTrail log files already in a trail bucket and writes their SES audit rows to the table.
PREFIX is a key prefix as ListObjectsV2 takes it: the bucket root, a trail's prefix ("my trail/"),
".../AWSLogs/", an organization ("AWSLogs/o-xxxxxxxxxx/"), an account, ".../CloudTrail/REGION/" or deeper.
End it with "/" to mean a folder. Digest, Insights and other files that are not log files are skipped.

Options:
  --since DATE              only log files delivered on or after DATE (YYYY-MM-DD, UTC, from the key path)
  --until DATE              only log files delivered on or before DATE (inclusive)
  --concurrency N           files processed at once (default ${DEFAULT_BACKFILL_CONCURRENCY}, at most ${MAX_CONCURRENCY}); each file
                            writes with WRITE_CONCURRENCY BatchWriteItem calls in flight
  --dry-run                 write nothing; count records, SES events and rows
  --start-after KEY         list only keys after KEY (resume an interrupted run: it prints the KEY to use)
  --progress-interval SEC   seconds between progress lines when stderr is not a terminal (default 5; 0: none)
  -h, --help                show this help

On a terminal a progress line is redrawn in place; otherwise a progress line is printed periodically.
A summary follows. A file that fails gets one line "error: s3://BUCKET/KEY: REASON" and the others go on.
Exit status 0 when every file was processed, 1 when any failed, 2 on usage errors, 130 when interrupted.
Ctrl-C stops listing and lets the files in flight finish (Ctrl-C again abandons them); the summary so far
and the --start-after KEY to resume with are printed. Rows have deterministic keys: running again, or over
files already processed, overwrites rows and never duplicates them.
Environment: TABLE_NAME (required unless --dry-run), WRITE_CONCURRENCY, RETENTION_DAYS, KEEP_READ_ONLY,
KEEP_DATA_EVENTS, EXPECTED_BUCKET_OWNER, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's
usual credentials and region settings.`;


interface Options {
  bucket: string;
  prefix: string;
  since?: string;
  until?: string;
  concurrency: number;
  dryRun: boolean;
  startAfter?: string;
  progressMs: number;
}

function parseOptions(args: string[]): Options | 'help' {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      concurrency: { type: 'string' },
      'dry-run': { type: 'boolean' },
      'start-after': { type: 'string' },
      'progress-interval': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length !== 1) {
    throw new UsageError(positionals.length ? 'give one s3://BUCKET/PREFIX' : 'no s3://BUCKET/PREFIX given');
  }
  const uri = parseS3Uri(positionals[0]);
  if (!uri || !uri.bucket) throw new UsageError(`${positionals[0]}: not an s3://BUCKET/PREFIX`);
  const since = values.since === undefined ? undefined : parseDate('--since', values.since);
  const until = values.until === undefined ? undefined : parseDate('--until', values.until);
  if (since && until && since > until) throw new UsageError(`--since ${since} is after --until ${until}`);
  let concurrency = DEFAULT_BACKFILL_CONCURRENCY;
  if (values.concurrency !== undefined) {
    concurrency = Number(values.concurrency);
    if (!/^\d+$/.test(values.concurrency) || concurrency < 1 || concurrency > MAX_CONCURRENCY) {
      throw new UsageError(`--concurrency "${values.concurrency}": a whole number from 1 to ${MAX_CONCURRENCY}`);
    }
  }
  let progressMs = 5000;
  if (values['progress-interval'] !== undefined) {
    const s = Number(values['progress-interval']);
    if (values['progress-interval'].trim() === '' || !Number.isFinite(s) || s < 0) {
      throw new UsageError(`--progress-interval "${values['progress-interval']}": seconds, 0 or more`);
    }
    progressMs = Math.round(s * 1000);
  }
  return {
    bucket: uri.bucket,
    prefix: uri.key,
    since,
    until,
    concurrency,
    dryRun: Boolean(values['dry-run']),
    startAfter: values['start-after'] || undefined,
    progressMs,
  };
}

function parseDate(flag: string, raw: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(raw.trim());
  if (m) {
    const t = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
    if (t.toISOString().slice(0, 10) === m[0]) return m[0];
  }
  throw new UsageError(`${flag} "${raw}": not a date (YYYY-MM-DD)`);
}

// ---------------------------------------------------------------------------------------------------------
// Listing

export interface ListOptions {
  bucket: string;
  /** Key prefix ('' for the whole bucket). */
  prefix: string;
  /** Inclusive YYYY-MM-DD bounds on the date in the key path. */
  since?: string;
  until?: string;
  /** List only keys after this one. */
  startAfter?: string;
  expectedBucketOwner?: string;
  /** MaxKeys per request (S3's default and maximum: 1000). */
  pageSize?: number;
  abortSignal?: AbortSignal;
}

export type ListedEntry =
  /** A CloudTrail log file in the date window: to process. */
  | { kind: 'log'; key: string; size: number; date: string }
  /** Not a log file (digest, Insights, another service's file, a folder marker): skipped, counted. */
  | { kind: 'skipped'; key: string; why: string }
  /** A dated CloudTrail key outside the window (only those the listing could not jump over are seen). */
  | { kind: 'outside'; key: string };

export interface ListStats {
  requests: number;
  objects: number;
  /** Requests that restarted the listing further on (StartAfter) to skip dates outside the window. */
  jumps: number;
}

// `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail[-Kind]/REGION/`, the folder whose subfolders are the days.
const REGION_ROOT_RE = /^(?:.*\/)?AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?\d{12}\/CloudTrail(?:-[A-Za-z]+)?\/[^/]+\//s;

/**
 * Where the listing may resume after a key dated `date` outside the window: that region folder's first day
 * in the window, or past the region folder. Only called for keys classifyKey dated, whose last four path
 * segments are YYYY/MM/DD/FILE.
 */
function jumpAfter(key: string, date: string, since?: string, until?: string): string | undefined {
  const root = key.split('/').slice(0, -4).join('/') + '/';
  if (since !== undefined && date < since) return root + since.replace(/-/g, '/');
  // '0' follows '/' in byte order: every key under `.../us-east-1/` sorts before `.../us-east-10`.
  if (until !== undefined && date > until) return root.slice(0, -1) + '0';
  return undefined;
}

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * Lists a trail bucket page by page (one array of entries per ListObjectsV2 response), classifying each key
 * and skipping ahead over dates outside [since, until] as described at the top of this file.
 */
export async function* listTrailObjects(
  s3: Pick<S3Client, 'send'>,
  o: ListOptions,
  stats: ListStats = { requests: 0, objects: 0, jumps: 0 },
): AsyncGenerator<ListedEntry[]> {
  const { since, until } = o;
  const inWindow = (date: string) => (since === undefined || date >= since) && (until === undefined || date <= until);
  // A prefix that reaches a region folder: start at the first day of the window.
  const root = REGION_ROOT_RE.exec(o.prefix)?.[0];
  let startAfter = laterOf(o.startAfter, root !== undefined && since !== undefined ? root + since.replace(/-/g, '/') : undefined);
  let token: string | undefined;
  for (;;) {
    const res = await s3.send(
      new ListObjectsV2Command({
        Bucket: o.bucket,
        Prefix: o.prefix || undefined,
        ...(token ? { ContinuationToken: token } : { StartAfter: startAfter }),
        MaxKeys: o.pageSize,
        ExpectedBucketOwner: o.expectedBucketOwner,
      }),
      { abortSignal: o.abortSignal },
    );
    stats.requests++;
    const contents = res.Contents ?? [];
    const entries: ListedEntry[] = [];
    let jump: string | undefined;
    for (const object of contents) {
      const key = object.Key;
      if (key === undefined) continue;
      stats.objects++;
      const info = classifyKey(key);
      const date = info.kind === 'other' ? undefined : info.date;
      jump = undefined;
      if (date !== undefined && !inWindow(date)) {
        entries.push({ kind: 'outside', key });
        jump = jumpAfter(key, date, since, until);
      } else if (info.kind === 'log') {
        entries.push({ kind: 'log', key, size: object.Size ?? 0, date: info.date });
      } else {
        entries.push({ kind: 'skipped', key, why: info.kind === 'other' ? info.reason : info.kind });
      }
    }
    yield entries;
    if (!res.IsTruncated) return;
    const lastKey = contents.at(-1)?.Key;
    // The page ended outside the window: the rest of that region (up to the window) need not be listed.
    if (jump !== undefined && lastKey !== undefined && jump > lastKey) {
      startAfter = jump;
      token = undefined;
      stats.jumps++;
    } else if (res.NextContinuationToken) {
      token = res.NextContinuationToken;
    } else if (lastKey !== undefined) {
      startAfter = lastKey;
      token = undefined;
    } else {
      return;
    }
  }
}

// ---------------------------------------------------------------------------------------------------------
// The run

/** A bounded FIFO between the lister and the workers: push waits while it is full. */
class WorkQueue<T> {
  private items: T[] = [];
  private head = 0;
  private closed = false;
  private takers: ((item: T | undefined) => void)[] = [];
  private spaceWaiters: (() => void)[] = [];

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  async push(item: T): Promise<void> {
    if (this.closed) return;
    const taker = this.takers.shift();
    if (taker) return taker(item);
    this.items.push(item);
    while (this.size >= this.capacity && !this.closed) await new Promise<void>((resolve) => this.spaceWaiters.push(resolve));
  }

  take(): Promise<T | undefined> {
    if (this.size > 0) {
      const item = this.items[this.head];
      this.items[this.head++] = undefined as T;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items = this.items.slice(this.head);
        this.head = 0;
      }
      this.spaceWaiters.shift()?.();
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.takers.push(resolve));
  }

  /** No more items; `drop` discards the ones not taken yet and returns how many. */
  close(drop = false): number {
    this.closed = true;
    let dropped = 0;
    if (drop) {
      dropped = this.size;
      this.items = [];
      this.head = 0;
    }
    for (const taker of this.takers.splice(0)) taker(undefined);
    for (const waiter of this.spaceWaiters.splice(0)) waiter();
    return dropped;
  }
}

/**
 * The last key before which everything listed has been dealt with: what `--start-after` resumes from.
 * Keys are tracked in listing order (S3 lists in key order); settled runs collapse to their last key.
 */
class Watermark {
  private slots: { key: string; settled: boolean }[] = [];
  private head = 0;
  key: string | undefined;

  /** A key to process: returns its slot, to settle later. */
  pending(key: string): { key: string; settled: boolean } {
    const slot = { key, settled: false };
    this.slots.push(slot);
    return slot;
  }

  /** A key dealt with at once (skipped, outside the window). */
  passed(key: string): void {
    if (this.head === this.slots.length) {
      this.key = key;
      return;
    }
    const last = this.slots[this.slots.length - 1];
    if (last.settled) last.key = key;
    else this.slots.push({ key, settled: true });
  }

  settle(slot: { key: string; settled: boolean }): void {
    slot.settled = true;
    while (this.head < this.slots.length && this.slots[this.head].settled) this.key = this.slots[this.head++].key;
    if (this.head === this.slots.length) {
      this.slots = [];
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }
}

interface WorkItem {
  key: string;
  size: number;
  slot: { key: string; settled: boolean };
}

interface Totals {
  listed: number;
  /** Log files in the window, listed so far, and their (compressed) bytes. */
  found: number;
  foundBytes: number;
  skipped: number;
  outside: number;
  processed: number;
  failed: number;
  abandoned: number;
  notStarted: number;
  /** Listed size of the files finished (processed or failed). */
  doneBytes: number;
  records: number;
  sesEvents: number;
  rows: number;
  rowsWritten: number;
  sourceBytes: number;
  jsonBytes: number;
  badRecords: number;
  duplicates: number;
  filtered: number;
  fileRetries: number;
  writeRetries: number;
}

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
}

const processInterrupts = (handler: () => void): (() => void) => {
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
};

export const backfillCommand: Command = (args, io) => runBackfill(args, io);

export async function runBackfill(args: string[], io: CliIO, hooks: BackfillHooks = {}): Promise<number> {
  let options: Options | 'help';
  try {
    options = parseOptions(args);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, 'backfill', err);
    throw err;
  }
  if (options === 'help') {
    io.stdout.write(BACKFILL_HELP + '\n');
    return 0;
  }
  let config: Config;
  try {
    config = loadConfig(io.env, { requireTable: !options.dryRun });
  } catch (err) {
    io.stderr.write(`error: ${reasonOf(err)}\n`);
    return 1;
  }
  const s3 = makeS3Client(io.env);
  // Every file in flight has its own writer with WRITE_CONCURRENCY calls: size the socket pool for all of them.
  const dynamo = options.dryRun
    ? undefined
    : makeDynamoClient(io.env, { forWriter: true, maxSockets: options.concurrency * config.writeConcurrency });
  try {
    if (dynamo) {
      const problem = await checkTable(dynamo, config.tableName, io.env);
      if (problem) {
        io.stderr.write(`error: ${problem}\n`);
        return 1;
      }
    }
    return await new Backfill(options, config, io, s3, dynamo, hooks).run();
  } finally {
    s3.destroy();
    dynamo?.destroy();
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
    const problem = dynamoProblem(err, tableName, env);
    if (problem) return problem;
    const e = err as { name?: string; $fault?: string; $retryable?: unknown };
    if (e.name === 'AccessDeniedException' || e.$fault === 'server' || e.$retryable) return undefined;
    if (e.$fault === 'client') return `cannot use table ${tableName}: ${e.name ? `${e.name}: ` : ''}${reasonOf(err)}`;
    return undefined;
  }
}

class AbandonedError extends SesAuditError {
  constructor() {
    super('abandoned (interrupted)');
  }
}

class Backfill {
  private readonly totals: Totals = {
    listed: 0,
    found: 0,
    foundBytes: 0,
    skipped: 0,
    outside: 0,
    processed: 0,
    failed: 0,
    abandoned: 0,
    notStarted: 0,
    doneBytes: 0,
    records: 0,
    sesEvents: 0,
    rows: 0,
    rowsWritten: 0,
    sourceBytes: 0,
    jsonBytes: 0,
    badRecords: 0,
    duplicates: 0,
    filtered: 0,
    fileRetries: 0,
    writeRetries: 0,
  };
  private readonly listStats: ListStats = { requests: 0, objects: 0, jumps: 0 };
  private readonly queue = new WorkQueue<WorkItem>(QUEUE_CAPACITY);
  private readonly watermark = new Watermark();
  /** Bytes read so far by each file in flight. */
  private readonly active = new Set<{ read: number }>();
  private readonly listAbort = new AbortController();
  private readonly fileAbort = new AbortController();
  private readonly progress: Progress;
  private readonly started = performance.now();
  private listingDone = false;
  private listError: unknown;
  private interrupts = 0;
  private unsubscribe: () => void = () => undefined;
  private readonly target: string;

  constructor(
    private readonly o: Options,
    private readonly config: Config,
    private readonly io: CliIO,
    private readonly s3: S3Client,
    private readonly dynamo: DynamoDBClient | undefined,
    private readonly hooks: BackfillHooks,
  ) {
    this.target = s3Uri({ bucket: o.bucket, key: o.prefix });
    this.progress = new Progress({
      stream: io.stderr,
      tty: Boolean(io.isTTY),
      intervalMs: o.progressMs,
      render: (mode) => this.render(mode),
    });
  }

  async run(): Promise<number> {
    const o = this.o;
    const window = [o.since && `since ${o.since}`, o.until && `until ${o.until}`].filter(Boolean).join(', ');
    this.io.stderr.write(
      `backfill ${this.target}${window ? ` (${window})` : ''}${o.startAfter ? ` after ${o.startAfter}` : ''}: ` +
        `${o.concurrency} file${o.concurrency === 1 ? '' : 's'} at a time, ` +
        `${this.dynamo ? `writing to ${this.config.tableName}` : 'dry run, writing nothing'}\n`,
    );
    this.unsubscribe = (this.hooks.onInterrupt ?? processInterrupts)(() => this.interrupt());
    this.progress.start();
    try {
      const lister = this.listAll();
      const workers = Array.from({ length: o.concurrency }, () => this.work());
      await Promise.all([lister, ...workers]);
    } finally {
      this.unsubscribe();
      this.progress.stop();
    }
    return this.finish();
  }

  private interrupt(): void {
    this.interrupts++;
    if (this.interrupts === 1) {
      this.listAbort.abort();
      this.totals.notStarted += this.queue.close(true);
      const n = this.active.size;
      this.progress.log(
        n
          ? `stopping: letting ${n} file${n === 1 ? '' : 's'} in flight finish (Ctrl-C again to abandon ${n === 1 ? 'it' : 'them'})`
          : 'stopping',
      );
    } else {
      this.fileAbort.abort();
      // A third Ctrl-C gets Node's default: the process ends at once.
      this.unsubscribe();
      this.progress.log('abandoning the files in flight');
    }
  }

  private get stopping(): boolean {
    return this.interrupts > 0;
  }

  private async listAll(): Promise<void> {
    const t = this.totals;
    try {
      const pages = listTrailObjects(
        this.s3,
        {
          bucket: this.o.bucket,
          prefix: this.o.prefix,
          since: this.o.since,
          until: this.o.until,
          startAfter: this.o.startAfter,
          expectedBucketOwner: this.config.expectedBucketOwner,
          pageSize: this.hooks.pageSize,
          abortSignal: this.listAbort.signal,
        },
        this.listStats,
      );
      for await (const page of pages) {
        for (const entry of page) {
          if (this.stopping) return;
          t.listed++;
          if (entry.kind === 'log') {
            t.found++;
            t.foundBytes += entry.size;
            await this.queue.push({ key: entry.key, size: entry.size, slot: this.watermark.pending(entry.key) });
          } else {
            if (entry.kind === 'skipped') t.skipped++;
            else t.outside++;
            this.watermark.passed(entry.key);
          }
        }
        this.progress.tick();
      }
    } catch (err) {
      if (this.stopping) return;
      // The files listed so far are still processed; the summary says where to resume.
      this.listError = err;
    } finally {
      this.listingDone = true;
      this.queue.close();
    }
  }

  private async work(): Promise<void> {
    for (;;) {
      const item = await this.queue.take();
      if (!item) return;
      await this.processFile(item);
    }
  }

  private async processFile(item: WorkItem): Promise<void> {
    const t = this.totals;
    const uri = s3Uri({ bucket: this.o.bucket, key: item.key });
    const live = { read: 0 };
    this.active.add(live);
    let settled = true;
    try {
      for (let attempt = 1; ; attempt++) {
        live.read = 0;
        try {
          const { summary, written, writeRetries } = await this.processOnce(item, live);
          t.processed++;
          t.records += summary.records;
          t.sesEvents += summary.sesEvents;
          t.rows += summary.rows;
          t.rowsWritten += written;
          t.sourceBytes += summary.sourceBytes;
          t.jsonBytes += summary.bytes;
          t.badRecords += summary.badRecords;
          t.duplicates += summary.duplicates;
          t.filtered += summary.filtered;
          t.writeRetries += writeRetries;
          for (const line of badRecordWarnings(uri, summary)) this.progress.log(line);
          break;
        } catch (err) {
          if (this.fileAbort.signal.aborted) {
            // Abandoned: not settled, so the resume point stays before it.
            settled = false;
            break;
          }
          const retryable = isRetryable(err);
          if (retryable && attempt < FILE_ATTEMPTS && !this.stopping) {
            t.fileRetries++;
            if (await this.sleep(500 * 2 ** (attempt - 1))) continue;
            settled = false;
            break;
          }
          t.failed++;
          this.progress.log(`error: ${uri}: ${reasonOf(err)}`);
          break;
        }
      }
    } finally {
      this.active.delete(live);
    }
    if (!settled) {
      t.abandoned++;
      return;
    }
    t.doneBytes += item.size;
    this.watermark.settle(item.slot);
    this.hooks.onFileDone?.(t.processed + t.failed);
    this.progress.tick();
  }

  private async processOnce(
    item: WorkItem,
    live: { read: number },
  ): Promise<{ summary: TrailSummary; written: number; writeRetries: number }> {
    const uri = s3Uri({ bucket: this.o.bucket, key: item.key });
    const signal = this.fileAbort.signal;
    const { body } = await openS3Object(
      this.s3,
      { bucket: this.o.bucket, key: item.key },
      { expectedBucketOwner: this.config.expectedBucketOwner, abortSignal: signal },
    );
    const source = counted(body, live, signal);
    if (this.dynamo) {
      const result = await ingest(source, uri, { dynamo: this.dynamo, config: this.config });
      return { summary: result, written: result.writer.rowsWritten, writeRetries: result.writer.retries };
    }
    const summary = await processTrail(source, {
      config: this.config,
      sourceObject: uri,
      // Counting only: processTrail counts the rows it hands over.
      sink: () => undefined,
    });
    return { summary, written: 0, writeRetries: 0 };
  }

  /** Resolves true after `ms`, or false at once when the files in flight are abandoned. */
  private sleep(ms: number): Promise<boolean> {
    const signal = this.fileAbort.signal;
    if (signal.aborted) return Promise.resolve(false);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        signal.removeEventListener('abort', onAbort);
        resolve(true);
      }, ms);
      const onAbort = () => {
        clearTimeout(timer);
        resolve(false);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private render(mode: 'bar' | 'line'): string {
    const t = this.totals;
    const elapsedS = Math.max(1e-3, (performance.now() - this.started) / 1000);
    const done = t.processed + t.failed;
    let bytes = t.doneBytes;
    for (const a of this.active) bytes += a.read;
    bytes = Math.min(bytes, Math.max(t.foundBytes, t.doneBytes));
    const listing = !this.listingDone;
    const more = listing ? '+' : '';
    const fraction = t.foundBytes > 0 ? bytes / t.foundBytes : t.found > 0 ? done / t.found : 0;
    const byteRate = bytes / elapsedS;
    let eta = '--';
    if (t.found > 0 && done >= t.found && !listing) eta = '0 s';
    else if (byteRate > 0 && t.foundBytes > 0) eta = `${listing ? '≥' : ''}${formatDuration(((t.foundBytes - bytes) / byteRate) * 1000)}`;
    else if (done > 0) eta = `${listing ? '≥' : ''}${formatDuration(((t.found - done) / (done / elapsedS)) * 1000)}`;
    const rows = this.dynamo ? `${t.rowsWritten} rows written` : `${t.rows} rows`;
    const parts = [
      `${done}/${t.found}${more} files`,
      `${formatBytes(bytes)}/${formatBytes(t.foundBytes)}${more}`,
      rows,
      `${formatRate(done / elapsedS)} files/s`,
      `${formatBytes(Math.round(byteRate))}/s`,
      `ETA ${eta}${listing ? ' (still listing)' : ''}`,
    ];
    if (t.failed) parts.push(`${t.failed} failed`);
    const percent = `${Math.floor(fraction * 100)}%`;
    if (mode === 'bar') return `${bar(fraction)} ${percent} ${parts.join(', ')}`;
    if (t.skipped) parts.push(`${t.skipped} skipped`);
    return `progress: ${percent}, ${parts.join(', ')}`;
  }

  private finish(): number {
    const t = this.totals;
    const o = this.o;
    const ms = performance.now() - this.started;
    const err = this.io.stderr;
    if (this.listError !== undefined) err.write(`error: ${this.target}: ${listingReason(this.listError)}\n`);
    if (t.found === 0 && !this.stopping && this.listError === undefined) {
      const window = o.since || o.until ? ` dated ${o.since ?? '…'} to ${o.until ?? '…'}` : '';
      err.write(`note: no CloudTrail log files${window} under ${this.target}\n`);
    }
    const interrupted = this.stopping;
    if (interrupted) {
      const bits = [];
      if (t.abandoned) bits.push(`${t.abandoned} file${t.abandoned === 1 ? '' : 's'} in flight abandoned`);
      if (t.notStarted) bits.push(`${t.notStarted} listed file${t.notStarted === 1 ? '' : 's'} not started`);
      err.write(`interrupted${bits.length ? `: ${bits.join(', ')}` : ''}\n`);
    }
    const l = this.listStats;
    const listing = [`listing: ${l.objects} key${l.objects === 1 ? '' : 's'} in ${l.requests} ListObjectsV2 request${l.requests === 1 ? '' : 's'}`];
    if (l.jumps) listing.push(`${l.jumps} of them skipping ahead over dates outside the window`);
    if (t.outside) listing.push(`${t.outside} key${t.outside === 1 ? '' : 's'} outside the window passed over`);
    err.write(`${listing.join(', ')}\n`);
    const files = [`${t.processed} file${t.processed === 1 ? '' : 's'} processed`, `${t.failed} failed`, `${t.skipped} skipped (not log files)`];
    const content = [`${t.records} records`, `${t.sesEvents} SES events`];
    content.push(this.dynamo ? `${t.rowsWritten} rows written` : `${t.rows} rows (dry run: nothing written)`);
    if (t.filtered) content.push(`${t.filtered} filtered`);
    if (t.duplicates) content.push(`${t.duplicates} repeated events`);
    if (t.badRecords) content.push(`${t.badRecords} bad records`);
    const retries = [];
    if (t.fileRetries) retries.push(`${t.fileRetries} file retries`);
    if (t.writeRetries) retries.push(`${t.writeRetries} write retries`);
    const seconds = ms / 1000;
    err.write(
      `summary: ${files.join(', ')}; ${content.join(', ')}; ` +
        `${formatBytes(t.sourceBytes)} read (${formatBytes(t.jsonBytes)} JSON) in ${formatDuration(ms)}, ` +
        `${formatRate((t.processed + t.failed) / Math.max(seconds, 1e-3))} files/s` +
        `${retries.length ? `; ${retries.join(', ')}` : ''}\n`,
    );
    const resume = this.watermark.key ?? o.startAfter;
    if (interrupted || (this.listError !== undefined && resume !== undefined)) {
      const again = ['ses-audit', 'backfill', this.target];
      if (o.since) again.push('--since', o.since);
      if (o.until) again.push('--until', o.until);
      if (o.concurrency !== DEFAULT_BACKFILL_CONCURRENCY) again.push('--concurrency', String(o.concurrency));
      if (o.dryRun) again.push('--dry-run');
      if (resume !== undefined) again.push('--start-after', resume);
      err.write(`to resume: ${again.map(shellQuote).join(' ')}\n`);
    }
    if (interrupted) return 130;
    return t.failed || this.listError !== undefined ? 1 : 0;
  }
}

/** Counts the bytes read (for progress) and stops at the next chunk once the files in flight are abandoned. */
async function* counted(body: ByteSource, live: { read: number }, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  for await (const chunk of body) {
    if (signal.aborted) throw new AbandonedError();
    live.read += chunk.length;
    yield chunk;
  }
}

/** One line for a failed ListObjectsV2 call. */
function listingReason(err: unknown): string {
  const e = err as { name?: string; $metadata?: { httpStatusCode?: number } } | null;
  const status = e?.$metadata?.httpStatusCode;
  if (e?.name === 'NoSuchBucket') return 'no such bucket';
  if (e?.name === 'AccessDenied' || status === 403) {
    return 'access denied listing the bucket (s3:ListBucket on the bucket, and the expected bucket owner)';
  }
  const reason = reasonOf(s3Error(err));
  return reason.replace(/^S3 read failed/, 'listing failed');
}

export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}
