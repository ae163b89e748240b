/**
 * What a failed or slow file leaves behind in a warm Lambda, and how the time of one invocation is shared
 * between the files it names: an S3 body left open on failure would hold its keep-alive socket; one file
 * must not leave every later file "not started" on every retry.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { GetObjectCommandInput } from '@aws-sdk/client-s3';
import { makeApp, rejectionOf, type AppUnderTest } from '../helpers/app.js';
import { FakeS3, FakeTable } from '../helpers/aws-mocks.js';
import { BUCKET, logKey, s3Event, SAMPLE_1015, sampleFile, sesRecord, sqsEvent } from '../helpers/trail.js';

const s3 = new FakeS3();
const table = new FakeTable();
let t: AppUnderTest | undefined;

beforeEach(() => {
  s3.reset();
  table.reset();
});
afterEach(() => {
  t?.out.restore();
  t = undefined;
  vi.useRealTimers();
});
afterAll(() => {
  s3.restore();
  table.restore();
});

/** A body like the SDK's in Node (a byte Readable): these chunks, then open until destroyed, as a live socket. */
function liveBody(chunks: Buffer[]): Readable {
  let next = 0;
  return new Readable({
    read() {
      if (next < chunks.length) this.push(chunks[next++]);
    },
  });
}

describe('a failed file closes its S3 body', () => {
  const good = gzipSync(JSON.stringify({ Records: [sesRecord('DeleteIdentity', { identity: 'example.com' })] }));
  const corrupt = Buffer.from(good);
  corrupt.fill(0x55, 12, 30);
  const cases: Array<[string, Buffer, RegExp]> = [
    ['corrupt gzip', corrupt, /corrupt gzip/],
    ['not a trail file', gzipSync('{"NotRecords":[]} x'), /unexpected data|invalid JSON/],
    ['invalid JSON in an SES record', gzipSync('{"Records":[{"eventSource":"ses.amazonaws.com","a":tru}]}'), /invalid JSON in record 0/],
  ];
  for (const [name, bytes, reason] of cases) {
    it(name, async () => {
      t = makeApp(s3, table);
      const bodies: Readable[] = [];
      const signals: (AbortSignal | undefined)[] = [];
      const key = logKey(name.replace(/\W/g, '').slice(0, 8));
      s3.put(BUCKET, key, (input: GetObjectCommandInput) => {
        const body = liveBody([bytes.subarray(0, 20), bytes.subarray(20)]);
        bodies.push(body);
        return { Body: body, ContentLength: bytes.length, input };
      });
      // The abort signal given to GetObject, from the mock's recorded call.
      const err = await rejectionOf(t.app.handle(s3Event([key]), { getRemainingTimeInMillis: () => 300_000 }));
      expect(err.message).toMatch(reason);
      // Boundary: sinon records send's options too, but aws-sdk-client-mock types only the command.
      signals.push(...s3.mock.calls().map((c) => ((c.args as unknown[])[1] as { abortSignal?: AbortSignal } | undefined)?.abortSignal));
      expect(bodies).toHaveLength(1);
      expect(bodies[0].destroyed).toBe(true);
      expect(signals.every((sg) => sg?.aborted === true)).toBe(true);
    });
  }
});

describe('time is shared between the files of one invocation', () => {
  it('a file that stalls fails on its own share; the next file still runs in the same invocation', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    t = makeApp(s3, table);
    const STALLED = logKey('stalled1');
    const GOOD = logKey('good0001');
    // The first file sends a few bytes and then nothing, as a stalled connection would.
    s3.put(BUCKET, STALLED, () => ({ Body: liveBody([gzipSync('{"Records":[').subarray(0, 10)]) }));
    s3.put(BUCKET, GOOD, sampleFile(SAMPLE_1015));
    const deadline = Date.now() + 60_000;
    const context = { getRemainingTimeInMillis: () => deadline - Date.now() };
    const run = t.app.handle(sqsEvent([{ id: 'stalled', keys: [STALLED] }, { id: 'good', keys: [GOOD] }]), context);
    // Half of the 60 s is the stalled file's; its read stops 5 s before that share ends (at 25 s). Given the
    // whole minute, it would stop at 55 s and leave the next file 5 s: "not started".
    await vi.advanceTimersByTimeAsync(56_000);
    vi.useRealTimers();
    expect(await run).toEqual({ batchItemFailures: [{ itemIdentifier: 'stalled' }] });
    expect(table.items.size).toBeGreaterThan(0);
    expect([...table.items.values()].every((item) => item.sourceObject?.S === `s3://${BUCKET}/${GOOD}`)).toBe(true);
  });

  it('a lone file keeps the whole invocation', async () => {
    t = makeApp(s3, table);
    const GOOD = logKey('good0002');
    s3.put(BUCKET, GOOD, sampleFile(SAMPLE_1015));
    // 12 s left: one file may start (10 s margin); as one of two it would get at least 20 s, which is not there.
    expect(await t.app.handle(sqsEvent([{ id: 'a', keys: [GOOD] }]), { getRemainingTimeInMillis: () => 12_000 })).toEqual({
      batchItemFailures: [],
    });
  });

  it('says in the error what "not started" means and what to change', async () => {
    t = makeApp(s3, table);
    const err = await rejectionOf(t.app.handle(s3Event([logKey('late0001')]), { getRemainingTimeInMillis: () => 4_000 }));
    expect(err.message).toMatch(
      /not started: 4000 ms of Lambda time left for this file, and a file needs 10000 ms to start \(retried later; if this repeats, raise the function timeout or lower the SQS batch size\)/,
    );
  });
});
