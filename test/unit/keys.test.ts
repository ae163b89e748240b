import { describe, expect, it } from 'vitest';
import { classifyKey, dayFolder, decodeS3EventKey, regionFolderOf } from '../../src/trail/keys.js';

const ACCT = '111122223333';
const FILE = `${ACCT}_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz`;
const LOG = `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${FILE}`;

describe('decodeS3EventKey', () => {
  it.each([
    ['plain', LOG, LOG],
    ['+ is a space', 'my+trail/AWSLogs/x.json.gz', 'my trail/AWSLogs/x.json.gz'],
    ['%20 is a space too', 'my%20trail/x', 'my trail/x'],
    ['%2B is a literal +', 'a%2Bb+c', 'a+b c'],
    ['%3D is =', 'team%3Dmail/x', 'team=mail/x'],
    ['UTF-8 escapes', 'Z%C3%BCrich/%E6%97%A5%E6%9C%AC', 'Zürich/日本'],
    ['4-byte UTF-8', 'mail-%F0%9F%93%A7', 'mail-📧'],
    ['decoded once only', '%252B', '%2B'],
    ['slashes stay', 'a/b/c', 'a/b/c'],
  ])('%s', (_name, raw, decoded) => {
    expect(decodeS3EventKey(raw)).toBe(decoded);
  });

  it.each([
    ['a lone %', '100%+done', '100% done'],
    ['% not followed by hex', 'a%ZZb%2Bc', 'a%ZZb+c'],
    ['truncated escape at the end', 'x%E6%97', 'x%E6%97'],
    ['invalid UTF-8 run kept, valid run decoded', '%C3+%C3%BC', '%C3 ü'],
    ['lone continuation byte', 'a%80b%3Dc', 'a%80b=c'],
  ])('malformed input does not throw: %s', (_name, raw, decoded) => {
    expect(() => decodeS3EventKey(raw)).not.toThrow();
    expect(decodeS3EventKey(raw)).toBe(decoded);
  });
});

describe('classifyKey: log files', () => {
  it('a key without prefix', () => {
    expect(classifyKey(LOG)).toEqual({ kind: 'log', prefix: '', accountId: ACCT, region: 'us-east-1', date: '2026-11-20' });
  });

  it('an organization trail', () => {
    const key = `AWSLogs/o-exampleorgid/${ACCT}/CloudTrail/eu-west-3/2026/01/31/${ACCT}_CloudTrail_eu-west-3_20260131T2355Z_Zz9.json.gz`;
    expect(classifyKey(key)).toEqual({
      kind: 'log',
      prefix: '',
      orgId: 'o-exampleorgid',
      accountId: ACCT,
      region: 'eu-west-3',
      date: '2026-01-31',
    });
  });

  it.each([
    ['a space', 'my trail'],
    ['several folders', 'logs/prod/cloudtrail'],
    ['= and +', 'team=mail/a+b'],
    ['unicode', 'Zürich/日本 📧'],
    ['a CloudTrail segment', 'CloudTrail/us-east-1/2026/11/20'],
    ['an AWSLogs segment of its own', `backup/AWSLogs/${ACCT}/CloudTrail/old`],
    ['a trailing space', 'trail '],
  ])('a custom prefix with %s', (_name, prefix) => {
    const info = classifyKey(`${prefix}/${LOG}`);
    expect(info).toEqual({ kind: 'log', prefix, accountId: ACCT, region: 'us-east-1', date: '2026-11-20' });
  });

  it('an organization trail under a prefix', () => {
    const info = classifyKey(`org trail/AWSLogs/o-a1b2c3d4e5/${ACCT}/CloudTrail/us-east-1/2026/11/20/${FILE}`);
    expect(info).toMatchObject({ kind: 'log', prefix: 'org trail', orgId: 'o-a1b2c3d4e5', accountId: ACCT });
  });

  it.each(['us-gov-west-1', 'cn-north-1', 'ap-southeast-5', 'il-central-1', 'eusc-de-east-1', 'ap-southeast-12'])('region %s', (region) => {
    const info = classifyKey(`AWSLogs/${ACCT}/CloudTrail/${region}/2026/11/20/${ACCT}_CloudTrail_${region}_20261120T1015Z_x.json.gz`);
    expect(info).toMatchObject({ kind: 'log', region });
  });

  it('a prefix with a line break (S3 keys may hold any character)', () => {
    expect(classifyKey(`line\nbreak/${LOG}`)).toStrictEqual({ kind: 'log', prefix: 'line\nbreak', accountId: ACCT, region: 'us-east-1', date: '2026-11-20' });
  });

  it('is lenient about the file name', () => {
    expect(classifyKey(`AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/renamed by hand.json.gz`).kind).toBe('log');
  });

  it('leap day', () => {
    expect(classifyKey(`AWSLogs/${ACCT}/CloudTrail/us-east-1/2028/02/29/${FILE}`)).toMatchObject({ kind: 'log', date: '2028-02-29' });
  });
});

