import { spawnSync } from 'node:child_process';
import { createHash, createPublicKey, generateKeyPairSync, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError, SourceError } from '../../src/errors.js';
import { buildDigest, signDigest, type DigestSpec, type SignedDigest } from '../../src/local/digest-signer.js';
import { chainCheck, digestFacts, parseDigest, signingString, verifyDigest, type DigestVerdict } from '../../src/trail/digest.js';
import { fileKeySource, type PublicKeySource } from '../../src/trail/public-keys.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYS_DIR = join(ROOT, 'events', 'keys');
const PRIVATE_PEM = readFileSync(join(KEYS_DIR, 'test-private-key.pem'), 'utf8');
const PUBLIC_PEM_PATH = join(KEYS_DIR, 'test-public-key.pem');
const PUBLIC_KEYS_FILE = join(KEYS_DIR, 'public-keys.json');
// Written by openssl + md5sum when the key was made (events/keys/README.md), not by the code under test.
const TEST_FP: string = (JSON.parse(readFileSync(PUBLIC_KEYS_FILE, 'utf8')) as { Fingerprint: string }[])[0].Fingerprint;

const ACCT = '111122223333';
const BUCKET = 'trail-bucket';
const DAY = `AWSLogs/${ACCT}/CloudTrail-Digest/us-east-1/2026/11/20`;
const digestKey = (hhmmss: string, suffix = '') => `${DAY}/${ACCT}_CloudTrail-Digest_us-east-1_ses-audit_us-east-1_20261120T${hhmmss}Z${suffix}.json.gz`;
const KEY_11 = digestKey('110000');
const KEY_12 = digestKey('120000');
const LOG_A = `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${ACCT}_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz`;
const LOG_B = `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${ACCT}_CloudTrail_us-east-1_20261120T1030Z_e5f6a7b8.json.gz`;
const BODY_A = '{"Records":[{"eventTime":"2026-11-20T10:14:00Z","eventSource":"ses.amazonaws.com"}]}';
const BODY_B = '{"Records":[{"eventTime":"2026-11-20T10:29:30Z","eventSource":"iam.amazonaws.com"}]}';

const sha256 = (data: string | Buffer) => createHash('sha256').update(data).digest('hex');

function spec(overrides: Partial<DigestSpec> = {}): DigestSpec {
  return {
    bucket: BUCKET,
    key: KEY_11,
    digestStartTime: '2026-11-20T10:00:00Z',
    digestEndTime: '2026-11-20T11:00:00Z',
    publicKeyFingerprint: TEST_FP,
    logFiles: [
      { bucket: BUCKET, key: LOG_A, body: BODY_A, oldestEventTime: '2026-11-20T10:14:00Z', newestEventTime: '2026-11-20T10:14:00Z' },
      { bucket: BUCKET, key: LOG_B, body: BODY_B, oldestEventTime: '2026-11-20T10:29:30Z', newestEventTime: '2026-11-20T10:29:30Z' },
    ],
    ...overrides,
  };
}

function signed(overrides: Partial<DigestSpec> = {}, key: KeyObject | string = PRIVATE_PEM): SignedDigest {
  return signDigest(buildDigest(spec(overrides)), key);
}

let keys: PublicKeySource;
beforeAll(async () => {
  keys = await fileKeySource(PUBLIC_KEYS_FILE);
});

async function check(s: SignedDigest, where = { bucket: BUCKET, key: KEY_11 }, source = keys): Promise<DigestVerdict> {
  return verifyDigest({ body: s.uncompressed, where, metadata: s.metadata, keys: source });
}

