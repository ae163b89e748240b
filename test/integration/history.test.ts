import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient, PutItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { startLocalAws, type LocalAws } from '../../src/local/servers.js';
import { ensureTable } from '../../src/store/table.js';
import { countHistory, keyRange, queryHistory } from '../../src/store/history.js';
import { normalizeIdentity } from '../../src/cli/commands/history.js';
import { main } from '../../src/cli/main.js';
import type { AuditRow } from '../../src/ses/row.js';

const TABLE = 'history-test';
const ROLE = 'arn:aws:iam::111122223333:role/Admin';
const USER = 'arn:aws:iam::111122223333:user/alice';
/** What a row written for an IAM user's call carries (src/ses/actor.ts actorOf). */
const BY_USER: Partial<AuditRow> = { actor: USER, actorType: 'IAMUser', principalArn: USER, userName: 'alice' };

let seq = 0;
function row(identity: string, eventTime: string, extra: Partial<AuditRow> = {}): AuditRow {
  const eventID = `00000000-0000-4000-8000-${String(++seq).padStart(12, '0')}`;
  return {
    identity,
    eventKey: `${eventTime}#${eventID}`,
    actor: ROLE,
    actorType: 'AssumedRole',
    principalArn: 'arn:aws:sts::111122223333:assumed-role/Admin/ops-bot',
    sessionIssuerArn: ROLE,
    userName: 'ops-bot',
    eventName: 'GetIdentityVerificationAttributes',
    identityKind: identity.includes('@') ? 'email' : identity.includes('/') ? 'resource' : 'domain',
    identities: [identity],
    eventTime,
    eventID,
    eventSource: 'ses.amazonaws.com',
    awsRegion: 'us-east-1',
    accountId: '111122223333',
    sourceIPAddress: '203.0.113.7',
    sourceObject: 's3://trail/AWSLogs/x.json.gz',
    ingestedAt: '2026-11-22T00:00:00.000Z',
    ...extra,
  };
}

// Edges of 2026-11-20 (UTC) for the window tests.
const EDGE = [
  row('window.example', '2026-11-19T23:59:59Z'),
  row('window.example', '2026-11-20T00:00:00Z'),
  row('window.example', '2026-11-20T12:00:00Z'),
  row('window.example', '2026-11-20T12:00:01Z'),
  row('window.example', '2026-11-20T23:59:59Z'),
  row('window.example', '2026-11-21T00:00:00Z'),
];

const MAIN = [
  row('example.com', '2026-11-20T10:00:00Z', { eventName: 'VerifyDomainIdentity', requestParameters: { domain: 'Example.com' } }),
  row('example.com', '2026-11-20T09:00:00Z', {
    eventName: 'DeleteIdentity',
    ...BY_USER,
    errorCode: 'AccessDenied',
    errorMessage: 'not allowed',
    sourceIPAddress: '198.51.100.1',
    // Stored as JSON text when too large or odd for a map: returned as is.
    requestParameters: '{"identity":"example.com"}',
  }),
  row('example.com', '2026-11-21T08:30:00Z', { eventName: 'DeleteIdentity', actor: ROLE }),
  row('example.com', '2026-11-19T07:00:00Z', { readOnly: true, expiresAt: 1_900_000_000 }),
  row('other.example', '2026-11-20T11:00:00Z', { eventName: 'DeleteIdentity', ...BY_USER }),
  row('hint.example', '2026-11-20T11:00:00Z'),
  row('hint.example', '2026-11-20T11:00:01Z'),
  row('User@hint.example', '2026-11-20T12:00:00Z', { identityKind: 'email' }),
];

const PAGED = Array.from({ length: 30 }, (_, i) =>
  row('paged.example', `2026-11-20T10:${String(i).padStart(2, '0')}:00Z`, i % 10 === 0 ? BY_USER : {}),
);

