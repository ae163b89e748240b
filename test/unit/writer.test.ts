import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { mockClient } from 'aws-sdk-client-mock';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  ProvisionedThroughputExceededException,
  ResourceNotFoundException,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import type { AuditRow } from '../../src/ses/row.js';
import { WriteError } from '../../src/errors.js';
import { BatchWriter, isRetryable, type WriterOptions } from '../../src/store/writer.js';

const TABLE = 'audit-test';
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });

beforeEach(() => ddb.reset());
afterAll(() => ddb.restore());

function makeRow(i: number, extra: Partial<AuditRow> = {}): AuditRow {
  const id = `0000-${String(i).padStart(6, '0')}`;
  return {
    identity: `id${i % 7}.example.com`,
    eventKey: `2024-05-01T10:00:00Z#${id}`,
    actor: 'arn:aws:iam::123456789012:role/Admin',
    eventName: 'DeleteIdentity',
    identityKind: 'domain',
    identities: [`id${i % 7}.example.com`],
    eventTime: '2024-05-01T10:00:00Z',
    eventID: id,
    eventSource: 'ses.amazonaws.com',
    requestParameters: { identity: `id${i % 7}.example.com`, n: i },
    sourceObject: 's3://b/k.json.gz',
    ingestedAt: '2024-05-01T10:05:00.000Z',
    ...extra,
  };
}

function makeRows(n: number, from = 0): AuditRow[] {
  return Array.from({ length: n }, (_, i) => makeRow(from + i));
}

function keyOf(r: WriteRequest): string {
  const item = r.PutRequest!.Item!;
  return `${item.identity.S}|${item.eventKey.S}`;
}

/** Items of every BatchWriteItem call, in order. */
function sent(): WriteRequest[][] {
  return ddb.commandCalls(BatchWriteItemCommand).map((c) => c.args[0].input.RequestItems![TABLE]);
}

function requestsOf(input: BatchWriteItemCommandInput): WriteRequest[] {
  return input.RequestItems![TABLE];
}

const tick = (): Promise<void> => new Promise((r) => setImmediate(r));

function writer(o: Partial<WriterOptions> & { sleeps?: number[] } = {}): BatchWriter {
  const sleeps = o.sleeps ?? [];
  return new BatchWriter({
    client,
    tableName: TABLE,
    concurrency: 2,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    random: () => 0.5,
    ...o,
  });
}

function throttled(): ProvisionedThroughputExceededException {
  return new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: { httpStatusCode: 400 } });
}

function httpError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status } });
}

/** A promise plus its resolver, for calls we answer by hand. */
interface Held {
  input: BatchWriteItemCommandInput;
  resolve: (o: Partial<BatchWriteItemCommandOutput>) => void;
}

async function rejection(p: Promise<unknown>): Promise<WriteError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(WriteError);
    return err as WriteError;
  }
  throw new Error('expected a rejection');
}