describe('verifyDigest: valid digests', () => {
  it('a signed digest read from where it was delivered is valid, with its hash and its facts', async () => {
    const s = signed({ previous: { bucket: BUCKET, key: digestKey('100000'), sha256: 'ab'.repeat(32), signature: 'cd'.repeat(256) } });
    const v = await check(s);
    expect(v.verdict).toBe('valid');
    expect(v.sha256).toBe(sha256(gunzipSync(s.body)));
    if (v.verdict !== 'valid') return;
    expect(v.signature).toBe(s.metadata.signature);
    expect(v.digest.digestEndTime).toBe('2026-11-20T11:00:00Z');
    expect(digestFacts(v.digest)).toEqual({
      start: '2026-11-20T10:00:00Z',
      end: '2026-11-20T11:00:00Z',
      backfill: false,
      files: [
        { uri: `s3://trail-bucket/${LOG_A}`, sha256: sha256(BODY_A) },
        { uri: `s3://trail-bucket/${LOG_B}`, sha256: sha256(BODY_B) },
      ],
    });
  });

  it('the signing string follows the documented format exactly, and the signature is over it', () => {
    const prev = 'cd'.repeat(256);
    const s = signed({ previous: { bucket: BUCKET, key: digestKey('100000'), sha256: 'ab'.repeat(32), signature: prev } });
    const contentHash = sha256(s.uncompressed);
    // By hand from the User Guide: end time, bucket/key, hex SHA-256 of the uncompressed digest, previous signature.
    const expected =
      '2026-11-20T11:00:00Z\n' +
      'trail-bucket/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_ses-audit_us-east-1_20261120T110000Z.json.gz\n' +
      contentHash +
      '\n' +
      prev;
    expect(signingString(parseDigest(s.uncompressed.toString('utf8')), { bucket: BUCKET, key: KEY_11 }, contentHash)).toBe(expected);
    const publicKey = createPublicKey(readFileSync(PUBLIC_PEM_PATH, 'utf8'));
    expect(cryptoVerify('sha256', Buffer.from(expected), publicKey, Buffer.from(s.metadata.signature, 'hex'))).toBe(true);
    expect(s.metadata['signature-algorithm']).toBe('SHA256withRSA');
  });

  const hasOpenssl = spawnSync('openssl', ['version']).status === 0;
  if (!hasOpenssl) console.warn('digest.test: openssl not found, skipping the independent signature check');
  it.skipIf(!hasOpenssl)('openssl dgst -sha256 -verify accepts a signature the signer made (skipped without openssl)', () => {
    const s = signed();
    const dir = mkdtempSync(join(tmpdir(), 'digest-openssl-'));
    try {
      const expected = `2026-11-20T11:00:00Z\ntrail-bucket/${KEY_11}\n${sha256(s.uncompressed)}\nnull`;
      writeFileSync(join(dir, 'data'), expected);
      writeFileSync(join(dir, 'sig'), Buffer.from(s.metadata.signature, 'hex'));
      const run = spawnSync('openssl', ['dgst', '-sha256', '-verify', PUBLIC_PEM_PATH, '-signature', join(dir, 'sig'), join(dir, 'data')], { encoding: 'utf8' });
      expect(run.stdout.trim()).toBe('Verified OK');
      expect(run.status).toBe(0);
      // And it refuses the same signature over other data, so the check above can fail.
      writeFileSync(join(dir, 'data'), expected.replace('null', 'nul1'));
      const bad = spawnSync('openssl', ['dgst', '-sha256', '-verify', PUBLIC_PEM_PATH, '-signature', join(dir, 'sig'), join(dir, 'data')], { encoding: 'utf8' });
      expect(bad.status).not.toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the first digest of a chain signs the text null for the previous signature', async () => {
    const s = signed();
    const d = parseDigest(s.uncompressed.toString('utf8'));
    expect(d.previousDigestSignature).toBeNull();
    expect(d.previousDigestS3Bucket).toBeNull();
    expect(signingString(d, { bucket: BUCKET, key: KEY_11 }, 'f'.repeat(64))).toBe(`2026-11-20T11:00:00Z\ntrail-bucket/${KEY_11}\n${'f'.repeat(64)}\nnull`);
    expect((await check(s)).verdict).toBe('valid');
  });

  it('an empty digest (no log files, null event times) is valid and attests no file', async () => {
    const s = signed({ logFiles: [] });
    const v = await check(s);
    expect(v.verdict).toBe('valid');
    expect(v.digest?.newestEventTime).toBeNull();
    expect(v.digest?.oldestEventTime).toBeNull();
    expect(digestFacts(v.digest!).files).toEqual([]);
  });

  it('a _backfill digest verifies like any other and is marked as backfill', async () => {
    const key = digestKey('110000', '_backfill');
    const s = signed({ key });
    const v = await check(s, { bucket: BUCKET, key });
    expect(v.verdict).toBe('valid');
    expect(digestFacts(v.digest!).backfill).toBe(true);
  });

  it('asks the key source for the fingerprint, the region of the digest path and its end time', async () => {
    const asked: [string, string, string][] = [];
    const recording: PublicKeySource = {
      async keyFor(fp, region, at) {
        asked.push([fp, region, at.toISOString()]);
        return keys.keyFor(fp, region, at);
      },
    };
    const key = `AWSLogs/${ACCT}/CloudTrail-Digest/eu-west-1/2026/11/20/${ACCT}_CloudTrail-Digest_eu-west-1_ses-audit_us-east-1_20261120T110000Z.json.gz`;
    const v = await check(signed({ key }), { bucket: BUCKET, key }, recording);
    expect(v.verdict).toBe('valid');
    expect(asked).toEqual([[TEST_FP, 'eu-west-1', '2026-11-20T11:00:00.000Z']]);
  });

  it('takes the algorithm from the document when the metadata leaves it out', async () => {
    const s = signed();
    const v = await verifyDigest({ body: s.uncompressed, where: { bucket: BUCKET, key: KEY_11 }, metadata: { signature: s.signature }, keys });
    expect(v.verdict).toBe('valid');
  });

  it('reads metadata keys whatever their case', async () => {
    const s = signed();
    const v = await verifyDigest({
      body: s.uncompressed,
      where: { bucket: BUCKET, key: KEY_11 },
      metadata: { Signature: s.signature, 'Signature-Algorithm': 'SHA256withRSA' },
      keys,
    });
    expect(v.verdict).toBe('valid');
  });
});

describe('verifyDigest: invalid digests', () => {
  it('content altered by one byte: bad signature', async () => {
    const s = signed();
    const text = s.uncompressed.toString('utf8');
    // One hex digit of the first log file's hash: still a well-formed digest, so only the signature can tell.
    const at = text.indexOf(sha256(BODY_A)) + 10;
    const altered = Buffer.from(s.uncompressed);
    altered[at] = altered[at] === 0x61 ? 0x62 : 0x61;
    expect([...altered].filter((b, i) => b !== s.uncompressed[i])).toHaveLength(1);
    const v = await verifyDigest({ body: altered, where: { bucket: BUCKET, key: KEY_11 }, metadata: s.metadata, keys });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'bad signature', sha256: sha256(altered) });
    expect(v.digest?.logFiles).toHaveLength(2);
  });

  it('the signature of another digest: bad signature', async () => {
    const mine = signed();
    const other = signed({ logFiles: [] });
    const v = await verifyDigest({ body: mine.uncompressed, where: { bucket: BUCKET, key: KEY_11 }, metadata: other.metadata, keys });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'bad signature', signature: other.signature });
  });

  it('read from another key or bucket than the one it names: invalid', async () => {
    const s = signed();
    for (const where of [
      { bucket: BUCKET, key: KEY_12 },
      { bucket: 'copy-bucket', key: KEY_11 },
    ]) {
      const v = await check(s, where);
      expect(v).toMatchObject({ verdict: 'invalid', reason: 'digestS3Bucket/digestS3Object name another object than the one it was read from' });
      expect(v.digest).toBeDefined();
    }
  });

  it('a digest that names where it was read but was signed for another place: bad signature', async () => {
    // Signed as if delivered to KEY_12, then its document edited to claim KEY_11.
    const s = signed({ key: KEY_12 });
    const edited = Buffer.from(s.uncompressed.toString('utf8').replace(KEY_12, KEY_11));
    const v = await verifyDigest({ body: edited, where: { bucket: BUCKET, key: KEY_11 }, metadata: s.metadata, keys });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'bad signature' });
  });

  it('an algorithm other than SHA256withRSA, in the metadata or the document: invalid', async () => {
    const s = signed();
    const v = await verifyDigest({
      body: s.uncompressed,
      where: { bucket: BUCKET, key: KEY_11 },
      metadata: { signature: s.signature, 'signature-algorithm': 'SHA1withRSA' },
      keys,
    });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'signature algorithm is not SHA256withRSA' });

    const doc = { ...buildDigest(spec()), digestSignatureAlgorithm: 'SHA512withRSA' };
    const s2 = signDigest(doc, PRIVATE_PEM);
    expect(await check(s2)).toMatchObject({ verdict: 'invalid', reason: 'signature algorithm is not SHA256withRSA' });
  });

  it('a fingerprint no key has: invalid, naming the fingerprint and region', async () => {
    const v = await check(signed({ publicKeyFingerprint: '0123456789abcdef0123456789abcdef' }));
    expect(v).toMatchObject({
      verdict: 'invalid',
      reason: 'unknown public key fingerprint 0123456789abcdef0123456789abcdef in us-east-1 for 2026-11-20T11:00:00Z',
    });
  });

  it('malformed JSON: invalid, with the hash of what was read and no digest', async () => {
    const body = Buffer.from('{"awsAccountId": "111122223333", "logFiles": [');
    const v = await verifyDigest({ body, where: { bucket: BUCKET, key: KEY_11 }, metadata: { signature: 'ab' }, keys });
    expect(v).toEqual({ verdict: 'invalid', reason: 'malformed digest: not valid JSON', sha256: sha256(body) });
  });

  it('a well-formed JSON document that is not a digest: invalid, naming the field', async () => {
    const body = Buffer.from('{"Records":[]}');
    const v = await verifyDigest({ body, where: { bucket: BUCKET, key: KEY_11 }, keys });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'malformed digest: awsAccountId must be a non-empty string' });
  });

  it('a signature that is not hex, or of the wrong length: invalid', async () => {
    const s = signed();
    const notHex = await verifyDigest({ body: s.uncompressed, where: { bucket: BUCKET, key: KEY_11 }, metadata: { signature: 'xyz' }, keys });
    expect(notHex).toMatchObject({ verdict: 'invalid', reason: 'signature metadata is not hex' });
    expect(notHex).not.toHaveProperty('signature');
    const short = await verifyDigest({ body: s.uncompressed, where: { bucket: BUCKET, key: KEY_11 }, metadata: { signature: s.signature.slice(0, 64) }, keys });
    expect(short).toMatchObject({ verdict: 'invalid', reason: 'bad signature' });
  });

  it('a digest path that is not CloudTrail-Digest/REGION/...: invalid', async () => {
    const key = 'copies/digest.json.gz';
    const doc = { ...buildDigest(spec()), digestS3Object: key };
    const v = await check(signDigest(doc, PRIVATE_PEM), { bucket: BUCKET, key });
    expect(v).toMatchObject({ verdict: 'invalid', reason: 'digestS3Object is not a CloudTrail-Digest/REGION/YYYY/MM/DD/ key' });
  });
});

