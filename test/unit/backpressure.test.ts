/**
 * Backpressure, end to end: while writes are blocked the pipeline stops pulling bytes from its source,
 * and once they are released everything completes with every row.
 *
 * The source is an async generator that counts the chunks the reader has pulled. Writes block either in the
 * sink itself (processTrail) or inside DynamoDB (ingest: a BatchWriteItem stand-in via aws-sdk-client-mock
 * that does not answer until released). Nothing here asserts on time: "stalled" means the pull count stopped
 * moving while the writes were held, and the assertion is on how many chunks were pulled by then.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { mockClient } from 'aws-sdk-client-mock';
import { BatchWriteItemCommand, DynamoDBClient, type BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import { loadConfig } from '../../src/config.js';
import { ingest } from '../../src/ingest.js';
import { processTrail } from '../../src/pipeline.js';
import type { AuditRow } from '../../src/ses/row.js';
import { MAX_BATCH_ITEMS } from '../../src/store/writer.js';

const TABLE = 'audit-backpressure';
const ddb = mockClient(DynamoDBClient);
const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } });
const limits = { maxUncompressedBytes: 512 * 1024 * 1024, maxRecordBytes: 1024 * 1024 };

/** An SES record that makes exactly one row, keyed `id<i>.example.com`. */
function sesRecord(i: number): Record<string, unknown> {
  const id = `e${String(i).padStart(7, '0')}-0000-4000-a000-000000000001`;
  return {
    eventVersion: '1.11',
    userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/carol', accountId: '111122223333' },
    eventTime: '2026-11-20T10:12:00Z',
    eventSource: 'ses.amazonaws.com',
    eventName: 'DeleteIdentity',
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.22.0',
    requestParameters: { identity: `id${i}.example.com` },
    responseElements: null,
    requestID: id,
    eventID: id,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: '111122223333',
    eventCategory: 'Management',
  };
}

/** Another service's record, padded: bytes the reader must get through that make no rows. */
function otherRecord(i: number, pad: number): Record<string, unknown> {
  return { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventID: `k${i}`, eventTime: '2026-11-20T10:12:00Z', pad: 'x'.repeat(pad) };
}

/** `{"Records":[...]}` cut so that chunk i holds exactly record i (the last chunk is the closing `]}`). */
function chunkPerRecord(records: unknown[]): Buffer[] {
  const chunks = records.map((r, i) => Buffer.from((i === 0 ? '{"Records":[' : ',') + JSON.stringify(r)));
  chunks.push(Buffer.from(']}'));
  return chunks;
}

/** A byte source that counts what the reader pulls from it. */
class CountingSource implements AsyncIterable<Uint8Array> {
  pulled = 0;
  bytes = 0;
  exhausted = false;
  constructor(private readonly chunks: Buffer[]) {}
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (const chunk of this.chunks) {
      this.pulled++;
      this.bytes += chunk.length;
      yield chunk;
    }
    this.exhausted = true;
  }
}

const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Waits until `cond()` holds (fails the test after a generous while). */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000 && !cond(); i++) await pause(5);
  if (!cond()) throw new Error(`timed out waiting for ${what}`);
}

/**
 * Waits until `value()` has stopped changing for a while: the reader has gone as far as it will while writes
 * are held (zlib works on the thread pool, so "a while" is real time, not a count of event-loop turns). A
 * reader that did not stall would keep moving and end up at the end of the source, which the callers rule out.
 */
async function settled(value: () => number): Promise<number> {
  let last = value();
  for (let still = 0; still < 20; ) {
    await pause(10);
    const now = value();
    if (now === last) still++;
    else {
      still = 0;
      last = now;
    }
  }
  return last;
}

/** A BatchWriteItem stand-in that holds every call until release(), then answers at once with nothing unprocessed. */
function heldTable() {
  const state = {
    calls: 0,
    inFlight: 0,
    maxInFlight: 0,
    items: new Map<string, number>(),
    release: (): void => undefined,
  };
  const gate = new Promise<void>((resolve) => (state.release = resolve));
  ddb.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput) => {
    state.calls++;
    state.maxInFlight = Math.max(state.maxInFlight, ++state.inFlight);
    await gate;
    for (const r of input.RequestItems![TABLE]) {
      const item = r.PutRequest!.Item!;
      const key = `${item.identity.S}|${item.eventKey.S}`;
      state.items.set(key, (state.items.get(key) ?? 0) + 1);
    }
    state.inFlight--;
    return { UnprocessedItems: {} };
  });
  return state;
}

beforeEach(() => ddb.reset());
afterEach(() => ddb.reset());
afterAll(() => ddb.restore());

