/**
 * S3 object keys of a CloudTrail bucket: decoding the keys that S3 event notifications carry, and telling
 * CloudTrail log files apart from the other files that share the bucket.
 *
 * Log file keys (AWS CloudTrail User Guide, "Finding your CloudTrail log files"):
 *   [prefix/]AWSLogs/[o-orgid/]ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/ACCOUNT_CloudTrail_REGION_YYYYMMDDTHHmmZ_UNIQUE.json.gz
 * Digest, Insights, network activity and aggregated files sit next to them under `CloudTrail-Digest/`,
 * `CloudTrail-Insight/`, `CloudTrail-NetworkActivity/` and `CloudTrail-Aggregated/`.
 */

/** Folders next to `CloudTrail/` that hold files which are not API events: skipped, never an error. */
export const SKIPPED_FOLDERS = {
  'CloudTrail-Digest': 'digest',
  'CloudTrail-Insight': 'insight',
  'CloudTrail-NetworkActivity': 'network-activity',
  'CloudTrail-Aggregated': 'aggregated',
} as const;

export type SkippedKind = (typeof SKIPPED_FOLDERS)[keyof typeof SKIPPED_FOLDERS];

const SKIPPED_KIND: ReadonlyMap<string, SkippedKind> = new Map(Object.entries(SKIPPED_FOLDERS));

/** A CloudTrail log file: the only kind that is read. */
export interface LogKeyInfo {
  kind: 'log';
  /** The trail's S3 key prefix without its trailing `/`; `''` when the trail has none. */
  prefix: string;
  /** Set for organization trails (`o-...`). */
  orgId?: string;
  accountId: string;
  region: string;
  /** Delivery folder date, `YYYY-MM-DD` (UTC). */
  date: string;
}

/** A CloudTrail file that is not a log of API events (digest, Insights, ...): skipped, not an error. */
export interface SkippedKeyInfo {
  kind: SkippedKind;
  prefix: string;
  orgId?: string;
  accountId: string;
  /** When the rest of the path has the usual REGION/YYYY/MM/DD shape. */
  region?: string;
  date?: string;
}

/** Anything else in the bucket (other services, folder markers, look-alikes): skipped, not an error. */
export interface OtherKeyInfo {
  kind: 'other';
  /** Why the key is not a CloudTrail file, for a debug log line. */
  reason: string;
}

export type KeyInfo = LogKeyInfo | SkippedKeyInfo | OtherKeyInfo;

/**
 * Decodes an object key as S3 event notifications (and S3 Batch Operations schema 1.0) carry it:
 * `+` is a space, then percent-decoding. `%2B` is a literal `+`.
 *
 * Never throws. A key that is not well-formed percent-encoding (a lone `%`, or escapes that are not
 * UTF-8) cannot have come from S3, which always escapes `%` as `%25`; rather than fail the whole event,
 * every run of escapes that decodes is decoded and the runs that do not are kept as they are, so the
 * result is the most likely key and, if wrong, the read fails later with a clear "missing object".
 */
export function decodeS3EventKey(raw: string): string {
  const spaced = raw.replace(/\+/g, ' ');
  try {
    return decodeURIComponent(spaced);
  } catch {
    return spaced.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
      try {
        return decodeURIComponent(run);
      } catch {
        return run;
      }
    });
  }
}

// Account IDs are 12 digits; organization IDs `o-` + 10 to 32 lower-case letters or digits (AWS Organizations).
const ACCOUNT = String.raw`\d{12}`;
const ORG = String.raw`o-[a-z0-9]{10,32}`;
// Lenient on purpose: new partitions bring new shapes (us-gov-west-1, cn-north-1, eusc-de-east-1).
const REGION_RE = /^[a-z]{2,}(?:-[a-z]+)+-\d+$/;

/**
 * `[prefix/]AWSLogs/[o-org/]ACCOUNT/FOLDER/REST`. The prefix group is greedy, so the right-most `AWSLogs`
 * that is followed by a valid account wins: a prefix may itself contain `AWSLogs` or `CloudTrail`.
 */