describe('verifyDigest: unverifiable and errors', () => {
  it('no signature metadata (a local file, or an object without it): unverifiable, still parsed and hashed', async () => {
    const s = signed();
    const local = await verifyDigest({ body: s.uncompressed, keys });
    expect(local).toMatchObject({ verdict: 'unverifiable', reason: 'not read from S3: no signature to check', sha256: s.sha256 });
    expect(local.digest?.logFiles).toHaveLength(2);
    for (const metadata of [undefined, {}, { 'signature-algorithm': 'SHA256withRSA' }, { signature: '' }]) {
      const v = await verifyDigest({ body: s.uncompressed, where: { bucket: BUCKET, key: KEY_11 }, metadata, keys });
      expect(v).toMatchObject({ verdict: 'unverifiable', reason: 'no signature metadata', sha256: s.sha256 });
    }
  });

  it('a key source that fails makes verifyDigest throw, not a verdict', async () => {
    const failing: PublicKeySource = {
      async keyFor() {
        throw new SourceError('cloudtrail:ListPublicKeys in us-east-1 failed: Rate exceeded', { retryable: true });
      },
    };
    await expect(check(signed(), undefined, failing)).rejects.toBeInstanceOf(SourceError);
  });
});

describe('key formats and rotation', () => {
  let dir: string;
  let second: { privateKey: KeyObject; publicKey: KeyObject };
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'digest-keys-'));
    second = generateKeyPairSync('rsa', { modulusLength: 2048 });
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  function entry(der: Buffer) {
    return { Fingerprint: createHash('md5').update(der).digest('hex'), Value: der.toString('base64') };
  }

  it('verifies with a PKCS#1 key and with an SPKI key', async () => {
    const pub = createPublicKey(PRIVATE_PEM);
    for (const type of ['pkcs1', 'spki'] as const) {
      const der = pub.export({ type, format: 'der' });
      const e = entry(der);
      const file = join(dir, `${type}.json`);
      writeFileSync(file, JSON.stringify([e]));
      const source = await fileKeySource(file);
      const v = await check(signed({ publicKeyFingerprint: e.Fingerprint }), undefined, source);
      expect(v.verdict, type).toBe('valid');
    }
  });

  it('two keys: a digest naming the second verifies with the second, and not when the first signed it', async () => {
    const first = entry(createPublicKey(PRIVATE_PEM).export({ type: 'pkcs1', format: 'der' }));
    const next = entry(second.publicKey.export({ type: 'pkcs1', format: 'der' }));
    const file = join(dir, 'rotation.json');
    writeFileSync(file, JSON.stringify([first, next]));
    const source = await fileKeySource(file);

    expect((await check(signed({ publicKeyFingerprint: next.Fingerprint }, second.privateKey), undefined, source)).verdict).toBe('valid');
    expect((await check(signed({ publicKeyFingerprint: first.Fingerprint }), undefined, source)).verdict).toBe('valid');
    expect(await check(signed({ publicKeyFingerprint: next.Fingerprint }), undefined, source)).toMatchObject({ verdict: 'invalid', reason: 'bad signature' });
  });
});

