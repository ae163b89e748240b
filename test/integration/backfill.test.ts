import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalAws, type LocalAws } from '../../src/local/servers.js';
import { ensureTable } from '../../src/store/table.js';
import { ensureBucket } from '../../src/local/bucket.js';
import { makeDynamoClient, makeS3Client } from '../../src/aws.js';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { processTrail } from '../../src/pipeline.js';
import { openFile } from '../../src/trail/source.js';
import { backfillCommandWith, type BackfillHooks } from '../../src/cli/commands/backfill.js';
import { main } from '../../src/cli/main.js';
import { writeTrailFile } from '../fixtures/trailgen.js';

const BUCKET = 'trail';
const TABLE = 'backfill-test';
const ORG = 'o-abcdefghij';

interface LogFile {
  key: string;
  date: string;
  rows: number;
}

/** [trail prefix, org, account, region, days of November 2026, files per day] */
const LAYOUT: Array<[string, string | undefined, string, string, number[], number]> = [
  ['', undefined, '111122223333', 'us-east-1', [17, 18, 19, 20, 21], 2],
  ['', undefined, '111122223333', 'eu-west-1', [19, 20], 2],
  ['', undefined, '444455556666', 'us-east-1', [20, 21], 2],
  ['org trail', ORG, '777788889999', 'us-west-2', [18, 19, 20, 21], 2],
  ['my trail', undefined, '111122223333', 'ap-southeast-2', [20, 22], 2],
];

const CORRUPT_KEY =
  'my trail/AWSLogs/111122223333/CloudTrail/ap-southeast-2/2026/11/20/111122223333_CloudTrail_ap-southeast-2_20261120T1230Z_corrupt.json.gz';

/** Objects that are not log files: [key, date in the path or undefined]. */
const OTHERS: Array<[string, string | undefined]> = [
  ...[18, 19, 20, 21].map(
    (d): [string, string] => [
      `AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/${d}/111122223333_CloudTrail-Digest_us-east-1_trail_us-east-1_202611${d}T110000Z.json.gz`,
      `2026-11-${d}`,
    ],
  ),
  [`AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/20/111122223333_CloudTrail-Insight_us-east-1_20261120T1100Z_a.json.gz`, '2026-11-20'],
  [`org trail/AWSLogs/${ORG}/777788889999/CloudTrail-Digest/us-west-2/2026/11/20/777788889999_CloudTrail-Digest_us-west-2_org_us-west-2_20261120T110000Z.json.gz`, '2026-11-20'],
  ['AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/stray.json', undefined],
  ['AWSLogs/111122223333/elasticloadbalancing/us-east-1/2026/11/20/111122223333_elasticloadbalancing_us-east-1_app.log.gz', undefined],
  ['README.txt', undefined],
  ['my trail/', undefined],
  ['my trail/notes.txt', undefined],
];

let aws: LocalAws;
let s3: S3Client;
let dynamo: DynamoDBClient;
let workDir: string;
const logs: LogFile[] = [];

