/**
 * Trust on real local servers (s3rver with object metadata, dynalite), through the real SDK and the app as
 * the function runs it: log files and signed digests delivered, each verdict produced once: a file deleted
 * before it was read (missing), a file altered after its digest was signed (tampered), a file no digest
 * lists (forged: unattested), a digest with a bad signature (invalid), a digest whose chain is broken
 * (chain gap). Then `ses-audit verify --json` must name exactly those, and `history --json` mark the forged
 * file's rows as not verified.
 */
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { DeleteObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../src/app.js';
import { makeDynamoClient, makeS3Client } from '../../src/aws.js';
import { main } from '../../src/cli/main.js';
import { loadConfig } from '../../src/config.js';
import { ensureBucket } from '../../src/local/bucket.js';
import { buildDigest, signDigest, type DigestDocument } from '../../src/local/digest-signer.js';
import { startLocalAws, type LocalAws } from '../../src/local/servers.js';
import { Ledger } from '../../src/store/ledger.js';
import { ensureLedgerTable, ensureTable } from '../../src/store/table.js';
import { fileKeySource } from '../../src/trail/public-keys.js';
import { readFileSync } from 'node:fs';
import { s3Event, sesRecord } from '../helpers/trail.js';

const BUCKET = 'trust-trail';
const KEYS = join(import.meta.dirname, '..', '..', 'events', 'keys');
const PRIVATE_KEY = readFileSync(join(KEYS, 'test-private-key.pem'), 'utf8');
const FINGERPRINT: string = JSON.parse(readFileSync(join(KEYS, 'public-keys.json'), 'utf8'))[0].Fingerprint;
const ROOT = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';
const DIGESTS = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20';
const logKey = (time: string, tag: string) => `${ROOT}/111122223333_CloudTrail_us-east-1_20261120T${time}Z_${tag}.json.gz`;
const digestKey = (end: string) => `${DIGESTS}/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T${end}Z.json.gz`;
const uri = (key: string) => `s3://${BUCKET}/${key}`;

/** A small log file: one SES event naming `identity`. */
function logFile(identity: string, eventID: string): Buffer {
  return Buffer.from(JSON.stringify({ Records: [sesRecord('SetIdentityDkimEnabled', { identity, dkimEnabled: true }, { eventID })] }));
}

const A = logKey('1005', 'aaaaaaaa'); // attested and read
const B = logKey('1010', 'bbbbbbbb'); // listed, deleted before anyone read it: missing
const C = logKey('1015', 'cccccccc'); // listed, altered after signing: tampered
const D = logKey('1020', 'dddddddd'); // forged: no digest lists it
const bodies = {
  [A]: logFile('a.example.com', 'ev-a'),
  [B]: logFile('b.example.com', 'ev-b'),
  [C]: logFile('c.example.com', 'ev-c'),
  // The forger reuses A's event: same row key, its own content.
  [D]: logFile('a.example.com', 'ev-a'),
};

let aws: LocalAws;
let s3: S3Client;
let dynamo: DynamoDBClient;
let env: Record<string, string>;

function digestFor(end: string, start: string, files: string[], previous?: { key: string; sha256: string; signature: string }): DigestDocument {
  return buildDigest({
    bucket: BUCKET,
    key: digestKey(end),
    digestStartTime: start,
    digestEndTime: `2026-11-20T${end.slice(0, 2)}:${end.slice(2, 4)}:${end.slice(4, 6)}Z`,
    publicKeyFingerprint: FINGERPRINT,
    logFiles: files.map((k) => ({ bucket: BUCKET, key: k, body: bodies[k], oldestEventTime: '2026-11-20T10:12:00Z', newestEventTime: '2026-11-20T10:12:00Z' })),
    ...(previous ? { previous: { bucket: BUCKET, ...previous } } : {}),
  });
}

async function put(key: string, body: Buffer, metadata?: Record<string, string>): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
}

/** The CLI in-process against the local servers; stdout and the exit status. */
async function cli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await main(args, { stdout: sink((s) => (stdout += s)), stderr: sink((s) => (stderr += s)), env });
  return { code, stdout, stderr };
}

