/**
 * Writes audit rows to DynamoDB with BatchWriteItem while the pipeline is still reading the file.
 *
 * - Rows are encoded (encodeRow) as they arrive and grouped in batches of 25; at most `concurrency` batches are
 *   in flight at once (a batch waiting to retry keeps its slot, which is what slows us down under throttling).
 * - Backpressure: write() resolves only once buffered + unconfirmed rows are below a bound, so a slow table
 *   stalls the reader instead of queuing rows without limit.
 * - UnprocessedItems and retryable errors are retried, only the items concerned, with exponential backoff and
 *   full jitter. Any row that is finally not written makes write()/flush() reject with a WriteError that
 *   says how many rows and why; after the first failure nothing new is sent and calls in flight are abandoned.
 *
 * About the client's own retries: the SDK retries throttling, 5xx and network errors by itself (3 attempts by
 * default) before this writer sees the error, so with the default client one of our attempts can be three
 * calls, with sleeps our deadline check does not see. Recommended: give the writer a client made with
 * `maxAttempts: 1`, so this loop (which also handles UnprocessedItems, which the SDK never retries) is the only
 * one. With a default client, lower `maxAttempts` here (e.g. 4) to keep the worst case bounded.
 */
import {
  BatchWriteItemCommand,
  type BatchWriteItemCommandOutput,
  type DynamoDBClient,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { WriteError, isRetryable, reasonOf } from '../errors.js';
import { DEFAULT_RETRY, backoffMs, type RetryPolicy } from '../retry.js';
import type { AuditRow } from '../ses/row.js';
import { encodeRow } from './marshal.js';
import { PARTITION_KEY, SORT_KEY } from './schema.js';

/** BatchWriteItem's limit. */
export const MAX_BATCH_ITEMS = 25;

export interface WriterOptions {
  client: DynamoDBClient;
  tableName: string;
  /** BatchWriteItem calls in flight at once (a call waiting to be retried counts). */
  concurrency: number;
  /** Calls per batch, counting UnprocessedItems rounds and retryable errors. Default 10. */
  maxAttempts?: number;
  /** Backoff before retry n (1-based): random() * min(maxDelayMs, baseDelayMs * 2^(n-1)). Defaults 50 and 5000. */
  baseDelayMs?: number;
  maxDelayMs?: number;
  /** Lambda's context.getRemainingTimeInMillis. */
  remainingTimeMs?: () => number;
  /** Fail rather than send or sleep when less than this is left. Default 3000. */
  timeMarginMs?: number;
  /** write() waits while this many rows are buffered or unconfirmed. Default concurrency * 25 * 2 (never below concurrency * 25 + 25). */
  maxPendingRows?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** Called before each retry; `attempt` is the attempt that just failed (1-based), `items` what is retried. */
  onRetry?: (info: { attempt: number; reason: string; items: number }) => void;
}

export interface WriterStats {
  /** Rows DynamoDB confirmed. */
  rowsWritten: number;
  /** Batches sent (first attempts). */
  batches: number;
  /** Further calls for UnprocessedItems or retryable errors. */
  retries: number;
  /** Rows with at least one document attribute stored as JSON text. */
  jsonFallbacks: number;
  /** Rows with text cut to fit the item limit. */
  truncated: number;
  /** Rows replaced by a later row with the same key in the same batch. */
  duplicatesDropped: number;
}

interface Waiter<T> {
  resolve: (v: T) => void;
  reject: (e: unknown) => void;
}

interface Failure {
  /** Rows of the batch that failed (0 when the failure came before a send). */
  rows: number;
  /** Continues "N rows not written…": " after 10 attempts: X" or ": reason". */
  why: string;
  cause?: unknown;
  /** False when trying again cannot help (a missing table, a validation error). */
  retryable?: boolean;
}

/** A call or sleep abandoned because the writer failed. */
const STOPPED = Symbol('stopped');
const RESOLVED: Promise<void> = Promise.resolve();

interface ErrorShape {
  name?: unknown;
  code?: unknown;
  message?: unknown;
  $retryable?: unknown;
  $metadata?: { httpStatusCode?: number };
}

/** Throttling, server-side and network errors can succeed when tried again (the rule in errors.ts). */
export { isRetryable };

function errorName(err: unknown): string {
  if (typeof err === 'object' && err !== null) {
    // A boundary: SDK and Node errors carry these fields, each checked for its type below.
    const e = err as ErrorShape;
    if (typeof e.name === 'string' && e.name !== 'Error' && e.name !== 'Unknown') return e.name;
    if (typeof e.code === 'string') return e.code;
    const status = e.$metadata?.httpStatusCode;
    if (typeof status === 'number') return `HTTP ${status}`;
  }
  return reasonOf(err);
}

function describeError(err: unknown): string {
  const name = errorName(err);
  const message = reasonOf(err);
  return message && message !== name ? `${name}: ${message}` : name;
}

function rows(n: number): string {
  return n === 1 ? '1 row' : `${n} rows`;
}

export class BatchWriter {
  private readonly client: DynamoDBClient;
  private readonly table: string;
  private readonly concurrency: number;
  private readonly retry: RetryPolicy;
  private readonly maxPendingRows: number;
  private readonly remainingTimeMs?: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private readonly onRetry?: WriterOptions['onRetry'];

  private readonly counters: WriterStats = { rowsWritten: 0, batches: 0, retries: 0, jsonFallbacks: 0, truncated: 0, duplicatesDropped: 0 };
  /** The batch being filled, and where each key sits in it (duplicates replace in place). */
  private current: WriteRequest[] = [];
  private readonly currentKeys = new Map<string, number>();
  /** Full batches waiting for a free slot. Never longer than about maxPendingRows / 25. */
  private readonly ready: WriteRequest[][] = [];
  private inFlight = 0;
  /** Rows in `current` + `ready` + in flight and not yet confirmed: what backpressure bounds. */
  private pending = 0;
  /** Rows handed to write() calls that are waiting for room before taking them. */
  private untaken = 0;
  private readonly roomWaiters: Waiter<void>[] = [];
  private readonly idleWaiters: Waiter<WriterStats>[] = [];
  private failure?: Failure;
  /** Built once the failure has settled (nothing in flight), so the row count is final. */
  private error?: WriteError;
  private readonly abort = new AbortController();
  /** Abandon callbacks of calls and sleeps under way, run on failure so we do not wait for them. */
  private readonly cancels = new Set<() => void>();
  private deadlineTimer?: ReturnType<typeof setTimeout>;

  constructor(o: WriterOptions) {
    if (!Number.isInteger(o.concurrency) || o.concurrency < 1) throw new RangeError(`concurrency must be a positive integer, got ${o.concurrency}`);
    this.client = o.client;
    this.table = o.tableName;
    this.concurrency = o.concurrency;
    this.retry = {
      maxAttempts: Math.max(1, Math.floor(o.maxAttempts ?? DEFAULT_RETRY.maxAttempts)),
      baseDelayMs: o.baseDelayMs ?? DEFAULT_RETRY.baseDelayMs,
      maxDelayMs: o.maxDelayMs ?? DEFAULT_RETRY.maxDelayMs,
      timeMarginMs: o.timeMarginMs ?? DEFAULT_RETRY.timeMarginMs,
    };
    // Below concurrency*25 + 25 a partial batch that cannot be sent yet could hold write() forever.
    const floor = (o.concurrency + 1) * MAX_BATCH_ITEMS;
    this.maxPendingRows = Math.max(floor, o.maxPendingRows ?? o.concurrency * MAX_BATCH_ITEMS * 2);
    this.remainingTimeMs = o.remainingTimeMs;
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
    this.onRetry = o.onRetry;
  }

  /** Counters so far (a copy), e.g. for metrics after a failure. */
  get stats(): WriterStats {
    return { ...this.counters };
  }

  /**
   * Buffers rows and sends full batches. Resolves when there is room for more (await it before reading on);
   * rejects with WriteError once the writer has failed. A row the store cannot encode (no identity or eventKey)
   * rejects with that error.
   */
  write(rows: readonly AuditRow[]): Promise<void> {
    if (this.failure) return this.failed(this.roomWaiters);
    try {
      return this.writeFrom(rows, 0);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends what is buffered and waits for every call; resolves with the stats or rejects with WriteError. */
  flush(): Promise<WriterStats> {
    if (this.failure) return this.failed(this.idleWaiters);
    if (this.current.length > 0) this.seal();
    this.pump();
    if (this.failure) return this.failed(this.idleWaiters);
    if (this.pending === 0 && this.inFlight === 0) return Promise.resolve(this.stats);
    return new Promise((resolve, reject) => this.idleWaiters.push({ resolve, reject }));
  }

  private writeFrom(batch: readonly AuditRow[], start: number): Promise<void> {
    for (let i = start; i < batch.length; i++) {
      if (this.failure) return this.failed(this.roomWaiters);
      this.add(batch[i]);
      // Full: wait for room before taking more of this call's rows, so even one huge write() stays bounded.
      if (this.pending >= this.maxPendingRows && i + 1 < batch.length) {
        const next = i + 1;
        const left = batch.length - next;
        this.untaken += left; // counted as not written should the writer fail meanwhile
        return this.room().then(() => {
          this.untaken -= left;
          return this.writeFrom(batch, next);
        });
      }
    }
    if (this.failure) return this.failed(this.roomWaiters);
    return this.pending >= this.maxPendingRows ? this.room() : RESOLVED;
  }

  private add(row: AuditRow): void {
    const enc = encodeRow(row);
    if (enc.jsonFallbacks > 0) this.counters.jsonFallbacks++;
    if (enc.truncated) this.counters.truncated++;
    const item = enc.item;
    const key = `${item[PARTITION_KEY]?.S}\u0000${item[SORT_KEY]?.S}`;
    const request: WriteRequest = { PutRequest: { Item: item } };
    const at = this.currentKeys.get(key);
    if (at !== undefined) {
      // BatchWriteItem rejects a call with two puts for one key; the later row wins, as a later write would.
      this.current[at] = request;
      this.counters.duplicatesDropped++;
      return;
    }
    this.currentKeys.set(key, this.current.length);
    this.current.push(request);
    this.pending++;
    if (this.current.length === MAX_BATCH_ITEMS) {
      this.seal();
      this.pump();
    }
  }

  private seal(): void {
    this.ready.push(this.current);
    this.current = [];
    this.currentKeys.clear();
  }

  private room(): Promise<void> {
    return new Promise((resolve, reject) => this.roomWaiters.push({ resolve, reject }));
  }

  /** The final error, now or once calls still under way have been abandoned. */
  private failed<T>(waiters: Waiter<T>[]): Promise<T> {
    if (this.error) return Promise.reject(this.error);
    return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
  }

  /** Launches ready batches into free slots. */
  private pump(): void {
    while (!this.failure && this.inFlight < this.concurrency && this.ready.length > 0) {
      if (this.remainingTimeMs) {
        const left = this.remainingTimeMs();
        if (left < this.retry.timeMarginMs) {
          this.fail({ rows: 0, why: `: Lambda time running out (${left} ms left, margin ${this.retry.timeMarginMs} ms)` });
          return;
        }
      }
      const batch = this.ready.shift()!;
      this.inFlight++;
      this.counters.batches++;
      void this.run(batch);
    }
  }

  /** One batch until every item is confirmed or the writer fails. Never rejects. */
  private async run(batch: WriteRequest[]): Promise<void> {
    let requests = batch;
    try {
      for (let attempt = 1; ; attempt++) {
        let unprocessed: WriteRequest[];
        let reason: string;
        let cause: unknown;
        try {
          const out = await this.call(requests);
          if (out === STOPPED) return;
          unprocessed = unprocessedOf(out, this.table);
          const written = requests.length - unprocessed.length;
          this.counters.rowsWritten += written;
          this.pending -= written;
          if (unprocessed.length === 0) return;
          reason = 'UnprocessedItems';
        } catch (err) {
          if (this.failure) return;
          if (!isRetryable(err)) {
            this.fail({ rows: requests.length, why: `: ${describeError(err)} (not retryable)`, cause: err, retryable: false });
            return;
          }
          unprocessed = requests;
          reason = errorName(err);
          cause = err;
        }
        if (this.failure) return;
        if (attempt >= this.retry.maxAttempts) {
          this.fail({ rows: unprocessed.length, why: ` after ${attempt} attempts: ${reason}`, cause });
          return;
        }
        const delay = backoffMs(this.retry, attempt, this.random);
        if (this.remainingTimeMs) {
          const left = this.remainingTimeMs();
          if (left - delay < this.retry.timeMarginMs) {
            const why = `: Lambda time running out (${left} ms left, margin ${this.retry.timeMarginMs} ms) after ${attempt} attempts: ${reason}`;
            this.fail({ rows: unprocessed.length, why, cause });
            return;
          }
        }
        this.counters.retries++;
        this.onRetry?.({ attempt, reason, items: unprocessed.length });
        if ((await this.pause(delay)) === STOPPED) return;
        requests = unprocessed;
      }
    } finally {
      this.inFlight--;
      this.settled();
    }
  }

  /** A BatchWriteItem call that resolves STOPPED at once if the writer fails meanwhile. */
  /**
   * Deadline watchdog: a call that never answers must not hold the invocation until Lambda kills it.
   * When the margin is reached with calls unanswered, the writer fails (aborting them) so the caller can
   * fail cleanly and Lambda retries the file.
   */
  private armDeadline(): void {
    if (this.deadlineTimer || !this.remainingTimeMs) return;
    const wait = Math.max(0, this.remainingTimeMs() - this.retry.timeMarginMs);
    this.deadlineTimer = setTimeout(() => {
      this.deadlineTimer = undefined;
      if (this.inFlight > 0) {
        this.fail({ rows: 0, why: `: Lambda time running out with ${this.inFlight} BatchWriteItem calls unanswered (margin ${this.retry.timeMarginMs} ms)` });
      }
    }, wait);
    this.deadlineTimer.unref?.();
  }

  private call(requests: WriteRequest[]): Promise<BatchWriteItemCommandOutput | typeof STOPPED> {
    this.armDeadline();
    const command = new BatchWriteItemCommand({ RequestItems: { [this.table]: requests } });
    return this.cancellable(this.client.send(command, { abortSignal: this.abort.signal }));
  }

  private pause(ms: number): Promise<void | typeof STOPPED> {
    return this.cancellable(this.sleep(ms));
  }

  private cancellable<T>(p: Promise<T>): Promise<T | typeof STOPPED> {
    return new Promise((resolve, reject) => {
      const cancel = (): void => resolve(STOPPED);
      this.cancels.add(cancel);
      p.then(
        (v) => {
          this.cancels.delete(cancel);
          resolve(v);
        },
        (e: unknown) => {
          this.cancels.delete(cancel);
          reject(e);
        },
      );
    });
  }

  private settled(): void {
    if (this.failure) {
      this.finish();
      return;
    }
    // Rows written after flush() began would otherwise wait for a 25th row that may never come.
    if (this.idleWaiters.length > 0 && this.current.length > 0) this.seal();
    this.pump();
    if (this.failure) return; // pump failed and finished
    if (this.pending < this.maxPendingRows && this.roomWaiters.length > 0) {
      for (const w of this.roomWaiters.splice(0)) w.resolve();
    }
    if (this.inFlight === 0 && this.pending === 0 && this.idleWaiters.length > 0) {
      this.clearDeadline();
      const stats = this.stats;
      for (const w of this.idleWaiters.splice(0)) w.resolve(stats);
    }
  }

  private fail(f: Failure): void {
    if (this.failure) return;
    this.failure = f;
    this.abort.abort();
    for (const cancel of [...this.cancels]) cancel();
    this.finish();
  }

  /** Once nothing is in flight: build the error with the final count and reject everyone waiting. */
  private clearDeadline(): void {
    if (this.deadlineTimer) clearTimeout(this.deadlineTimer);
    this.deadlineTimer = undefined;
  }

  private finish(): void {
    if (!this.failure || this.error || this.inFlight > 0) return;
    this.clearDeadline();
    const f = this.failure;
    const total = this.pending + this.untaken;
    const others = total - f.rows;
    let reason = `${rows(total)} not written${f.why}`;
    if (f.rows > 0 && others > 0) reason += ` (${f.rows} in the failing batch, ${others} stopped by that failure)`;
    this.error = new WriteError(reason, f.cause, f.retryable ?? true);
    for (const w of this.roomWaiters.splice(0)) w.reject(this.error);
    for (const w of this.idleWaiters.splice(0)) w.reject(this.error);
  }
}

/** The items DynamoDB did not process. We send one table, but look at every key in case it is spelled differently (ARN vs name). */
function unprocessedOf(out: BatchWriteItemCommandOutput | undefined, table: string): WriteRequest[] {
  const u = out?.UnprocessedItems;
  if (!u) return [];
  const mine = u[table];
  if (mine && Object.keys(u).length === 1) return mine;
  const all: WriteRequest[] = [];
  for (const k in u) all.push(...(u[k] ?? []));
  return all;
}
