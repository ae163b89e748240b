/**
 * The function's part of Trust against mocked AWS clients (aws-sdk-client-mock): each log file recorded in
 * the ledger with the SHA-256 of its content (failed ones as failed), a digest verified and recorded on
 * arrival with the files it lists checked at once, and the scheduled reconciliation's metrics.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BatchGetItemCommand, GetItemCommand, PutItemCommand, QueryCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { createApp } from '../../src/app.js';
import { Ledger } from '../../src/store/ledger.js';
import { fileKeySource } from '../../src/trail/public-keys.js';
import { buildDigest, signDigest } from '../../src/local/digest-signer.js';
import { makeApp, lambdaContext, NOW, rejectionOf, type AppUnderTest } from '../helpers/app.js';
import { FakeS3, FakeTable } from '../helpers/aws-mocks.js';
import { BUCKET, SAMPLE_1015, s3Event, sampleFile } from '../helpers/trail.js';

const s3 = new FakeS3();
const table = new FakeTable();
let t: AppUnderTest | undefined;
const KEYS = join(import.meta.dirname, '..', '..', 'events', 'keys');
const LOG = SAMPLE_1015;
const DIGEST = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T110000Z.json.gz';
const puts = () => table.mock.commandCalls(PutItemCommand).map((c) => c.args[0].input);

beforeEach(() => {
  s3.reset();
  table.reset();
  table.mock.on(PutItemCommand).resolves({});
  table.mock.on(GetItemCommand).resolves({});
});
afterEach(() => {
  t?.out.restore();
  t = undefined;
});
afterAll(() => {
  s3.restore();
  table.restore();
});

async function appWithTrust(): Promise<ReturnType<typeof createApp>> {
  t = makeApp(s3, table, { env: { LEDGER_TABLE_NAME: 'ledger' } });
  // makeApp wires no trust; build the same app with it (the clients are the mocked ones).
  return createApp({
    s3: s3.client,
    dynamo: table.client,
    trust: { ledger: new Ledger(table.client, 'ledger'), keys: await fileKeySource(join(KEYS, 'public-keys.json')) },
    config: t.config,
    logger: t.logger,
    metrics: t.metrics,
    now: () => NOW,
  });
}

describe('log files in the ledger', () => {
  it('records the SHA-256 of the uncompressed content, the counts and the delivery time', async () => {
    const app = await appWithTrust();
    s3.put(BUCKET, LOG, sampleFile(LOG));
    await app.handle(s3Event([LOG]), lambdaContext());
    const sha = createHash('sha256').update(gunzipSync(sampleFile(LOG))).digest('hex');
    const [put] = puts();
    expect(put.TableName).toBe('ledger');
    expect(put.Item).toMatchObject({
      pk: { S: 'log#2026-11-20T10' },
      sk: { S: `s3://${BUCKET}/${LOG}` },
      outcome: { S: 'ingested' },
      sha256: { S: sha },
      deliveryTime: { S: '2026-11-20T10:15:00Z' },
      records: { N: '55' },
      rows: { N: '12' },
      ingestedAt: { S: NOW.toISOString() },
    });
  });

  it('records a file whose reading failed as failed, with its reason, and still fails the invocation', async () => {
    const app = await appWithTrust();
    const corrupt = Buffer.from(sampleFile(LOG));
    corrupt.fill(0x55, 20, 60);
    s3.put(BUCKET, LOG, corrupt);
    await rejectionOf(app.handle(s3Event([LOG]), lambdaContext()));
    expect(puts()[0].Item).toMatchObject({ outcome: { S: 'failed' }, reason: { S: expect.stringMatching(/^corrupt gzip/) } });
    expect(puts()[0].Item?.sha256).toBeUndefined();
  });
});

describe('digests on arrival', () => {
  const fingerprint: string = JSON.parse(readFileSync(join(KEYS, 'public-keys.json'), 'utf8'))[0].Fingerprint;
  const logBody = gunzipSync(sampleFile(LOG));
  const signed = signDigest(
    buildDigest({
      bucket: BUCKET,
      key: DIGEST,
      digestStartTime: '2026-11-20T10:00:00Z',
      digestEndTime: '2026-11-20T11:00:00Z',
      publicKeyFingerprint: fingerprint,
      logFiles: [{ bucket: BUCKET, key: LOG, body: logBody, oldestEventTime: null, newestEventTime: null }],
    }),
    readFileSync(join(KEYS, 'test-private-key.pem'), 'utf8'),
  );
  const serve = (metadata: Record<string, string>) =>
    s3.put(BUCKET, DIGEST, () => ({ Body: Readable.from([signed.body]), Metadata: metadata }));

  it('verifies, records, and counts a listed file whose ledger hash differs as tampered', async () => {
    const app = await appWithTrust();
    serve(signed.metadata);
    table.mock.on(BatchGetItemCommand).resolves({
      Responses: { ledger: [{ pk: { S: 'log#2026-11-20T10' }, sk: { S: `s3://${BUCKET}/${LOG}` }, outcome: { S: 'ingested' }, sha256: { S: 'f'.repeat(64) } }] },
    });
    const result = await app.handle(s3Event([DIGEST]), lambdaContext());
    expect(result).toMatchObject({ summaries: ['digest valid, 1 file attested'] });
    const item = puts()[0].Item as Record<string, AttributeValue>;
    expect(item).toMatchObject({ pk: { S: 'digest#2026-11-20T11' }, verdict: { S: 'valid' }, chain: { S: 'first' }, sha256: { S: signed.sha256 } });
    expect(item.files).toEqual({ M: { [`s3://${BUCKET}/${LOG}`]: { S: createHash('sha256').update(logBody).digest('hex') } } });
    expect(t!.out.metric('DigestsVerified')).toEqual([1]);
    expect(t!.out.metric('FilesTampered')).toEqual([1]);
  });

  it('a previous digest the ledger lacks (attached to an existing trail) is read from the bucket, recorded, and linked', async () => {
    const app = await appWithTrust();
    const key = readFileSync(join(KEYS, 'test-private-key.pem'), 'utf8');
    const PREV = DIGEST.replace('T110000Z', 'T100000Z');
    const prev = signDigest(
      buildDigest({ bucket: BUCKET, key: PREV, digestStartTime: '2026-11-20T09:00:00Z', digestEndTime: '2026-11-20T10:00:00Z', publicKeyFingerprint: fingerprint, logFiles: [] }),
      key,
    );
    const next = signDigest(
      buildDigest({
        bucket: BUCKET,
        key: DIGEST,
        digestStartTime: '2026-11-20T10:00:00Z',
        digestEndTime: '2026-11-20T11:00:00Z',
        publicKeyFingerprint: fingerprint,
        logFiles: [],
        previous: { bucket: BUCKET, key: PREV, sha256: prev.sha256, signature: prev.signature },
      }),
      key,
    );
    s3.put(BUCKET, PREV, () => ({ Body: Readable.from([prev.body]), Metadata: prev.metadata }));
    s3.put(BUCKET, DIGEST, () => ({ Body: Readable.from([next.body]), Metadata: next.metadata }));
    table.mock.on(BatchGetItemCommand).resolves({ Responses: { ledger: [] } });
    await app.handle(s3Event([DIGEST]), lambdaContext());
    const [first, second] = puts().map((p) => p.Item as Record<string, AttributeValue>);
    expect([first.sk, first.verdict, first.chain]).toEqual([{ S: `s3://${BUCKET}/${PREV}` }, { S: 'valid' }, { S: 'unchecked' }]);
    expect([second.sk, second.verdict, second.chain]).toEqual([{ S: `s3://${BUCKET}/${DIGEST}` }, { S: 'valid' }, { S: 'linked' }]);
    expect(t!.out.metric('DigestChainGaps')).toEqual([]);
  });

  it('an altered signature is an invalid digest: recorded and counted, not an error', async () => {
    const app = await appWithTrust();
    serve({ ...signed.metadata, signature: '00'.repeat(256) });
    await app.handle(s3Event([DIGEST]), lambdaContext());
    expect(puts()[0].Item).toMatchObject({ verdict: { S: 'invalid' }, reason: { S: 'bad signature' } });
    expect(t!.out.metric('DigestsInvalid')).toEqual([1]);
    expect(table.mock.commandCalls(BatchGetItemCommand)).toHaveLength(0);
  });
});

describe('the scheduled reconciliation', () => {
  it('reconciles the hour that just left the grace period and counts missing and unattested files', async () => {
    const app = await appWithTrust();
    const forged = `s3://${BUCKET}/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0805Z_forged.json.gz`;
    const listed = `s3://${BUCKET}/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T0810Z_listed.json.gz`;
    table.mock.on(QueryCommand).callsFake(async (input: { ExpressionAttributeValues: Record<string, { S: string }> }) => {
      const pk = input.ExpressionAttributeValues[':pk'].S;
      if (pk === 'log#2026-11-20T08') return { Items: [{ pk: { S: pk }, sk: { S: forged }, outcome: { S: 'ingested' }, sha256: { S: 'a'.repeat(64) } }] };
      if (pk === 'digest#2026-11-20T09') {
        return { Items: [{ pk: { S: pk }, sk: { S: 'digest-uri' }, verdict: { S: 'valid' }, sha256: { S: 'b'.repeat(64) }, files: { M: { [listed]: { S: 'c'.repeat(64) } } } }] };
      }
      return { Items: [] };
    });
    // NOW is 10:35; minus the 2 h grace, 08:35: the last whole hour before it, 07:00-07:59, is reconciled.
    const result = await app.handle({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, lambdaContext());
    expect(result).toMatchObject({ reconciled: { since: '2026-11-20T07:00:00Z', until: '2026-11-20T07:59:59Z' } });
    const queried = table.mock.commandCalls(QueryCommand).map((c) => c.args[0].input.ExpressionAttributeValues?.[':pk'].S);
    expect(queried.sort()).toEqual(['digest#2026-11-20T07', 'digest#2026-11-20T08', 'log#2026-11-20T07'].sort());
    expect(t!.out.metric('FilesMissing')).toEqual([0]);
    // One hour later the 08:00 hour is reconciled: the forged file is unattested, the listed one missing.
    const later = createApp({
      s3: s3.client,
      dynamo: table.client,
      trust: { ledger: new Ledger(table.client, 'ledger'), keys: await fileKeySource(join(KEYS, 'public-keys.json')) },
      config: t!.config,
      logger: t!.logger,
      metrics: t!.metrics,
      now: () => new Date('2026-11-20T11:35:00Z'),
    });
    const r2 = await later.handle({ source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {} }, lambdaContext());
    // A retried or replayed event reconciles the hours of its own time, not of the clock's.
    const replayed = await later.handle({ source: 'aws.events', 'detail-type': 'Scheduled Event', time: '2026-11-20T10:35:00Z', detail: {} }, lambdaContext());
    expect(replayed).toMatchObject({ reconciled: { since: '2026-11-20T07:00:00Z', until: '2026-11-20T07:59:59Z' } });
    expect(r2).toMatchObject({ report: { unattested: [forged], missing: [listed] } });
    expect(t!.out.metric('FilesUnattested')).toEqual([0, 1, 0]);
    expect(t!.out.metric('FilesMissing')).toEqual([0, 1, 0]);
  });
});
