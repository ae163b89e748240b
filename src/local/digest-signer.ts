/**
 * Writes CloudTrail-style digest files signed with a local key pair, for tests and `ses-audit local`
 * (events/keys/ holds a TEST key pair and its public-keys.json). Never for production: CloudTrail signs
 * real digests with its own keys.
 */
import { constants, createHash, createPrivateKey, createPublicKey, sign, type KeyObject } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { InputError } from '../errors.js';
import { HASH_ALGORITHM, SIGNATURE_ALGORITHM, signingString } from '../trail/digest.js';
import { classifyKey } from '../trail/keys.js';
import { fingerprintOf } from '../trail/public-keys.js';

/** A log file for the digest to list. */
export interface DigestLogInput {
  bucket: string;
  key: string;
  /** The file's uncompressed content (what CloudTrail hashes). */
  body: Uint8Array | string;
  /** Its oldest and newest eventTime, or null for a file without records. */
  oldestEventTime: string | null;
  newestEventTime: string | null;
}

/** The digest before this one in the chain. */
export interface PreviousDigestRef {
  bucket: string;
  key: string;
  /** SHA-256 of its uncompressed content, hex. */
  sha256: string;
  /** Its hex signature. */
  signature: string;
}

export interface DigestSpec {
  /** Where the digest will be uploaded: a `CloudTrail-Digest/REGION/YYYY/MM/DD/` key (the account comes from it). */
  bucket: string;
  key: string;
  digestStartTime: string;
  digestEndTime: string;
  /** The fingerprint the digest names (see pkcs1Fingerprint). */
  publicKeyFingerprint: string;
  logFiles: DigestLogInput[];
  /** Undefined for the first digest of a chain. */
  previous?: PreviousDigestRef;
}

/** The digest document as CloudTrail writes it, fields in its order. */
export interface DigestDocument {
  awsAccountId: string;
  digestStartTime: string;
  digestEndTime: string;
  digestS3Bucket: string;
  digestS3Object: string;
  digestPublicKeyFingerprint: string;
  digestSignatureAlgorithm: string;
  newestEventTime: string | null;
  oldestEventTime: string | null;
  previousDigestS3Bucket: string | null;
  previousDigestS3Object: string | null;
  previousDigestHashValue: string | null;
  previousDigestHashAlgorithm: string | null;
  previousDigestSignature: string | null;
  logFiles: {
    s3Bucket: string;
    s3Object: string;
    hashValue: string;
    hashAlgorithm: string;
    newestEventTime: string | null;
    oldestEventTime: string | null;
  }[];
}

function sha256Hex(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Same-format UTC times sort as text. */
function extreme(times: (string | null)[], pick: 'min' | 'max'): string | null {
  const known = times.filter((t): t is string => t !== null).sort();
  return known.length ? known[pick === 'min' ? 0 : known.length - 1] : null;
}

export function buildDigest(spec: DigestSpec): DigestDocument {
  const info = classifyKey(spec.key);
  if (info.kind !== 'digest' || !info.region) throw new InputError(`not a CloudTrail-Digest/REGION/YYYY/MM/DD/ key: ${spec.key}`);
  const p = spec.previous;
  return {
    awsAccountId: info.accountId,
    digestStartTime: spec.digestStartTime,
    digestEndTime: spec.digestEndTime,
    digestS3Bucket: spec.bucket,
    digestS3Object: spec.key,
    digestPublicKeyFingerprint: spec.publicKeyFingerprint,
    digestSignatureAlgorithm: SIGNATURE_ALGORITHM,
    newestEventTime: extreme(spec.logFiles.map((f) => f.newestEventTime), 'max'),
    oldestEventTime: extreme(spec.logFiles.map((f) => f.oldestEventTime), 'min'),
    previousDigestS3Bucket: p ? p.bucket : null,
    previousDigestS3Object: p ? p.key : null,
    previousDigestHashValue: p ? p.sha256 : null,
    previousDigestHashAlgorithm: p ? HASH_ALGORITHM : null,
    previousDigestSignature: p ? p.signature : null,
    logFiles: spec.logFiles.map((f) => ({
      s3Bucket: f.bucket,
      s3Object: f.key,
      hashValue: sha256Hex(f.body),
      hashAlgorithm: HASH_ALGORITHM,
      newestEventTime: f.newestEventTime,
      oldestEventTime: f.oldestEventTime,
    })),
  };
}

export interface SignedDigest {
  /** Gzipped, to upload as the object's body. */
  body: Buffer;
  /** The bytes that were hashed and signed. */
  uncompressed: Buffer;
  sha256: string;
  /** Hex, as in the metadata. */
  signature: string;
  /** S3 user metadata to upload with it. */
  metadata: { signature: string; 'signature-algorithm': string };
}

/** Signs a digest for the location it names (digestS3Bucket/digestS3Object). `privateKey`: a KeyObject or PEM. */
export function signDigest(doc: DigestDocument, privateKey: KeyObject | string): SignedDigest {
  const key = typeof privateKey === 'string' ? createPrivateKey(privateKey) : privateKey;
  const uncompressed = Buffer.from(JSON.stringify(doc), 'utf8');
  const sha256 = sha256Hex(uncompressed);
  const data = signingString(doc, { bucket: doc.digestS3Bucket, key: doc.digestS3Object }, sha256);
  const signature = sign('sha256', Buffer.from(data, 'utf8'), { key, padding: constants.RSA_PKCS1_PADDING }).toString('hex');
  return {
    body: gzipSync(uncompressed),
    uncompressed,
    sha256,
    signature,
    metadata: { signature, 'signature-algorithm': SIGNATURE_ALGORITHM },
  };
}

/** The fingerprint CloudTrail would give a key: hex MD5 of its PKCS#1 RSAPublicKey DER. */
export function pkcs1Fingerprint(key: KeyObject | string): string {
  const pub = createPublicKey(key);
  return fingerprintOf(pub.export({ type: 'pkcs1', format: 'der' }));
}