beforeAll(async () => {
  aws = await startLocalAws({ bucket: [BUCKET] });
  s3 = makeS3Client(aws.env);
  dynamo = makeDynamoClient(aws.env);
  await ensureBucket(s3, BUCKET);
  await ensureTable(dynamo, TABLE, { note: () => {} });
  workDir = await mkdtemp(join(tmpdir(), 'ses-audit-backfill-'));

  let seed = 0;
  const puts: Promise<unknown>[] = [];
  for (const [prefix, org, account, region, days, perDay] of LAYOUT) {
    for (const day of days) {
      for (let i = 0; i < perDay; i++) {
        seed++;
        const hhmm = `${String(10 + i).padStart(2, '0')}${String(seed % 60).padStart(2, '0')}`;
        const path = [prefix, 'AWSLogs', org, account, 'CloudTrail', region, '2026', '11', String(day)].filter(Boolean).join('/');
        const key = `${path}/${account}_CloudTrail_${region}_202611${day}T${hhmm}Z_${seed.toString(36).padStart(16, 'x')}.json.gz`;
        const file = join(workDir, `${seed}.json.gz`);
        await writeTrailFile(file, {
          bytes: 20_000 + ((seed * 7919) % 30_000),
          sesShare: 0.1,
          seed,
          account,
          region,
          startMs: Date.parse(`2026-11-${day}T${hhmm.slice(0, 2)}:${hhmm.slice(2)}:00Z`),
        });
        // What each file yields, read locally, to check the counts the command reports.
        const summary = await processTrail(await openFile(file), { config: DEFAULT_LIMITS, sourceObject: file, sink: () => undefined });
        logs.push({ key, date: `2026-11-${day}`, rows: summary.rows });
        puts.push(readFile(file).then((body) => s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }))));
      }
    }
  }
  const corrupt = Buffer.concat([Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0, 0, 0, 0, 0, 0x03]), Buffer.from('this is not deflate data'.repeat(20))]);
  puts.push(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: CORRUPT_KEY, Body: corrupt })));
  for (const [key] of OTHERS) puts.push(s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: Buffer.from(key.endsWith('/') ? '' : 'x') })));
  await Promise.all(puts);
}, 60_000);

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await aws?.stop();
  if (workDir) await rm(workDir, { recursive: true, force: true });
});

function sink(append: (s: string) => void, tty = false, columns = 200): Writable {
  const w = new Writable({
    write(chunk, _enc, cb) {
      append(String(chunk));
      cb();
    },
  });
  if (tty) Object.assign(w, { isTTY: true, columns });
  return w;
}

async function backfill(args: string[], o: { env?: Record<string, string>; tty?: boolean; columns?: number; hooks?: BackfillHooks } = {}) {
  let stdout = '';
  let stderr = '';
  const code = await main(
    ['backfill', ...args],
    {
      stdout: sink((s) => (stdout += s)),
      stderr: sink((s) => (stderr += s), o.tty, o.columns),
      env: { ...aws.env, TABLE_NAME: TABLE, ...o.env },
      isTTY: o.tty ?? false,
    },
    [backfillCommandWith(o.hooks ?? {})],
  );
  return { code, stdout, stderr };
}

function summaryOf(stderr: string) {
  const line = stderr.split('\n').find((l) => l.startsWith('summary: '));
  expect(line, stderr).toBeDefined();
  const num = (re: RegExp) => Number(re.exec(line!)?.[1] ?? NaN);
  return {
    line: line!,
    processed: num(/(\d+) files? processed/),
    failed: num(/(\d+) failed/),
    skipped: num(/(\d+) skipped/),
    records: num(/(\d+) records/),
    sesEvents: num(/(\d+) SES events/),
    rows: num(/(\d+) rows/),
  };
}

async function countItems(): Promise<number> {
  let count = 0;
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: TABLE, Select: 'COUNT', ExclusiveStartKey: start }));
    count += page.Count ?? 0;
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return count;
}

const inWindow = (date: string | undefined, since?: string, until?: string) =>
  date !== undefined && (!since || date >= since) && (!until || date <= until);
const rowsOf = (files: LogFile[]) => files.reduce((n, f) => n + f.rows, 0);
const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error: '));

