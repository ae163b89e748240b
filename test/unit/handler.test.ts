/**
 * createApp(...).handle end to end with mocked S3 and DynamoDB, a real Powertools Logger and Metrics:
 * which objects are read, what is written, what each trigger gets back, and what is logged and measured.
 * DynamoDB failure handling, the concurrency bound and Lambda time: handler-writes.test.ts.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Readable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { encodeRow, itemSize, MAX_ITEM_BYTES } from '../../src/store/marshal.js';
import { batchResult, invocationSummary, makeApp, lambdaContext, NOW, rejectionOf, type AppUnderTest, type MakeAppOptions } from '../helpers/app.js';
import { accessDenied, FakeS3, FakeTable, keyOfItem, slowDown } from '../helpers/aws-mocks.js';
import {
  ACCOUNT,
  BUCKET,
  batchOpsEvent,
  expectedRows,
  goldenRows,
  gunzippedLength,
  gzipRecords,
  loadEvent,
  logKey,
  s3Event,
  s3Record,
  SAMPLE_1015,
  SAMPLE_1030,
  SAMPLE_DIGEST,
  sampleFile,
  sesRecord,
  sqsEvent,
} from '../helpers/trail.js';

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
});
afterAll(() => {
  s3.restore();
  table.restore();
});

function setup(o: MakeAppOptions = {}): AppUnderTest {
  t = makeApp(s3, table, o);
  return t;
}

const PREFIX = 'my trail';
const K1 = `${PREFIX}/${SAMPLE_1015}`;
const K2 = `${PREFIX}/${SAMPLE_1030}`;
const KD = `${PREFIX}/${SAMPLE_DIGEST}`;
const uri = (key: string, bucket = BUCKET): string => `s3://${bucket}/${key}`;

function putSamples(): void {
  s3.put(BUCKET, K1, sampleFile(SAMPLE_1015));
  s3.put(BUCKET, K2, sampleFile(SAMPLE_1030));
  // Any bytes: without a ledger a digest is skipped unread.
  s3.put(BUCKET, KD, gzipSync('{}'));
}

/** Items keyed by `identity \0 eventKey`, as a plain object for toEqual. */
function byKey(items: Iterable<Record<string, AttributeValue>>): Record<string, Record<string, AttributeValue>> {
  const out: Record<string, Record<string, AttributeValue>> = {};
  for (const item of items) out[keyOfItem(item)] = item;
  return out;
}

function rowOf(identity: string, eventKey: string): Record<string, AttributeValue> {
  const item = table.items.get(`${identity}\u0000${eventKey}`);
  if (!item) throw new Error(`no row ${identity} / ${eventKey}; rows: ${[...table.items.keys()].map((k) => k.replace('\u0000', ' | ')).join('; ')}`);
  return item;
}

