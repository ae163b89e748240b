import { createHash, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  AccessDeniedException,
  CloudTrailClient,
  ListPublicKeysCommand,
  ThrottlingException,
  type ListPublicKeysCommandInput,
  type PublicKey,
} from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, SourceError } from '../../src/errors.js';
import { buildDigest, signDigest } from '../../src/local/digest-signer.js';
import { verifyDigest } from '../../src/trail/digest.js';
import { cloudTrailKeySource, fileKeySource } from '../../src/trail/public-keys.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const KEYS_DIR = join(ROOT, 'events', 'keys');

const md5 = (der: Buffer) => createHash('md5').update(der).digest('hex');
const spkiOf = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
const pkcs1Of = (k: KeyObject) => k.export({ type: 'pkcs1', format: 'der' });

// Two key pairs, made once: 2048-bit generation is the slow part of these tests.
const pairA = generateKeyPairSync('rsa', { modulusLength: 2048 });
const pairB = generateKeyPairSync('rsa', { modulusLength: 2048 });
const FP_A = md5(pkcs1Of(pairA.publicKey));
const FP_B = md5(pkcs1Of(pairB.publicKey));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'public-keys-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let fileCount = 0;
function keyFile(content: unknown): string {
  const path = join(dir, `keys-${++fileCount}.json`);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
}

