/**
 * The public keys that verify CloudTrail digests: from `cloudtrail:ListPublicKeys` in the digest's region,
 * or from a JSON file (`CLOUDTRAIL_PUBLIC_KEYS`) for offline use and local runs.
 *
 * ListPublicKeys returns each key as PKCS#1 RSAPublicKey DER with its fingerprint, the hex MD5 of those DER
 * bytes (User Guide, "Custom implementations of CloudTrail log file integrity validation"). SPKI DER is
 * accepted too; its fingerprint is then the MD5 of the SPKI bytes, as given.
 */
import { readFile } from 'node:fs/promises';
import { createHash, createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { ListPublicKeysCommand, type CloudTrailClient } from '@aws-sdk/client-cloudtrail';
import { ConfigError, SourceError, isRetryable, reasonOf } from '../errors.js';

export interface PublicKeySource {
  /**
   * The RSA public key whose fingerprint a digest names, valid for a digest that ends at `at`, in the
   * region that signed it; undefined when there is none. Throws only when keys cannot be obtained.
   */
  keyFor(fingerprint: string, region: string, at: Date): Promise<KeyObject | undefined>;
}

/** Hex MD5 of the DER bytes: how CloudTrail names a public key. */
export function fingerprintOf(der: Uint8Array): string {
  return createHash('md5').update(der).digest('hex');
}

/** An RSA public key from PKCS#1 RSAPublicKey DER (as ListPublicKeys returns it) or SPKI DER. */
export function publicKeyFromDer(der: Uint8Array): KeyObject | undefined {
  const bytes = Buffer.from(der);
  // createPublicKey also derives a public key from a private key's DER: such bytes are refused. (Checked
  // by parsing, not by exporting the key again: Node 24 cannot export a key imported from PKCS#1 DER as PKCS#1.)
  if (isPrivateKeyDer(bytes)) return undefined;
  for (const type of ['pkcs1', 'spki'] as const) {
    let key: KeyObject;
    try {
      key = createPublicKey({ key: bytes, format: 'der', type });
    } catch {
      continue;
    }
    return key.asymmetricKeyType === 'rsa' ? key : undefined;
  }
  return undefined;
}

function isPrivateKeyDer(bytes: Buffer): boolean {
  for (const type of ['pkcs1', 'pkcs8'] as const) {
    try {
      createPrivateKey({ key: bytes, format: 'der', type });
      return true;
    } catch {
      // not this encoding
    }
  }
  return false;
}

const BASE64_RE = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const FINGERPRINT_RE = /^[0-9a-fA-F]{32}$/;

/**
 * Keys from a JSON file: a list of `{"Fingerprint": HEX, "Value": BASE64_DER}`, other fields ignored; the
 * output of `aws cloudtrail list-public-keys` (`{"PublicKeyList": [...]}`) is accepted as it is. Every entry
 * is checked when the file is loaded, its fingerprint recomputed from its bytes. The file holds no regions
 * or validity times that are used: the fingerprint alone picks the key. Errors are one-line ConfigErrors.
 */
export async function fileKeySource(path: string): Promise<PublicKeySource> {
  const problem = (reason: string): ConfigError => new ConfigError(`public keys file ${path}: ${reason}`);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code; // fs errors carry a code
    throw problem(code === 'ENOENT' ? 'not found' : `cannot be read (${code ?? reasonOf(err)})`);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    throw problem('not valid JSON');
  }
  const list = Array.isArray(doc) ? doc : isRecord(doc) && Array.isArray(doc.PublicKeyList) ? doc.PublicKeyList : undefined;
  if (!list) throw problem('not a list of {"Fingerprint", "Value"} entries');
  if (list.length === 0) throw problem('holds no keys');

  const keys = new Map<string, KeyObject>();
  list.forEach((entry: unknown, i) => {
    const name = `entry ${i + 1}`;
    if (!isRecord(entry)) throw problem(`${name} is not an object`);
    const { Fingerprint: fp, Value: value } = entry;
    if (typeof fp !== 'string' || !FINGERPRINT_RE.test(fp)) throw problem(`${name}: Fingerprint is not 32 hex digits`);
    const named = `${name} (Fingerprint ${fp})`;
    if (typeof value !== 'string' || value === '' || !BASE64_RE.test(value)) throw problem(`${named}: Value is not base64`);
    const der = Buffer.from(value, 'base64');
    if (fingerprintOf(der) !== fp.toLowerCase()) throw problem(`${named}: Fingerprint is not the MD5 of its Value`);
    const key = publicKeyFromDer(der);
    if (!key) throw problem(`${named}: Value is not an RSA public key in PKCS#1 or SPKI DER`);
    keys.set(fp.toLowerCase(), key);
  });
  return {
    async keyFor(fingerprint) {
      return keys.get(fingerprint.toLowerCase());
    },
  };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;
/**
 * CloudTrail signs a digest when it delivers it, shortly after its digestEndTime (a backfill digest later);
 * a key is accepted for a digest signed up to this long after its end, and ListPublicKeys is asked about
 * that much more than the digest's day.
 */
export const SIGNING_DELAY_MAX_MS = DAY;

type KeyEntry = { key: KeyObject; validFrom?: number; validUntil?: number } | { unusable: true };

interface Fetched {
  /** When the answer arrived (the clock given). */
  at: number;
  keys: Map<string, KeyEntry>;
}

export interface CloudTrailKeySourceOptions {
  /** Milliseconds since the epoch; tests give a clock they control. */
  now?: () => number;
}

/**
 * Keys from `cloudtrail:ListPublicKeys` in the digest's region, asked for the UTC day of the digest's end
 * plus SIGNING_DELAY_MAX_MS, following NextToken. Answers are kept in memory per region and day (a warm
 * Lambda reuses them; failures are not kept). A fingerprint the answer lacks refetches that day, at most once
 * per region per minute and only when the answer is a minute old, so a burst of forged digests costs one call.
 * The fingerprints are AWS's own (not recomputed: AWS documents the encoding of Value as subject to change).
 */
export function cloudTrailKeySource(clientFor: (region: string) => CloudTrailClient, options: CloudTrailKeySourceOptions = {}): PublicKeySource {
  const now = options.now ?? Date.now;
  const cache = new Map<string, Promise<Fetched>>();
  const lastRefetch = new Map<string, number>();

  async function fetchKeys(region: string, start: Date, end: Date): Promise<Fetched> {
    const client = clientFor(region);
    const keys = new Map<string, KeyEntry>();
    let token: string | undefined;
    do {
      let page;
      try {
        page = await client.send(new ListPublicKeysCommand({ StartTime: start, EndTime: end, ...(token ? { NextToken: token } : {}) }));
      } catch (err) {
        throw new SourceError(`cloudtrail:ListPublicKeys in ${region} failed: ${reasonOf(err)}`, { retryable: isRetryable(err), cause: err });
      }
      for (const k of page.PublicKeyList ?? []) {
        if (!k.Fingerprint || !k.Value) continue;
        const key = publicKeyFromDer(k.Value);
        keys.set(
          k.Fingerprint.toLowerCase(),
          key ? { key, validFrom: k.ValidityStartTime?.getTime(), validUntil: k.ValidityEndTime?.getTime() } : { unusable: true },
        );
      }
      token = page.NextToken || undefined;
    } while (token);
    return { at: now(), keys };
  }

  function load(cacheKey: string, region: string, start: Date, end: Date): Promise<Fetched> {
    const p = fetchKeys(region, start, end);
    cache.set(cacheKey, p);
    p.catch(() => {
      if (cache.get(cacheKey) === p) cache.delete(cacheKey);
    });
    return p;
  }

  return {
    async keyFor(fingerprint, region, at) {
      const fp = fingerprint.toLowerCase();
      const dayStart = Math.floor(at.getTime() / DAY) * DAY;
      const start = new Date(dayStart);
      const end = new Date(dayStart + DAY + SIGNING_DELAY_MAX_MS);
      const cacheKey = `${region} ${dayStart}`;

      let fetched = await (cache.get(cacheKey) ?? load(cacheKey, region, start, end));
      if (!fetched.keys.has(fp)) {
        const t = now();
        if (t - fetched.at >= MINUTE && t - (lastRefetch.get(region) ?? -Infinity) >= MINUTE) {
          lastRefetch.set(region, t);
          load(cacheKey, region, start, end);
        }
        // The refetch just started, or one another caller started: its answer is the freshest there is.
        fetched = await (cache.get(cacheKey) ?? load(cacheKey, region, start, end));
      }
      const entry = fetched.keys.get(fp);
      if (!entry) return undefined;
      if ('unusable' in entry) {
        throw new SourceError(`cloudtrail:ListPublicKeys in ${region}: key ${fp} is not an RSA public key in PKCS#1 or SPKI DER`);
      }
      const t = at.getTime();
      if (entry.validUntil !== undefined && entry.validUntil < t) return undefined;
      if (entry.validFrom !== undefined && entry.validFrom > t + SIGNING_DELAY_MAX_MS) return undefined;
      return entry.key;
    },
  };
}
