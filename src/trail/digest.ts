/**
 * CloudTrail digest files (log file integrity validation): parsing, signature verification, chaining, and
 * the delivery facts a digest attests. Pure: reads nothing and writes nothing but asks a PublicKeySource.
 *
 * Sources: AWS CloudTrail User Guide, "CloudTrail digest file structure" and "Custom implementations of
 * CloudTrail log file integrity validation"; the AWS CLI's `cloudtrail validate-logs`. The signature (hex,
 * S3 user metadata `signature`, algorithm in `signature-algorithm`) is SHA256withRSA, PKCS#1 v1.5, over
 *   digestEndTime \n digestS3Bucket/digestS3Object \n hex(SHA-256(uncompressed digest)) \n previousDigestSignature
 * with the text `null` for the first digest of a chain.
 */
import { constants, createHash, verify } from 'node:crypto';
import { InputError } from '../errors.js';
import { classifyKey } from './keys.js';
import { s3Uri } from './object.js';
import type { PublicKeySource } from './public-keys.js';

export const SIGNATURE_ALGORITHM = 'SHA256withRSA';
export const HASH_ALGORITHM = 'SHA-256';

/** One log file a digest lists. Hashes are lower-cased; times are kept as logged. */
export interface DigestLogFile {
  s3Bucket: string;
  s3Object: string;
  /** SHA-256 of the log file's uncompressed content, lower-case hex. */
  hashValue: string;
  hashAlgorithm: typeof HASH_ALGORITHM;
  newestEventTime: string | null;
  oldestEventTime: string | null;
}

/**
 * The digest document, with the document's own field names. Times are kept exactly as logged (the signing
 * string uses `digestEndTime` verbatim), and so is `previousDigestSignature`; fingerprint and hashes are
 * lower-cased for comparison.
 */
export interface DigestFile {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  /** Hex MD5 of the signing key's DER, lower-case. */
  digestPublicKeyFingerprint: string;
  /** null when the document leaves it out (the S3 metadata names the algorithm too). */
  digestSignatureAlgorithm: string | null;
  /** null in an empty digest. */
  newestEventTime: string | null;
  oldestEventTime: string | null;
  /** The five previous-digest fields are all null in the first digest of a chain, else all set. */
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: typeof HASH_ALGORITHM | null;
  previousDigestSignature: string | null;
  logFiles: DigestLogFile[];
}

type Json = Record<string, unknown>;

// CloudTrail writes `2015-08-17T15:01:31Z`; fractions are accepted in case a writer ever adds them.
const ISO_TIME_RE = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?Z$/;
const SHA256_RE = /^[0-9a-fA-F]{64}$/;
const MD5_RE = /^[0-9a-fA-F]{32}$/;
const HEX_RE = /^(?:[0-9a-fA-F]{2})+$/;
const ACCOUNT_RE = /^\d{12}$/;

function fail(reason: string): never {
  throw new InputError(`malformed digest: ${reason}`);
}

function isIsoTime(value: string): boolean {
  const m = ISO_TIME_RE.exec(value);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1, 7).map(Number);
  const t = new Date(Date.UTC(y, mo - 1, d, h, mi, s));
  // Date.UTC rolls 2026-02-30 or 25:00 over: a round trip that changes a field means it does not exist.
  return t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d && t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
}

function str(obj: Json, field: string, path = field): string {
  const v = obj[field];
  if (typeof v !== 'string' || v === '') fail(`${path} must be a non-empty string`);
  return v;
}

function nullableStr(obj: Json, field: string, path = field): string | null {
  const v = obj[field];
  if (v === null || v === undefined) return null;
  if (typeof v !== 'string' || v === '') fail(`${path} must be a non-empty string or null`);
  return v;
}

function time(obj: Json, field: string, path = field): string {
  const v = str(obj, field, path);
  if (!isIsoTime(v)) fail(`${path} is not a UTC time like 2026-11-20T11:00:00Z`);
  return v;
}