describe('backpressure: slow writes stall reading', () => {
  it('processTrail pulls no further while the sink has not resolved, then finishes with every row', async () => {
    const n = 400;
    const source = new CountingSource(chunkPerRecord(Array.from({ length: n }, (_, i) => sesRecord(i))));
    // The sink blocks on its 10th call (the rows of chunk 9) until released.
    const blockAt = 10;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const rows: AuditRow[] = [];
    let sinkCalls = 0;
    const run = processTrail(source, {
      config: limits,
      sourceObject: 'test://backpressure',
      sink: async (chunk) => {
        rows.push(...chunk);
        if (++sinkCalls === blockAt) await gate;
      },
    });

    await until(() => sinkCalls >= blockAt, 'the sink to block');
    const pulled = await settled(() => source.pulled);
    // Chunk i holds record i: the blocked call is for chunk blockAt-1, so blockAt chunks were pulled; the
    // reader may have asked for one more before it awaited the sink, never more.
    expect(pulled).toBeGreaterThanOrEqual(blockAt);
    expect(pulled).toBeLessThanOrEqual(blockAt + 1);
    expect(sinkCalls).toBe(blockAt);
    expect(source.exhausted).toBe(false);

    release();
    const summary = await run;
    expect(source.exhausted).toBe(true);
    expect(source.pulled).toBe(n + 1);
    expect(summary.rows).toBe(n);
    expect(rows).toHaveLength(n);
    expect(new Set(rows.map((r) => r.identity)).size).toBe(n);
  });

  it('ingest: while BatchWriteItem is held the reader stops within a chunk or two of the writer filling up', async () => {
    const table = heldTable();
    const concurrency = 2;
    const config = loadConfig({ TABLE_NAME: TABLE, WRITE_CONCURRENCY: String(concurrency) });
    // The writer's documented default bound: write() waits while concurrency * 25 * 2 rows are unconfirmed.
    const maxPending = concurrency * MAX_BATCH_ITEMS * 2;
    const n = 2000;
    const source = new CountingSource(chunkPerRecord(Array.from({ length: n }, (_, i) => sesRecord(i))));

    const run = ingest(source, 'test://backpressure', { dynamo: client, config });

    // The reader must get at least as far as the writer's bound (one row per chunk) before it can stall.
    await until(() => table.calls >= concurrency && source.pulled >= maxPending, 'the writer to fill up');
    const pulled = await settled(() => source.pulled);
    // One row per chunk: the writer is full after chunk maxPending-1, i.e. once maxPending chunks are in.
    expect(pulled).toBeGreaterThanOrEqual(maxPending);
    expect(pulled).toBeLessThanOrEqual(maxPending + 2);
    // Bounded concurrency: only `concurrency` calls went out, and they are all still waiting.
    expect(table.calls).toBe(concurrency);
    expect(table.inFlight).toBe(concurrency);
    expect(table.items.size).toBe(0);
    expect(source.exhausted).toBe(false);

    table.release();
    const result = await run;
    expect(source.exhausted).toBe(true);
    expect(source.pulled).toBe(n + 1);
    expect(result.rows).toBe(n);
    expect(result.writer.rowsWritten).toBe(n);
    expect(table.items.size).toBe(n);
    expect([...table.items.values()].every((times) => times === 1)).toBe(true);
    expect(table.maxInFlight).toBeLessThanOrEqual(concurrency);
    expect(table.calls).toBe(Math.ceil(n / MAX_BATCH_ITEMS));
  });

  it('ingest of a gzipped file: held writes stop the reader a bounded distance into the file', async () => {
    const table = heldTable();
    const concurrency = 2;
    const config = loadConfig({ TABLE_NAME: TABLE, WRITE_CONCURRENCY: String(concurrency) });
    const maxPending = concurrency * MAX_BATCH_ITEMS * 2;
    // Every SES record is followed by 16 KiB of another service's record: the writer fills up after about
    // maxPending * 16 KiB (1.6 MiB) of JSON, in a 48 MiB file. Stored (level 0) gzip, so compressed bytes
    // pulled are JSON bytes read.
    const n = 3000;
    const records: unknown[] = [];
    for (let i = 0; i < n; i++) records.push(sesRecord(i), otherRecord(i, 16 * 1024));
    const gz = gzipSync(Buffer.from(JSON.stringify({ Records: records })), { level: 0 });
    const chunkSize = 64 * 1024;
    const chunks: Buffer[] = [];
    for (let i = 0; i < gz.length; i += chunkSize) chunks.push(gz.subarray(i, i + chunkSize));
    const source = new CountingSource(chunks);

    const run = ingest(source, 'test://backpressure.json.gz', { dynamo: client, config });

    // The writer fills up once maxPending SES records (each followed by its 16 KiB neighbour) are read.
    const fillPoint = maxPending * (16 * 1024 + 600);
    await until(() => table.calls >= concurrency && source.bytes >= fillPoint * 0.9, 'the writer to fill up');
    const pulledBytes = await settled(() => source.bytes);
    // Where the writer fills up, plus what the reader buffers ahead by design: the gunzip stream's buffers
    // (4 x 256 KiB on each side), the chunk being scanned and the source chunk in hand. 8 MiB is generous;
    // a reader that did not wait would run through all 48 MiB.
    expect(pulledBytes).toBeGreaterThanOrEqual(fillPoint * 0.9);
    expect(pulledBytes).toBeLessThanOrEqual(fillPoint + 8 * 1024 * 1024);
    expect(pulledBytes).toBeLessThan(gz.length / 4);
    expect(table.calls).toBe(concurrency);
    expect(source.exhausted).toBe(false);

    table.release();
    const result = await run;
    expect(source.exhausted).toBe(true);
    expect(source.bytes).toBe(gz.length);
    expect(result.writer.rowsWritten).toBe(n);
    expect(table.items.size).toBe(n);
    expect(table.maxInFlight).toBeLessThanOrEqual(concurrency);
  });
});
