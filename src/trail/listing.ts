/**
 * Listing a trail bucket's log files within a date window, without listing what lies outside it.
 *
 * Keys sort by path, and a trail's files for one region sit under `.../CloudTrail/REGION/YYYY/MM/DD/`, so the
 * days of a region are contiguous and in date order. When the listing meets a key dated before `since`, it
 * starts again (StartAfter) at that region's first day in the window; after `until`, it jumps past the
 * region. Accounts, regions, organization trails and custom prefixes are discovered on the way, with no
 * extra calls; the only keys listed outside the window are those of the page that reveals a region
 * boundary. When the prefix itself reaches a region folder, the first request starts at `since`.
 */
import { paginateListObjectsV2, type S3Client } from '@aws-sdk/client-s3';
import { classifyKey, dayFolder, regionFolderOf } from './keys.js';

export interface ListOptions {
  bucket: string;
  /** Key prefix ('' for the whole bucket). */
  prefix: string;
  /** Inclusive YYYY-MM-DD bounds on the date in the key path. */
  since?: string;
  until?: string;
  /** List only keys after this one. */
  startAfter?: string;
  expectedBucketOwner?: string;
  /** MaxKeys per request (S3's default and maximum: 1000). */
  pageSize?: number;
  abortSignal?: AbortSignal;
}

export type ListedEntry =
  /** A CloudTrail log file in the date window: to process. */
  | { kind: 'log'; key: string; size: number; date: string }
  /** Not a log file (digest, Insights, another service's file, a folder marker): skipped, counted. */
  | { kind: 'skipped'; key: string; why: string }
  /** A dated CloudTrail key outside the window (only those the listing could not jump over are seen). */
  | { kind: 'outside'; key: string };

export interface ListStats {
  requests: number;
  objects: number;
  /** Requests that restarted the listing further on (StartAfter) to skip dates outside the window. */
  jumps: number;
}

export function emptyListStats(): ListStats {
  return { requests: 0, objects: 0, jumps: 0 };
}

/**
 * Where the listing may resume after `key`, dated `date` outside the window: that region folder's first day
 * in the window, or past the region folder.
 */
function jumpAfter(key: string, date: string, since?: string, until?: string): string | undefined {
  const region = regionFolderOf(key);
  if (region === undefined) return undefined;
  if (since !== undefined && date < since) return dayFolder(region, since);
  // '0' follows '/' in byte order: every key under `.../us-east-1/` sorts before `.../us-east-10`.
  if (until !== undefined && date > until) return region.slice(0, -1) + '0';
  return undefined;
}

function laterOf(a: string | undefined, b: string | undefined): string | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a > b ? a : b;
}

/**
 * Lists a trail bucket page by page (one array of entries per ListObjectsV2 response), classifying each key
 * and skipping ahead over dates outside [since, until] as described at the top of this file.
 */
export async function* listTrailObjects(s3: S3Client, o: ListOptions, stats: ListStats = emptyListStats()): AsyncGenerator<ListedEntry[]> {
  const { since, until } = o;
  const inWindow = (date: string) => (since === undefined || date >= since) && (until === undefined || date <= until);
  // A prefix that reaches a region folder: start at the first day of the window.
  const region = regionFolderOf(o.prefix);
  let startAfter = laterOf(o.startAfter, region !== undefined && since !== undefined ? dayFolder(region, since) : undefined);
  for (;;) {
    let jumpTo: string | undefined;
    // A truncated page without a continuation token (some S3-compatible servers) ends the paginator early.
    let resumeAfter: string | undefined;
    const pages = paginateListObjectsV2(
      { client: s3, ...(o.pageSize !== undefined ? { pageSize: o.pageSize } : {}) },
      { Bucket: o.bucket, Prefix: o.prefix || undefined, StartAfter: startAfter, ExpectedBucketOwner: o.expectedBucketOwner },
      { abortSignal: o.abortSignal },
    );
    for await (const page of pages) {
      stats.requests++;
      const contents = page.Contents ?? [];
      const entries: ListedEntry[] = [];
      let jump: string | undefined;
      for (const object of contents) {
        const key = object.Key;
        if (key === undefined) continue;
        stats.objects++;
        const info = classifyKey(key);
        const date = info.kind === 'other' ? undefined : info.date;
        jump = undefined;
        if (date !== undefined && !inWindow(date)) {
          entries.push({ kind: 'outside', key });
          jump = jumpAfter(key, date, since, until);
        } else if (info.kind === 'log') {
          entries.push({ kind: 'log', key, size: object.Size ?? 0, date: info.date });
        } else {
          entries.push({ kind: 'skipped', key, why: info.kind === 'other' ? info.reason : info.kind });
        }
      }
      yield entries;
      const lastKey = contents.at(-1)?.Key;
      // The page ended outside the window: the rest of that region (up to the window) need not be listed.
      if (page.IsTruncated && jump !== undefined && lastKey !== undefined && jump > lastKey) {
        jumpTo = jump;
        break;
      }
      resumeAfter = page.IsTruncated && !page.NextContinuationToken ? lastKey : undefined;
    }
    if (jumpTo !== undefined) {
      startAfter = jumpTo;
      stats.jumps++;
    } else if (resumeAfter !== undefined) {
      startAfter = resumeAfter;
    } else {
      return;
    }
  }
}
