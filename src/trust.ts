/**
 * Trust (DESIGN.md): what the function and the CLI do with the ledger. A digest file arriving is verified
 * (signature with the key its fingerprint names, chain to the previous digest) and recorded with what it
 * attests, and the files it lists are checked against their ledger entries at once; a log file is recorded
 * with the hash of what was read; a window of delivery time is reconciled from the ledger.
 */
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { InputError } from './errors.js';
import { reconcile, windowHours, type VerifyReport } from './store/reconcile.js';
import { deliveryTimeOf, type DigestEntry, type Ledger, type LogFileEntry } from './store/ledger.js';
import type { TrailSummary } from './pipeline.js';
import { chainCheck, digestFacts, verifyDigest, type DigestVerdict } from './trail/digest.js';
import { classifyKey } from './trail/keys.js';
import { s3Uri, type S3ObjectRef } from './trail/object.js';
import type { PublicKeySource } from './trail/public-keys.js';
import { readWhole, type ByteSource } from './trail/reader.js';
import { s3Error } from './trail/source.js';

/** Digests are a few KB (about 200 bytes per file listed); anything near this is not one. */
export const MAX_DIGEST_BYTES = 64 * 1024 * 1024;
/** DESIGN.md's default grace: files this recent may not have a digest yet. */
export const DEFAULT_GRACE_MS = 2 * 3_600_000;

/** The ledger entry for a log file read to the end. */
export function logFileEntry(uri: string, s: TrailSummary, rowsWritten: number, ingestedAt: string, versionId?: string): LogFileEntry {
  const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString().replace('.000Z', 'Z'));
  return {
    uri,
    deliveryTime: deliveryTimeOf(uri),
    sha256: s.sha256,
    outcome: 'ingested',
    bytes: s.bytes,
    records: s.records,
    sesEvents: s.sesEvents,
    rows: rowsWritten,
    oldestEventTime: iso(s.oldestEventMs),
    newestEventTime: iso(s.newestEventMs),
    versionId,
    ingestedAt,
  };
}

/** The ledger entry for a log file whose reading failed (the rows written before the failure are counted). */
export function failedLogFileEntry(uri: string, reason: string, rowsWritten: number, ingestedAt: string): LogFileEntry {
  return { uri, deliveryTime: deliveryTimeOf(uri), outcome: 'failed', reason, rows: rowsWritten, ingestedAt };
}

export interface DigestOutcome {
  entry: DigestEntry;
  /** Listed files whose ledger entry has another hash. */
  tampered: string[];
  /** Listed files not (yet) in the ledger: reported as missing by reconciliation once past the grace period. */
  notYetIngested: string[];
  /** Listed files whose reading failed. */
  failed: string[];
}

export interface DigestSource {
  /** The uncompressed digest. */
  body: Buffer;
  /** Where it was read from; undefined for a local file (which can only be unverifiable). */
  where?: { bucket: string; key: string };
  metadata?: Record<string, string | undefined>;
}

/** GetObject for a digest: its bytes and its user metadata (where the signature is). */
export async function readS3Digest(s3: S3Client, ref: S3ObjectRef, expectedBucketOwner?: string): Promise<DigestSource> {
  let res;
  try {
    res = await s3.send(
      new GetObjectCommand({ Bucket: ref.bucket, Key: ref.key, VersionId: ref.versionId, ExpectedBucketOwner: expectedBucketOwner }),
    );
  } catch (err) {
    throw s3Error(err);
  }
  const raw = res.Body;
  if (!raw) throw new InputError('S3 returned no body');
  // Boundary: in Node the SDK's body is a Readable, an async iterable of bytes (typed for every runtime).
  const body = await readWhole(raw as ByteSource, MAX_DIGEST_BYTES);
  return { body, where: { bucket: ref.bucket, key: ref.key }, metadata: res.Metadata };
}

/**
 * Verifies a digest, checks its chain against the ledger, records it, and checks the files it lists against
 * their ledger entries. An invalid digest is a verdict recorded, never an error; only the ledger or the key
 * source failing throws (so the invocation is retried).
 */
export async function ingestDigest(
  uri: string,
  source: DigestSource,
  deps: {
    ledger: Ledger;
    keys: PublicKeySource;
    now: () => Date;
    /**
     * Reads a digest the ledger does not have yet (the function: from its bucket). The previous digest is then
     * verified and recorded first: after ses-audit is attached to an existing trail, or when a digest's
     * notification was lost, its predecessor is in the bucket but not in the ledger, and is no chain gap.
     */
    readDigest?: (uri: string) => Promise<DigestSource>;
  },
): Promise<DigestOutcome> {
  const verdict = await verifyDigest({ body: source.body, where: source.where, metadata: source.metadata, keys: deps.keys });
  const entry = digestEntryOf(uri, source, verdict, deps.now());
  if (verdict.verdict === 'valid') {
    let previous = entry.previous ? await deps.ledger.digest(entry.previous.uri) : undefined;
    if (entry.previous && !previous && deps.readDigest) {
      const prevUri = entry.previous.uri;
      const prevSource = await deps.readDigest(prevUri).catch(() => undefined);
      if (prevSource) {
        const prevVerdict = await verifyDigest({ body: prevSource.body, where: prevSource.where, metadata: prevSource.metadata, keys: deps.keys });
        previous = digestEntryOf(prevUri, prevSource, prevVerdict, deps.now());
        await deps.ledger.putDigest(previous);
      }
    }
    const chain = chainCheck(verdict.digest, previous && { sha256: previous.sha256, signature: previous.signature, verdict: previous.verdict });
    entry.chain = chain.status;
    entry.chainReason = chain.reason;
  }
  await deps.ledger.putDigest(entry);

  const outcome: DigestOutcome = { entry, tampered: [], notYetIngested: [], failed: [] };
  if (verdict.verdict !== 'valid') return outcome;
  const listed = Object.keys(entry.files);
  const found = await deps.ledger.logFiles(listed);
  for (const uri of listed) {
    const f = found.get(uri);
    if (!f) outcome.notYetIngested.push(uri);
    else if (f.outcome === 'failed') outcome.failed.push(uri);
    else if (f.sha256?.toLowerCase() !== entry.files[uri].toLowerCase()) outcome.tampered.push(uri);
  }
  return outcome;
}

