import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { readFileSync } from 'node:fs';
import { buildDigest, signDigest } from '../../src/local/digest-signer.js';
import { jsonLines, runCli } from '../helpers/cli.js';

const SES = (id: string, extra: Record<string, unknown> = {}) => ({
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', arn: 'arn:aws:iam::111122223333:user/carol', principalId: 'AIDA1' },
  eventTime: '2026-11-20T10:15:30Z',
  eventSource: 'ses.amazonaws.com',
  eventName: 'DeleteIdentity',
  requestParameters: { identity: 'Example.com' },
  eventID: id,
  recipientAccountId: '111122223333',
  ...extra,
});
const KMS = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', eventTime: '2026-11-20T10:15:31Z', eventID: 'k1' };

let dir: string;
const file = (name: string) => join(dir, name);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ses-audit-process-'));
  const good = JSON.stringify({ Records: [KMS, SES('e1'), SES('e2', { requestParameters: { identities: ['a.example.com', 'b@example.com'] }, eventName: 'GetIdentityVerificationAttributes' })] });
  await writeFile(file('good.json.gz'), gzipSync(good));
  await writeFile(file('good.json'), JSON.stringify(JSON.parse(good), null, 2));
  await writeFile(file('corrupt.json.gz'), Buffer.concat([gzipSync(good).subarray(0, 10), Buffer.alloc(64, 0x41)]));
  await writeFile(file('truncated.json.gz'), gzipSync(good).subarray(0, 40));
  await writeFile(file('truncated.json'), good.slice(0, good.length - 5));
  await writeFile(file('invalid.json'), '{"Records":[{"eventSource":"ses.amazonaws.com","eventTime":"2026-11-20T10:15:30Z",}]}');
  await writeFile(file('array.json'), '[1,2,3]');
  await writeFile(file('digest.json.gz'), gzipSync(JSON.stringify({ awsAccountId: '1', logFiles: [] })));
  await writeFile(file('bad-records.json'), JSON.stringify({ Records: [42, 'x', SES('e3', { eventTime: undefined }), SES('e4')] }));
  await mkdir(file('a-directory'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('ses-audit process --dry-run', () => {
  it('prints one JSON row per line with the DESIGN.md attribute names, and a summary on stderr', async () => {
    const r = await runCli(['process', '--dry-run', file('good.json.gz')]);
    expect(r.code).toBe(0);
    const rows = jsonLines(r.stdout);
    expect(rows.map((x) => [x.identity, x.eventName])).toEqual([
      ['example.com', 'DeleteIdentity'],
      ['a.example.com', 'GetIdentityVerificationAttributes'],
      ['b@example.com', 'GetIdentityVerificationAttributes'],
    ]);
    expect(rows[0]).toMatchObject({
      eventKey: '2026-11-20T10:15:30Z#e1',
      actor: 'arn:aws:iam::111122223333:user/carol',
      identityKind: 'domain',
      sourceObject: file('good.json.gz'),
      requestParameters: { identity: 'Example.com' },
    });
    expect(r.stderr).toMatch(new RegExp(`^${file('good.json.gz')}: 3 records, 2 SES events, 3 rows, 1 skipped \\(`, 'm'));
  });

  it('reads plain and pretty-printed JSON the same as gzip', async () => {
    const a = await runCli(['process', '--dry-run', file('good.json.gz')]);
    const b = await runCli(['process', '--dry-run', file('good.json')]);
    const strip = (t: string) => jsonLines(t).map(({ sourceObject: _s, ingestedAt: _i, ...rest }) => rest);
    expect(strip(b.stdout)).toEqual(strip(a.stdout));
  });

  it('runs every input, reports each bad one in one line, and exits 1', async () => {
    const inputs = ['missing.json.gz', 'corrupt.json.gz', 'good.json.gz', 'truncated.json.gz', 'truncated.json', 'invalid.json', 'array.json', 'digest.json.gz', 'a-directory'];
    const r = await runCli(['process', '--dry-run', ...inputs.map(file)]);
    expect(r.code).toBe(1);
    const errors = r.stderr.split('\n').filter((l) => l.startsWith('error: '));
    expect(errors).toEqual([
      `error: ${file('missing.json.gz')}: no such file`,
      expect.stringMatching(new RegExp(`^error: ${file('corrupt.json.gz')}: corrupt gzip: `)),
      expect.stringMatching(new RegExp(`^error: ${file('truncated.json.gz')}: truncated gzip`)),
      expect.stringMatching(new RegExp(`^error: ${file('truncated.json')}: truncated JSON`)),
      expect.stringMatching(new RegExp(`^error: ${file('invalid.json')}: invalid JSON in record 0`)),
      `error: ${file('array.json')}: not a CloudTrail log file: the document is a JSON array, not an object with "Records"`,
      `error: ${file('digest.json.gz')}: not a CloudTrail log file: no top-level "Records" array`,
      `error: ${file('a-directory')}: is a directory, not a trail file`,
    ]);
    // The good input in the middle still ran to the end.
    expect(jsonLines(r.stdout).filter((x) => x.sourceObject === file('good.json.gz'))).toHaveLength(3);
    // No stack traces.
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('counts and reports bad records without failing the input', async () => {
    const r = await runCli(['process', '--dry-run', file('bad-records.json')]);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout).map((x) => x.eventID)).toEqual(['e4']);
    expect(r.stderr).toContain(`warning: ${file('bad-records.json')}: record 0: a number, not an object`);
    expect(r.stderr).toContain(`warning: ${file('bad-records.json')}: record 1: a string, not an object`);
    expect(r.stderr).toContain(`warning: ${file('bad-records.json')}: record 2: SES event without eventTime`);
    expect(r.stderr).toMatch(/4 records, 1 SES event, 1 row, 0 skipped, 3 bad records/);
  });

  it('applies the byte caps from flags, with reasons', async () => {
    const r = await runCli(['process', '--dry-run', '--max-bytes', '1024', '--max-record-bytes', '1024', file('good.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error: .*good\.json: (uncompressed size exceeds the 1024-byte limit|record \d+ is larger than the 1024-byte record limit)/);
  });

  it('rejects bad numbers as usage errors, and needs TABLE_NAME without --dry-run', async () => {
    const r = await runCli(['process', '--max-bytes', 'lots', file('good.json')], {});
    expect(r.code).toBe(2);
    expect(r.stderr).toBe('error: --max-bytes "lots": expected a whole number from 1024 to 1099511627776 (ses-audit process --help)\n');
    const small = await runCli(['process', '--dry-run', '--max-record-bytes', '12', file('good.json')], {});
    expect(small).toMatchObject({ code: 2, stderr: 'error: --max-record-bytes "12": expected a whole number from 1024 to 2147483648 (ses-audit process --help)\n' });
    const noTable = await runCli(['process', file('good.json')], { RETENTION_DAYS: 'forever' });
    expect(noTable.code).toBe(1);
    expect(noTable.stderr).toBe(
      'error: invalid configuration: TABLE_NAME is required (the DynamoDB table to write to); RETENTION_DAYS="forever" must be a whole number from 0 to 36500\n',
    );
  });

  it('a digest file is verified, not read for rows: a local copy has no signature, so it is unverifiable', async () => {
    const signed = signDigest(
      buildDigest({
        bucket: 'trail',
        key: 'AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T110000Z.json.gz',
        digestStartTime: '2026-11-20T10:00:00Z',
        digestEndTime: '2026-11-20T11:00:00Z',
        publicKeyFingerprint: '0'.repeat(32),
        logFiles: [{ bucket: 'trail', key: 'AWSLogs/x.json.gz', body: 'x', oldestEventTime: null, newestEventTime: null }],
      }),
      readFileSync(join(import.meta.dirname, '..', '..', 'events', 'keys', 'test-private-key.pem'), 'utf8'),
    );
    const path = file('111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20261120T110000Z.json.gz');
    await writeFile(path, signed.body);
    const r = await runCli(['process', '--dry-run', path]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`${path}: digest unverifiable (not read from S3: no signature to check), 1 files listed (not recorded: no ledger)`);
  });

  it('has --help and usage errors', async () => {
    const help = await runCli(['process', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ses-audit process INPUT\.\.\. \[options\]\n/);
    const none = await runCli(['process']);
    expect(none).toMatchObject({ code: 2, stderr: "error: missing required argument 'input' (ses-audit process --help)\n" });
    const unknown = await runCli(['process', '--frobnicate', 'x']);
    expect(unknown).toMatchObject({ code: 2, stderr: "error: unknown option '--frobnicate' (ses-audit process --help)\n" });
    const bucketOnly = await runCli(['process', '--dry-run', 's3://bucket']);
    expect(bucketOnly).toMatchObject({ code: 2, stderr: 'error: s3://bucket: an s3:// input needs a key (s3://bucket/key) (ses-audit process --help)\n' });
  });
});