function nullableTime(obj: Json, field: string, path = field): string | null {
  const v = nullableStr(obj, field, path);
  if (v !== null && !isIsoTime(v)) fail(`${path} is not a UTC time like 2026-11-20T11:00:00Z`);
  return v;
}

function sha256Field(obj: Json, field: string, path = field): string {
  const v = str(obj, field, path);
  if (!SHA256_RE.test(v)) fail(`${path} is not a 64-digit hex SHA-256`);
  return v.toLowerCase();
}

function hashAlgorithm(obj: Json, field: string, path = field): typeof HASH_ALGORITHM {
  if (obj[field] !== HASH_ALGORITHM) fail(`${path} must be ${HASH_ALGORITHM}`);
  return HASH_ALGORITHM;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function parseObject(text: string): Json {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    fail('not valid JSON');
  }
  if (!isObject(doc)) fail('not a JSON object');
  return doc;
}

/**
 * Parses the uncompressed text of a digest file. Every field the validation and the ledger use is checked;
 * unknown fields are ignored. Throws InputError with a one-line reason that names the field, never its value.
 */
export function parseDigest(text: string): DigestFile {
  const doc = parseObject(text);

  const awsAccountId = str(doc, 'awsAccountId');
  if (!ACCOUNT_RE.test(awsAccountId)) fail('awsAccountId is not a 12-digit account ID');
  const digestStartTime = time(doc, 'digestStartTime');
  const digestEndTime = time(doc, 'digestEndTime');
  if (Date.parse(digestStartTime) > Date.parse(digestEndTime)) fail('digestStartTime is after digestEndTime');
  const fingerprint = str(doc, 'digestPublicKeyFingerprint');
  if (!MD5_RE.test(fingerprint)) fail('digestPublicKeyFingerprint is not a 32-digit hex fingerprint');

  // The first digest of a chain has all five null (User Guide, "Starting digest file"); a mix is not a digest.
  if (!('previousDigestSignature' in doc)) fail('previousDigestSignature is missing (null in the first digest of a chain)');
  const previousFields = ['previousDigestS3Bucket', 'previousDigestS3Object', 'previousDigestHashValue', 'previousDigestHashAlgorithm', 'previousDigestSignature'];
  const nulls = previousFields.filter((f) => doc[f] === null || doc[f] === undefined).length;
  if (nulls !== 0 && nulls !== previousFields.length) fail('the previousDigest fields must be all null (first digest of a chain) or all set');
  const first = nulls === previousFields.length;
  const previousDigestSignature = first ? null : str(doc, 'previousDigestSignature');
  if (previousDigestSignature !== null && !HEX_RE.test(previousDigestSignature)) fail('previousDigestSignature is not hex');

  const rawFiles = doc.logFiles;
  if (!Array.isArray(rawFiles)) fail('logFiles must be a list');
  const logFiles = rawFiles.map((f: unknown, i): DigestLogFile => {
    const at = `logFiles[${i}]`;
    if (!isObject(f)) fail(`${at} is not an object`);
    return {
      s3Bucket: str(f, 's3Bucket', `${at}.s3Bucket`),
      s3Object: str(f, 's3Object', `${at}.s3Object`),
      hashValue: sha256Field(f, 'hashValue', `${at}.hashValue`),
      hashAlgorithm: hashAlgorithm(f, 'hashAlgorithm', `${at}.hashAlgorithm`),
      newestEventTime: nullableTime(f, 'newestEventTime', `${at}.newestEventTime`),
      oldestEventTime: nullableTime(f, 'oldestEventTime', `${at}.oldestEventTime`),
    };
  });

  return {
    awsAccountId,
    digestStartTime,
    digestEndTime,
    digestS3Bucket: str(doc, 'digestS3Bucket'),
    digestS3Object: str(doc, 'digestS3Object'),
    digestPublicKeyFingerprint: fingerprint.toLowerCase(),
    digestSignatureAlgorithm: nullableStr(doc, 'digestSignatureAlgorithm'),
    newestEventTime: nullableTime(doc, 'newestEventTime'),
    oldestEventTime: nullableTime(doc, 'oldestEventTime'),
    previousDigestS3Bucket: first ? null : str(doc, 'previousDigestS3Bucket'),
    previousDigestS3Object: first ? null : str(doc, 'previousDigestS3Object'),
    previousDigestHashValue: first ? null : sha256Field(doc, 'previousDigestHashValue'),
    previousDigestHashAlgorithm: first ? null : hashAlgorithm(doc, 'previousDigestHashAlgorithm'),
    previousDigestSignature,
    logFiles,
  };
}