const TRAIL_PATH_RE = new RegExp(
  String.raw`^(?:(.*)/)?AWSLogs/(?:(${ORG})/)?(${ACCOUNT})/(CloudTrail(?:-[A-Za-z]+)?)/(.*)$`,
  's',
);

/** REGION/YYYY/MM/DD/FILE under a CloudTrail folder. */
const DATED_REST_RE = /^([^/]+)\/(\d{4})\/(\d{2})\/(\d{2})\/([^/]+)$/;

/**
 * Classifies a decoded key. Only `kind: 'log'` is read; every other kind is skipped without error.
 *
 * Decisions where AWS documents nothing:
 * - The file name is not checked beyond its `.json.gz` ending (CloudTrail has changed the unique part
 *   before; the path already says what the file is).
 * - A `.json` without `.gz` under `/CloudTrail/` is `other`: CloudTrail always delivers gzip, so such a
 *   file was put there by something else (the CLI still reads plain JSON files given to it by hand).
 * - An impossible date (`2026/02/30`) or a region that is not region-shaped makes the key `other`.
 */
export function classifyKey(key: string): KeyInfo {
  if (key.endsWith('/')) return { kind: 'other', reason: 'folder marker' };
  const m = TRAIL_PATH_RE.exec(key);
  if (!m) return { kind: 'other', reason: 'not under AWSLogs/ACCOUNT/CloudTrail*/' };
  const [, prefix = '', orgId, accountId, folder, rest] = m;
  const base = { prefix, ...(orgId ? { orgId } : {}), accountId };

  const dated = DATED_REST_RE.exec(rest);
  const region = dated && REGION_RE.test(dated[1]) ? dated[1] : undefined;
  const date = dated ? isoDate(dated[2], dated[3], dated[4]) : undefined;

  const kind = SKIPPED_KIND.get(folder);
  if (kind !== undefined) return { kind, ...base, ...(region && date ? { region, date } : {}) };
  if (folder !== 'CloudTrail') return { kind: 'other', reason: `unknown CloudTrail folder ${folder}` };
  if (!dated) return { kind: 'other', reason: 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path' };
  if (!region) return { kind: 'other', reason: `not a region: ${dated[1]}` };
  if (!date) return { kind: 'other', reason: `not a date: ${dated[2]}/${dated[3]}/${dated[4]}` };
  if (!dated[5].endsWith('.json.gz')) return { kind: 'other', reason: 'not a .json.gz file' };
  return { kind: 'log', ...base, region, date };
}

/**
 * The region folder a key or a prefix reaches, `[prefix/]AWSLogs/[o-org/]ACCOUNT/CloudTrail[-Kind]/REGION/`
 * (the folder whose subfolders are the days), else undefined. The same path rule as classifyKey.
 */
export function regionFolderOf(keyOrPrefix: string): string | undefined {
  const m = TRAIL_PATH_RE.exec(keyOrPrefix);
  if (!m) return undefined;
  const rest = m[5];
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return keyOrPrefix.slice(0, keyOrPrefix.length - rest.length + slash + 1);
}

/** The key prefix of one day in a region folder: `REGION_FOLDER/YYYY/MM/DD`. */
export function dayFolder(regionFolder: string, date: string): string {
  return regionFolder + date.replace(/-/g, '/');
}

function isoDate(y: string, m: string, d: string): string | undefined {
  const year = Number(y);
  const month = Number(m);
  const day = Number(d);
  const t = new Date(Date.UTC(year, month - 1, day));
  // Date.UTC rolls 2026-02-30 over to March: a round trip that changes the date means it does not exist.
  if (t.getUTCFullYear() !== year || t.getUTCMonth() !== month - 1 || t.getUTCDate() !== day) return undefined;
  return `${y}-${m}-${d}`;
}
