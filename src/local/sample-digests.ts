/**
 * Digest files for the sample trail, signed with the TEST key in events/keys/ as CloudTrail signs its own:
 * one digest per trail, account, region and hour, chained, listing the log files delivered in its hour with
 * the SHA-256 of their content. A digest's signature covers the bucket and key it is delivered to, so they
 * are made for the bucket `ses-audit local` uploads to, at run time, not shipped.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { classifyKey } from '../trail/keys.js';
import { deliveryTimeOf } from '../store/ledger.js';
import { buildDigest, signDigest, type SignedDigest } from './digest-signer.js';

export interface SampleLogFile {
  key: string;
  /** The file as uploaded (gzip or plain). */
  body: Buffer;
}

export interface SampleDigest {
  key: string;
  signed: SignedDigest;
}

const HOUR = 3_600_000;

/** `YYYYMMDDTHHmmssZ` and `YYYY/MM/DD` of an epoch-ms time. */
function stamp(ms: number): { name: string; folder: string; iso: string } {
  const iso = new Date(ms).toISOString().replace('.000Z', 'Z');
  return { name: iso.replace(/[-:]/g, ''), folder: iso.slice(0, 10).replace(/-/g, '/'), iso };
}

function eventTimes(body: Buffer): { oldest: string | null; newest: string | null } {
  const text = body[0] === 0x1f && body[1] === 0x8b ? gunzipSync(body) : body;
  const doc: unknown = JSON.parse(text.toString('utf8'));
  const records = doc !== null && typeof doc === 'object' && 'Records' in doc && Array.isArray(doc.Records) ? doc.Records : [];
  const times = records
    .map((r: unknown) => (r !== null && typeof r === 'object' && 'eventTime' in r && typeof r.eventTime === 'string' ? r.eventTime : undefined))
    .filter((t): t is string => t !== undefined)
    .sort();
  return { oldest: times[0] ?? null, newest: times.at(-1) ?? null };
}

/**
 * The digests for `files` in `bucket`, in delivery order: per trail, account and region, one for the hour
 * before the first file (an empty digest, which starts the chain) and one per hour up to the last file's.
 */
export async function sampleDigests(bucket: string, files: SampleLogFile[], keysDir: string): Promise<SampleDigest[]> {
  const privateKey = await readFile(join(keysDir, 'test-private-key.pem'), 'utf8');
  const keys: unknown = JSON.parse(await readFile(join(keysDir, 'public-keys.json'), 'utf8'));
  const fingerprint = Array.isArray(keys) && typeof keys[0]?.Fingerprint === 'string' ? keys[0].Fingerprint : undefined;
  if (!fingerprint) throw new Error(`${join(keysDir, 'public-keys.json')}: no Fingerprint`);

  const groups = new Map<string, { root: string; account: string; region: string; files: (SampleLogFile & { ms: number })[] }>();
  for (const f of files) {
    const info = classifyKey(f.key);
    const delivered = deliveryTimeOf(f.key);
    if (info.kind !== 'log' || delivered === undefined) continue;
    const root = `${info.prefix ? `${info.prefix}/` : ''}AWSLogs/${info.orgId ? `${info.orgId}/` : ''}${info.accountId}/`;
    const id = `${root}${info.region}`;
    const group = groups.get(id) ?? { root, account: info.accountId, region: info.region, files: [] };
    group.files.push({ ...f, ms: Date.parse(delivered) });
    groups.set(id, group);
  }

  const out: SampleDigest[] = [];
  for (const g of groups.values()) {
    const first = Math.floor(Math.min(...g.files.map((f) => f.ms)) / HOUR) * HOUR - HOUR;
    const last = Math.floor(Math.max(...g.files.map((f) => f.ms)) / HOUR) * HOUR;
    let previous: { key: string; signed: SignedDigest } | undefined;
    for (let start = first; start <= last; start += HOUR) {
      const end = stamp(start + HOUR);
      const key = `${g.root}CloudTrail-Digest/${g.region}/${end.folder}/${g.account}_CloudTrail-Digest_${g.region}_ses-audit_${g.region}_${end.name}.json.gz`;
      const listed = g.files.filter((f) => f.ms >= start && f.ms < start + HOUR);
      const doc = buildDigest({
        bucket,
        key,
        digestStartTime: stamp(start).iso,
        digestEndTime: end.iso,
        publicKeyFingerprint: fingerprint,
        logFiles: listed.map((f) => {
          const body = f.body[0] === 0x1f && f.body[1] === 0x8b ? gunzipSync(f.body) : f.body;
          const times = eventTimes(f.body);
          return { bucket, key: f.key, body, oldestEventTime: times.oldest, newestEventTime: times.newest };
        }),
        ...(previous ? { previous: { bucket, key: previous.key, sha256: previous.signed.sha256, signature: previous.signed.signature } } : {}),
      });
      const signed = signDigest(doc, privateKey);
      out.push({ key, signed });
      previous = { key, signed };
    }
  }
  return out;
}
