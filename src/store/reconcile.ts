/**
 * Reconciliation of the ledger over a window of delivery time (DESIGN.md, Trust): which log files valid
 * digests attest, which they list but were never ingested, which were ingested but no valid digest lists,
 * which differ from what their digest says, which could not be read; and whether the digests verified and
 * chain. Pure: the caller loads the ledger entries (`verify`, the scheduled run of the function).
 */
import type { DigestEntry, LogFileEntry } from './ledger.js';
import { deliveryTimeOf } from './ledger.js';

export interface ReconcileInput {
  /** The window on delivery time, inclusive, ISO times (second precision). */
  since: string;
  until: string;
  now: Date;
  /** Files delivered within this long of `now` are left out of `unattested` and `missing`: their digest may not be out yet. */
  graceMs: number;
  /** The log files of the window's hours (entries outside the window are ignored). */
  logFiles: LogFileEntry[];
  /** The digests that ended from `since` to an hour after `until` (they attest the window's last files). */
  digests: DigestEntry[];
  /** Digests named as `previous` that are not among `digests` (older than the window), by URI. */
  previousDigests: ReadonlyMap<string, DigestEntry>;
}

export interface Problem {
  uri: string;
  reason: string;
}

export interface VerifyReport {
  window: { since: string; until: string; graceSeconds: number };
  logFiles: { ingested: number; attested: number };
  digests: { verified: number; invalid: number; chainGaps: number; unverifiable: number };
  /** Files a valid digest lists that were never ingested. */
  missing: string[];
  /** Ingested files no valid digest lists. */
  unattested: string[];
  /** Ingested files whose content hash differs from their digest's. */
  tampered: string[];
  /** Files whose reading failed. */
  failed: string[];
  /** Why each invalid digest is invalid, and where each chain gap is. */
  invalidDigests: Problem[];
  chainGaps: Problem[];
  /** Every log file is accounted for, and no digest is invalid or out of chain. */
  ok: boolean;
}

export function reconcile(input: ReconcileInput): VerifyReport {
  const { since, until } = input;
  const cutoff = new Date(input.now.getTime() - input.graceMs).toISOString();
  const within = (t: string | undefined): t is string => t !== undefined && t >= since && t <= until;
  const settled = (t: string) => t <= cutoff;

  // What valid digests attest: URI -> the hashes they give it (a file is listed once, but nothing stops two
  // digests from disagreeing; any valid listing with the same hash attests it).
  const attested = new Map<string, Set<string>>();
  const byUri = new Map<string, DigestEntry>([...input.previousDigests, ...input.digests.map((d): [string, DigestEntry] => [d.uri, d])]);
  let verified = 0;
  let unverifiable = 0;
  const invalidDigests: Problem[] = [];
  const chainGaps: Problem[] = [];
  for (const d of input.digests) {
    if (d.verdict === 'invalid') {
      invalidDigests.push({ uri: d.uri, reason: d.reason ?? 'invalid' });
      continue;
    }
    if (d.verdict === 'unverifiable') {
      unverifiable++;
      continue;
    }
    verified++;
    for (const [uri, sha] of Object.entries(d.files)) {
      const hashes = attested.get(uri) ?? new Set<string>();
      hashes.add(sha.toLowerCase());
      attested.set(uri, hashes);
    }
    const gap = chainGap(d, byUri);
    if (gap) chainGaps.push({ uri: d.uri, reason: gap });
  }

  const missing: string[] = [];
  const unattested: string[] = [];
  const tampered: string[] = [];
  const failed: string[] = [];
  let ingested = 0;
  let attestedCount = 0;
  const seen = new Set<string>();
  for (const f of input.logFiles) {
    const t = f.deliveryTime ?? deliveryTimeOf(f.uri);
    if (!within(t) || seen.has(f.uri)) continue;
    seen.add(f.uri);
    ingested++;
    const hashes = attested.get(f.uri);
    if (f.outcome === 'failed') failed.push(f.uri);
    else if (hashes && f.sha256 !== undefined && hashes.has(f.sha256.toLowerCase())) attestedCount++;
    else if (hashes) tampered.push(f.uri);
    else if (settled(t)) unattested.push(f.uri);
  }
  for (const uri of attested.keys()) {
    const t = deliveryTimeOf(uri);
    if (within(t) && settled(t) && !seen.has(uri)) missing.push(uri);
  }

  const sort = (a: string[]) => a.sort();
  const report: VerifyReport = {
    window: { since, until, graceSeconds: Math.round(input.graceMs / 1000) },
    logFiles: { ingested, attested: attestedCount },
    digests: { verified, invalid: invalidDigests.length, chainGaps: chainGaps.length, unverifiable },
    missing: sort(missing),
    unattested: sort(unattested),
    tampered: sort(tampered),
    failed: sort(failed),
    invalidDigests: invalidDigests.sort((a, b) => a.uri.localeCompare(b.uri)),
    chainGaps: chainGaps.sort((a, b) => a.uri.localeCompare(b.uri)),
    ok: false,
  };
  report.ok =
    missing.length + unattested.length + tampered.length + failed.length + invalidDigests.length + chainGaps.length === 0;
  return report;
}

/** Why a valid digest is out of chain, or undefined when it is the first of a chain or links to its predecessor. */
function chainGap(d: DigestEntry, byUri: ReadonlyMap<string, DigestEntry>): string | undefined {
  if (!d.previous) return undefined;
  const prev = byUri.get(d.previous.uri);
  if (!prev) return `previous digest ${d.previous.uri} is absent`;
  if (prev.verdict !== 'valid') return `previous digest ${d.previous.uri} is ${prev.verdict}`;
  if (prev.sha256.toLowerCase() !== d.previous.sha256.toLowerCase()) return `previousDigestHashValue does not match ${d.previous.uri}`;
  if ((prev.signature ?? '').toLowerCase() !== d.previous.signature.toLowerCase()) {
    return `previousDigestSignature does not match ${d.previous.uri}`;
  }
  return undefined;
}

/** The hours a window's reconciliation reads: its log files', and its digests' (to an hour after `until`). */
export function windowHours(since: string, until: string): { logHours: string[]; digestHours: string[] } {
  const hour = (t: number) => new Date(t).toISOString().slice(0, 13);
  const hours = (from: number, to: number) => {
    const out: string[] = [];
    for (let t = Math.floor(from / 3_600_000) * 3_600_000; t <= to; t += 3_600_000) out.push(hour(t));
    return out;
  };
  const a = Date.parse(since);
  const b = Date.parse(until);
  return { logHours: hours(a, b), digestHours: hours(a, b + 3_600_000) };
}
