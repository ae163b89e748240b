/**
 * A backfill: the log files a trail bucket already holds, into the table. Listing and processing overlap:
 * one lister (src/trail/listing.ts) feeds a bounded queue that `concurrency` workers drain, each file
 * streamed from S3 into the same pipeline as the Lambda's. Memory stays flat however large the bucket.
 * A file whose failure is retryable (throttling, network, writes that ran out of retries) is tried again
 * with backoff; an interruption stops the listing and lets the files in flight finish (a second one
 * abandons them), and the watermark says where to resume. Printing is the caller's
 * (src/cli/commands/backfill.ts).
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config } from '../config.js';
import { SesAuditError, isRetryable, reasonOf } from '../errors.js';
import { ingest } from '../ingest.js';
import { emptySummary, processTrail, type TrailSummary } from '../pipeline.js';
import { emptyListStats, listTrailObjects, type ListStats } from '../trail/listing.js';
import { parseS3Uri, s3Uri } from '../trail/object.js';
import type { Ledger } from '../store/ledger.js';
import type { PublicKeySource } from '../trail/public-keys.js';
import { failedLogFileEntry, ingestDigest, logFileEntry, readS3Digest } from '../trust.js';
import type { ByteSource } from '../trail/reader.js';
import { openS3Object } from '../trail/source.js';
import { WorkQueue } from './queue.js';
import { Watermark, type WatermarkSlot } from './watermark.js';

/** Log files listed ahead of the workers (two ListObjectsV2 pages). */
const QUEUE_CAPACITY = 2000;
/** Attempts per file when the failure is retryable. */
const FILE_ATTEMPTS = 3;
/** Backoff before the second attempt; doubled for each one after. */
const FIRST_RETRY_MS = 500;

export interface BackfillOptions {
  bucket: string;
  prefix: string;
  /** Inclusive YYYY-MM-DD bounds on the dates in the keys. */
  since?: string;
  until?: string;
  startAfter?: string;
  concurrency: number;
}

export interface BackfillDeps {
  s3: S3Client;
  /** Undefined for a dry run: rows are counted, not written. */
  dynamo?: DynamoDBClient;
  /** The ledger and public keys (LEDGER_TABLE_NAME, not a dry run): files and digests recorded as the function records them. */
  trust?: { ledger: Ledger; keys: PublicKeySource };
  config: Config;
  /** A file failed for good (after its retries). */
  fileFailed(uri: string, err: unknown): void;
  /** A file was processed with bad records (their reasons are in the summary). */
  badRecords?(uri: string, summary: TrailSummary): void;
  /** Something changed (a page listed, a file finished): a chance to redraw progress. */
  changed?(): void;
  /** Called after each file is finished (processed or failed), with the count so far. */
  onFileDone?(done: number): void;
  /** ListObjectsV2 MaxKeys (tests). */
  pageSize?: number;
}

export interface BackfillTotals {
  listed: number;
  /** Log files in the window, listed so far, and their (compressed) bytes. */
  found: number;
  foundBytes: number;
  skipped: number;
  /** Digest files recorded in the ledger (with a ledger only). */
  digests: number;
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

interface WorkItem {
  key: string;
  size: number;
  slot: WatermarkSlot;
  /** A digest file: verified and recorded in the ledger, not read for rows. */
  digest?: boolean;
}

class AbandonedError extends SesAuditError {
  constructor() {
    super('abandoned (interrupted)');
  }
}

export class Backfill {
  readonly totals: BackfillTotals = {
    listed: 0, found: 0, foundBytes: 0, skipped: 0, digests: 0, outside: 0, processed: 0, failed: 0, abandoned: 0,
    notStarted: 0, doneBytes: 0, records: 0, sesEvents: 0, rows: 0, rowsWritten: 0, sourceBytes: 0,
    jsonBytes: 0, badRecords: 0, duplicates: 0, filtered: 0, fileRetries: 0, writeRetries: 0,
  };
  readonly listStats: ListStats = emptyListStats();
  /** Whether the listing has ended (done, failed or stopped). */
  listingDone = false;
  /** Why the listing failed, if it did; the files listed before are still processed. */
  listError: unknown;
  private readonly queue = new WorkQueue<WorkItem>(QUEUE_CAPACITY);
  private readonly watermark: Watermark;
  /** Bytes read so far by each file in flight. */
  private readonly active = new Set<{ read: number }>();
  private readonly listAbort = new AbortController();
  private readonly fileAbort = new AbortController();
  private interrupts = 0;

  constructor(
    private readonly o: BackfillOptions,
    private readonly deps: BackfillDeps,
  ) {
    this.watermark = new Watermark(o.startAfter);
  }

  get stopping(): boolean {
    return this.interrupts > 0;
  }

  /** Files being read now. */
  get inFlight(): number {
    return this.active.size;
  }

  /** Listed bytes of the files finished, plus what the files in flight have read. */
  get bytesDone(): number {
    let bytes = this.totals.doneBytes;
    for (const a of this.active) bytes += a.read;
    return Math.min(bytes, Math.max(this.totals.foundBytes, this.totals.doneBytes));
  }