describe('ses-audit backfill', () => {
  let dryRows = 0;

  it('--dry-run counts every log file, skips the others, reports the corrupt one, writes nothing', async () => {
    const r = await backfill([`s3://${BUCKET}`, '--dry-run']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(errorLines(r.stderr)).toEqual([expect.stringMatching(new RegExp(`^error: s3://${BUCKET}/${escape(CORRUPT_KEY)}: \\S.*$`))]);
    const s = summaryOf(r.stderr);
    expect(s.processed).toBe(logs.length);
    expect(s.failed).toBe(1);
    expect(s.skipped).toBe(OTHERS.length);
    expect(s.rows).toBe(rowsOf(logs));
    expect(s.sesEvents).toBeGreaterThan(0);
    expect(s.records).toBeGreaterThan(s.sesEvents * 5);
    expect(s.line).toContain('dry run: nothing written');
    dryRows = s.rows;
    expect(await countItems()).toBe(0);
  });

  it('fills the table, with periodic progress lines when stderr is not a terminal; a re-run adds nothing', async () => {
    const r = await backfill([`s3://${BUCKET}/`, '--concurrency', '3', '--progress-interval', '0.02']);
    expect(r.code).toBe(1);
    expect(errorLines(r.stderr)).toHaveLength(1);
    expect(r.stderr).not.toContain('\r');
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('backfill s3://trail/: 3 files at a time, writing to backfill-test (no LEDGER_TABLE_NAME: nothing recorded in the ledger, digests skipped)');
    expect(lines.filter((l) => /^progress: \d+%, \d+\/\d+\+? files, /.test(l)).length).toBeGreaterThan(0);
    const s = summaryOf(r.stderr);
    expect(s.processed).toBe(logs.length);
    expect(s.line).toMatch(new RegExp(`; \\d+ records, \\d+ SES events, ${dryRows} rows written; `));
    expect(lines.at(-1)).toBe(s.line);
    expect(lines.at(-2)).toMatch(/^listing: \d+ keys in 1 ListObjectsV2 request$/);
    const items = await countItems();
    expect(items).toBe(dryRows);

    const again = await backfill([`s3://${BUCKET}`, '--progress-interval', '0']);
    expect(again.code).toBe(1);
    expect(summaryOf(again.stderr).rows).toBe(dryRows);
    expect(again.stderr).not.toContain('progress:');
    expect(await countItems()).toBe(items);
  });

  it('--since/--until select by the date in the key path, organization trails included', async () => {
    for (const [since, until] of [
      ['2026-11-20', '2026-11-21'],
      ['2026-11-19', undefined],
      [undefined, '2026-11-18'],
      ['2026-11-22', '2026-11-22'],
    ] as const) {
      const args = [`s3://${BUCKET}`, '--dry-run', ...(since ? ['--since', since] : []), ...(until ? ['--until', until] : [])];
      const r = await backfill(args);
      const files = logs.filter((f) => inWindow(f.date, since, until));
      const corruptIn = inWindow('2026-11-20', since, until);
      expect(r.code, r.stderr).toBe(corruptIn ? 1 : 0);
      const s = summaryOf(r.stderr);
      expect(s.processed, args.join(' ')).toBe(files.length);
      expect(s.failed).toBe(corruptIn ? 1 : 0);
      expect(s.rows).toBe(rowsOf(files));
      // Undated foreign objects always count; dated non-log files only inside the window.
      expect(s.skipped).toBe(OTHERS.filter(([, d]) => d === undefined || inWindow(d, since, until)).length);
    }
  });

  it('takes a trail prefix with a space, an organization, an account or a region folder as the prefix', async () => {
    const cases: Array<[string, (f: LogFile) => boolean, string[]]> = [
      ['my trail/', (f) => f.key.startsWith('my trail/'), []],
      [`org trail/AWSLogs/${ORG}/`, (f) => f.key.startsWith('org trail/'), []],
      ['AWSLogs/444455556666/', (f) => f.key.startsWith('AWSLogs/444455556666/'), []],
      ['AWSLogs/111122223333/CloudTrail/us-east-1/', (f) => f.key.startsWith('AWSLogs/111122223333/CloudTrail/us-east-1/') && inWindow(f.date, '2026-11-19', '2026-11-20'), ['--since', '2026-11-19', '--until', '2026-11-20']],
    ];
    for (const [prefix, pick, extra] of cases) {
      const r = await backfill([`s3://${BUCKET}/${prefix}`, '--dry-run', ...extra]);
      const files = logs.filter(pick);
      expect(files.length).toBeGreaterThan(0);
      const s = summaryOf(r.stderr);
      expect(s.processed, prefix).toBe(files.length);
      expect(s.rows).toBe(rowsOf(files));
      expect(r.code).toBe(prefix === 'my trail/' ? 1 : 0);
    }
    // Small pages: the listing skips ahead over the days outside the window instead of reading them.
    const prefix = 'AWSLogs/111122223333/CloudTrail/';
    const paged = await backfill([`s3://${BUCKET}/${prefix}`, '--dry-run', '--since', '2026-11-20', '--until', '2026-11-20'], {
      hooks: { pageSize: 2 },
    });
    const files = logs.filter((f) => f.key.startsWith(prefix) && f.date === '2026-11-20');
    expect(summaryOf(paged.stderr).processed).toBe(files.length);
    const listing = /^listing: (\d+) keys in (\d+) ListObjectsV2 requests, (\d+) of them skipping ahead/m.exec(paged.stderr);
    expect(listing, paged.stderr).not.toBeNull();
    const under = logs.filter((f) => f.key.startsWith(prefix)).length + 1; // + stray.json
    expect(Number(listing![1])).toBeLessThan(under);
    expect(Number(listing![3])).toBeGreaterThan(0);

    const none = await backfill([`s3://${BUCKET}/nothing-here/`, '--dry-run']);
    expect(none.code).toBe(0);
    expect(none.stderr).toContain('note: no CloudTrail log files under s3://trail/nothing-here/\n');
  });

  it('on a terminal redraws one progress line in place and ends with the summary on a clean line', async () => {
    const r = await backfill([`s3://${BUCKET}`, '--dry-run', '--concurrency', '1'], { tty: true, hooks: { redrawMs: 0 } });
    expect(r.code).toBe(1);
    const redraws = r.stderr.split('\r\x1b[2K').length - 1;
    expect(redraws).toBeGreaterThan(2);
    expect(r.stderr).toMatch(/\r\x1b\[2K\[[█░]{20}\] \d+% \d+\/\d+\+? files, /);
    expect(r.stderr).toMatch(/ETA /);
    // The error line is printed above the bar, on a line of its own.
    expect(r.stderr).toMatch(new RegExp(`\\r\\x1b\\[2Kerror: s3://trail/${escape(CORRUPT_KEY)}: [^\\r\\n]+\\n`));
    expect(r.stderr).toMatch(/\r\x1b\[2Klisting: [^\r\n]+\nsummary: [^\r\n]+\n$/);
  });

  it('on a narrow terminal the bar keeps files, rate and ETA, and says what listing has seen before any file', async () => {
    const r = await backfill([`s3://${BUCKET}`, '--dry-run', '--concurrency', '1'], { tty: true, columns: 60, hooks: { redrawMs: 0 } });
    const bars = r.stderr
      .split('\r\x1b[2K')
      .map((t) => t.split('\n')[0])
      .filter((t) => /^(\[|\d+%|listing )/.test(t));
    expect(bars.length).toBeGreaterThan(2);
    for (const bar of bars) expect(bar.length, bar).toBeLessThan(60);
    const progress = bars.filter((b) => / files, /.test(b));
    expect(progress.length).toBeGreaterThan(0);
    for (const bar of progress) expect(bar, bar).toMatch(/\d+\/\d+\+? files, [\d.]+ files\/s, ETA \S+/);
    // Before the first log file is found the line says what the listing has seen, not "0/0+ files".
    expect(r.stderr).not.toContain('0/0+ files');
    expect(bars[0]).toMatch(/^listing s3:\/\/trail\/: \d+ keys? in \d+ requests?, no log files yet$/);
  });

  it('Ctrl-C finishes the files in flight, prints the summary so far and a --start-after to resume with (exit 130)', async () => {
    let interrupt = () => {};
    const hooks: BackfillHooks = {
      onInterrupt: (handler) => {
        interrupt = handler;
        return () => {};
      },
      onFileDone: (done) => {
        if (done === 5) interrupt();
      },
    };
    const first = await backfill([`s3://${BUCKET}`, '--dry-run', '--concurrency', '1'], { hooks });
    expect(first.code).toBe(130);
    expect(first.stderr).toMatch(/^stopping$/m);
    expect(first.stderr).toMatch(/^interrupted: \d+ listed files not started$/m);
    expect(summaryOf(first.stderr).processed).toBe(5);
    const resume = /^to resume: ses-audit backfill s3:\/\/trail\/ --concurrency 1 --dry-run --start-after (\S+)$/m.exec(first.stderr);
    expect(resume, first.stderr).not.toBeNull();
    const second = await backfill([`s3://${BUCKET}`, '--dry-run', '--start-after', resume![1]]);
    expect(second.code).toBe(1);
    const s = summaryOf(second.stderr);
    expect(s.processed + 5).toBe(logs.length);
    expect(s.rows + summaryOf(first.stderr).rows).toBe(dryRows);

    // A second Ctrl-C abandons the files in flight.
    let calls = 0;
    const abandon = await backfill([`s3://${BUCKET}`, '--dry-run', '--concurrency', '4'], {
      hooks: {
        onInterrupt: (handler) => {
          interrupt = handler;
          return () => {};
        },
        onFileDone: () => {
          if (++calls === 1) {
            interrupt();
            interrupt();
          }
        },
      },
    });
    expect(abandon.code).toBe(130);
    expect(abandon.stderr).toContain('abandoning the files in flight');
    expect(summaryOf(abandon.stderr).processed).toBeLessThan(logs.length);
  });

  it('reports a missing bucket, a missing table and usage errors in one line', async () => {
    const bucket = await backfill(['s3://no-such-bucket/AWSLogs/', '--dry-run']);
    expect(bucket.code).toBe(1);
    expect(errorLines(bucket.stderr)).toEqual(['error: s3://no-such-bucket/AWSLogs/: no such bucket']);

    const table = await backfill([`s3://${BUCKET}`], { env: { TABLE_NAME: 'no-such-table' } });
    expect(table).toEqual({ code: 1, stdout: '', stderr: 'error: table no-such-table not found\n' });
    const port = await closedPort();
    const down = await backfill([`s3://${BUCKET}`], { env: { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` } });
    expect(down).toEqual({ code: 1, stdout: '', stderr: `error: cannot reach DynamoDB at http://127.0.0.1:${port}: ECONNREFUSED\n` });
    const unset = await backfill([`s3://${BUCKET}`], { env: { TABLE_NAME: '' } });
    expect(unset.code).toBe(1);
    expect(unset.stderr).toMatch(/^error: invalid configuration: TABLE_NAME is required[^\n]*\n$/);

    for (const args of [
      [],
      ['trail/AWSLogs'],
      [`s3://${BUCKET}`, '--since', '2026-11-31'],
      [`s3://${BUCKET}`, '--since', '2026-11-21', '--until', '2026-11-20'],
      [`s3://${BUCKET}`, '--concurrency', '0'],
      [`s3://${BUCKET}`, '--bogus'],
    ]) {
      const r = await backfill(args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.stderr).toMatch(/^error: [^\n]+ \(ses-audit backfill --help\)\n$/);
    }
    const help = await backfill(['--help']);
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: ses-audit backfill s3:\/\/BUCKET\[\/PREFIX\] \[options\]\n/);
    for (const flag of ['--since', '--until', '--concurrency', '--dry-run', '--start-after', '--progress-interval', '--region', '--profile']) {
      expect(help.stdout).toContain(flag);
    }
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = (server.address() as { port: number });
      server.close(() => resolve(port));
    });
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