beforeAll(async () => {
  aws = await startLocalAws({ bucket: [BUCKET] });
  env = { ...aws.env, TABLE_NAME: 'trust-audit', LEDGER_TABLE_NAME: 'trust-ledger' };
  s3 = makeS3Client(env);
  dynamo = makeDynamoClient(env);
  await ensureBucket(s3, BUCKET);
  await ensureTable(dynamo, env.TABLE_NAME, { note: () => undefined });
  await ensureLedgerTable(dynamo, env.LEDGER_TABLE_NAME, { note: () => undefined });

  const config = loadConfig({ TABLE_NAME: env.TABLE_NAME, LEDGER_TABLE_NAME: env.LEDGER_TABLE_NAME, ALERT_SEVERITY: 'off' });
  const silent = new Logger({ serviceName: 'ses-audit', logLevel: 'CRITICAL' });
  const app = createApp({
    s3,
    dynamo: makeDynamoClient(env, { forWriter: true }),
    trust: { ledger: new Ledger(dynamo, env.LEDGER_TABLE_NAME), keys: await fileKeySource(join(KEYS, 'public-keys.json')) },
    config,
    logger: silent,
    metrics: new Metrics({ namespace: 'SesAuditTest', serviceName: 'ses-audit' }),
  });
  const deliver = (key: string) => app.handle(s3Event([key], BUCKET), { getRemainingTimeInMillis: () => 300_000 });

  // The files, then the digests CloudTrail signs over them; B goes before anyone reads it.
  for (const k of [A, B, C]) await put(k, gzipSync(bodies[k]));
  const first = signDigest(digestFor('100000', '2026-11-20T09:00:00Z', []), PRIVATE_KEY);
  const second = signDigest(digestFor('110000', '2026-11-20T10:00:00Z', [A, B, C], { key: digestKey('100000'), ...first }), PRIVATE_KEY);
  // A digest that names a previous digest with a hash that is not that digest's: the chain is broken.
  const broken = signDigest(
    digestFor('120000', '2026-11-20T11:00:00Z', [], { key: digestKey('110000'), sha256: '0'.repeat(64), signature: second.signature }),
    PRIVATE_KEY,
  );
  // Signed correctly, then its signature metadata altered in the bucket: invalid.
  const badlySigned = signDigest(digestFor('130000', '2026-11-20T12:00:00Z', [], { key: digestKey('120000'), ...broken }), PRIVATE_KEY);
  const badSignature = (badlySigned.signature.startsWith('0') ? '1' : '0') + badlySigned.signature.slice(1);

  await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: B }));
  // C altered after signing: one event more.
  await put(C, gzipSync(Buffer.from(JSON.stringify({ Records: [...JSON.parse(bodies[C].toString()).Records, sesRecord('DeleteIdentity', { identity: 'c.example.com' }, { eventID: 'ev-c2' })] }))));
  for (const k of [A, C]) await deliver(k);
  await put(D, gzipSync(bodies[D]));
  await deliver(D);
  for (const [end, signed, metadata] of [
    ['100000', first, first.metadata],
    ['110000', second, second.metadata],
    ['120000', broken, broken.metadata],
    ['130000', badlySigned, { ...badlySigned.metadata, signature: badSignature }],
  ] as const) {
    await put(digestKey(end), signed.body, metadata);
    await deliver(digestKey(end));
  }
}, 120_000);

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await aws?.stop();
});

describe('trust on local S3 and DynamoDB', () => {
  it('verify --json names exactly the file deleted, the file altered, the file forged, the bad digest and the broken chain', async () => {
    const r = await cli(['verify', '--since', '2026-11-20T10:00:00Z', '--until', '2026-11-20T10:59:59Z', '--grace', '0', '--json']);
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      logFiles: { ingested: 3, attested: 1 },
      digests: { verified: 2, invalid: 0, chainGaps: 0 },
      missing: [uri(B)],
      unattested: [uri(D)],
      tampered: [uri(C)],
      failed: [],
    });
    // The later digests, in a window of their own (ending 11:00, 12:00 and 13:00: up to an hour after --until).
    const later = JSON.parse((await cli(['verify', '--since', '2026-11-20T11:00:00Z', '--until', '2026-11-20T12:59:59Z', '--grace', '0', '--json'])).stdout);
    expect(later.digests).toMatchObject({ verified: 2, invalid: 1, chainGaps: 1 });
    expect(later.invalidDigests).toEqual([{ uri: uri(digestKey('130000')), reason: 'bad signature' }]);
    expect(later.chainGaps.map((g: { uri: string }) => g.uri)).toEqual([uri(digestKey('120000'))]);
  });

  it('history marks the rows of the forged file as not verified, the attested ones as verified', async () => {
    const forged = await cli(['history', 'a.example.com', '--json']);
    expect(forged.code, forged.stderr).toBe(0);
    const rows = forged.stdout.trim().split('\n').map((l) => JSON.parse(l));
    // The forger's row replaced A's (same key): from the forged file, not verified.
    expect(rows.map((x) => [x.eventID, x.sourceObject, x.verified, x.trust])).toEqual([['ev-a', uri(D), false, 'unattested']]);
    const tampered = (await cli(['history', 'c.example.com', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(tampered.every((x) => x.verified === false && x.trust === 'tampered')).toBe(true);
  });

  it('verify --rows lists the forged row as having replaced an attested one; --repair restores it from A', async () => {
    const window = ['--since', '2026-11-20T10:00:00Z', '--until', '2026-11-20T10:59:59Z', '--grace', '0', '--json'];
    const rows = JSON.parse((await cli(['verify', ...window, '--rows'])).stdout).rows;
    expect(rows.overwritten).toEqual([{ identity: 'a.example.com', eventKey: expect.stringMatching(/#ev-a$/), sourceObject: uri(D), attestedSource: uri(A) }]);
    const repaired = JSON.parse((await cli(['verify', ...window, '--repair'])).stdout);
    expect(repaired.repaired.reingested).toEqual([uri(A)]);
    // B is gone from the bucket and C has no other version here (s3rver keeps none): not repairable.
    expect(repaired.repaired.notRepairable.map((p: { uri: string }) => p.uri).sort()).toEqual([uri(B), uri(C)].sort());
    const after = (await cli(['history', 'a.example.com', '--json'])).stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(after.map((x) => [x.sourceObject, x.verified])).toEqual([[uri(A), true]]);
  });

  it('backfill records the files and digests it reads, as the function does', async () => {
    env.CLOUDTRAIL_PUBLIC_KEYS = join(KEYS, 'public-keys.json');
    const r = await cli(['backfill', `s3://${BUCKET}/`, '--concurrency', '2', '--progress-interval', '0']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/recording files and digests in trust-ledger/);
    expect(r.stderr).toMatch(/summary: 3 files processed, 0 failed, 0 skipped \(not log files\), 4 digests recorded/);
    // The window verifies the same after a backfill: A (re-read) attested, C tampered, D unattested, B missing.
    const report = JSON.parse((await cli(['verify', '--since', '2026-11-20T10:00:00Z', '--until', '2026-11-20T10:59:59Z', '--grace', '0', '--json'])).stdout);
    expect(report).toMatchObject({ missing: [uri(B)], unattested: [uri(D)], tampered: [uri(C)], failed: [] });
  });
});