// ~100 KB each: more than DynamoDB's (and dynalite's) 1 MB per Query page.
const BIG = Array.from({ length: 14 }, (_, i) =>
  row('big.example', `2026-11-20T10:00:${String(i).padStart(2, '0')}Z`, { userAgent: 'x'.repeat(100_000) }),
);

// Who and where (issue 13): IAM Identity Center sessions, a role with an IAM path, root, a service.
const ACCT = '111122223333';
const SSO_ROLE_NAME = 'AWSReservedSSO_AdminAccess_0123456789abcdef';
const SSO_ROLE = `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE_NAME}`;
const sso = (user: string): Partial<AuditRow> => ({
  actor: SSO_ROLE,
  actorType: 'AssumedRole',
  principalArn: `arn:aws:sts::${ACCT}:assumed-role/${SSO_ROLE_NAME}/${user}`,
  principalId: `AROAEXAMPLEID0000001:${user}`,
  sessionIssuerArn: SSO_ROLE,
  userName: user,
});
const PATH_ROLE = `arn:aws:iam::${ACCT}:role/team/mail/deployer`;
const PATH_SESSION = `arn:aws:sts::${ACCT}:assumed-role/deployer/ci-run-7`;
const WHO = [
  row('who.example', '2026-11-20T10:00:00Z', { ...sso('alice@corp.example'), eventName: 'PutIdentityPolicy', awsRegion: 'eu-west-1', accountId: '444455556666' }),
  row('who.example', '2026-11-20T10:01:00Z', { ...sso('bob@corp.example'), eventName: 'DeleteIdentityPolicy' }),
  row('who.example', '2026-11-20T10:02:00Z', { actor: PATH_ROLE, actorType: 'AssumedRole', principalArn: PATH_SESSION, sessionIssuerArn: PATH_ROLE, userName: 'ci-run-7', eventName: 'SetIdentityDkimEnabled' }),
  row('who.example', '2026-11-20T10:03:00Z', { actor: `arn:aws:iam::${ACCT}:root`, actorType: 'Root', principalArn: `arn:aws:iam::${ACCT}:root`, principalId: ACCT, userName: undefined }),
  row('who.example', '2026-11-20T10:04:00Z', { actor: 'ses.amazonaws.com', actorType: 'AWSService', invokedBy: 'ses.amazonaws.com', principalArn: undefined, userName: undefined }),
  row('other.example', '2026-11-20T10:05:00Z', { ...sso('alice@corp.example'), eventName: 'VerifyDomainDkim' }),
  // A newer Identity Center instance puts its region in the role path (as real records show).
  row('regional.example', '2026-11-20T10:06:00Z', {
    actor: `arn:aws:iam::${ACCT}:role/aws-reserved/sso.amazonaws.com/us-west-2/AWSReservedSSO_ReadOnly_aa11`,
    actorType: 'AssumedRole',
    principalArn: `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_ReadOnly_aa11/dana@corp.example`,
    userName: 'dana@corp.example',
  }),
];

// Emails stored in another case than a user types them.
const CASES = [
  row('alice@case.example', '2026-11-20T10:00:00Z', { identityKind: 'email' }),
  row('alice@case.example', '2026-11-20T10:01:00Z', { identityKind: 'email' }),
  row('alice@case.example', '2026-11-20T10:02:00Z', { identityKind: 'email' }),
  row('aLiCe@mixed.example', '2026-11-20T10:00:00Z', { identityKind: 'email', identities: ['mixed.example', 'aLiCe@mixed.example'] }),
  row('mixed.example', '2026-11-20T10:00:00Z', { identities: ['mixed.example', 'aLiCe@mixed.example'] }),
];

let aws: LocalAws;
let client: DynamoDBClient;

beforeAll(async () => {
  aws = await startLocalAws();
  client = new DynamoDBClient({
    endpoint: aws.dynamodbEndpoint,
    region: 'us-east-1',
    credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
  });
  await ensureTable(client, TABLE, { note: () => {} });
  const all = [...EDGE, ...MAIN, ...PAGED, ...BIG, ...WHO, ...CASES];
  await Promise.all(
    all.map((r) =>
      client.send(new PutItemCommand({ TableName: TABLE, Item: marshall(r, { removeUndefinedValues: true }) })),
    ),
  );
});

