/**
 * createApp(...).handle against a DynamoDB that throttles, fails, answers partially or slowly, and a Lambda
 * that runs out of time. The writer's backoff sleeps for real (setTimeout); Math.random is pinned low so the
 * full-jitter delays stay a few milliseconds and the file runs in about a second.
 */
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import type { GetObjectCommand, GetObjectCommandInput, S3Client } from '@aws-sdk/client-s3';
import type { WriteRequest } from '@aws-sdk/client-dynamodb';
import { WriteError } from '../../src/errors.js';
import { InvocationFailedError } from '../../src/triggers/index.js';
import { encodeRow } from '../../src/store/marshal.js';
import { batchResult, makeApp, lambdaContext, NOW, rejectionOf, type AppUnderTest, type MakeAppOptions } from '../helpers/app.js';
import { FakeS3, FakeTable, internalServerError, keyOf, keyOfItem, throttled, type CallOutcome } from '../helpers/aws-mocks.js';
import { BUCKET, batchOpsEvent, expectedRows, generatedFile, logKey, s3Event, SAMPLE_1015, sampleFile, sqsEvent } from '../helpers/trail.js';

const s3 = new FakeS3();
const table = new FakeTable();
let t: AppUnderTest | undefined;

/** A generated file with a few hundred SES rows, shared by the tests (read-only). */
let bigFile: Buffer;
const BIG = logKey('big00001');
const SMALL = logKey('small001');

beforeAll(async () => {
  bigFile = await generatedFile({ bytes: 600_000, sesShare: 0.5, seed: 7 });
});
beforeEach(() => {
  s3.reset();
  table.reset();
  s3.put(BUCKET, BIG, bigFile);
  s3.put(BUCKET, SMALL, sampleFile(SAMPLE_1015));
  vi.spyOn(Math, 'random').mockReturnValue(0.01);
});
afterEach(() => {
  t?.out.restore();
  t = undefined;
  vi.restoreAllMocks();
  vi.useRealTimers();
});
afterAll(() => {
  s3.restore();
  table.restore();
});

function setup(o: MakeAppOptions = {}): AppUnderTest {
  t = makeApp(s3, table, o);
  return t;
}

const uri = (key: string): string => `s3://${BUCKET}/${key}`;

/** The table must hold exactly the rows of `file`, each accepted exactly once. */
async function expectExactlyOnce(file: Buffer, key: string): Promise<number> {
  const { rows } = await expectedRows(file, uri(key), t!.config, () => NOW);
  const items = rows.map((r) => encodeRow(r).item);
  const keys = items.map(keyOfItem);
  expect(new Set(keys).size).toBe(keys.length); // precondition: no repeated event in the file
  expect([...table.items.keys()].sort()).toEqual([...keys].sort());
  for (const item of items) expect(table.items.get(keyOfItem(item))).toEqual(item);
  for (const k of keys) expect(table.writes.get(k), k).toBe(1);
  return rows.length;
}

/** The first `n` requests of a call left unprocessed (DynamoDB returns them in UnprocessedItems). */
const leave = (requests: WriteRequest[], n: number): CallOutcome => ({ kind: 'unprocessed', items: requests.slice(requests.length - n) });