describe('S3 event notifications', () => {
  it('processes every record of a multi-record event and writes exactly the rows of each file', async () => {
    const { app } = setup();
    putSamples();
    const result = await app.handle(s3Event([K1, KD, K2]), lambdaContext());

    expect(result).toMatchObject({ trigger: 's3', units: 3, objects: 3, ignored: 0 });
    expect(invocationSummary(result).summaries).toEqual(['12 rows from 55 records', 'skipped (digest)', '7 rows from 34 records']);
    // Both log files read, the digest never.
    expect(s3.gets().map((g) => [g.Bucket, g.Key])).toEqual([
      [BUCKET, K1],
      [BUCKET, K2],
    ]);

    // What was written is exactly the reviewed golden rows of each file, item for item.
    const golden = (key: string, k: string) => goldenRows(key, uri(k)).map((r) => ({ ...r, ingestedAt: NOW.toISOString() }));
    const expected = [...golden(SAMPLE_1015, K1), ...golden(SAMPLE_1030, K2)].map((r) => encodeRow(r).item);
    expect(expected).toHaveLength(19);
    // SetIdentityDkimEnabled 00000003 is in both files (CloudTrail may deliver an event twice): same key, overwritten.
    expect(new Set(expected.map(keyOfItem)).size).toBe(18);
    expect(table.sentItems()).toHaveLength(19);
    expect(byKey(table.sentItems())).toEqual(byKey(expected));
    expect(byKey(table.items.values())).toEqual(byKey(expected));
    for (const call of table.calls) expect(call.table).toBe('ses-audit-test');
  });

  it('files rows under the DESIGN.md keys (spot checks on the sample files)', async () => {
    const { app } = setup();
    putSamples();
    await app.handle(s3Event([K1, K2]), lambdaContext());
    const admin = `arn:aws:iam::${ACCOUNT}:role/admin-role`;
    const carol = `arn:aws:iam::${ACCOUNT}:user/carol`;

    // Domain identity lower-cased; AssumedRole actor = the role ARN.
    const verify = rowOf('example.com', '2026-11-20T10:10:04Z#00000001-5e5a-4d17-9c0e-000000001eef');
    expect(verify.actor).toEqual({ S: admin });
    expect(verify.eventName).toEqual({ S: 'VerifyDomainIdentity' });
    expect(verify.identityKind).toEqual({ S: 'domain' });
    expect(verify.eventTime).toEqual({ S: '2026-11-20T10:10:04Z' });
    expect(verify.sourceObject).toEqual({ S: uri(K1) });
    expect(verify.ingestedAt).toEqual({ S: NOW.toISOString() });
    expect(verify.expiresAt).toBeUndefined(); // no retention configured

    // Email identity kept exactly as logged.
    const email = rowOf('Alerts@Example.com', '2026-11-20T10:12:02Z#00000004-5e5a-4d17-9c0e-000000007bbc');
    expect(email.identityKind).toEqual({ S: 'email' });
    expect(email.eventName).toEqual({ S: 'VerifyEmailIdentity' });

    // `identities`: one row per identity, both rows list both; IAM user actor = user ARN.
    const gva = '2026-11-20T10:14:10Z#00000009-5e5a-4d17-9c0e-000000011667';
    for (const id of ['example.com', 'Alerts@Example.com']) {
      const row = rowOf(id, gva);
      expect(row.actor).toEqual({ S: carol });
      expect(row.eventName).toEqual({ S: 'GetIdentityVerificationAttributes' });
    }

    // Account-level call; resource-keyed call; a failed call is a row too.
    expect(rowOf(`account/${ACCOUNT}`, '2026-11-20T10:14:31Z#0000000a-5e5a-4d17-9c0e-000000013556').eventName).toEqual({ S: 'GetSendQuota' });
    expect(rowOf('receipt-rule-set/inbound', '2026-11-20T10:13:30Z#00000007-5e5a-4d17-9c0e-00000000d889').identityKind).toEqual({ S: 'resource' });
    expect(rowOf('example.com', '2026-11-20T10:14:52Z#0000000b-5e5a-4d17-9c0e-000000015445').errorCode).toEqual({ S: 'AccessDenied' });

    // Second file: identity ARN stored bare; configuration set; SES data event keyed by its EmailIdentity resource.
    expect(rowOf('news.example.com', '2026-11-20T10:29:05Z#00000011-5e5a-4d17-9c0e-000000020ddf').eventName).toEqual({ S: 'DeleteIdentity' });
    expect(rowOf('configuration-set/transactional', '2026-11-20T10:26:15Z#0000000e-5e5a-4d17-9c0e-00000001b112').actor).toEqual({ S: admin });
    const send = rowOf('Alerts@Example.com', '2026-11-20T10:27:00Z#0000000f-5e5a-4d17-9c0e-00000001d001');
    expect(send.eventCategory).toEqual({ S: 'Data' });
    expect(send.actor).toEqual({ S: `arn:aws:iam::${ACCOUNT}:role/app-mailer` });
  });

  it('decodes event keys before GetObject: + as space, %3D, %2B, UTF-8 escapes', async () => {
    const { app } = setup();
    const decoded = `my trail/team=mail/a+b/Zürich/${SAMPLE_1015}`;
    const raw = `my+trail/team%3Dmail/a%2Bb/Z%C3%BCrich/${SAMPLE_1015}`;
    s3.put(BUCKET, decoded, sampleFile(SAMPLE_1015));
    await app.handle({ Records: [s3Record(BUCKET, raw)] }, lambdaContext());
    expect(s3.gets().map((g) => g.Key)).toEqual([decoded]);
    expect(table.items.size).toBe(12);
    for (const item of table.items.values()) expect(item.sourceObject).toEqual({ S: uri(decoded) });
  });

  it('reads the object of the sample event events/s3-put.json (encoded key, version id)', async () => {
    const { app } = setup();
    const key = `my trail/team=mail/Zürich/${SAMPLE_1015}`;
    s3.put('ses-audit-trail-local', key, sampleFile(SAMPLE_1015));
    await app.handle(loadEvent('s3-put.json'), lambdaContext());
    expect(s3.gets()).toEqual([expect.objectContaining({ Bucket: 'ses-audit-trail-local', Key: key, VersionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' })]);
    expect(table.items.size).toBe(12);
  });

  it('skips digest, Insights, network-activity, aggregated and foreign objects without reading them', async () => {
    const { app, out } = setup();
    const dated = `${ACCOUNT}/CloudTrail-X/us-east-1/2026/11/20/${ACCOUNT}_CloudTrail_us-east-1_20261120T1015Z_abcd.json.gz`;
    const skipped = {
      digest: SAMPLE_DIGEST,
      insight: `AWSLogs/${dated.replace('CloudTrail-X', 'CloudTrail-Insight')}`,
      'network-activity': `AWSLogs/${dated.replace('CloudTrail-X', 'CloudTrail-NetworkActivity')}`,
      aggregated: `AWSLogs/${dated.replace('CloudTrail-X', 'CloudTrail-Aggregated')}`,
      other: `AWSLogs/${ACCOUNT}/elasticloadbalancing/us-east-1/2026/11/20/${ACCOUNT}_elasticloadbalancing_us-east-1_app.log.gz`,
    };
    const foreign = 'exports/report 2026-11.csv';
    const keys = [...Object.values(skipped), foreign];
    for (const k of keys) s3.put(BUCKET, k, sampleFile(SAMPLE_1015)); // readable, so a read would be noticed

    const result = invocationSummary(await app.handle(s3Event(keys), lambdaContext()));
    expect(result.summaries).toEqual([...Object.keys(skipped), 'other'].map((k) => `skipped (${k})`));
    expect(s3.gets()).toEqual([]);
    expect(table.calls).toEqual([]);
    expect(out.metric('FilesSkipped')).toEqual(keys.map(() => 1));
    expect(out.metric('FilesProcessed')).toEqual([]);
    const debug = out.logs('skipped: not a CloudTrail log file');
    expect(debug.map((l) => [l.level, l.object, l.kind])).toEqual(
      [...Object.entries(skipped), ['other', foreign]].map(([kind, k]) => ['DEBUG', uri(k), kind]),
    );
  });

  it.each([
    ['missing (NoSuchKey)', undefined, /object not found \(NoSuchKey\)/, false],
    ['access denied (403)', accessDenied(), /access denied/, false],
    ['throttled (SlowDown 503)', slowDown(), /S3 read failed, retryable: SlowDown/, true],
  ])('S3 error %s: the invocation fails naming the object', async (_name, error, reason, retryable) => {
    const { app, out } = setup();
    if (error) s3.put(BUCKET, K1, error);
    const err = await rejectionOf(app.handle(s3Event([K1]), lambdaContext()));
    expect(err.message).toContain(uri(K1));
    expect(err.message).toMatch(reason);
    expect(err.message).toMatch(/^s3: 1 of 1 unit\(s\) failed: Records\[0\]/);
    expect((err as { retryable?: boolean }).retryable).toBe(retryable);
    expect(table.calls).toEqual([]);
    expect(out.metric('Failures')).toEqual([1]);
    const failed = out.logs('file failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]).toMatchObject({ level: 'ERROR', object: uri(K1), retryable });
    expect(String(failed[0].reason)).toMatch(reason);
  });

  /** A GetObject whose body delivers part of the file, then dies as Node's http does on a reset connection. */
  function resetMidBody(): () => unknown {
    const file = sampleFile(SAMPLE_1015);
    return () => {
      async function* body(): AsyncGenerator<Buffer> {
        yield file.subarray(0, 300);
        throw Object.assign(new Error('aborted'), { code: 'ECONNRESET' });
      }
      return { Body: Readable.from(body()), ContentLength: file.length };
    };
  }

  it('a connection reset mid-body is a retryable failure (SQS: batch item failure; Batch Operations: TemporaryFailure)', async () => {
    const { app } = setup();
    s3.put(BUCKET, K1, resetMidBody());
    expect(await app.handle(sqsEvent([{ id: 'reset', keys: [K1] }]), lambdaContext())).toEqual({ batchItemFailures: [{ itemIdentifier: 'reset' }] });
    const batch = batchResult(await app.handle(batchOpsEvent([{ id: 'task', key: K1 }]), lambdaContext()));
    expect(batch.results[0].resultCode).toBe('TemporaryFailure');
    const err = await rejectionOf(app.handle(s3Event([K1]), lambdaContext()));
    expect(err.message).toContain(uri(K1));
    expect((err as { retryable?: boolean }).retryable).toBe(true);
  });

  // Regression test: a plain reset mid-body used to read 'retryable: Error', without the cause.
  it('a connection reset mid-body: the reason names ECONNRESET', async () => {
    const { app } = setup();
    s3.put(BUCKET, K1, resetMidBody());
    const err = await rejectionOf(app.handle(s3Event([K1]), lambdaContext()));
    expect(err.message).toMatch(/ECONNRESET/);
  });

  it('one failing record fails the invocation, but the other records are still processed', async () => {
    const { app } = setup();
    putSamples();
    s3.put(BUCKET, K1, accessDenied());
    const err = await rejectionOf(app.handle(s3Event([K1, K2]), lambdaContext()));
    expect(err.message).toMatch(/1 of 2 unit\(s\) failed/);
    expect(s3.gets().map((g) => g.Key)).toEqual([K1, K2]);
    expect(table.items.size).toBe(7);
  });

  it('passes ExpectedBucketOwner to GetObject when configured, and not otherwise', async () => {
    putSamples();
    let { app } = setup({ env: { EXPECTED_BUCKET_OWNER: ACCOUNT } });
    await app.handle(s3Event([K1]), lambdaContext());
    expect(s3.gets().map((g) => g.ExpectedBucketOwner)).toEqual([ACCOUNT]);

    t!.out.restore();
    s3.mock.resetHistory();
    ({ app } = setup());
    await app.handle(s3Event([K1]), lambdaContext());
    expect(s3.gets()).toHaveLength(1);
    expect(s3.gets()[0].ExpectedBucketOwner).toBeUndefined();
  });
});

describe('the sample events in events/, end to end', () => {
  const LOCAL = 'ses-audit-trail-local';
  const P1 = `my trail/${SAMPLE_1015}`;
  const P2 = `my trail/${SAMPLE_1030}`;
  beforeEach(() => {
    s3.put(LOCAL, P1, sampleFile(SAMPLE_1015));
    s3.put(LOCAL, P2, sampleFile(SAMPLE_1030));
    s3.put(LOCAL, SAMPLE_1015, sampleFile(SAMPLE_1015));
  });

  it.each([
    ['sqs-s3.json', [P1], { batchItemFailures: [] }],
    ['sqs-sns-s3.json', [P1], { batchItemFailures: [] }],
    ['sns-s3.json', [P1], expect.objectContaining({ trigger: 'sns' })],
    ['sns-cloudtrail.json', [P1, P2], expect.objectContaining({ trigger: 'sns', summaries: ['12 rows from 55 records; 7 rows from 34 records'] })],
    ['eventbridge-object-created.json', [P1], expect.objectContaining({ trigger: 'eventbridge' })],
    ['batch-ops-1.0.json', [P1], expect.objectContaining({ results: [expect.objectContaining({ resultCode: 'Succeeded' })] })],
    ['batch-ops-2.0.json', [P1], expect.objectContaining({ results: [expect.objectContaining({ resultCode: 'Succeeded' })] })],
    [
      'sqs-mixed.json',
      [SAMPLE_1015, P2],
      { batchItemFailures: [{ itemIdentifier: '9a1f6d3e-2c4b-4f8a-b7e6-5d4c3b2a1f09' }] }, // only the body that is not JSON
    ],
  ])('%s reads %j', async (name, keys, result) => {
    const { app, out } = setup();
    expect(await app.handle(loadEvent(name), lambdaContext())).toEqual(result);
    expect(s3.gets().map((g) => [g.Bucket, g.Key])).toEqual(keys.map((k) => [LOCAL, k]));
    expect(out.metric('FilesProcessed')).toEqual(keys.map(() => 1));
    expect(table.items.size).toBeGreaterThanOrEqual(12);
  });
});

describe('SQS and S3 Batch Operations', () => {
  it('SQS: reports exactly the failed messages in batchItemFailures and processes the rest', async () => {
    const { app } = setup();
    putSamples();
    const missing = logKey('missing0');
    const denied = logKey('denied00');
    const throttledKey = logKey('slowdown');
    s3.put(BUCKET, denied, accessDenied());
    s3.put(BUCKET, throttledKey, slowDown());
    const result = await app.handle(
      sqsEvent([
        { id: 'm-ok', keys: [K1] },
        { id: 'm-missing', keys: [missing] },
        { id: 'm-denied', keys: [denied] },
        { id: 'm-throttled', keys: [throttledKey] },
        { id: 'm-ok2', keys: [KD, K2] },
      ]),
      lambdaContext(),
    );
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-missing' }, { itemIdentifier: 'm-denied' }, { itemIdentifier: 'm-throttled' }],
    });
    expect(table.items.size).toBe(18);
  });

  it('SQS: the sample event events/sqs-s3.json reads the decoded key', async () => {
    const { app } = setup();
    s3.put('ses-audit-trail-local', `my trail/${SAMPLE_1015}`, sampleFile(SAMPLE_1015));
    expect(await app.handle(loadEvent('sqs-s3.json'), lambdaContext())).toEqual({ batchItemFailures: [] });
    expect(s3.gets().map((g) => g.Key)).toEqual([`my trail/${SAMPLE_1015}`]);
    expect(table.items.size).toBe(12);
  });

  it('Batch Operations: PermanentFailure for missing, denied and corrupt objects, TemporaryFailure when throttled', async () => {
    const { app } = setup();
    putSamples();
    const keys = {
      ok: K1,
      missing: logKey('missing0'),
      denied: logKey('denied00'),
      truncated: logKey('truncgz0'),
      notJson: logKey('notjson0'),
      notTrail: logKey('nottrail'),
      throttled: logKey('slowdown'),
    };
    const sample = sampleFile(SAMPLE_1015);
    s3.put(BUCKET, keys.denied, accessDenied());
    s3.put(BUCKET, keys.truncated, sample.subarray(0, Math.floor(sample.length / 2)));
    s3.put(BUCKET, keys.notJson, gzipSync('{"Records":[{"eventSource":"ses.amazonaws.com",'));
    s3.put(BUCKET, keys.notTrail, Buffer.from('<html>not a trail file</html>'));
    s3.put(BUCKET, keys.throttled, slowDown());
    const event = batchOpsEvent(Object.entries(keys).map(([id, key]) => ({ id, key })));
    const result = batchResult(await app.handle(event, lambdaContext()));
    expect(result.invocationSchemaVersion).toBe('2.0');
    expect(result.invocationId).toBe('inv-test-0001');
    expect(result.treatMissingKeysAs).toBe('PermanentFailure');
    expect(result.results.map((r) => [r.taskId, r.resultCode])).toEqual([
      ['ok', 'Succeeded'],
      ['missing', 'PermanentFailure'],
      ['denied', 'PermanentFailure'],
      ['truncated', 'PermanentFailure'],
      ['notJson', 'PermanentFailure'],
      ['notTrail', 'PermanentFailure'],
      ['throttled', 'TemporaryFailure'],
    ]);
    const text = Object.fromEntries(result.results.map((r) => [r.taskId, r.resultString]));
    expect(text.ok).toBe('12 rows from 55 records');
    expect(text.missing).toMatch(/not found/);
    expect(text.denied).toMatch(/access denied/);
    expect(text.throttled).toMatch(/SlowDown/);
    for (const r of result.results) expect(r.resultString.length).toBeLessThanOrEqual(256);
  });
});

describe('what is written', () => {
  it('a replay of the same file writes the same items (and overwrites, not duplicates)', async () => {
    const { app } = setup();
    putSamples();
    await app.handle(s3Event([K1, K2]), lambdaContext());
    const first = table.sentItems();
    const tableAfterFirst = byKey(table.items.values());
    table.calls.length = 0;
    await app.handle(s3Event([K1, K2]), lambdaContext());
    const second = table.sentItems();
    expect(second).toEqual(first);
    expect(byKey(table.items.values())).toEqual(tableAfterFirst);
    for (const n of table.writes.values()) expect(n).toBeGreaterThanOrEqual(2);
  });

  it('without an injected clock, replays differ only in ingestedAt', async () => {
    const { app } = setup({ now: null });
    putSamples();
    await app.handle(s3Event([K1]), lambdaContext());
    const first = table.sentItems();
    await new Promise((r) => setTimeout(r, 5));
    table.calls.length = 0;
    await app.handle(s3Event([K1]), lambdaContext());
    const second = table.sentItems();
    const strip = (items: Record<string, AttributeValue>[]) => items.map(({ ingestedAt: _i, ...rest }) => rest);
    expect(strip(second)).toEqual(strip(first));
    expect(second[0].ingestedAt.S).not.toBe(first[0].ingestedAt.S);
    for (const item of [...first, ...second]) expect(Date.parse(item.ingestedAt.S!)).not.toBeNaN();
  });

  it('sets expiresAt from RETENTION_DAYS', async () => {
    const { app } = setup({ env: { RETENTION_DAYS: '30' } });
    putSamples();
    await app.handle(s3Event([K1]), lambdaContext());
    const expiresAt = Math.floor(NOW.getTime() / 1000) + 30 * 86_400;
    expect(table.items.size).toBe(12);
    for (const item of table.items.values()) expect(item.expiresAt).toEqual({ N: String(expiresAt) });
  });

  it('keeps oversize and odd-shaped request parameters as JSON text instead of dropping the row', async () => {
    const { app, out } = setup();
    const big = (prefix: string, kb: number) => Object.fromEntries(Array.from({ length: kb }, (_, i) => [`${prefix}${i}`, 'x'.repeat(1000)]));
    // 1. ~300 KB of parameters: DynamoDB can hold that as a map (item < 400 KB), so it stays a map.
    const fits = sesRecord('PutIdentityPolicy', { identity: 'fits.example.com', policyName: 'p', ...big('k', 300) }, { eventID: 'e-fits' });
    // 2. ~300 KB of parameters + ~150 KB of response: over 400 KB as maps, so the parameters become text.
    const over = sesRecord('PutIdentityPolicy', { identity: 'over.example.com', policyName: 'p', ...big('k', 300) }, {
      eventID: 'e-over',
      responseElements: big('r', 150),
    });
    // 3. Nested deeper than DynamoDB's 32 levels: cannot be a map at any size.
    let deep: Record<string, unknown> = { leaf: 'bottom' };
    for (let i = 0; i < 40; i++) deep = { level: deep };
    const nested = sesRecord('PutIdentityPolicy', { identity: 'deep.example.com', policyName: 'p', policy: deep }, { eventID: 'e-deep' });
    const key = logKey('bigitems');
    s3.put(BUCKET, key, gzipRecords([fits, over, nested]));
    await app.handle(s3Event([key]), lambdaContext());

    const ek = (id: string) => `2026-11-20T10:12:00Z#${id}`;
    const f = rowOf('fits.example.com', ek('e-fits'));
    expect(f.requestParameters.M).toBeDefined();
    expect(Object.keys(f.requestParameters.M!)).toHaveLength(302);

    const o = rowOf('over.example.com', ek('e-over'));
    expect(o.requestParameters.S).toBeDefined();
    expect(o.requestParameters.S!.startsWith('{"identity":"over.example.com"')).toBe(true);
    expect(itemSize(o)).toBeLessThanOrEqual(MAX_ITEM_BYTES);

    const d = rowOf('deep.example.com', ek('e-deep'));
    expect(d.requestParameters.S).toBeDefined();
    expect(JSON.parse(d.requestParameters.S!)).toEqual(nested.requestParameters);

    for (const item of table.items.values()) expect(itemSize(item)).toBeLessThanOrEqual(MAX_ITEM_BYTES);
    const line = out.logs('file processed')[0];
    expect(line).toMatchObject({ sesEvents: 3, rowsWritten: 3 });
    expect(line.jsonFallbacks).toBeGreaterThanOrEqual(2);
  });
});

describe('record filters', () => {
  it('KEEP_READ_ONLY=false and KEEP_DATA_EVENTS=false leave those events out', async () => {
    const { app, config, out } = setup({ env: { KEEP_READ_ONLY: 'false', KEEP_DATA_EVENTS: 'false' } });
    const readOnly = sesRecord('GetIdentityVerificationAttributes', { identities: ['ro.example.com'] }, { eventID: 'e-ro', readOnly: true });
    const data = sesRecord('SendEmail', { source: 'a@data.example.com' }, {
      eventID: 'e-data',
      eventCategory: 'Data',
      readOnly: false,
      resources: [{ type: 'AWS::SES::EmailIdentity', ARN: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/data.example.com` }],
    });
    const write = sesRecord('DeleteIdentity', { identity: 'kept.example.com' }, { eventID: 'e-kept' });
    const key = logKey('filters0');
    const file = gzipRecords([readOnly, data, write]);
    s3.put(BUCKET, key, file);
    await app.handle(s3Event([key]), lambdaContext());
    expect([...table.items.values()].map((i) => i.identity.S)).toEqual(['kept.example.com']);
    expect(byKey(table.items.values())).toEqual(byKey((await expectedRows(file, uri(key), config, () => NOW)).rows.map((r) => encodeRow(r).item)));
    expect(out.logs('file processed')[0]).toMatchObject({ sesEvents: 3, filtered: 2, rowsWritten: 1 });
  });

  it('bad SES records are logged as warnings; the rest of the file is written', async () => {
    const { app, out } = setup();
    const noTime = sesRecord('DeleteIdentity', { identity: 'x.example.com' }, { eventID: 'e-bad', eventTime: undefined });
    const good = sesRecord('DeleteIdentity', { identity: 'good.example.com' }, { eventID: 'e-good' });
    const key = logKey('badrecs0');
    s3.put(BUCKET, key, gzipRecords([noTime, good]));
    await app.handle(s3Event([key]), lambdaContext());
    expect([...table.items.values()].map((i) => i.identity.S)).toEqual(['good.example.com']);
    expect(out.logs('file processed')[0]).toMatchObject({ badRecords: 1, rowsWritten: 1 });
    const warn = out.logs('bad record');
    expect(warn).toHaveLength(1);
    expect(warn[0]).toMatchObject({ level: 'WARN', object: uri(key) });
    expect(String(warn[0].reason)).toMatch(/^record 0: SES event without eventTime/);
  });
});

describe('observability', () => {
  it('publishes the metrics and one "file processed" line per file', async () => {
    const { app, out } = setup();
    putSamples();
    await app.handle(s3Event([K1, KD, K2]), lambdaContext());

    const emf = out.emf();
    expect(emf).toHaveLength(1); // one EMF document per invocation
    expect(emf[0]._aws.CloudWatchMetrics[0].Namespace).toBe('SesAudit');
    expect(emf[0].service).toBe('ses-audit');
    expect(out.metric('FilesProcessed')).toEqual([1, 1]);
    expect(out.metric('FilesSkipped')).toEqual([1]);
    expect(out.metric('RecordsRead')).toEqual([55, 34]);
    expect(out.metric('SesEvents')).toEqual([11, 7]);
    expect(out.metric('RowsWritten')).toEqual([12, 7]);
    expect(out.metric('WriteRetries')).toEqual([0, 0]);
    expect(out.metric('Failures')).toEqual([]);
    // Oldest SES event of each file against the fixed clock (10:35:00): 10:10:04 and 10:11:30.
    expect(out.metric('DeliveryLagSeconds')).toEqual([1496, 1410]);
    expect(out.unit('DeliveryLagSeconds')).toBe('Seconds');
    expect(out.unit('RowsWritten')).toBe('Count');

    const lines = out.logs('file processed');
    expect(lines.map((l) => l.object)).toEqual([uri(K1), uri(K2)]);
    expect(lines[0]).toMatchObject({
      level: 'INFO',
      bytes: gunzippedLength(sampleFile(SAMPLE_1015)),
      compressedBytes: sampleFile(SAMPLE_1015).length,
      records: 55,
      sesEvents: 11,
      rowsWritten: 12,
      retries: 0,
    });
    expect(lines[1]).toMatchObject({ bytes: gunzippedLength(sampleFile(SAMPLE_1030)), records: 34, sesEvents: 7, rowsWritten: 7, retries: 0 });
    for (const l of lines) {
      expect(typeof l.durationMs).toBe('number');
      expect(l.durationMs as number).toBeGreaterThanOrEqual(0);
    }
  });

  it('counts a failure in Failures and still publishes the metrics of the files that worked', async () => {
    const { app, out } = setup();
    putSamples();
    await app.handle(sqsEvent([{ id: 'a', keys: [K1] }, { id: 'b', keys: [logKey('missing0')] }]), lambdaContext());
    expect(out.metric('FilesProcessed')).toEqual([1]);
    expect(out.metric('Failures')).toEqual([1]);
    expect(out.metric('RowsWritten')).toEqual([12]);
  });
});

describe('event shapes', () => {
  it.each([
    [{ foo: 1, bar: 2 }, /unsupported event: no Records, tasks or detail-type \(keys: foo, bar\)/],
    [{ Records: [{ eventSource: 'aws:kinesis', kinesis: {} }] }, /unsupported event: Records\[0\] eventSource "aws:kinesis"/],
    [{ Records: [] }, /Records is empty/],
    [null, /unsupported event: null, not an object/],
    [{ source: 'aws.ec2', 'detail-type': 'EC2 Instance State-change Notification', detail: {} }, /EventBridge source "aws.ec2", detail-type "EC2 Instance State-change Notification"/],
    // The reconciliation schedule's event needs the ledger.
    [{ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, /LEDGER_TABLE_NAME is not set: there is no ledger to reconcile/],
  ])('rejects an unknown shape, naming it: %j', async (event, message) => {
    const { app } = setup();
    await expect(app.handle(event, lambdaContext())).rejects.toThrow(message);
    expect(s3.gets()).toEqual([]);
  });

  it('an S3 record without a key fails the invocation with a message naming what is missing', async () => {
    const { app } = setup();
    const rec = s3Record(BUCKET, 'x');
    delete ((rec.s3 as { object: Record<string, unknown> }).object as Record<string, unknown>).key;
    await expect(app.handle({ Records: [rec] }, lambdaContext())).rejects.toThrow(/Records\[0\]: S3 event record without s3.object.key/);
  });

  it("S3's test event is acknowledged without reading anything", async () => {
    const { app } = setup();
    const result = await app.handle({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-20T10:00:00Z', Bucket: BUCKET }, lambdaContext());
    expect(result).toMatchObject({ trigger: 's3', objects: 0, notes: ['event: s3:TestEvent ignored'] });
    expect(s3.gets()).toEqual([]);
  });
});

describe('handler.ts wiring', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
    vi.resetModules();
  });

  it('a configuration error fails the cold start with one message naming every problem', async () => {
    setup(); // capture output
    vi.stubEnv('TABLE_NAME', '');
    vi.stubEnv('WRITE_CONCURRENCY', 'many');
    vi.stubEnv('EXPECTED_BUCKET_OWNER', '1234');
    vi.resetModules();
    const err = await rejectionOf(import('../../src/handler.js'));
    expect(err.name).toBe('ConfigError');
    expect(err.message).toMatch(/^invalid configuration: /);
    expect(err.message).toContain('TABLE_NAME is required');
    expect(err.message).toContain('WRITE_CONCURRENCY="many"');
    expect(err.message).toContain('EXPECTED_BUCKET_OWNER="1234"');
  });

  it('the exported handler reads the environment and writes to TABLE_NAME', async () => {
    const { out } = setup();
    putSamples();
    vi.stubEnv('TABLE_NAME', 'from-env-table');
    vi.stubEnv('EXPECTED_BUCKET_OWNER', ACCOUNT);
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDTEST');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret');
    vi.resetModules();
    const { handler } = await import('../../src/handler.js');
    const context = {
      ...lambdaContext(),
      functionName: 'ses-audit',
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:us-east-1:${ACCOUNT}:function:ses-audit`,
      memoryLimitInMB: '512',
      logGroupName: '/aws/lambda/ses-audit',
      logStreamName: '2026/11/20/[$LATEST]abc',
      callbackWaitsForEmptyEventLoop: true,
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    } as unknown as Parameters<typeof handler>[1];
    const result = await handler(s3Event([K1]), context);
    expect(result).toMatchObject({ trigger: 's3', summaries: ['12 rows from 55 records'] });
    expect(s3.gets()[0].ExpectedBucketOwner).toBe(ACCOUNT);
    expect(new Set(table.calls.map((c) => c.table))).toEqual(new Set(['from-env-table']));
    expect(table.items.size).toBe(12);
    const line = out.logs('file processed')[0];
    expect(line).toMatchObject({ function_name: 'ses-audit', function_request_id: lambdaContext().awsRequestId, rowsWritten: 12 });
    expect(out.metric('RowsWritten')).toEqual([12]);
  });
});