afterAll(async () => {
  client?.destroy();
  await aws?.stop();
});

/** Runs the command in-process. makeDynamoClient leaves endpoints to the SDK, which reads process.env. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const ioEnv: Record<string, string> = { ...aws.env, TABLE_NAME: TABLE, ...env };
  const saved = new Map<string, string | undefined>();
  for (const [k, v] of Object.entries(ioEnv)) {
    saved.set(k, process.env[k]);
    process.env[k] = v;
  }
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        append(String(chunk));
        cb();
      },
    });
  try {
    const code = await main(['history', ...args], {
      stdout: sink((s) => (stdout += s)),
      stderr: sink((s) => (stderr += s)),
      env: ioEnv,
    });
    return { code, stdout, stderr };
  } finally {
    for (const [k, v] of saved) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  }
}

const jsonLines = (text: string): AuditRow[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as AuditRow);

const times = (rows: AuditRow[]) => rows.map((r) => r.eventKey.split('#')[0]);

async function collect(gen: AsyncGenerator<AuditRow>): Promise<AuditRow[]> {
  const out: AuditRow[] = [];
  for await (const r of gen) out.push(r);
  return out;
}

describe('ses-audit history', () => {
  it('prints an aligned table, newest first, with ok or the error code', async () => {
    const { code, stdout, stderr } = await cli(['example.com']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+ACTION\s+RESULT\s+WHO\s+ACCOUNT\s+REGION\s+ACTOR\s+SOURCE IP$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([
      '2026-11-21T08:30:00Z',
      '2026-11-20T10:00:00Z',
      '2026-11-20T09:00:00Z',
      '2026-11-19T07:00:00Z',
    ]);
    // Not a terminal: every value in full.
    expect(lines[3]).toMatch(/DeleteIdentity\s+AccessDenied\s+alice\s+111122223333\s+us-east-1\s+arn:aws:iam::111122223333:user\/alice\s+198\.51\.100\.1$/);
    expect(lines[2]).toMatch(/VerifyDomainIdentity\s+ok\s+ops-bot\s+111122223333\s+us-east-1\s+arn:aws:iam::111122223333:role\/Admin\s+/);
    // Aligned: each column starts at the same offset on every line.
    for (const col of ['ACTION', 'RESULT', 'WHO', 'ACCOUNT', 'REGION', 'ACTOR', 'SOURCE IP']) {
      const at = lines[0].indexOf(col);
      for (const l of lines.slice(1)) expect(l[at - 1]).toBe(' ');
      for (const l of lines.slice(1)) expect(l[at]).not.toBe(' ');
    }
  });

  it('--json prints the full rows, one per line, maps and JSON text as stored', async () => {
    const { code, stdout } = await cli(['example.com', '--json']);
    expect(code).toBe(0);
    const rows = jsonLines(stdout);
    const expected = MAIN.filter((r) => r.identity === 'example.com').sort((a, b) => (a.eventKey < b.eventKey ? 1 : -1));
    // The rows as stored, plus who made each call.
    const who = new Map([[USER, 'alice'], [ROLE, 'ops-bot']]);
    expect(rows).toEqual(expected.map((r) => ({ ...r, who: who.get(r.actor) })));
    expect(rows.find((r) => r.eventName === 'VerifyDomainIdentity')?.requestParameters).toEqual({ domain: 'Example.com' });
    expect(rows.find((r) => r.errorCode)?.requestParameters).toBe('{"identity":"example.com"}');
  });

  it('normalizes IDENTITY: domain case, identity ARN; email case is kept', async () => {
    for (const id of ['EXAMPLE.com', 'arn:aws:ses:us-east-1:111122223333:identity/Example.COM']) {
      expect(jsonLines((await cli([id, '--json'])).stdout)).toHaveLength(4);
    }
    expect(jsonLines((await cli(['User@hint.example', '--json'])).stdout)).toHaveLength(1);
    expect(normalizeIdentity('arn:aws:ses:eu-west-1:1:identity/a@B.com')).toBe('a@B.com');
    expect(normalizeIdentity('template/MyTemplate')).toBe('template/MyTemplate');
    expect(normalizeIdentity('account/111122223333')).toBe('account/111122223333');
    expect(normalizeIdentity('arn:aws:ses:us-east-1:1:configuration-set/Prod')).toBe('configuration-set/Prod');
  });

  it('--since/--until with dates include whole days, edges included', async () => {
    const r = await cli(['window.example', '--since', '2026-11-20', '--until', '2026-11-20', '--json']);
    expect(r.code).toBe(0);
    expect(times(jsonLines(r.stdout))).toEqual([
      '2026-11-20T23:59:59Z',
      '2026-11-20T12:00:01Z',
      '2026-11-20T12:00:00Z',
      '2026-11-20T00:00:00Z',
    ]);
    expect(times(jsonLines((await cli(['window.example', '--since', '2026-11-21', '--json'])).stdout))).toEqual([
      '2026-11-21T00:00:00Z',
    ]);
    expect(times(jsonLines((await cli(['window.example', '--until', '2026-11-19', '--json'])).stdout))).toEqual([
      '2026-11-19T23:59:59Z',
    ]);
  });

  it('--since/--until with times: inclusive seconds, offsets to UTC, milliseconds', async () => {
    const at = async (...args: string[]) => times(jsonLines((await cli(['window.example', '--json', ...args])).stdout));
    expect(await at('--since', '2026-11-20T12:00:00Z', '--until', '2026-11-20T12:00:00Z')).toEqual(['2026-11-20T12:00:00Z']);
    expect(await at('--since', '2026-11-20T14:00:00+02:00', '--until', '2026-11-20T07:00:01-05:00')).toEqual([
      '2026-11-20T12:00:01Z',
      '2026-11-20T12:00:00Z',
    ]);
    // .500 lies within 12:00:00, which CloudTrail logs as 12:00:00: that second is in.
    expect(await at('--since', '2026-11-20T12:00:00.500Z', '--until', '2026-11-20T12:00:01.999Z')).toEqual([
      '2026-11-20T12:00:01Z',
      '2026-11-20T12:00:00Z',
    ]);
    expect(await at('--until', '2026-11-20T00:00:00Z')).toEqual(['2026-11-20T00:00:00Z', '2026-11-19T23:59:59Z']);
  });

  it('keyRange: a day as --until covers it to its last second', () => {
    expect(keyRange({ utc: '2026-11-20T00:00:00Z', isDate: true }, { utc: '2026-11-20T00:00:00Z', isDate: true })).toEqual({
      from: '2026-11-20T00:00:00Z',
      to: '2026-11-20T23:59:59Z#\uffff',
      fromTime: '2026-11-20T00:00:00Z',
      toTime: '2026-11-20T23:59:59Z',
    });
    expect(keyRange(undefined, { utc: '2026-11-20T10:15:00Z', isDate: false })).toEqual({
      to: '2026-11-20T10:15:00Z#\uffff',
      toTime: '2026-11-20T10:15:00Z',
    });
  });

  it('--limit stops early and says there is more; the table pages through to the limit', async () => {
    const r = await cli(['paged.example', '--limit', '5', '--json']);
    expect(r.code).toBe(0);
    expect(times(jsonLines(r.stdout))).toEqual(
      ['29', '28', '27', '26', '25'].map((m) => `2026-11-20T10:${m}:00Z`),
    );
    expect(r.stderr).toMatch(/newest 5 rows shown/);
    expect((await cli(['paged.example', '--limit', '30', '--json'])).stderr).toBe('');
  });

  it('queryHistory follows LastEvaluatedKey across pages, with and without a filter', async () => {
    let queries = 0;
    const counting = new DynamoDBClient({
      endpoint: aws.dynamodbEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'x', secretAccessKey: 'x' },
    });
    counting.middlewareStack.add(
      (next) => async (args) => {
        queries++;
        return next(args);
      },
      { step: 'initialize' },
    );
    try {
      const all = await collect(queryHistory(counting, TABLE, { identity: 'paged.example', pageSize: 4 }));
      expect(all).toHaveLength(30);
      expect(queries).toBeGreaterThanOrEqual(8);
      expect(times(all)).toEqual([...times(all)].sort().reverse());

      queries = 0;
      const some = await collect(queryHistory(counting, TABLE, { identity: 'paged.example', pageSize: 7, limit: 25 }));
      expect(times(some)).toEqual(times(all).slice(0, 25));
      expect(queries).toBe(4);

      // A filter leaves pages empty; paging must go on until the partition ends.
      const filtered = await collect(queryHistory(counting, TABLE, { identity: 'paged.example', actor: USER, pageSize: 3 }));
      expect(times(filtered)).toEqual(['2026-11-20T10:20:00Z', '2026-11-20T10:10:00Z', '2026-11-20T10:00:00Z']);
    } finally {
      counting.destroy();
    }
  });

  it('pages past the 1 MB Query limit', async () => {
    const first = await client.send(
      new QueryCommand({
        TableName: TABLE,
        KeyConditionExpression: '#i = :i', // `identity` is a reserved word
        ExpressionAttributeNames: { '#i': 'identity' },
        ExpressionAttributeValues: { ':i': { S: 'big.example' } },
      }),
    );
    expect(first.LastEvaluatedKey).toBeDefined(); // the test means something only if one page is not enough
    const r = await cli(['big.example', '--json', '--limit', '100']);
    expect(r.code).toBe(0);
    expect(jsonLines(r.stdout)).toHaveLength(14);
    // The hint's count pages too, and says when it stopped early.
    expect(await countHistory(client, TABLE, { identity: 'big.example' })).toEqual({ count: 14, atLeast: false });
    const partial = await countHistory(client, TABLE, { identity: 'big.example' }, { maxPages: 1 });
    expect(partial.atLeast).toBe(true);
    expect(partial.count).toBeLessThan(14);
  });

  it('--actor alone uses byActor across identities, with an IDENTITY column', async () => {
    const r = await cli(['--actor', USER]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+IDENTITY\s+ACTION\s+RESULT\s+WHO\s+ACCOUNT\s+REGION\s+ACTOR\s+SOURCE IP$/);
    const rows = jsonLines((await cli(['--actor', USER, '--json', '--limit', '1000'])).stdout);
    expect(new Set(rows.map((x) => x.identity))).toEqual(new Set(['example.com', 'other.example', 'paged.example']));
    expect(rows.every((x) => x.actor === USER)).toBe(true);
    expect(times(rows)).toEqual([...times(rows)].sort().reverse());
  });

  it('--event alone uses byEventName; with --actor it filters', async () => {
    const rows = jsonLines((await cli(['--event', 'DeleteIdentity', '--json'])).stdout);
    expect(rows.map((x) => [x.identity, x.eventKey.slice(0, 20)])).toEqual([
      ['example.com', '2026-11-21T08:30:00Z'],
      ['other.example', '2026-11-20T11:00:00Z'],
      ['example.com', '2026-11-20T09:00:00Z'],
    ]);
    const both = jsonLines((await cli(['--event', 'DeleteIdentity', '--actor', USER, '--json'])).stdout);
    expect(both.map((x) => x.identity)).toEqual(['other.example', 'example.com']);
  });

  it('--actor and --event print from their index alone; their --json reads each row whole from the table', async () => {
    // The index holds only what the views print (src/store/schema.ts): the documents stay in the table.
    const entries = await client.send(
      new QueryCommand({
        TableName: TABLE,
        IndexName: 'byEventName',
        KeyConditionExpression: '#e = :e',
        ExpressionAttributeNames: { '#e': 'eventName' },
        ExpressionAttributeValues: { ':e': { S: 'DeleteIdentity' } },
      }),
    );
    expect(entries.Items?.length).toBe(3);
    for (const item of entries.Items ?? []) {
      expect(item).not.toHaveProperty('ingestedAt');
      expect(item).not.toHaveProperty('identities');
      expect(item).toHaveProperty('sourceIPAddress');
    }
    const table = await cli(['--event', 'DeleteIdentity']);
    expect(table.stdout.trimEnd().split('\n')[3]).toMatch(
      /^2026-11-20T09:00:00Z\s+example\.com\s+DeleteIdentity\s+AccessDenied\s+alice\s+111122223333\s+us-east-1\s+arn:aws:iam::111122223333:user\/alice\s+198\.51\.100\.1$/,
    );
    const deletes = MAIN.filter((r) => r.eventName === 'DeleteIdentity').sort((a, b) => (a.eventKey < b.eventKey ? 1 : -1));
    const who = new Map([[USER, 'alice'], [ROLE, 'ops-bot']]);
    expect(jsonLines((await cli(['--event', 'DeleteIdentity', '--json'])).stdout)).toEqual(deletes.map((r) => ({ ...r, who: who.get(r.actor) })));
    const byUser = jsonLines((await cli(['--actor', USER, '--event', 'DeleteIdentity', '--json'])).stdout);
    expect(byUser.find((r) => r.identity === 'example.com')).toMatchObject({ errorMessage: 'not allowed', requestParameters: '{"identity":"example.com"}' });
  });

  it('IDENTITY with --actor or --event queries the identity and filters', async () => {
    const byUser = jsonLines((await cli(['example.com', '--actor', USER, '--json'])).stdout);
    expect(byUser.map((x) => x.eventName)).toEqual(['DeleteIdentity']);
    const deletes = jsonLines((await cli(['example.com', '--event', 'DeleteIdentity', '--json'])).stdout);
    expect(times(deletes)).toEqual(['2026-11-21T08:30:00Z', '2026-11-20T09:00:00Z']);
  });

  it('says so plainly when nothing matched, exit 0', async () => {
    const r = await cli(['nobody.example']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'no audit rows for nobody.example\n' });
    const w = await cli(['example.com', '--since', '2026-11-22', '--until', '2026-11-23']);
    expect(w.code).toBe(0);
    expect(w.stderr).toBe('no audit rows for example.com between 2026-11-22T00:00:00Z and 2026-11-23T23:59:59Z\n');
  });

  it('points from an email without rows to its domain with rows', async () => {
    const r = await cli(['postmaster@hint.example']);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(
      'no rows for postmaster@hint.example; its domain hint.example has 2 rows: ses-audit history hint.example\n',
    );
    const w = await cli(['postmaster@hint.example', '--since', '2026-11-20T11:00:01Z']);
    expect(w.stderr).toBe(
      'no rows for postmaster@hint.example since 2026-11-20T11:00:01Z; its domain hint.example has 1 row: ' +
        'ses-audit history hint.example --since 2026-11-20T11:00:01Z\n',
    );
    expect((await cli(['someone@nobody.example'])).stderr).toBe('no audit rows for someone@nobody.example\n');
    // Another case of the same email is a better pointer than the domain.
    expect((await cli(['user@hint.example'])).stderr).toBe('no rows for user@hint.example; stored: User@hint.example (1 row)\n');
  });

  it('rejects a bad time or number as a usage error (exit 2, one line), before querying', async () => {
    for (const [flag, value] of [
      ['--since', 'last tuesday'],
      ['--until', '2026-13-01'],
      ['--since', '2026-11-20T10:15:00'],
      ['--limit', 'ten'],
      ['--limit', '0'],
    ]) {
      const r = await cli(['example.com', flag, value], { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' });
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(new RegExp(`^error: ${flag} "${value}": [^\\n]+ \\(ses-audit history --help\\)\\n$`));
    }
    const after = await cli(['example.com', '--since', '2026-11-21', '--until', '2026-11-20'], { AWS_ENDPOINT_URL_DYNAMODB: 'http://127.0.0.1:1' });
    expect(after).toMatchObject({ code: 2, stderr: 'error: --since 2026-11-21T00:00:00Z is after --until 2026-11-20T23:59:59Z (ses-audit history --help)\n' });
  });

  it('relative times: --since 7d and yesterday select by the clock', async () => {
    // The rows are from 2026; "the last 7 days" of today's clock has none of them, "yesterday" neither.
    const r = await cli(['example.com', '--since', '7d']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/^no audit rows for example\.com since \d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\n$/);
    const y = await cli(['example.com', '--since', 'yesterday', '--until', 'yesterday']);
    expect(y.stderr).toMatch(/^no audit rows for example\.com between \d{4}-\d{2}-\d{2}T00:00:00Z and \d{4}-\d{2}-\d{2}T23:59:59Z\n$/);
  });

  it('shows who made each call, from which account and region, in the table and in --json', async () => {
    const r = await cli(['who.example']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    const cells = (l: string) => l.split(/\s{2,}/);
    expect(lines.slice(1).map((l) => cells(l).slice(1, 6))).toEqual([
      ['GetIdentityVerificationAttributes', 'ok', 'ses.amazonaws.com', ACCT, 'us-east-1'],
      ['GetIdentityVerificationAttributes', 'ok', 'root', ACCT, 'us-east-1'],
      ['SetIdentityDkimEnabled', 'ok', 'ci-run-7', ACCT, 'us-east-1'],
      ['DeleteIdentityPolicy', 'ok', 'bob@corp.example', ACCT, 'us-east-1'],
      ['PutIdentityPolicy', 'ok', 'alice@corp.example', '444455556666', 'eu-west-1'],
    ]);
    const json = jsonLines((await cli(['who.example', '--json'])).stdout);
    expect(json.map((x) => (x as AuditRow & { who: string }).who)).toEqual(['ses.amazonaws.com', 'root', 'ci-run-7', 'bob@corp.example', 'alice@corp.example']);
    // The row's own attributes are unchanged.
    expect(json[4]).toMatchObject({ actor: SSO_ROLE, principalArn: `arn:aws:sts::${ACCT}:assumed-role/${SSO_ROLE_NAME}/alice@corp.example` });
  });

  it('--actor takes an IAM Identity Center session ARN and narrows to that session, across identities', async () => {
    const session = `arn:aws:sts::${ACCT}:assumed-role/${SSO_ROLE_NAME}/alice@corp.example`;
    const rows = jsonLines((await cli(['--actor', session, '--json'])).stdout);
    expect(rows.map((x) => [x.identity, x.eventName])).toEqual([
      ['other.example', 'VerifyDomainDkim'],
      ['who.example', 'PutIdentityPolicy'],
    ]);
    // The role ARN without its path finds the role (all its sessions); with the path, the same.
    const withoutPath = jsonLines((await cli(['--actor', `arn:aws:iam::${ACCT}:role/${SSO_ROLE_NAME}`, '--json'])).stdout);
    const withPath = jsonLines((await cli(['--actor', SSO_ROLE, '--json'])).stdout);
    expect(withoutPath.map((x) => x.eventName)).toEqual(['VerifyDomainDkim', 'DeleteIdentityPolicy', 'PutIdentityPolicy']);
    expect(withPath).toEqual(withoutPath);
    // The regional Identity Center path is found from the session ARN too.
    const regional = jsonLines((await cli(['--actor', `arn:aws:sts::${ACCT}:assumed-role/AWSReservedSSO_ReadOnly_aa11/dana@corp.example`, '--json'])).stdout);
    expect(regional.map((x) => x.identity)).toEqual(['regional.example']);
    // With IDENTITY the session filters that identity's rows.
    expect(jsonLines((await cli(['who.example', '--actor', session, '--json'])).stdout).map((x) => x.eventName)).toEqual(['PutIdentityPolicy']);
  });

  it('--actor with a role that has an IAM path: the role ARN finds it; its session ARN needs an IDENTITY', async () => {
    expect(jsonLines((await cli(['--actor', PATH_ROLE, '--json'])).stdout).map((x) => x.eventName)).toEqual(['SetIdentityDkimEnabled']);
    expect(jsonLines((await cli(['who.example', '--actor', PATH_SESSION, '--json'])).stdout).map((x) => x.eventName)).toEqual([
      'SetIdentityDkimEnabled',
    ]);
    const alone = await cli(['--actor', PATH_SESSION]);
    expect(alone.code).toBe(0);
    expect(alone.stderr).toBe(
      `no audit rows for actor ${PATH_SESSION} (if the role has an IAM path, give its role ARN: arn:aws:iam::ACCOUNT:role/PATH/ROLE)\n`,
    );
    // A session of a known role that made no calls: the role's other sessions are pointed at.
    const other = await cli(['--actor', `arn:aws:sts::${ACCT}:assumed-role/${SSO_ROLE_NAME}/carol@corp.example`]);
    expect(other.stderr).toBe(
      `no rows for actor arn:aws:sts::${ACCT}:assumed-role/${SSO_ROLE_NAME}/carol@corp.example; the role has 3 rows of other sessions: ` +
        `ses-audit history --actor ${SSO_ROLE}\n`,
    );
  });

  it('an email that differs only in case from stored ones says which exist, without a Scan', async () => {
    const r = await cli(['Alice@Case.example']);
    expect(r).toEqual({ code: 0, stdout: '', stderr: 'no rows for Alice@Case.example; stored: alice@case.example (3 rows)\n' });
    // A mixed case no usual spelling reaches is found through the domain's rows that named it.
    const mixed = await cli(['alice@mixed.example']);
    expect(mixed.stderr).toBe('no rows for alice@mixed.example; stored: aLiCe@mixed.example (1 row)\n');
    const windowed = await cli(['ALICE@case.example', '--since', '2026-11-20T10:01:00Z']);
    expect(windowed.stderr).toBe('no rows for ALICE@case.example since 2026-11-20T10:01:00Z; stored: alice@case.example (2 rows)\n');
  });

  it('reports a missing table and an unreachable DynamoDB as one line, exit 1', async () => {
    const missing = await cli(['example.com'], { TABLE_NAME: 'no-such-table' });
    expect(missing).toEqual({ code: 1, stdout: '', stderr: 'error: table no-such-table not found\n' });

    const port = await closedPort();
    const down = await cli(['example.com'], { AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${port}` });
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(new RegExp(`^error: cannot reach DynamoDB at http://127\\.0\\.0\\.1:${port}: [^\\n]*ECONNREFUSED[^\\n]*\\n$`));
  });

  it('--help, and usage errors with exit 2', async () => {
    const help = await cli(['--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: ses-audit history IDENTITY/);
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe('error: give an IDENTITY, or --actor ARN or --event NAME (ses-audit history --help)\n');
    const unknown = await cli(['example.com', '--bogus']);
    expect(unknown).toMatchObject({ code: 2, stderr: "error: unknown option '--bogus' (ses-audit history --help)\n" });
    const near = await cli(['example.com', '--jsn']);
    expect(near).toMatchObject({ code: 2, stderr: "error: unknown option '--jsn'; did you mean --json? (ses-audit history --help)\n" });
    const two = await cli(['a.example', 'b.example']);
    expect(two.code).toBe(2);
    expect(two.stderr).toMatch(/^error: too many arguments for 'history'[^\n]*\(ses-audit history --help\)\n$/);
  });
});

function closedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