describe('DynamoDB trouble: every row ends up written exactly once', () => {
  it('the generated file has a few hundred SES rows (precondition of the tests below)', async () => {
    setup();
    const { rows, summary } = await expectedRows(bigFile, uri(BIG), t!.config, () => NOW);
    expect(rows.length).toBeGreaterThanOrEqual(200);
    expect(rows.length).toBeLessThan(1000);
    expect(summary.records).toBeGreaterThan(rows.length);
  });

  it('throttled batches (ProvisionedThroughputExceededException) are retried', async () => {
    const { app, out } = setup();
    // Each batch is throttled on its first two attempts.
    const attempts = new Map<string, number>();
    table.behavior = (call) => {
      const id = keyOf(call.requests[0]);
      const n = (attempts.get(id) ?? 0) + 1;
      attempts.set(id, n);
      return n <= 2 ? { kind: 'throw', error: throttled() } : { kind: 'ok' };
    };
    await app.handle(s3Event([BIG]), lambdaContext());
    const rows = await expectExactlyOnce(bigFile, BIG);
    const { batches, retries } = table.batchCounts();
    expect(batches).toBe(Math.ceil(rows / 25));
    expect(retries).toBe(2 * batches);
    expect(out.metric('WriteRetries')).toEqual([retries]);
    expect(out.metric('RowsWritten')).toEqual([rows]);
    expect(out.logs('file processed')[0]).toMatchObject({ retries, rowsWritten: rows });
  });

  it('UnprocessedItems several times in a row: only the unprocessed items are sent again', async () => {
    const { app, out } = setup();
    // Each call of a full batch leaves some items: 25 -> 20 -> 15 -> 10 -> 0.
    table.behavior = (call) => (call.requests.length > 10 ? leave(call.requests, call.requests.length - 5) : { kind: 'ok' });
    await app.handle(s3Event([BIG]), lambdaContext());
    const rows = await expectExactlyOnce(bigFile, BIG);
    // Every retry sends exactly what the previous call left.
    for (const call of table.calls.filter((c) => !c.firstAttempt)) expect(call.requests.length).toBeLessThan(25);
    expect(out.metric('RowsWritten')).toEqual([rows]);
    expect(out.metric('WriteRetries')).toEqual([table.batchCounts().retries]);
    expect(table.batchCounts().retries).toBeGreaterThanOrEqual(3 * Math.floor(rows / 25));
  });

  it('5xx (InternalServerError) is retried', async () => {
    const { app } = setup();
    table.behavior = (call) => (call.index % 3 === 0 ? { kind: 'throw', error: internalServerError() } : { kind: 'ok' });
    await app.handle(s3Event([BIG]), lambdaContext());
    await expectExactlyOnce(bigFile, BIG);
    expect(table.calls.some((c) => c.outcome === 'throw')).toBe(true);
  });

  it('a quarter of the calls throttled, the others partially processed: all rows kept', async () => {
    const { app, out } = setup();
    table.behavior = (call) => {
      if (call.index % 4 === 0) return { kind: 'throw', error: throttled() };
      return leave(call.requests, Math.floor(call.requests.length / 3));
    };
    const result = await app.handle(s3Event([BIG]), lambdaContext());
    const rows = await expectExactlyOnce(bigFile, BIG);
    expect(result).toMatchObject({ summaries: [expect.stringMatching(new RegExp(`^${rows} rows from \\d+ records$`))] });
    expect(table.calls.filter((c) => c.outcome === 'throw').length).toBeGreaterThanOrEqual(Math.floor(table.calls.length / 4));
    expect(table.calls.filter((c) => c.outcome === 'unprocessed').length).toBeGreaterThan(0);
    expect(out.metric('RowsWritten')).toEqual([rows]);
    expect(out.metric('WriteRetries')).toEqual([table.batchCounts().retries]);
    expect(out.metric('Failures')).toEqual([]);
  });

  it('exhausted retries fail the invocation with the WriteError reason, naming the object', async () => {
    const { app, out } = setup();
    table.behavior = () => ({ kind: 'throw', error: throttled() });
    const err = await rejectionOf(app.handle(s3Event([SMALL]), lambdaContext()));
    expect(err).toBeInstanceOf(InvocationFailedError);
    expect(err.cause).toBeInstanceOf(WriteError);
    expect(err.message).toContain(uri(SMALL));
    expect(err.message).toMatch(/12 rows not written after 10 attempts: ProvisionedThroughputExceededException/);
    expect((err as InvocationFailedError).retryable).toBe(true);
    expect(table.calls).toHaveLength(10);
    expect(table.items.size).toBe(0);
    expect(out.metric('Failures')).toEqual([1]);
    expect(out.metric('WriteRetries')).toEqual([9]);
    expect(out.logs('file failed')[0]).toMatchObject({ level: 'ERROR', object: uri(SMALL), retryable: true });
  });

  it('SQS: exhausted retries put the message in batchItemFailures; Batch Operations: TemporaryFailure', async () => {
    const { app } = setup();
    table.behavior = (call) => (call.requests.some((r) => r.PutRequest!.Item!.sourceObject.S === uri(SMALL)) ? { kind: 'throw', error: throttled() } : { kind: 'ok' });
    const other = logKey('other001');
    s3.put(BUCKET, other, sampleFile(SAMPLE_1015));
    expect(await app.handle(sqsEvent([{ id: 'bad', keys: [SMALL] }, { id: 'good', keys: [other] }]), lambdaContext())).toEqual({
      batchItemFailures: [{ itemIdentifier: 'bad' }],
    });
    const batch = batchResult(await app.handle(batchOpsEvent([{ id: 'task', key: SMALL }]), lambdaContext()));
    expect(batch.results[0].resultCode).toBe('TemporaryFailure');
    expect(batch.results[0].resultString).toMatch(/not written after 10 attempts/);
  });

  it('a non-retryable DynamoDB error fails at once (no retries)', async () => {
    const { app } = setup();
    const missingTable = Object.assign(new Error('Requested resource not found'), { name: 'ResourceNotFoundException', $metadata: { httpStatusCode: 400 } });
    table.behavior = () => ({ kind: 'throw', error: missingTable });
    const err = await rejectionOf(app.handle(s3Event([SMALL]), lambdaContext()));
    expect(err.message).toMatch(/ResourceNotFoundException: Requested resource not found \(not retryable\)/);
    expect(table.calls).toHaveLength(1);
    expect((err as InvocationFailedError).retryable).toBe(false);
  });
});

