/**
 * Reconciliation (DESIGN.md, Trust) on hand-written ledger entries: every list, the grace period, the
 * window, the one-list-per-file rule and chain gaps; and the ledger's items as DynamoDB receives them
 * (aws-sdk-client-mock: the literal commands).
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import {
  BatchGetItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { reconcile, windowHours } from '../../src/store/reconcile.js';
import { Ledger, deliveryTimeOf, digestEndTimeOf, digestPrefixOf, type DigestEntry, type LogFileEntry } from '../../src/store/ledger.js';

const B = 's3://trail';
const log = (hhmm: string, tag: string) =>
  `${B}/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T${hhmm}Z_${tag}.json.gz`;
const dig = (hhmmss: string) =>
  `${B}/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T${hhmmss}Z.json.gz`;
const H = (c: string) => c.repeat(64);

function file(uri: string, sha: string, extra: Partial<LogFileEntry> = {}): LogFileEntry {
  return { uri, sha256: sha, outcome: 'ingested', ingestedAt: '2026-11-20T11:00:00Z', ...extra };
}

function digest(uri: string, files: Record<string, string>, extra: Partial<DigestEntry> = {}): DigestEntry {
  return { uri, verdict: 'valid', sha256: H('d'), signature: 'aa', backfill: false, chain: 'first', files, recordedAt: '2026-11-20T11:05:00Z', ...extra };
}

const base = { since: '2026-11-20T10:00:00Z', until: '2026-11-20T10:59:59Z', now: new Date('2026-11-21T00:00:00Z'), graceMs: 2 * 3600_000, previousDigests: new Map() };

describe('reconcile', () => {
  it('puts each file in exactly one list: failed, then tampered, then unattested; missing when never read', () => {
    const [ok, gone, changed, forged, broken] = [log('1005', 'ok'), log('1010', 'gone'), log('1015', 'changed'), log('1020', 'forged'), log('1025', 'broken')];
    const report = reconcile({
      ...base,
      logFiles: [file(ok, H('1')), file(changed, H('f')), file(forged, H('4')), file(broken, H('5'), { outcome: 'failed', sha256: undefined, reason: 'corrupt gzip' })],
      digests: [digest(dig('110000'), { [ok]: H('1'), [gone]: H('2'), [changed]: H('3'), [broken]: H('5') })],
    });
    expect(report).toMatchObject({
      logFiles: { ingested: 4, attested: 1 },
      digests: { verified: 1, invalid: 0, chainGaps: 0, unverifiable: 0 },
      missing: [gone],
      unattested: [forged],
      tampered: [changed],
      failed: [broken],
      ok: false,
    });
  });

  it('is clean when every file is attested and the chain holds', () => {
    const a = log('1005', 'a');
    const prev = digest(dig('100000'), {}, { sha256: H('9'), signature: 'bb' });
    const cur = digest(dig('110000'), { [a]: H('1') }, { previous: { uri: prev.uri, sha256: H('9'), signature: 'BB' }, chain: 'linked' });
    const r = reconcile({ ...base, logFiles: [file(a, H('1').toUpperCase())], digests: [cur], previousDigests: new Map([[prev.uri, prev]]) });
    expect(r).toMatchObject({ ok: true, missing: [], unattested: [], tampered: [], failed: [], chainGaps: [] });
    expect(r.logFiles).toEqual({ ingested: 1, attested: 1 });
  });

  it('leaves files within the grace period out of unattested and missing, and outside files alone', () => {
    const recent = log('1050', 'recent');
    const listed = log('1055', 'listed');
    const before = log('0950', 'before');
    const r = reconcile({
      ...base,
      now: new Date('2026-11-20T11:30:00Z'),
      logFiles: [file(recent, H('1')), file(before, H('2'))],
      digests: [digest(dig('110000'), { [listed]: H('3') })],
    });
    expect(r).toMatchObject({ missing: [], unattested: [], logFiles: { ingested: 1, attested: 0 }, ok: true });
    const later = reconcile({ ...base, now: new Date('2026-11-20T13:00:00Z'), logFiles: [file(recent, H('1'))], digests: [digest(dig('110000'), { [listed]: H('3') })] });
    expect(later).toMatchObject({ missing: [listed], unattested: [recent], ok: false });
  });

  it('an invalid or unverifiable digest attests nothing; invalid ones are named with their reason', () => {
    const a = log('1005', 'a');
    const r = reconcile({
      ...base,
      logFiles: [file(a, H('1'))],
      digests: [
        digest(dig('110000'), { [a]: H('1') }, { verdict: 'invalid', reason: 'bad signature' }),
        digest(dig('110500'), { [a]: H('1') }, { verdict: 'unverifiable', reason: 'no signature metadata' }),
      ],
    });
    expect(r).toMatchObject({ unattested: [a], digests: { verified: 0, invalid: 1, unverifiable: 1 }, ok: false });
    expect(r.invalidDigests).toEqual([{ uri: dig('110000'), reason: 'bad signature' }]);
  });

  it('counts a chain gap for a previous digest absent, invalid, or not matching; not for the first of a chain', () => {
    const prev = digest(dig('100000'), {}, { sha256: H('9'), signature: 'bb' });
    const names = (over: Partial<DigestEntry['previous'] & object>) => ({ uri: prev.uri, sha256: H('9'), signature: 'bb', ...over });
    const cases: Array<[string, DigestEntry[], Map<string, DigestEntry>, RegExp | undefined]> = [
      ['first', [digest(dig('110000'), {})], new Map(), undefined],
      ['absent', [digest(dig('110000'), {}, { previous: names({}) })], new Map(), /is absent/],
      ['invalid', [digest(dig('110000'), {}, { previous: names({}) })], new Map([[prev.uri, { ...prev, verdict: 'invalid' as const }]]), /is invalid/],
      ['hash', [digest(dig('110000'), {}, { previous: names({ sha256: H('8') }) })], new Map([[prev.uri, prev]]), /previousDigestHashValue/],
      ['signature', [digest(dig('110000'), {}, { previous: names({ signature: 'cc' }) })], new Map([[prev.uri, prev]]), /previousDigestSignature/],
      // The previous digest may be in the window itself.
      ['in window', [prev, digest(dig('110000'), {}, { previous: names({}) })], new Map(), undefined],
    ];
    for (const [name, digests, previous, reason] of cases) {
      const r = reconcile({ ...base, logFiles: [], digests, previousDigests: previous });
      if (reason) expect(r.chainGaps, name).toEqual([{ uri: dig('110000'), reason: expect.stringMatching(reason) }]);
      else expect(r.chainGaps, name).toEqual([]);
    }
  });

  it('reads the window hours and an hour more of digests', () => {
    expect(windowHours('2026-11-20T10:15:00Z', '2026-11-20T11:59:59Z')).toEqual({
      logHours: ['2026-11-20T10', '2026-11-20T11'],
      digestHours: ['2026-11-20T10', '2026-11-20T11', '2026-11-20T12'],
    });
  });
});

describe('ledger keys', () => {
  it('finds the delivery time and the digest prefix in a file name', () => {
    expect(deliveryTimeOf(log('1005', 'a'))).toBe('2026-11-20T10:05:00Z');
    expect(deliveryTimeOf('/tmp/my-file.json')).toBeUndefined();
    expect(digestEndTimeOf(dig('110000'))).toBe('2026-11-20T11:00:00Z');
    expect(digestEndTimeOf(dig('110000').replace('.json.gz', '_backfill.json.gz'))).toBe('2026-11-20T11:00:00Z');
    expect(digestPrefixOf(log('1005', 'a'))).toBe(`${B}/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/`);
  });
});

describe('Ledger items', () => {
  const ddb = mockClient(DynamoDBClient);
  const client = new DynamoDBClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
  const ledger = new Ledger(client, 'ledger');
  beforeEach(() => ddb.reset());
  afterAll(() => ddb.restore());

  it('writes a log file under its delivery hour, keyed by its URI', async () => {
    ddb.on(PutItemCommand).resolves({});
    const uri = log('1005', 'a');
    await ledger.putLogFile({ uri, deliveryTime: '2026-11-20T10:05:00Z', sha256: H('1'), outcome: 'ingested', rows: 3, records: 10, ingestedAt: 't' });
    expect(ddb.commandCalls(PutItemCommand)[0].args[0].input).toEqual({
      TableName: 'ledger',
      Item: {
        pk: { S: 'log#2026-11-20T10' },
        sk: { S: uri },
        kind: { S: 'log' },
        outcome: { S: 'ingested' },
        ingestedAt: { S: 't' },
        deliveryTime: { S: '2026-11-20T10:05:00Z' },
        sha256: { S: H('1') },
        records: { N: '10' },
        rows: { N: '3' },
      },
    });
  });

  it('splits a digest listing more files than one item holds, and reads them back whole', async () => {
    ddb.on(PutItemCommand).resolves({});
    const files = Object.fromEntries(Array.from({ length: 3000 }, (_, i) => [log('1005', `f${String(i).padStart(5, '0')}`), H('a')]));
    await ledger.putDigest(digest(dig('110000'), files));
    const items = ddb.commandCalls(PutItemCommand).map((c) => c.args[0].input.Item as Record<string, AttributeValue>);
    expect(items.length).toBeGreaterThan(1);
    // The continuation items go first, the main item (with the count of parts) last.
    expect(items.at(-1)?.sk).toEqual({ S: dig('110000') });
    expect(items.at(-1)?.parts).toEqual({ N: String(items.length) });
    for (const item of items) expect(JSON.stringify(item).length).toBeLessThan(400_000);
    ddb.on(QueryCommand).resolves({ Items: items });
    const [back] = await ledger.digestsOfHour('2026-11-20T11');
    expect(Object.keys(back.files).length).toBe(3000);
    expect(back.files).toEqual(files);
  });

  it('reads many log files with BatchGetItem, asking again for the keys DynamoDB left unprocessed', async () => {
    const uris = Array.from({ length: 150 }, (_, i) => log('1005', `u${i}`));
    const item = (uri: string) => ({ pk: { S: 'log#2026-11-20T10' }, sk: { S: uri }, outcome: { S: 'ingested' }, ingestedAt: { S: 't' } });
    ddb
      .on(BatchGetItemCommand)
      .resolvesOnce({ Responses: { ledger: uris.slice(0, 60).map(item) }, UnprocessedKeys: { ledger: { Keys: uris.slice(60, 100).map((u) => ({ pk: { S: 'log#2026-11-20T10' }, sk: { S: u } })) } } })
      .resolvesOnce({ Responses: { ledger: uris.slice(60, 100).map(item) } })
      .resolvesOnce({ Responses: { ledger: uris.slice(100).map(item) } });
    const found = await ledger.logFiles(uris);
    expect(found.size).toBe(150);
    const calls = ddb.commandCalls(BatchGetItemCommand).map((c) => c.args[0].input.RequestItems?.ledger?.Keys?.length);
    expect(calls).toEqual([100, 40, 50]);
  });
});