/** An S3 object location: where a digest was read from. */
export interface ObjectLocation {
  bucket: string;
  key: string;
}

/**
 * The string CloudTrail signs. `where` is where the digest was read from (not what it says about itself),
 * so a digest copied anywhere else cannot verify.
 */
export function signingString(
  d: Pick<DigestFile, 'digestEndTime' | 'previousDigestSignature'>,
  where: ObjectLocation,
  digestSha256Hex: string,
): string {
  return `${d.digestEndTime}\n${where.bucket}/${where.key}\n${digestSha256Hex}\n${d.previousDigestSignature ?? 'null'}`;
}

export interface DigestInput {
  /** The digest's uncompressed bytes, exactly as read. */
  body: Buffer;
  /** The S3 object it was read from; undefined for a local file. */
  where?: ObjectLocation;
  /** The object's S3 user metadata (`signature`, `signature-algorithm`); absent for a local file. */
  metadata?: Record<string, string | undefined>;
  keys: PublicKeySource;
}

export type DigestVerdict =
  | { verdict: 'valid'; sha256: string; digest: DigestFile; signature: string }
  | {
      verdict: 'invalid';
      /** One line: why the digest cannot be trusted. */
      reason: string;
      sha256: string;
      /** Set when the document parsed. */
      digest?: DigestFile;
      /** The hex signature from the metadata, when there was one. */
      signature?: string;
    }
  | { verdict: 'unverifiable'; reason: string; sha256: string; digest: DigestFile };

function metadataValue(metadata: Record<string, string | undefined> | undefined, name: string): string | undefined {
  if (!metadata) return undefined;
  // S3 returns user metadata keys lower-cased; other sources may not.
  for (const [k, v] of Object.entries(metadata)) if (k.toLowerCase() === name && v !== undefined) return v;
  return undefined;
}

/**
 * Verifies a digest file the way `aws cloudtrail validate-logs` does. A bad digest is a verdict, never an
 * exception; only a failure to get public keys (ListPublicKeys throttled or denied, a key AWS serves that
 * cannot be decoded) throws, since it says nothing about the digest.
 */