  /** The key to resume after (`--start-after`): everything up to it has been dealt with. */
  get resumeKey(): string | undefined {
    return this.watermark.key;
  }

  async run(): Promise<void> {
    const workers = Array.from({ length: this.o.concurrency }, () => this.work());
    await Promise.all([this.listAll(), ...workers]);
  }

  /**
   * First call: stop listing, drop the files not started, let the files in flight finish. Second call:
   * abandon the files in flight too. Returns what happens, for the caller to say.
   */
  interrupt(): 'stopping' | 'abandoning' {
    this.interrupts++;
    if (this.interrupts === 1) {
      this.listAbort.abort();
      this.totals.notStarted += this.queue.close(true);
      return 'stopping';
    }
    this.fileAbort.abort();
    return 'abandoning';
  }

  private async listAll(): Promise<void> {
    const t = this.totals;
    try {
      const pages = listTrailObjects(
        this.deps.s3,
        {
          bucket: this.o.bucket,
          prefix: this.o.prefix,
          since: this.o.since,
          until: this.o.until,
          startAfter: this.o.startAfter,
          expectedBucketOwner: this.deps.config.expectedBucketOwner,
          pageSize: this.deps.pageSize,
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
          } else if (entry.kind === 'skipped' && entry.why === 'digest' && this.deps.trust) {
            // With a ledger, a backfilled window can be verified: its digests are recorded too.
            await this.queue.push({ key: entry.key, size: 0, slot: this.watermark.pending(entry.key), digest: true });
          } else {
            if (entry.kind === 'skipped') t.skipped++;
            else t.outside++;
            this.watermark.passed(entry.key);
          }
        }
        this.deps.changed?.();
      }
    } catch (err) {
      if (!this.stopping) this.listError = err;
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
          if (item.digest) {
            t.digests++;
            break;
          }
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
          if (summary.badRecords) this.deps.badRecords?.(uri, summary);
          break;
        } catch (err) {
          if (this.fileAbort.signal.aborted) {
            // Abandoned: not settled, so the resume point stays before it.
            settled = false;
            break;
          }
          if (isRetryable(err) && attempt < FILE_ATTEMPTS && !this.stopping) {
            t.fileRetries++;
            if (await this.sleep(FIRST_RETRY_MS * 2 ** (attempt - 1))) continue;
            settled = false;
            break;
          }
          t.failed++;
          this.deps.fileFailed(uri, err);
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
    this.deps.onFileDone?.(t.processed + t.failed);
    this.deps.changed?.();
  }

  private async processOnce(item: WorkItem, live: { read: number }): Promise<{ summary: TrailSummary; written: number; writeRetries: number }> {
    const uri = s3Uri({ bucket: this.o.bucket, key: item.key });
    const signal = this.fileAbort.signal;
    const { config, dynamo, trust } = this.deps;
    if (item.digest && trust) {
      const ref = { bucket: this.o.bucket, key: item.key };
      const readDigest = (other: string) => {
        const r = parseS3Uri(other);
        return r ? readS3Digest(this.deps.s3, r, config.expectedBucketOwner) : Promise.reject(new Error(`not an s3:// URI: ${other}`));
      };
      await ingestDigest(uri, await readS3Digest(this.deps.s3, ref, config.expectedBucketOwner), { ...trust, now: () => new Date(), readDigest });
      // A digest contributes a file and no records to the totals.
      return { summary: { ...emptySummary(uri), gzip: true }, written: 0, writeRetries: 0 };
    }
    const { body } = await openS3Object(
      this.deps.s3,
      { bucket: this.o.bucket, key: item.key },
      { expectedBucketOwner: config.expectedBucketOwner, abortSignal: signal },
    );
    const source = counted(body, live, signal);
    if (dynamo) {
      const result = await ingest(source, uri, { dynamo, config }).catch(async (err: unknown) => {
        await trust?.ledger.putLogFile(failedLogFileEntry(uri, reasonOf(err), 0, new Date().toISOString())).catch(() => undefined);
        throw err;
      });
      await trust?.ledger.putLogFile(logFileEntry(uri, result, result.writer.rowsWritten, new Date().toISOString()));
      return { summary: result, written: result.writer.rowsWritten, writeRetries: result.writer.retries };
    }
    const summary = await processTrail(source, {
      config,
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
}

/** Counts the bytes read (for progress) and stops at the next chunk once the files in flight are abandoned. */
function counted(body: ByteSource, live: { read: number }, signal: AbortSignal): ByteSource {
  return {
    async *[Symbol.asyncIterator]() {
      for await (const chunk of body) {
        if (signal.aborted) throw new AbandonedError();
        live.read += chunk.length;
        yield chunk;
      }
    },
    // The reader closes a failed source through this: the S3 body's socket must not stay checked out.
    destroy: () => body.destroy?.(),
  };
}