/** The ledger entry for a digest and its verdict (its chain not checked yet). */
function digestEntryOf(uri: string, source: DigestSource, verdict: DigestVerdict, now: Date): DigestEntry {
  const digest = verdict.digest;
  const info = classifyKey(source.where?.key ?? uri);
  const entry: DigestEntry = {
    uri,
    verdict: verdict.verdict,
    ...(verdict.verdict === 'valid' ? {} : { reason: verdict.reason }),
    sha256: verdict.sha256,
    ...(verdict.verdict !== 'unverifiable' && verdict.signature ? { signature: verdict.signature } : {}),
    ...(digest ? { digestStartTime: digest.digestStartTime, digestEndTime: digest.digestEndTime, accountId: digest.awsAccountId } : {}),
    ...(info.kind === 'digest' && info.region ? { region: info.region } : {}),
    backfill: digest ? digestFacts(digest).backfill : uri.endsWith('_backfill.json.gz'),
    chain: 'unchecked',
    files: {},
    recordedAt: now.toISOString(),
  };
  if (digest) {
    for (const f of digestFacts(digest).files) entry.files[f.uri] = f.sha256;
    if (digest.previousDigestS3Bucket !== null && digest.previousDigestS3Object !== null) {
      entry.previous = {
        uri: s3Uri({ bucket: digest.previousDigestS3Bucket, key: digest.previousDigestS3Object }),
        sha256: digest.previousDigestHashValue ?? '',
        signature: digest.previousDigestSignature ?? '',
      };
    }
  }
  return entry;
}

/** Loads a window's ledger entries (and the previous digests the window's digests name) and reconciles them. */
export async function reconcileWindow(
  ledger: Ledger,
  o: { since: string; until: string; now: Date; graceMs: number },
): Promise<{ report: VerifyReport; logFiles: LogFileEntry[]; digests: DigestEntry[] }> {
  const { logHours, digestHours } = windowHours(o.since, o.until);
  const logFiles = (await Promise.all(logHours.map((h) => ledger.logFilesOfHour(h)))).flat();
  const digests = (await Promise.all(digestHours.map((h) => ledger.digestsOfHour(h)))).flat();
  const known = new Set(digests.map((d) => d.uri));
  const previousDigests = new Map<string, DigestEntry>();
  for (const d of digests) {
    if (!d.previous || known.has(d.previous.uri) || previousDigests.has(d.previous.uri)) continue;
    const p = await ledger.digest(d.previous.uri);
    if (p) previousDigests.set(p.uri, p);
  }
  const report = reconcile({ since: o.since, until: o.until, now: o.now, graceMs: o.graceMs, logFiles, digests, previousDigests });
  return { report, logFiles, digests };
}

/**
 * How far a row's source file can be trusted, from the ledger: `attested` (a valid digest lists it with the
 * same hash), `tampered` (with another hash), `failed` (its reading failed), `unattested` (no valid digest
 * lists it, past the grace period), `pending` (within it), `unknown` (not in the ledger: read before the
 * ledger was kept, or by a dry run).
 */
export type FileTrust = 'attested' | 'tampered' | 'failed' | 'unattested' | 'pending' | 'unknown';

export async function fileTrust(ledger: Ledger, uri: string, now: Date, graceMs = DEFAULT_GRACE_MS): Promise<FileTrust> {
  const entry = await ledger.logFile(uri);
  if (!entry) return 'unknown';
  if (entry.outcome === 'failed') return 'failed';
  const listings = (await ledger.digestsFor(uri)).filter((d) => d.verdict === 'valid' && d.files[uri] !== undefined);
  if (listings.some((d) => d.files[uri].toLowerCase() === entry.sha256?.toLowerCase())) return 'attested';
  if (listings.length > 0) return 'tampered';
  const delivered = entry.deliveryTime ?? deliveryTimeOf(uri);
  return delivered !== undefined && Date.parse(delivered) > now.getTime() - graceMs ? 'pending' : 'unattested';
}

/** The trust of each distinct source file of some rows (a few at a time: a history page names a handful). */
export async function trustOfSources(ledger: Ledger, uris: Iterable<string>, now: Date, graceMs = DEFAULT_GRACE_MS): Promise<Map<string, FileTrust>> {
  const distinct = [...new Set(uris)];
  const out = new Map<string, FileTrust>();
  for (let i = 0; i < distinct.length; i += 8) {
    const batch = distinct.slice(i, i + 8);
    const trusts = await Promise.all(batch.map((u) => fileTrust(ledger, u, now, graceMs)));
    batch.forEach((u, k) => out.set(u, trusts[k]));
  }
  return out;
}

/** Rows from files that are attested count as verified; every other state does not (DESIGN.md, Trust). */
export function isVerified(trust: FileTrust): boolean {
  return trust === 'attested';
}