describe('BatchWriter', () => {
  it('sends 60 rows as 25 + 25 + 10', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    await w.write(makeRows(60));
    const stats = await w.flush();
    expect(sent().map((b) => b.length)).toEqual([25, 25, 10]);
    expect(new Set(sent().flat().map(keyOf)).size).toBe(60);
    expect(stats).toEqual({ rowsWritten: 60, batches: 3, retries: 0, jsonFallbacks: 0, truncated: 0, duplicatesDropped: 0 });
  });

  it('flush with nothing buffered resolves at once; rows written during a flush are sent too', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    expect(await w.flush()).toMatchObject({ rowsWritten: 0, batches: 0 });
    const held: Held[] = [];
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => new Promise((resolve) => held.push({ input, resolve })));
    await w.write(makeRows(10));
    const f = w.flush();
    await tick();
    await w.write(makeRows(3, 100));
    held.shift()!.resolve({});
    await tick();
    held.shift()!.resolve({});
    expect((await f).rowsWritten).toBe(13);
  });

  it('drops duplicate keys within one call, keeping the last row', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    const rows = makeRows(5);
    const later = { ...rows[1], errorCode: 'AccessDenied' };
    await w.write([...rows, later, { ...rows[3] }]);
    const stats = await w.flush();
    const [batch] = sent();
    expect(batch).toHaveLength(5);
    expect(new Set(batch.map(keyOf)).size).toBe(5);
    expect(batch[1].PutRequest!.Item!.errorCode).toEqual({ S: 'AccessDenied' });
    expect(stats.duplicatesDropped).toBe(2);
    expect(stats.rowsWritten).toBe(5);
  });

  it('lets a duplicate of a row from another batch through (it overwrites)', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    const rows = makeRows(25);
    await w.write([...rows, rows[0]]);
    const stats = await w.flush();
    expect(sent().map((b) => b.length)).toEqual([25, 1]);
    expect(keyOf(sent()[1][0])).toBe(keyOf(sent()[0][0]));
    expect(stats.duplicatesDropped).toBe(0);
  });

  it('retries only UnprocessedItems until they are written, each row once', async () => {
    const written = new Map<string, number>();
    let call = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => {
      const reqs = requestsOf(input);
      call++;
      // Calls 1-3 leave some items unprocessed; then everything goes through.
      const keep = call === 1 ? 10 : call === 2 ? 4 : call === 3 ? 1 : 0;
      const unprocessed = reqs.slice(reqs.length - keep);
      for (const r of reqs.slice(0, reqs.length - keep)) written.set(keyOf(r), (written.get(keyOf(r)) ?? 0) + 1);
      return Promise.resolve(keep ? { UnprocessedItems: { [TABLE]: unprocessed } } : {});
    });
    const retries: Array<{ attempt: number; reason: string; items: number }> = [];
    const w = writer({ concurrency: 1, onRetry: (i) => retries.push(i) });
    const rows = makeRows(25);
    await w.write(rows);
    const stats = await w.flush();
    const calls = sent();
    expect(calls.map((b) => b.length)).toEqual([25, 10, 4, 1]);
    expect(calls[1].map(keyOf)).toEqual(calls[0].slice(15).map(keyOf));
    expect(calls[2].map(keyOf)).toEqual(calls[1].slice(6).map(keyOf));
    expect(calls[3].map(keyOf)).toEqual(calls[2].slice(3).map(keyOf));
    expect(written.size).toBe(25);
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(stats).toMatchObject({ rowsWritten: 25, batches: 1, retries: 3 });
    expect(retries).toEqual([
      { attempt: 1, reason: 'UnprocessedItems', items: 10 },
      { attempt: 2, reason: 'UnprocessedItems', items: 4 },
      { attempt: 3, reason: 'UnprocessedItems', items: 1 },
    ]);
  });

  it('backs off exponentially with full jitter, capped', async () => {
    const unprocessedOnce = (input: BatchWriteItemCommandInput) => Promise.resolve({ UnprocessedItems: { [TABLE]: requestsOf(input) } });
    const beh = ddb.on(BatchWriteItemCommand);
    for (let i = 0; i < 7; i++) beh.callsFakeOnce(unprocessedOnce);
    beh.resolves({});
    const randoms = [0.5, 1, 0.25, 0.999, 0, 0.75, 1];
    let r = 0;
    const sleeps: number[] = [];
    const w = writer({ baseDelayMs: 100, maxDelayMs: 1000, random: () => randoms[r++], sleeps });
    await w.write(makeRows(3));
    await w.flush();
    const caps = [100, 200, 400, 800, 1000, 1000, 1000];
    expect(sleeps).toHaveLength(7);
    sleeps.forEach((ms, i) => {
      expect(ms).toBeGreaterThanOrEqual(0);
      expect(ms).toBeLessThanOrEqual(caps[i]);
      expect(ms).toBeCloseTo(randoms[i] * caps[i]);
    });

    // With the top of the jitter range the delays grow until the cap.
    ddb.reset();
    const b2 = ddb.on(BatchWriteItemCommand);
    for (let i = 0; i < 6; i++) b2.callsFakeOnce(unprocessedOnce);
    b2.resolves({});
    const top: number[] = [];
    const w2 = writer({ baseDelayMs: 50, maxDelayMs: 1000, random: () => 1, sleeps: top });
    await w2.write(makeRows(1));
    await w2.flush();
    expect(top).toEqual([50, 100, 200, 400, 800, 1000]);
  });

  it('retries throttling, 5xx and network errors', async () => {
    ddb
      .on(BatchWriteItemCommand)
      .rejectsOnce(throttled())
      .rejectsOnce(httpError('ThrottlingException', 400))
      .rejectsOnce(httpError('RequestLimitExceeded', 400))
      .rejectsOnce(httpError('InternalServerError', 500))
      .rejectsOnce(httpError('Unknown', 503, 'Service Unavailable'))
      .rejectsOnce(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }))
      .resolves({});
    const reasons: string[] = [];
    const w = writer({ onRetry: (i) => reasons.push(i.reason) });
    await w.write(makeRows(25));
    const stats = await w.flush();
    expect(reasons).toEqual([
      'ProvisionedThroughputExceededException',
      'ThrottlingException',
      'RequestLimitExceeded',
      'InternalServerError',
      'HTTP 503',
      'ECONNRESET',
    ]);
    expect(sent().every((b) => b.length === 25)).toBe(true);
    expect(stats).toMatchObject({ rowsWritten: 25, retries: 6 });
  });

  it('classifies errors', () => {
    expect(isRetryable(throttled())).toBe(true);
    expect(isRetryable(httpError('ValidationException', 400))).toBe(false);
    expect(isRetryable(new ResourceNotFoundException({ message: 'no table', $metadata: {} }))).toBe(false);
    expect(isRetryable(httpError('AccessDeniedException', 400))).toBe(false);
    expect(isRetryable(httpError('Whatever', 502))).toBe(true);
    expect(isRetryable(httpError('TimeoutError', 0))).toBe(true);
    expect(isRetryable(new TypeError('bug'))).toBe(false);
  });

  it('fails at once on a ValidationException', async () => {
    ddb.on(BatchWriteItemCommand).rejects(httpError('ValidationException', 400, 'One or more parameter values were invalid'));
    const sleeps: number[] = [];
    const w = writer({ sleeps });
    await w.write(makeRows(25));
    const err = await rejection(w.flush());
    expect(err.reason).toBe('25 rows not written: ValidationException: One or more parameter values were invalid (not retryable)');
    expect(sent()).toHaveLength(1);
    expect(sleeps).toEqual([]);
    // The writer stays failed.
    expect(await rejection(w.write(makeRows(1, 500)))).toBe(err);
    expect(await rejection(w.flush())).toBe(err);
    expect(sent()).toHaveLength(1);
  });

  it('fails with the count of rows left when attempts run out', async () => {
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) =>
      Promise.resolve({ UnprocessedItems: { [TABLE]: requestsOf(input).slice(0, 3) } }),
    );
    const w = writer({ maxAttempts: 4, concurrency: 1 });
    await w.write(makeRows(25));
    const err = await rejection(w.flush());
    expect(err.reason).toBe('3 rows not written after 4 attempts: UnprocessedItems');
    expect(err.retryable).toBe(true);
    expect(sent().map((b) => b.length)).toEqual([25, 3, 3, 3]);
    expect(w.stats.rowsWritten).toBe(22);

    ddb.reset();
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    const w2 = writer();
    await w2.write(makeRows(25));
    const err2 = await rejection(w2.flush());
    expect(err2.reason).toBe('25 rows not written after 10 attempts: ProvisionedThroughputExceededException');
    expect(err2.cause).toBeInstanceOf(ProvisionedThroughputExceededException);
    expect(sent()).toHaveLength(10);
  });

  it('does not start sending when Lambda time is short', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer({ remainingTimeMs: () => 2000, timeMarginMs: 3000 });
    await w.write(makeRows(10));
    const err = await rejection(w.flush());
    expect(err.reason).toBe('10 rows not written: Lambda time running out (2000 ms left, margin 3000 ms)');
    expect(sent()).toHaveLength(0);
  });

  it('stops retrying when the backoff would run into the time margin', async () => {
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    let left = 10_000;
    const w = writer({
      remainingTimeMs: () => left,
      timeMarginMs: 3000,
      baseDelayMs: 1000,
      maxDelayMs: 20_000,
      random: () => 1,
      sleep: async (ms) => {
        left -= ms;
      },
    });
    await w.write(makeRows(5));
    const err = await rejection(w.flush());
    // Backoffs 1000, 2000, 4000 leave 9000, 7000, 3000 (>= margin: allowed); the next, 8000, would not.
    expect(err.reason).toBe(
      '5 rows not written: Lambda time running out (3000 ms left, margin 3000 ms) after 4 attempts: ProvisionedThroughputExceededException',
    );
    expect(sent()).toHaveLength(4);
  });

  it('holds the concurrency bound', async () => {
    const held: Held[] = [];
    let inFlight = 0;
    let maxInFlight = 0;
    ddb.on(BatchWriteItemCommand).callsFake(
      (input: BatchWriteItemCommandInput) =>
        new Promise((resolve) => {
          inFlight++;
          maxInFlight = Math.max(maxInFlight, inFlight);
          held.push({
            input,
            resolve: (o) => {
              inFlight--;
              resolve(o);
            },
          });
        }),
    );
    const w = writer({ concurrency: 3 });
    const done = w.write(makeRows(500));
    await tick();
    expect(inFlight).toBe(3);
    while (held.length > 0) {
      held.shift()!.resolve({});
      await tick();
      expect(inFlight).toBeLessThanOrEqual(3);
    }
    await done;
    const flushed = w.flush();
    await tick();
    while (held.length > 0) {
      held.shift()!.resolve({});
      await tick();
    }
    const stats = await flushed;
    expect(maxInFlight).toBe(3);
    expect(stats.rowsWritten).toBe(500);
    expect(stats.batches).toBe(20);
  });

  it('applies backpressure: write() waits while calls are blocked and the buffer is full', async () => {
    const held: Held[] = [];
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => new Promise((resolve) => held.push({ input, resolve })));
    // concurrency 1: bound 50 rows (one batch in flight, one ready).
    const w = writer({ concurrency: 1 });
    // Below the bound: resolves without any call finishing.
    await w.write(makeRows(30));
    let resolved = false;
    void w.write(makeRows(200, 30)).then(() => {
      resolved = true;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(resolved).toBe(false);
    expect(held).toHaveLength(1);
    // Only what the bound allows has been taken from the caller's rows: 1 call's 25 + 25 ready.
    expect(sent().flat()).toHaveLength(25);
    let releases = 0;
    while (!resolved) {
      held.shift()!.resolve({});
      releases++;
      await tick();
      await tick();
    }
    // 230 rows: the write resolves once the rows left pending are below the bound.
    expect(releases).toBeGreaterThanOrEqual(7);
    const f = w.flush();
    while (held.length > 0 || sent().flat().length < 230) {
      held.shift()?.resolve({});
      await tick();
    }
    expect((await f).rowsWritten).toBe(230);
  });

  it('takes only as many rows of one large write() as the bound allows, 25 more per confirmed batch', async () => {
    const held: Held[] = [];
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => new Promise((resolve) => held.push({ input, resolve })));
    // Which rows the writer has read (encoded): each row reports when its identity is first read.
    const taken = new Set<number>();
    const rows = makeRows(200).map((r, i) => {
      const identity = r.identity;
      return Object.defineProperty(r, 'identity', {
        enumerable: true,
        get: () => {
          taken.add(i);
          return identity;
        },
      });
    });
    // concurrency 1: bound 50 rows (one batch in flight, one ready).
    const w = writer({ concurrency: 1 });
    let resolved = false;
    void w.write(rows).then(() => {
      resolved = true;
    });
    for (let i = 0; i < 5; i++) await tick();
    expect(taken.size).toBe(50);
    expect(held).toHaveLength(1);
    held.shift()!.resolve({});
    for (let i = 0; i < 5; i++) await tick();
    expect(taken.size).toBe(75);
    expect(held).toHaveLength(1);
    while (!resolved) {
      held.shift()!.resolve({});
      for (let i = 0; i < 3; i++) await tick();
    }
    expect(taken.size).toBe(200);
    const f = w.flush();
    while (held.length > 0 || sent().flat().length < 200) {
      held.shift()?.resolve({});
      await tick();
    }
    expect((await f).rowsWritten).toBe(200);
  });

  it('stops sending after the first failure and abandons calls in flight', async () => {
    const held: Held[] = [];
    let call = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => {
      call++;
      if (call === 2) return Promise.reject(new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} }));
      return new Promise((resolve) => held.push({ input, resolve }));
    });
    const w = writer({ concurrency: 2 });
    const p = w.write(makeRows(120));
    const err = await rejection(p);
    // 25 failed; the held call's 25 and the 70 not sent are counted too.
    expect(err.reason).toBe(
      '120 rows not written: ResourceNotFoundException: Requested resource not found (not retryable) (25 in the failing batch, 95 stopped by that failure)',
    );
    expect(sent()).toHaveLength(2);
    await rejection(w.flush());
    held[0].resolve({}); // a late answer changes nothing
    await tick();
    expect(sent()).toHaveLength(2);
  });

  it('replays identically: same rows, same request items', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const rows = makeRows(40);
    const a = writer();
    await a.write(rows);
    await a.flush();
    const first = sent();
    ddb.resetHistory();
    const b = writer();
    await b.write(rows.map((r) => ({ ...r })));
    await b.flush();
    expect(sent()).toEqual(first);
  });

  it('sends an item too deep for a map with the document as JSON text', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    let deep: unknown = 'x';
    for (let i = 0; i < 40; i++) deep = { a: deep };
    const w = writer();
    await w.write([makeRow(1, { requestParameters: deep }), makeRow(2, { responseElements: { big: 1e300 } }), makeRow(3)]);
    const stats = await w.flush();
    const [batch] = sent();
    expect(batch[0].PutRequest!.Item!.requestParameters).toEqual({ S: JSON.stringify(deep) });
    expect(batch[1].PutRequest!.Item!.responseElements).toEqual({ S: '{"big":1e+300}' });
    expect(batch[2].PutRequest!.Item!.requestParameters.M).toBeDefined();
    expect(stats.jsonFallbacks).toBe(2);
    expect(stats.truncated).toBe(0);
  });

  it('rejects a row the store cannot key', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    await expect(w.write([makeRow(1, { identity: '' })])).rejects.toThrow(/identity/);
  });

  it('writes every row exactly once when a quarter of the calls are throttled and the rest partly processed', async () => {
    // Deterministic pseudo-random numbers (LCG): one stream for the fake table, one for the jitter.
    const lcg = (seed: number) => (): number => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    const table = lcg(42);
    const written = new Map<string, number>();
    let call = 0;
    let throttles = 0;
    let inFlight = 0;
    let maxInFlight = 0;
    ddb.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
      const reqs = requestsOf(input);
      expect(new Set(reqs.map(keyOf)).size).toBe(reqs.length); // never duplicate keys in a call
      expect(reqs.length).toBeLessThanOrEqual(25);
      call++;
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      await tick();
      inFlight--;
      if (table() < 0.25) {
        throttles++;
        throw throttled();
      }
      const unprocessed: WriteRequest[] = [];
      for (const r of reqs) {
        if (table() < 0.3) unprocessed.push(r);
        else written.set(keyOf(r), (written.get(keyOf(r)) ?? 0) + 1);
      }
      return unprocessed.length ? { UnprocessedItems: { [TABLE]: unprocessed } } : {};
    });
    const w = writer({ concurrency: 4, maxAttempts: 30, random: lcg(7) });
    const rows = makeRows(1000);
    for (let i = 0; i < rows.length; i += 37) await w.write(rows.slice(i, i + 37));
    const stats = await w.flush();
    expect(written.size).toBe(1000);
    expect([...written.values()].every((n) => n === 1)).toBe(true);
    expect(stats.rowsWritten).toBe(1000);
    expect(stats.batches).toBe(40);
    expect(stats.retries).toBeGreaterThan(40);
    expect(call).toBe(stats.batches + stats.retries);
    expect(throttles / call).toBeGreaterThan(0.15);
    expect(throttles / call).toBeLessThan(0.35);
    expect(maxInFlight).toBe(4);
  });

  it('fails when Lambda time runs out while a call goes unanswered, and says so', async () => {
    ddb.on(BatchWriteItemCommand).callsFake(() => new Promise(() => {})); // never answers
    // 3050 ms left, margin 3000: the watchdog fires 50 ms after the first call.
    const w = writer({ remainingTimeMs: () => 3050, timeMarginMs: 3000 });
    await w.write(makeRows(25));
    const started = Date.now();
    const err = await rejection(w.flush());
    expect(Date.now() - started).toBeLessThan(2000);
    expect(err.reason).toBe('25 rows not written: Lambda time running out with 1 BatchWriteItem calls unanswered (margin 3000 ms)');
    expect(err.retryable).toBe(true);
  });

  it('does not fail on time once every call has answered', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer({ remainingTimeMs: () => 3020, timeMarginMs: 3000 });
    await w.write(makeRows(30));
    expect((await w.flush()).rowsWritten).toBe(30);
    await new Promise((r) => setTimeout(r, 60)); // past the watchdog's 20 ms
    await w.write(makeRows(1, 100)); // still usable: the watchdog did not fail it
  });

  it('refuses a concurrency that is not a positive integer', () => {
    expect(() => writer({ concurrency: 0 })).toThrow(new RangeError('concurrency must be a positive integer, got 0'));
    expect(() => writer({ concurrency: 1.5 })).toThrow(new RangeError('concurrency must be a positive integer, got 1.5'));
    expect(() => writer({ concurrency: 1 })).not.toThrow();
  });

  it('makes at least one attempt, and whole attempts', async () => {
    ddb.on(BatchWriteItemCommand).rejects(throttled());
    const once = writer({ maxAttempts: 0 });
    await once.write(makeRows(1));
    expect((await rejection(once.flush())).reason).toBe('1 row not written after 1 attempts: ProvisionedThroughputExceededException');
    ddb.resetHistory();
    const twice = writer({ maxAttempts: 2.9 });
    await twice.write(makeRows(2));
    expect((await rejection(twice.flush())).reason).toBe('2 rows not written after 2 attempts: ProvisionedThroughputExceededException');
    expect(sent()).toHaveLength(2);
  });

  it('keeps the room of one partial batch beyond the calls in flight, whatever maxPendingRows says', async () => {
    const held: Held[] = [];
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => new Promise((resolve) => held.push({ input, resolve })));
    // concurrency 1 and maxPendingRows 10: the floor is (1 + 1) * 25 = 50 rows.
    const w = writer({ concurrency: 1, maxPendingRows: 10 });
    await w.write(makeRows(49)); // resolves: 49 < 50
    let resolved = false;
    void w.write(makeRows(1, 100)).then(() => {
      resolved = true;
    });
    for (let i = 0; i < 3; i++) await tick();
    expect(resolved).toBe(false); // 50 pending: full
    held.shift()!.resolve({});
    for (let i = 0; i < 3; i++) await tick();
    expect(resolved).toBe(true);
    // A larger maxPendingRows is taken as given: 80 rows fit before write() waits.
    const roomy = writer({ concurrency: 1, maxPendingRows: 80 });
    let roomyResolved = false;
    void roomy.write(makeRows(79, 200)).then(() => {
      roomyResolved = true;
    });
    for (let i = 0; i < 3; i++) await tick();
    expect(roomyResolved).toBe(true);
  });

  it('retries UnprocessedItems that come back under another spelling of the table (its ARN)', async () => {
    let call = 0;
    ddb.on(BatchWriteItemCommand).callsFake((input: BatchWriteItemCommandInput) => {
      call++;
      const reqs = requestsOf(input);
      return Promise.resolve(call === 1 ? { UnprocessedItems: { [`arn:aws:dynamodb:us-east-1:123456789012:table/${TABLE}`]: reqs.slice(0, 2), other: [] } } : {});
    });
    const w = writer({ concurrency: 1 });
    await w.write(makeRows(5));
    const stats = await w.flush();
    expect(sent().map((b) => b.length)).toEqual([5, 2]);
    expect(sent()[1].map(keyOf)).toEqual(sent()[0].slice(0, 2).map(keyOf));
    expect(stats).toMatchObject({ rowsWritten: 5, retries: 1 });
  });

  it('counts rows with a document stored as text, and rows cut to fit', async () => {
    ddb.on(BatchWriteItemCommand).resolves({});
    const w = writer();
    await w.write([makeRow(1, { requestParameters: { n: 1e300 }, responseElements: { n: 1e300 } }), makeRow(2, { userAgent: 'u'.repeat(500_000) }), makeRow(3)]);
    const stats = await w.flush();
    // One row with two documents as text counts once.
    expect(stats).toMatchObject({ rowsWritten: 3, jsonFallbacks: 1, truncated: 1 });
  });

  it('names an error by its code or HTTP status when its name says nothing', async () => {
    ddb
      .on(BatchWriteItemCommand)
      .rejectsOnce(Object.assign(new Error('reset'), { code: 'EPIPE' }))
      .rejectsOnce(Object.assign(new Error('bad gateway'), { name: 'Error', $metadata: { httpStatusCode: 502 } }))
      .rejects(Object.assign(new Error('access denied'), { name: 'Unknown', $metadata: { httpStatusCode: 403 } }));
    const reasons: string[] = [];
    const w = writer({ onRetry: (i) => reasons.push(i.reason) });
    await w.write(makeRows(1));
    const err = await rejection(w.flush());
    expect(reasons).toEqual(['EPIPE', 'HTTP 502']);
    expect(err.reason).toBe('1 row not written: HTTP 403: access denied (not retryable)');
    expect(err.retryable).toBe(false);
  });
});
