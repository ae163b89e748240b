/**
 * listTrailObjects against ListObjectsV2 as S3 answers it (key order, Prefix, StartAfter, MaxKeys, continuation
 * tokens), played by aws-sdk-client-mock over a sorted key list; the commands sent are asserted.
 */
import { ListObjectsV2Command, S3Client, type ListObjectsV2CommandInput } from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { listTrailObjects, type ListedEntry } from '../../src/trail/listing.js';

const ORG = 'o-exampleorgid';
const s3Mock = mockClient(S3Client);
afterEach(() => s3Mock.reset());

function serve(keys: string[], o: { tokenless?: boolean } = {}): ListObjectsV2CommandInput[] {
  const sorted = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
  const requests: ListObjectsV2CommandInput[] = [];
  s3Mock.on(ListObjectsV2Command).callsFake((input: ListObjectsV2CommandInput) => {
    requests.push({ ...input });
    // S3 resumes after the token when there is one (StartAfter then no longer applies).
    const after = input.ContinuationToken ?? input.StartAfter ?? '';
    const matching = sorted.filter((k) => k.startsWith(input.Prefix ?? '') && k > after);
    const page = matching.slice(0, input.MaxKeys ?? 1000);
    const truncated = matching.length > page.length;
    return {
      Contents: page.map((Key) => ({ Key, Size: 100 })),
      IsTruncated: truncated,
      NextContinuationToken: truncated && !o.tokenless ? page.at(-1) : undefined,
    };
  });
  return requests;
}

const day = (d: Date) => d.toISOString().slice(0, 10);
/** Two regions of two accounts, a year of days with 3 files a day each, and digests. */
function bucketKeys(): string[] {
  const keys: string[] = ['README.txt'];
  for (const root of ['AWSLogs/111122223333', `t/AWSLogs/${ORG}/444455556666`]) {
    for (const region of ['eu-west-1', 'us-east-1']) {
      for (let t = Date.UTC(2026, 0, 1); t < Date.UTC(2027, 0, 1); t += 86_400_000) {
        const [y, m, dd] = day(new Date(t)).split('-');
        for (let i = 0; i < 3; i++) keys.push(`${root}/CloudTrail/${region}/${y}/${m}/${dd}/x_CloudTrail_${region}_${y}${m}${dd}T000${i}Z_a.json.gz`);
        keys.push(`${root}/CloudTrail-Digest/${region}/${y}/${m}/${dd}/x_CloudTrail-Digest_${region}_t_${region}_${y}${m}${dd}T000000Z.json.gz`);
      }
    }
  }
  return keys;
}

async function list(
  keys: string[],
  o: { prefix?: string; since?: string; until?: string; pageSize?: number; startAfter?: string; tokenless?: boolean },
) {
  const requests = serve(keys, o);
  const stats = { requests: 0, objects: 0, jumps: 0 };
  const entries: ListedEntry[] = [];
  const client = new S3Client({ region: 'us-east-1' });
  for await (const page of listTrailObjects(client, { bucket: 'b', prefix: o.prefix ?? '', ...o }, stats)) entries.push(...page);
  return { entries, stats, requests, logs: entries.filter((e) => e.kind === 'log').map((e) => e.key) };
}

describe('listTrailObjects', () => {
  it('lists everything page by page without a window, with the bucket, prefix and page size asked', async () => {
    const keys = bucketKeys();
    const { entries, stats, requests } = await list(keys, { pageSize: 1000 });
    expect(entries).toHaveLength(keys.length);
    expect(stats.requests).toBe(Math.ceil(keys.length / 1000));
    expect(entries.filter((e) => e.kind === 'skipped')).toHaveLength(1 + 4 * 365);
    expect(requests[0]).toEqual({ Bucket: 'b', MaxKeys: 1000 });
    expect(requests[1]).toEqual({ Bucket: 'b', MaxKeys: 1000, ContinuationToken: entries[999].key });
  });

  it('jumps over the days outside the window in every region, reading only a page per region boundary', async () => {
    const keys = bucketKeys();
    const { logs: found, stats, requests } = await list(keys, { since: '2026-06-01', until: '2026-06-02', pageSize: 100 });
    expect(found).toHaveLength(4 * 2 * 3);
    expect(found.every((k) => /\/2026\/06\/0[12]\//.test(k))).toBe(true);
    // 4 log regions + 4 digest regions: a jump to June and one past the region each, a page or two apiece.
    expect(stats.jumps).toBeGreaterThanOrEqual(8);
    expect(stats.objects).toBeLessThan(2_500);
    expect(stats.requests).toBeLessThan(40);
    // A jump restarts at the region's first day in the window, or just past the region folder.
    expect(requests.map((r) => r.StartAfter)).toContain('AWSLogs/111122223333/CloudTrail/eu-west-1/2026/06/01');
    expect(requests.map((r) => r.StartAfter)).toContain('AWSLogs/111122223333/CloudTrail/eu-west-10');
  });

  it('starts at --since when the prefix names a region folder, and honours --start-after', async () => {
    const keys = bucketKeys();
    const prefix = 'AWSLogs/111122223333/CloudTrail/us-east-1/';
    const r = await list(keys, { prefix, since: '2026-12-30', pageSize: 1000 });
    expect(r.requests[0]).toEqual({ Bucket: 'b', Prefix: prefix, StartAfter: `${prefix}2026/12/30`, MaxKeys: 1000 });
    expect(r.stats.requests).toBe(1);
    expect(r.stats.objects).toBe(6);
    const after = await list(keys, { prefix, startAfter: r.logs[2] });
    expect(after.logs).toEqual(r.logs.slice(3));
  });

  it('a truncated page without a continuation token resumes after its last key instead of stopping', async () => {
    const keys = bucketKeys().slice(0, 25);
    const r = await list(keys, { pageSize: 10, tokenless: true });
    expect(r.entries.map((e) => e.key)).toEqual([...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b))));
    expect(r.requests.map((q) => q.StartAfter)).toEqual([undefined, r.entries[9].key, r.entries[19].key]);
  });

  it('passes the abort signal to every request', async () => {
    serve(bucketKeys().slice(0, 5));
    const controller = new AbortController();
    const client = new S3Client({ region: 'us-east-1' });
    const send = vi.spyOn(client, 'send');
    const pages = listTrailObjects(client, { bucket: 'b', prefix: '', abortSignal: controller.signal });
    await pages.next();
    expect(send.mock.calls[0][1]).toEqual({ abortSignal: controller.signal });
  });
});