describe('concurrency', () => {
  it('holds WRITE_CONCURRENCY: at most 3 BatchWriteItem calls in flight, and it does use 3', async () => {
    const { app } = setup({ env: { WRITE_CONCURRENCY: '3' } });
    const held: (() => void)[] = [];
    const inFlightAtEachCall: number[] = [];
    table.behavior = () => {
      inFlightAtEachCall.push(table.inFlight);
      let release!: () => void;
      const p = new Promise<CallOutcome>((resolve) => (release = () => resolve({ kind: 'ok' })));
      held.push(release);
      return { kind: 'hold', release: p };
    };
    let done = false;
    const run = app.handle(s3Event([BIG]), lambdaContext()).finally(() => (done = true));
    // Answer the oldest held call only once nothing else is moving, so the writer fills every slot it may.
    while (!done) {
      await new Promise((r) => setTimeout(r, 2));
      if (held.length) held.shift()!();
    }
    await run;
    const rows = await expectExactlyOnce(bigFile, BIG);
    expect(table.calls.length).toBe(Math.ceil(rows / 25));
    expect(table.maxInFlight).toBe(3);
    expect(Math.max(...inFlightAtEachCall)).toBe(3);
  });
});

describe('Lambda time', () => {
  it('too little time left to start: a clear retryable failure, nothing read', async () => {
    const { app } = setup();
    const err = await rejectionOf(app.handle(s3Event([SMALL]), lambdaContext(4_000)));
    expect(err.message).toContain(uri(SMALL));
    expect(err.message).toMatch(/not started: 4000 ms of Lambda time left/);
    expect((err as InvocationFailedError).retryable).toBe(true);
    expect(s3.gets()).toEqual([]);
    // SQS: every message is handed back for a later try.
    expect(await app.handle(sqsEvent([{ id: 'a', keys: [SMALL] }, { id: 'b', keys: [BIG] }]), lambdaContext(4_000))).toEqual({
      batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }],
    });
  });

  it('time running out during the writes: the writer stops and the invocation fails quickly', async () => {
    const { app, out } = setup();
    let left = 60_000;
    table.behavior = () => {
      left = 2_000; // the clock jumps once the first batch is on its way
      return { kind: 'ok' };
    };
    const started = performance.now();
    const err = await rejectionOf(app.handle(s3Event([BIG]), lambdaContext(() => left)));
    expect(performance.now() - started).toBeLessThan(2_000);
    expect(err.cause).toBeInstanceOf(WriteError);
    expect(err.message).toContain(uri(BIG));
    expect(err.message).toMatch(/rows not written: Lambda time running out \(2000 ms left, margin 3000 ms\)/);
    expect((err as InvocationFailedError).retryable).toBe(true);
    expect(out.metric('Failures')).toEqual([1]);
  });

  it('time running out while retrying a throttled batch: no sleep past the deadline', async () => {
    const { app } = setup();
    let left = 60_000;
    table.behavior = () => {
      left = 3_010;
      return { kind: 'throw', error: throttled() };
    };
    vi.spyOn(Math, 'random').mockReturnValue(1); // a 50 ms backoff would end inside the 3000 ms margin
    const err = await rejectionOf(app.handle(s3Event([SMALL]), lambdaContext(() => left)));
    expect(err.message).toMatch(/Lambda time running out \(3010 ms left, margin 3000 ms\) after 1 attempts: ProvisionedThroughputExceededException/);
    expect(table.calls).toHaveLength(1);
  });

  // A BatchWriteItem call that never answers must not hold the invocation until Lambda kills it: the
  // writer's deadline watchdog fails it at the time margin.
  it('a DynamoDB call that never answers: the invocation fails before Lambda time runs out', async () => {
    const { app } = setup();
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const deadline = Date.now() + 20_000;
    table.behavior = () => ({ kind: 'hold', release: new Promise<CallOutcome>(() => undefined) });
    let settled = false;
    const run = rejectionOf(app.handle(s3Event([SMALL]), lambdaContext(() => deadline - Date.now()))).finally(() => (settled = true));
    // Reading is real I/O (zlib on the thread pool), which fake time does not move: wait, in real time, for
    // the first call to be held before moving the clock, or the clock would pass the deadline before any write.
    const started = performance.now();
    while (table.calls.length === 0 && !settled && performance.now() - started < 10_000) await new Promise((r) => setImmediate(r));
    expect(table.calls.length).toBeGreaterThan(0);
    for (let i = 0; i < 199 && !settled; i++) await vi.advanceTimersByTimeAsync(100); // up to 100 ms before the deadline
    expect(settled).toBe(true);
    const err = await run;
    expect(err.message).toMatch(/time/);
  });

  describe('a stalled S3 read is cut off before Lambda times out', () => {
    /**
     * An S3 client whose GetObject behaves like the SDK's NodeHttpHandler under an abort signal: before the
     * response, send rejects with an AbortError; during the body, the response stream is destroyed with
     * Node's `Error: aborted` (code ECONNRESET), which is what a real S3Client gives (checked against a local
     * HTTP server that stalls mid-body).
     */
    function stallingS3(mode: 'headers' | 'body'): { client: S3Client; sends: GetObjectCommandInput[] } {
      const sends: GetObjectCommandInput[] = [];
      const file = sampleFile(SAMPLE_1015);
      const client = {
        send(command: GetObjectCommand, options?: { abortSignal?: AbortSignal }) {
          sends.push(command.input);
          const signal = options?.abortSignal;
          if (!signal) return Promise.reject(new Error('test: the app must pass an abort signal to GetObject'));
          if (mode === 'headers') {
            return new Promise((_resolve, reject) => {
              signal.addEventListener('abort', () => reject(Object.assign(new Error('Request aborted'), { name: 'AbortError' })), { once: true });
            });
          }
          let sent = false;
          const body = new Readable({
            read() {
              if (!sent) {
                sent = true;
                this.push(file.subarray(0, 400)); // then nothing more: the connection hangs
              }
            },
          });
          signal.addEventListener('abort', () => body.destroy(Object.assign(new Error('aborted'), { code: 'ECONNRESET' })), { once: true });
          return Promise.resolve({ Body: body, ContentLength: file.length });
        },
      } as unknown as S3Client;
      return { client, sends };
    }

    async function runStalled(mode: 'headers' | 'body'): Promise<{ err: Error; sends: GetObjectCommandInput[] }> {
      const stall = stallingS3(mode);
      const { app } = setup({ s3Client: stall.client });
      vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
      // 20 s left: the read is abandoned 5 s before the end, i.e. after 15 s.
      const run = rejectionOf(app.handle(s3Event([SMALL]), lambdaContext(20_000)));
      await vi.advanceTimersByTimeAsync(14_900);
      let settled = false;
      void run.finally(() => (settled = true));
      await Promise.resolve();
      expect(settled).toBe(false); // still reading before the cut-off
      await vi.advanceTimersByTimeAsync(200);
      const err = await run;
      return { err, sends: stall.sends };
    }

    it('stalled before the response: fails, retryable, saying time ran out', async () => {
      const { err, sends } = await runStalled('headers');
      expect(sends).toHaveLength(1);
      expect(err.message).toContain(uri(SMALL));
      expect(err.message).toMatch(/S3 read aborted: time ran out/);
      expect((err as InvocationFailedError).retryable).toBe(true);
    });

    it('stalled mid-body: fails (not a hang), retryable', async () => {
      const { err } = await runStalled('body');
      expect(err.message).toContain(uri(SMALL));
      expect((err as InvocationFailedError).retryable).toBe(true);
    });

    // Regression test: a plain reset mid-body used to read 'retryable: Error', without the cause.
    it('stalled mid-body: the reason says the read was cut off because time ran out', async () => {
      const { err } = await runStalled('body');
      expect(err.message).toMatch(/time ran out/);
    });
  });
});