async function configError(path: string): Promise<string> {
  const err = await fileKeySource(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  const reason = (err as ConfigError).reason;
  expect(reason).not.toContain('\n');
  return reason;
}

describe('fileKeySource', () => {
  it('the committed test key file holds the committed test public key', async () => {
    const entries = JSON.parse(readFileSync(join(KEYS_DIR, 'public-keys.json'), 'utf8')) as { Fingerprint: string; Value: string }[];
    expect(entries).toHaveLength(1);
    const der = Buffer.from(entries[0].Value, 'base64');
    expect(md5(der)).toBe(entries[0].Fingerprint);
    const source = await fileKeySource(join(KEYS_DIR, 'public-keys.json'));
    const key = await source.keyFor(entries[0].Fingerprint, 'us-east-1', new Date('2026-11-20T11:00:00Z'));
    const pem = createPublicKey(readFileSync(join(KEYS_DIR, 'test-public-key.pem'), 'utf8'));
    expect(key && spkiOf(key).equals(spkiOf(pem))).toBe(true);
    // The PEM private key is the pair of that public key.
    const fromPrivate = createPublicKey(readFileSync(join(KEYS_DIR, 'test-private-key.pem'), 'utf8'));
    expect(spkiOf(fromPrivate).equals(spkiOf(pem))).toBe(true);
  });

  it('loads PKCS#1 and SPKI entries, by fingerprint in any case, whatever the region or time', async () => {
    const spkiB = spkiOf(pairB.publicKey);
    const path = keyFile([
      { Fingerprint: FP_A.toUpperCase(), Value: pkcs1Of(pairA.publicKey).toString('base64') },
      { Fingerprint: md5(spkiB), Value: spkiB.toString('base64'), ValidityStartTime: 'ignored', Other: [1, 2] },
    ]);
    const source = await fileKeySource(path);
    const a = await source.keyFor(FP_A, 'us-east-1', new Date('2026-11-20T11:00:00Z'));
    const b = await source.keyFor(md5(spkiB).toUpperCase(), 'ap-southeast-4', new Date('2015-01-01T00:00:00Z'));
    expect(a && spkiOf(a).equals(spkiOf(pairA.publicKey))).toBe(true);
    expect(b && spkiOf(b).equals(spkiB)).toBe(true);
    expect(await source.keyFor(FP_B, 'us-east-1', new Date())).toBeUndefined();
  });

  it('accepts the output of aws cloudtrail list-public-keys as it is', async () => {
    const path = keyFile({
      PublicKeyList: [{ Value: pkcs1Of(pairA.publicKey).toString('base64'), ValidityStartTime: '2026-11-01T00:00:00+00:00', ValidityEndTime: '2026-12-01T00:00:00+00:00', Fingerprint: FP_A }],
    });
    expect(await (await fileKeySource(path)).keyFor(FP_A, 'us-east-1', new Date())).toBeDefined();
  });

  it('a missing file, a directory, a file that is not JSON: ConfigError naming the file', async () => {
    const missing = join(dir, 'nope.json');
    expect(await configError(missing)).toBe(`public keys file ${missing}: not found`);
    expect(await configError(dir)).toBe(`public keys file ${dir}: cannot be read (EISDIR)`);
    const notJson = keyFile('[{"Fingerprint": ');
    expect(await configError(notJson)).toBe(`public keys file ${notJson}: not valid JSON`);
  });

  it.each<[string, unknown, string]>([
    ['an object without PublicKeyList', { keys: [] }, 'not a list of {"Fingerprint", "Value"} entries'],
    ['a number', 42, 'not a list of {"Fingerprint", "Value"} entries'],
    ['an empty list', [], 'holds no keys'],
    ['an entry that is not an object', ['x'], 'entry 1 is not an object'],
    ['a fingerprint that is not 32 hex digits', [{ Fingerprint: 'abc', Value: 'AAAA' }], 'entry 1: Fingerprint is not 32 hex digits'],
    ['a missing fingerprint', [{ Value: 'AAAA' }], 'entry 1: Fingerprint is not 32 hex digits'],
    ['a value that is not base64', [{ Fingerprint: 'a'.repeat(32), Value: 'not base64!' }], `entry 1 (Fingerprint ${'a'.repeat(32)}): Value is not base64`],
    ['a missing value', [{ Fingerprint: 'a'.repeat(32) }], `entry 1 (Fingerprint ${'a'.repeat(32)}): Value is not base64`],
  ])('%s: ConfigError', async (_name, content, reason) => {
    const path = keyFile(content);
    expect(await configError(path)).toBe(`public keys file ${path}: ${reason}`);
  });

  it('a fingerprint that is not the MD5 of its value: ConfigError naming the entry', async () => {
    const path = keyFile([
      { Fingerprint: FP_A, Value: pkcs1Of(pairA.publicKey).toString('base64') },
      { Fingerprint: FP_A, Value: pkcs1Of(pairB.publicKey).toString('base64') },
    ]);
    expect(await configError(path)).toBe(`public keys file ${path}: entry 2 (Fingerprint ${FP_A}): Fingerprint is not the MD5 of its Value`);
  });

  it('bytes that are not an RSA public key (an EC key, a private key, garbage): ConfigError', async () => {
    const ec = spkiOf(generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey);
    const priv = pairA.privateKey.export({ type: 'pkcs1', format: 'der' });
    const junk = Buffer.from('not a key at all');
    for (const der of [ec, priv, junk]) {
      const path = keyFile([{ Fingerprint: md5(der), Value: der.toString('base64') }]);
      expect(await configError(path)).toBe(`public keys file ${path}: entry 1 (Fingerprint ${md5(der)}): Value is not an RSA public key in PKCS#1 or SPKI DER`);
    }
  });
});

describe('cloudTrailKeySource (ListPublicKeys mocked)', () => {
  const ct = mockClient(CloudTrailClient);
  afterEach(() => ct.reset());
  afterAll(() => ct.restore());

  const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };
  function setup(clock = { t: Date.parse('2026-11-20T12:00:00Z') }) {
    const regions: string[] = [];
    const source = cloudTrailKeySource(
      (region) => {
        regions.push(region);
        return new CloudTrailClient({ region, credentials });
      },
      { now: () => clock.t },
    );
    return { source, regions, clock };
  }
  const inputs = (): ListPublicKeysCommandInput[] => ct.commandCalls(ListPublicKeysCommand).map((c) => c.args[0].input);
  const pk = (pair: { publicKey: KeyObject }, fingerprint: string, extra: Partial<PublicKey> = {}): PublicKey => ({
    Value: new Uint8Array(pkcs1Of(pair.publicKey)),
    Fingerprint: fingerprint,
    ValidityStartTime: new Date('2026-11-01T00:00:00Z'),
    ValidityEndTime: new Date('2026-12-01T00:00:00Z'),
    ...extra,
  });
  const AT = new Date('2026-11-20T11:00:00Z');
  const DAY_RANGE = { StartTime: new Date('2026-11-20T00:00:00Z'), EndTime: new Date('2026-11-22T00:00:00Z') };

  it("asks the digest's region for the digest's day plus a day, and returns the key", async () => {
    ct.on(ListPublicKeysCommand).resolves({ PublicKeyList: [pk(pairA, FP_A)] });
    const { source, regions } = setup();
    const key = await source.keyFor(FP_A.toUpperCase(), 'eu-west-1', AT);
    expect(key && spkiOf(key).equals(spkiOf(pairA.publicKey))).toBe(true);
    expect(inputs()).toEqual([DAY_RANGE]);
    expect(regions).toEqual(['eu-west-1']);
  });

  it('follows NextToken', async () => {
    ct.on(ListPublicKeysCommand)
      .resolvesOnce({ PublicKeyList: [pk(pairA, FP_A)], NextToken: 'page-2' })
      .resolvesOnce({ PublicKeyList: [pk(pairB, FP_B)] });
    const { source } = setup();
    expect(await source.keyFor(FP_B, 'us-east-1', AT)).toBeDefined();
    expect(await source.keyFor(FP_A, 'us-east-1', AT)).toBeDefined();
    expect(inputs()).toEqual([DAY_RANGE, { ...DAY_RANGE, NextToken: 'page-2' }]);
  });

  it('answers from memory for the same region and day; asks again for another day or region', async () => {
    ct.on(ListPublicKeysCommand).resolves({ PublicKeyList: [pk(pairA, FP_A)] });
    const { source, regions } = setup();
    await source.keyFor(FP_A, 'us-east-1', AT);
    await source.keyFor(FP_A, 'us-east-1', new Date('2026-11-20T23:59:59Z'));
    await Promise.all([source.keyFor(FP_A, 'us-east-1', new Date('2026-11-20T00:00:00Z')), source.keyFor(FP_A, 'us-east-1', AT)]);
    expect(inputs()).toHaveLength(1);
    await source.keyFor(FP_A, 'us-east-1', new Date('2026-11-21T00:00:00Z'));
    await source.keyFor(FP_A, 'us-west-2', AT);
    expect(inputs()).toEqual([DAY_RANGE, { StartTime: new Date('2026-11-21T00:00:00Z'), EndTime: new Date('2026-11-23T00:00:00Z') }, DAY_RANGE]);
    expect(regions).toEqual(['us-east-1', 'us-east-1', 'us-west-2']);
  });

  it('an unknown fingerprint refetches once the answer is a minute old, at most once per region per minute', async () => {
    ct.on(ListPublicKeysCommand)
      .resolvesOnce({ PublicKeyList: [pk(pairA, FP_A)] })
      .resolves({ PublicKeyList: [pk(pairA, FP_A), pk(pairB, FP_B)] });
    const { source, clock } = setup();
    expect(await source.keyFor(FP_B, 'us-east-1', AT)).toBeUndefined(); // just fetched: no second call
    expect(inputs()).toHaveLength(1);
    clock.t += 61_000;
    expect(await source.keyFor(FP_B, 'us-east-1', AT)).toBeDefined(); // stale: one refetch finds the new key
    expect(inputs()).toEqual([DAY_RANGE, DAY_RANGE]);
    clock.t += 1_000;
    const unknown = 'f'.repeat(32);
    expect(await source.keyFor(unknown, 'us-east-1', AT)).toBeUndefined();
    expect(inputs()).toHaveLength(2);
    // A burst of unknown fingerprints a minute later costs one call.
    clock.t += 60_000;
    const burst = await Promise.all([1, 2, 3].map(() => source.keyFor(unknown, 'us-east-1', AT)));
    expect(burst).toEqual([undefined, undefined, undefined]);
    expect(inputs()).toHaveLength(3);
    // Another region has its own minute.
    clock.t += 1_000;
    expect(await source.keyFor(unknown, 'eu-west-1', AT)).toBeUndefined();
    clock.t += 61_000;
    expect(await source.keyFor(unknown, 'eu-west-1', AT)).toBeUndefined();
    expect(inputs()).toHaveLength(5);
  });

  it('a key is only good for a digest within its validity (signed up to a day after the digest ends)', async () => {
    ct.on(ListPublicKeysCommand).resolves({
      PublicKeyList: [
        pk(pairA, FP_A, { ValidityStartTime: new Date('2026-10-01T00:00:00Z'), ValidityEndTime: new Date('2026-11-20T10:59:59Z') }),
        pk(pairB, FP_B, { ValidityStartTime: new Date('2026-11-20T11:05:00Z'), ValidityEndTime: new Date('2026-12-20T11:05:00Z') }),
        pk(pairA, 'c'.repeat(32), { ValidityStartTime: new Date('2026-11-21T11:00:01Z'), ValidityEndTime: undefined }),
        pk(pairB, 'd'.repeat(32), { ValidityStartTime: undefined, ValidityEndTime: undefined }),
      ],
    });
    const { source } = setup();
    expect(await source.keyFor(FP_A, 'us-east-1', AT)).toBeUndefined(); // expired before the digest ended
    expect(await source.keyFor(FP_B, 'us-east-1', AT)).toBeDefined(); // rotated in just after: signing is later
    expect(await source.keyFor('c'.repeat(32), 'us-east-1', AT)).toBeUndefined(); // more than a day later
    expect(await source.keyFor('d'.repeat(32), 'us-east-1', AT)).toBeDefined(); // no validity given
  });

  it('throttling is a retryable SourceError, access denied is not; failures are not remembered', async () => {
    ct.on(ListPublicKeysCommand)
      .rejectsOnce(new ThrottlingException({ message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } }))
      .rejectsOnce(new AccessDeniedException({ message: 'User is not authorized to perform: cloudtrail:ListPublicKeys', $metadata: { httpStatusCode: 400 } }))
      .resolves({ PublicKeyList: [pk(pairA, FP_A)] });
    const { source } = setup();
    const throttled = await source.keyFor(FP_A, 'us-east-1', AT).catch((e: unknown) => e);
    expect(throttled).toBeInstanceOf(SourceError);
    expect(throttled).toMatchObject({ retryable: true, reason: 'cloudtrail:ListPublicKeys in us-east-1 failed: Rate exceeded' });
    const denied = await source.keyFor(FP_A, 'us-east-1', AT).catch((e: unknown) => e);
    expect(denied).toMatchObject({ retryable: false, reason: 'cloudtrail:ListPublicKeys in us-east-1 failed: User is not authorized to perform: cloudtrail:ListPublicKeys' });
    expect(await source.keyFor(FP_A, 'us-east-1', AT)).toBeDefined();
    expect(inputs()).toHaveLength(3);
  });

  it('a key AWS serves that cannot be decoded is an error naming it, not an unknown key', async () => {
    ct.on(ListPublicKeysCommand).resolves({ PublicKeyList: [{ Fingerprint: FP_A, Value: new Uint8Array([1, 2, 3]) }, { Fingerprint: FP_B }] });
    const { source } = setup();
    await expect(source.keyFor(FP_A, 'us-east-1', AT)).rejects.toMatchObject({
      reason: `cloudtrail:ListPublicKeys in us-east-1: key ${FP_A} is not an RSA public key in PKCS#1 or SPKI DER`,
    });
    expect(await source.keyFor(FP_B, 'us-east-1', AT)).toBeUndefined(); // no Value: skipped
  });

  it('verifies a digest end to end with keys from ListPublicKeys', async () => {
    ct.on(ListPublicKeysCommand).resolves({ PublicKeyList: [pk(pairB, FP_B)] });
    const { source } = setup();
    const bucket = 'trail-bucket';
    const key = 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T110000Z.json.gz';
    const s = signDigest(
      buildDigest({ bucket, key, digestStartTime: '2026-11-20T10:00:00Z', digestEndTime: '2026-11-20T11:00:00Z', publicKeyFingerprint: FP_B, logFiles: [] }),
      pairB.privateKey,
    );
    const v = await verifyDigest({ body: s.uncompressed, where: { bucket, key }, metadata: s.metadata, keys: source });
    expect(v.verdict).toBe('valid');
    expect(inputs()).toEqual([DAY_RANGE]);
  });
});