describe('classifyKey: files to skip', () => {
  it.each([
    ['CloudTrail-Digest', 'digest', `${ACCT}_CloudTrail-Digest_us-east-1_trail_us-east-1_20261120T101500Z.json.gz`],
    ['CloudTrail-Insight', 'insight', `${ACCT}_CloudTrail-Insight_us-east-1_20261120T1015Z_a1b2.json.gz`],
    ['CloudTrail-NetworkActivity', 'network-activity', `${ACCT}_CloudTrail-NetworkActivity_us-east-1_20261120T1015Z_a1.json.gz`],
    ['CloudTrail-Aggregated', 'aggregated', `${ACCT}_CloudTrail-Aggregated_us-east-1_20261120T1015Z_a1.json.gz`],
  ])('%s is %s', (folder, kind, file) => {
    const info = classifyKey(`my trail/AWSLogs/${ACCT}/${folder}/us-east-1/2026/11/20/${file}`);
    expect(info).toEqual({ kind, prefix: 'my trail', accountId: ACCT, region: 'us-east-1', date: '2026-11-20' });
  });

  it('a digest of an organization trail, whatever the rest of its path', () => {
    expect(classifyKey(`AWSLogs/o-exampleorgid/${ACCT}/CloudTrail-Digest/odd/path.json.gz`)).toEqual({
      kind: 'digest',
      prefix: '',
      orgId: 'o-exampleorgid',
      accountId: ACCT,
    });
  });

  it('a digest whose path has a date but no region, or a region but no date, has neither', () => {
    expect(classifyKey(`AWSLogs/${ACCT}/CloudTrail-Digest/US-EAST-1/2026/11/20/x.json.gz`)).toStrictEqual({ kind: 'digest', prefix: '', accountId: ACCT });
    expect(classifyKey(`AWSLogs/${ACCT}/CloudTrail-Digest/us-east-1/2026/02/30/x.json.gz`)).toStrictEqual({ kind: 'digest', prefix: '', accountId: ACCT });
  });

  it('a digest look-alike of a log path is a digest, not a log', () => {
    expect(classifyKey(`AWSLogs/${ACCT}/CloudTrail-Digest/us-east-1/2026/11/20/${FILE}`).kind).toBe('digest');
  });
});