export async function verifyDigest(input: DigestInput): Promise<DigestVerdict> {
  const sha256 = createHash('sha256').update(input.body).digest('hex');
  let digest: DigestFile;
  try {
    digest = parseDigest(input.body.toString('utf8'));
  } catch (err) {
    if (err instanceof InputError) return { verdict: 'invalid', reason: err.reason, sha256 };
    throw err;
  }

  if (!input.where) return { verdict: 'unverifiable', reason: 'not read from S3: no signature to check', sha256, digest };
  const signature = metadataValue(input.metadata, 'signature');
  if (signature === undefined || signature === '') return { verdict: 'unverifiable', reason: 'no signature metadata', sha256, digest };
  const invalid = (reason: string): DigestVerdict => ({
    verdict: 'invalid',
    reason,
    sha256,
    digest,
    ...(HEX_RE.test(signature) ? { signature: signature.toLowerCase() } : {}),
  });
  if (!HEX_RE.test(signature)) return invalid('signature metadata is not hex');

  // Missing from the metadata, the algorithm is the document's; whichever is given must be SHA256withRSA.
  const algorithms = [metadataValue(input.metadata, 'signature-algorithm'), digest.digestSignatureAlgorithm];
  if (algorithms.some((a) => a !== undefined && a !== null && a !== SIGNATURE_ALGORITHM)) {
    return invalid(`signature algorithm is not ${SIGNATURE_ALGORITHM}`);
  }

  if (digest.digestS3Bucket !== input.where.bucket || digest.digestS3Object !== input.where.key) {
    return invalid('digestS3Bucket/digestS3Object name another object than the one it was read from');
  }
  const info = classifyKey(digest.digestS3Object);
  if (info.kind !== 'digest' || !info.region) return invalid('digestS3Object is not a CloudTrail-Digest/REGION/YYYY/MM/DD/ key');

  const fingerprint = digest.digestPublicKeyFingerprint;
  const key = await input.keys.keyFor(fingerprint, info.region, new Date(digest.digestEndTime));
  if (!key) return invalid(`unknown public key fingerprint ${fingerprint} in ${info.region} for ${digest.digestEndTime}`);

  const data = Buffer.from(signingString(digest, input.where, sha256), 'utf8');
  let ok: boolean;
  try {
    ok = verify('sha256', data, { key, padding: constants.RSA_PKCS1_PADDING }, Buffer.from(signature, 'hex'));
  } catch {
    // A signature of the wrong length for the key, or a key that cannot verify: not a valid signature.
    ok = false;
  }
  if (!ok) return invalid('bad signature');
  return { verdict: 'valid', sha256, digest, signature: signature.toLowerCase() };
}

/** What is known about the digest before this one in the chain. */
export interface PreviousDigest {
  /** SHA-256 of its uncompressed content, hex. */
  sha256: string;
  /** Its hex signature (S3 metadata); absent when it had none. */
  signature?: string;
  verdict: DigestVerdict['verdict'];
}

export type ChainStatus = 'first' | 'linked' | 'gap';

export interface ChainResult {
  /** `first`: starts a chain (no gap); `linked`: matches its valid predecessor; `gap`: the chain is broken here. */
  status: ChainStatus;
  reason: string;
}

/** Whether a (valid) digest chains to its predecessor. The first digest of a chain is no gap. */
export function chainCheck(digest: DigestFile, previous: PreviousDigest | undefined): ChainResult {
  if (digest.previousDigestSignature === null) return { status: 'first', reason: 'first digest of a chain' };
  if (!previous) return { status: 'gap', reason: 'previous digest absent' };
  if (previous.verdict !== 'valid') return { status: 'gap', reason: `previous digest is ${previous.verdict}` };
  if (digest.previousDigestHashValue !== previous.sha256.toLowerCase()) {
    return { status: 'gap', reason: "previousDigestHashValue does not match the previous digest's SHA-256" };
  }
  if (digest.previousDigestSignature.toLowerCase() !== previous.signature?.toLowerCase()) {
    return { status: 'gap', reason: "previousDigestSignature does not match the previous digest's signature" };
  }
  return { status: 'linked', reason: 'chains to the previous digest' };
}

/** A log file a digest attests. */
export interface AttestedFile {
  /** `s3://bucket/key`, the key not URL-encoded. */
  uri: string;
  /** SHA-256 of the file's uncompressed content, lower-case hex. */
  sha256: string;
}

/** What a digest attests, for the ledger. */
export interface DigestFacts {
  /** The delivery window the digest covers (digestStartTime, digestEndTime), as logged. */
  start: string;
  end: string;
  /** A `_backfill` digest: late files for a window another digest already covered; it attests like any other. */
  backfill: boolean;
  files: AttestedFile[];
}

export function digestFacts(d: DigestFile): DigestFacts {
  return {
    start: d.digestStartTime,
    end: d.digestEndTime,
    backfill: d.digestS3Object.endsWith('_backfill.json.gz'),
    files: d.logFiles.map((f) => ({ uri: s3Uri({ bucket: f.s3Bucket, key: f.s3Object }), sha256: f.hashValue })),
  };
}