describe('chainCheck', () => {
  const first = signed();
  const second = signed({
    key: KEY_12,
    digestStartTime: '2026-11-20T11:00:00Z',
    digestEndTime: '2026-11-20T12:00:00Z',
    logFiles: [],
    previous: { bucket: BUCKET, key: KEY_11, sha256: first.sha256, signature: first.signature },
  });
  const secondDoc = parseDigest(second.uncompressed.toString('utf8'));

  it('a digest chains to its valid predecessor', async () => {
    const prev = await check(first);
    expect(prev.verdict).toBe('valid');
    expect(chainCheck(secondDoc, { sha256: prev.sha256, signature: prev.verdict === 'valid' ? prev.signature : '', verdict: prev.verdict })).toEqual({
      status: 'linked',
      reason: 'chains to the previous digest',
    });
    // Hex compares without regard to case.
    expect(chainCheck(secondDoc, { sha256: first.sha256.toUpperCase(), signature: first.signature.toUpperCase(), verdict: 'valid' }).status).toBe('linked');
  });

  it('the first digest of a chain is no gap, with or without a digest before it', () => {
    const d = parseDigest(first.uncompressed.toString('utf8'));
    expect(chainCheck(d, undefined)).toEqual({ status: 'first', reason: 'first digest of a chain' });
    expect(chainCheck(d, { sha256: 'ab'.repeat(32), signature: 'cd', verdict: 'invalid' }).status).toBe('first');
  });

  it.each([
    ['previous digest absent', undefined, 'previous digest absent'],
    ['previous invalid', { sha256: first.sha256, signature: first.signature, verdict: 'invalid' as const }, 'previous digest is invalid'],
    ['previous unverifiable', { sha256: first.sha256, verdict: 'unverifiable' as const }, 'previous digest is unverifiable'],
    ['wrong hash', { sha256: sha256('another digest'), signature: first.signature, verdict: 'valid' as const }, "previousDigestHashValue does not match the previous digest's SHA-256"],
    ['wrong signature', { sha256: first.sha256, signature: 'ab'.repeat(256), verdict: 'valid' as const }, "previousDigestSignature does not match the previous digest's signature"],
    ['previous without signature', { sha256: first.sha256, verdict: 'valid' as const }, "previousDigestSignature does not match the previous digest's signature"],
  ])('a gap: %s', (_name, previous, reason) => {
    expect(chainCheck(secondDoc, previous)).toEqual({ status: 'gap', reason });
  });
});