describe('classifyKey: other', () => {
  const DAY = `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20`;
  it.each([
    ['another service', `AWSLogs/${ACCT}/elasticloadbalancing/us-east-1/2026/11/20/x.log.gz`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['AWS Config', `AWSLogs/${ACCT}/Config/us-east-1/2026/11/20/ConfigSnapshot/x.json.gz`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['S3 access logs', '2026-11-20-10-15-00-ABCDEF0123456789', 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['the bucket root marker', 'AWSLogs/', 'folder marker'],
    ['a folder marker under CloudTrail', `${DAY}/`, 'folder marker'],
    ['a prefix folder marker', 'my trail/', 'folder marker'],
    ['a .json without .gz', LOG.replace(/\.gz$/, ''), 'not a .json.gz file'],
    ['a .gz that is not .json', LOG.replace(/\.json\.gz$/, '.csv.gz'), 'not a .json.gz file'],
    ['a one-digit month', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/1/20/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['a date with a suffix', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20T/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['a date in one segment', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026-11-20/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['month 13', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/13/20/${FILE}`, 'not a date: 2026/13/20'],
    ['February 30', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/02/30/${FILE}`, 'not a date: 2026/02/30'],
    ['February 29 of a common year', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/02/29/${FILE}`, 'not a date: 2026/02/29'],
    ['day 00', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/00/${FILE}`, 'not a date: 2026/11/00'],
    // Date.UTC reads years 0 to 99 as 1900 to 1999; CloudTrail did not exist before 2013 anyway.
    ['a year before 100', `AWSLogs/${ACCT}/CloudTrail/us-east-1/0050/11/20/${FILE}`, 'not a date: 0050/11/20'],
    ['no region', `AWSLogs/${ACCT}/CloudTrail/2026/11/20/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['a region that is not region-shaped', `AWSLogs/${ACCT}/CloudTrail/US-EAST-1/2026/11/20/${FILE}`, 'not a region: US-EAST-1'],
    ['a region with something before it', `AWSLogs/${ACCT}/CloudTrail/Xus-east-1/2026/11/20/${FILE}`, 'not a region: Xus-east-1'],
    ['a region with something after it', `AWSLogs/${ACCT}/CloudTrail/us-east-1x/2026/11/20/${FILE}`, 'not a region: us-east-1x'],
    ['a folder between CloudTrail and the region', `AWSLogs/${ACCT}/CloudTrail/extra/us-east-1/2026/11/20/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['a folder below the day', `${DAY}/extra/${FILE}`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['a log file name with a folder after it', `${DAY}/${FILE}/more`, 'not a CloudTrail/REGION/YYYY/MM/DD/FILE path'],
    ['an 11-digit account', `AWSLogs/11112222333/CloudTrail/us-east-1/2026/11/20/${FILE}`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['an upper-case org id', `AWSLogs/o-EXAMPLEORG1/${ACCT}/CloudTrail/us-east-1/2026/11/20/${FILE}`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['CloudTrail without AWSLogs', `logs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${FILE}`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['awslogs in lower case', `awslogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${FILE}`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['an unknown CloudTrail- folder', `AWSLogs/${ACCT}/CloudTrail-Lake/us-east-1/2026/11/20/${FILE}`, 'unknown CloudTrail folder CloudTrail-Lake'],
    ['CloudTrailX', `AWSLogs/${ACCT}/CloudTrailX/us-east-1/2026/11/20/${FILE}`, 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
    ['the empty key', '', 'not under AWSLogs/ACCOUNT/CloudTrail*/'],
  ])('%s', (_name, key, reason) => {
    expect(classifyKey(key)).toStrictEqual({ kind: 'other', reason });
  });
});

describe('regionFolderOf', () => {
  it.each([
    ['a log file', LOG, `AWSLogs/${ACCT}/CloudTrail/us-east-1/`],
    ['a log file under a prefix with spaces', `my trail/x/AWSLogs/${ACCT}/CloudTrail/eu-west-1/2026/11/20/${FILE}`, `my trail/x/AWSLogs/${ACCT}/CloudTrail/eu-west-1/`],
    ['an organization trail', `AWSLogs/o-exampleorgid/${ACCT}/CloudTrail/us-east-1/2025/12/31/${FILE}`, `AWSLogs/o-exampleorgid/${ACCT}/CloudTrail/us-east-1/`],
    ['a digest', `AWSLogs/${ACCT}/CloudTrail-Digest/us-east-1/2026/11/20/x.json.gz`, `AWSLogs/${ACCT}/CloudTrail-Digest/us-east-1/`],
    ['a prefix that is the region folder', `AWSLogs/${ACCT}/CloudTrail/us-east-1/`, `AWSLogs/${ACCT}/CloudTrail/us-east-1/`],
    ['a prefix into a month', `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11`, `AWSLogs/${ACCT}/CloudTrail/us-east-1/`],
    ['a prefix that contains AWSLogs itself', `AWSLogs/${ACCT}/AWSLogs/${ACCT}/CloudTrail/ap-south-1/`, `AWSLogs/${ACCT}/AWSLogs/${ACCT}/CloudTrail/ap-south-1/`],
  ])('%s', (_name, key, folder) => {
    expect(regionFolderOf(key)).toBe(folder);
  });

  it.each([
    ['a prefix above the region', `AWSLogs/${ACCT}/CloudTrail/`],
    ['a region without its slash', `AWSLogs/${ACCT}/CloudTrail/us-east-1`],
    ['an empty region folder', `AWSLogs/${ACCT}/CloudTrail//2026/11/20/x.json.gz`],
    ['an account folder', `AWSLogs/${ACCT}/`],
    ['another service', 'elasticloadbalancing/AWSLogs/x'],
    ['the bucket root', ''],
  ])('none for %s', (_name, key) => {
    expect(regionFolderOf(key)).toBeUndefined();
  });

  it('dayFolder is the key prefix of one day, sorting like the dates', () => {
    const root = `AWSLogs/${ACCT}/CloudTrail/us-east-1/`;
    expect(dayFolder(root, '2026-11-20')).toBe(`AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20`);
    expect(LOG.startsWith(dayFolder(root, '2026-11-20'))).toBe(true);
    const days = ['2026-11-20', '2025-12-31', '2026-01-02'];
    expect(days.map((d) => dayFolder(root, d)).sort()).toEqual(['2025-12-31', '2026-01-02', '2026-11-20'].map((d) => dayFolder(root, d)));
  });
});