describe('parseDigest', () => {
  const good = () => JSON.parse(signed({ previous: { bucket: BUCKET, key: digestKey('100000'), sha256: 'ab'.repeat(32), signature: 'cd'.repeat(256) } }).uncompressed.toString('utf8')) as Record<string, unknown>;
  const files = (d: Record<string, unknown>) => d.logFiles as Record<string, unknown>[];

  it('keeps times and the previous signature as logged, lower-cases hashes and the fingerprint, ignores unknown fields', () => {
    const d = good();
    d.digestPublicKeyFingerprint = TEST_FP.toUpperCase();
    d.previousDigestSignature = 'CD'.repeat(256);
    files(d)[0].hashValue = sha256(BODY_A).toUpperCase();
    d.someNewField = { nested: true };
    files(d)[0].anotherNewField = 1;
    const p = parseDigest(JSON.stringify(d));
    expect(p.digestPublicKeyFingerprint).toBe(TEST_FP.toLowerCase());
    expect(p.previousDigestSignature).toBe('CD'.repeat(256));
    expect(p.logFiles[0]).toEqual({
      s3Bucket: BUCKET,
      s3Object: LOG_A,
      hashValue: sha256(BODY_A),
      hashAlgorithm: 'SHA-256',
      newestEventTime: '2026-11-20T10:14:00Z',
      oldestEventTime: '2026-11-20T10:14:00Z',
    });
    expect(p).not.toHaveProperty('someNewField');
    expect(p.previousDigestHashAlgorithm).toBe('SHA-256');
  });

  const SECRET = 'SECRET-VALUE-123';
  it.each<[string, (d: Record<string, unknown>) => void, string]>([
    ['an array', () => undefined, 'malformed digest: not a JSON object'],
    ['a missing account', (d) => delete d.awsAccountId, 'malformed digest: awsAccountId must be a non-empty string'],
    ['an account that is not 12 digits', (d) => (d.awsAccountId = SECRET), 'malformed digest: awsAccountId is not a 12-digit account ID'],
    ['an end time that is not ISO', (d) => (d.digestEndTime = SECRET), 'malformed digest: digestEndTime is not a UTC time like 2026-11-20T11:00:00Z'],
    ['an impossible date', (d) => (d.digestStartTime = '2026-02-30T10:00:00Z'), 'malformed digest: digestStartTime is not a UTC time like 2026-11-20T11:00:00Z'],
    ['a local time', (d) => (d.digestEndTime = '2026-11-20T11:00:00+01:00'), 'malformed digest: digestEndTime is not a UTC time like 2026-11-20T11:00:00Z'],
    ['a start after the end', (d) => (d.digestStartTime = '2026-11-20T12:00:00Z'), 'malformed digest: digestStartTime is after digestEndTime'],
    ['a number for the bucket', (d) => (d.digestS3Bucket = 5), 'malformed digest: digestS3Bucket must be a non-empty string'],
    ['a missing object key', (d) => delete d.digestS3Object, 'malformed digest: digestS3Object must be a non-empty string'],
    ['a fingerprint that is not 32 hex', (d) => (d.digestPublicKeyFingerprint = SECRET), 'malformed digest: digestPublicKeyFingerprint is not a 32-digit hex fingerprint'],
    ['an algorithm that is not a string', (d) => (d.digestSignatureAlgorithm = 1), 'malformed digest: digestSignatureAlgorithm must be a non-empty string or null'],
    ['a newest event time that is not ISO', (d) => (d.newestEventTime = SECRET), 'malformed digest: newestEventTime is not a UTC time like 2026-11-20T11:00:00Z'],
    ['no previousDigestSignature field', (d) => delete d.previousDigestSignature, 'malformed digest: previousDigestSignature is missing (null in the first digest of a chain)'],
    ['previous fields half null', (d) => (d.previousDigestSignature = null), 'malformed digest: the previousDigest fields must be all null (first digest of a chain) or all set'],
    ['a previous hash that is not SHA-256 hex', (d) => (d.previousDigestHashValue = SECRET), 'malformed digest: previousDigestHashValue is not a 64-digit hex SHA-256'],
    ['a previous hash algorithm other than SHA-256', (d) => (d.previousDigestHashAlgorithm = 'MD5'), 'malformed digest: previousDigestHashAlgorithm must be SHA-256'],
    ['a previous signature that is not hex', (d) => (d.previousDigestSignature = SECRET), 'malformed digest: previousDigestSignature is not hex'],
    ['logFiles not a list', (d) => (d.logFiles = { a: 1 }), 'malformed digest: logFiles must be a list'],
    ['a log file that is not an object', (d) => ((d.logFiles as unknown[])[1] = SECRET), 'malformed digest: logFiles[1] is not an object'],
    ['a log file without a key', (d) => delete files(d)[1].s3Object, 'malformed digest: logFiles[1].s3Object must be a non-empty string'],
    ['a log file hash that is short', (d) => (files(d)[0].hashValue = 'abc123'), 'malformed digest: logFiles[0].hashValue is not a 64-digit hex SHA-256'],
    ['a log file hash algorithm other than SHA-256', (d) => (files(d)[0].hashAlgorithm = 'SHA-1'), 'malformed digest: logFiles[0].hashAlgorithm must be SHA-256'],
    ['a log file event time that is not ISO', (d) => (files(d)[0].oldestEventTime = SECRET), 'malformed digest: logFiles[0].oldestEventTime is not a UTC time like 2026-11-20T11:00:00Z'],
  ])('rejects %s with a one-line reason naming the field, not the value', (name, mutate, reason) => {
    const d = good();
    mutate(d);
    const text = name === 'an array' ? '[]' : JSON.stringify(d);
    let err: unknown;
    try {
      parseDigest(text);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const message = (err as InputError).reason;
    expect(message).toBe(reason);
    expect(message).not.toContain(SECRET);
    expect(message).not.toContain('\n');
  });

  it('rejects text that is not JSON', () => {
    expect(() => parseDigest('')).toThrow(new InputError('malformed digest: not valid JSON'));
    expect(() => parseDigest('\u0000\u0001')).toThrow(InputError);
  });

  it('accepts a starting digest whose previous fields are missing rather than null, except the signature', () => {
    const d = good();
    for (const f of ['previousDigestS3Bucket', 'previousDigestS3Object', 'previousDigestHashValue', 'previousDigestHashAlgorithm']) delete d[f];
    d.previousDigestSignature = null;
    expect(parseDigest(JSON.stringify(d)).previousDigestS3Object).toBeNull();
  });
});
