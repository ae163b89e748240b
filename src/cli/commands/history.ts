/**
 * `ses-audit history IDENTITY [--since T] [--until T] ...`: an identity's audit rows, newest first, with who
 * made each call (the person behind a role session), from which account and region.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../../aws.js';
import { ENV } from '../../config.js';
import { Ledger } from '../../store/ledger.js';
import { isVerified, trustOfSources, type FileTrust } from '../../trust.js';
import { InputError } from '../../errors.js';
import { actorQueryOf, whoOf } from '../../ses/actor.js';
import { identityFrom } from '../../ses/identity.js';
import type { AuditRow } from '../../ses/row.js';
import {
  caseVariantsOf,
  countHistory,
  hasRows,
  keyRange,
  lastSecond,
  queryHistory,
  type HistoryQuery,
  type KeyRange,
  type TimeBound,
} from '../../store/history.js';
import { DEFAULT_TABLE_NAME } from '../../store/schema.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, explain } from '../explain.js';
import { shellQuote, shortArn } from '../format.js';
import { write, type CliIO } from '../io.js';
import { integer, time } from '../parse.js';
import { renderTable, tableWidth, type Column } from '../table.js';

export const DEFAULT_HISTORY_LIMIT = 100;
const MAX_HISTORY_LIMIT = 1_000_000;

const HELP_AFTER = `
IDENTITY is a domain (example.com, any case), an email address (exact case), an identity ARN
(arn:aws:ses:REGION:ACCOUNT:identity/NAME) or a typed key (template/NAME, configuration-set/NAME,
account/123456789012, ...). Without IDENTITY, --actor or --event alone search every identity.

T is a date (2026-11-20: from its start, or as --until through its end, UTC), an ISO time with a zone
(2026-11-20T10:15:00Z, 2026-11-20T12:15:00+02:00), today, yesterday, or an age: 30m, 2h, 7d, 2w.

--actor takes any ARN CloudTrail shows for a caller: a role session
(arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION: that session's calls only), a role
(arn:aws:iam::ACCOUNT:role/PATH/ROLE), a user, root, or a service name (ses.amazonaws.com).

The table shows WHO made each call: the session name of a role session (for IAM Identity Center, the
user's sign-in), the user name of an IAM user, the service for AWS services, root for the root user.
On a terminal it fits the window (ARNs shortened, then columns dropped: SOURCE IP, ACTOR, REGION,
ACCOUNT); to a pipe or a file every column is printed in full (set COLUMNS to fit a width). --json
prints each row as stored, plus "who" (through --actor or --event: read again from the table, one
GetItem per row, since those indexes hold only what the table shows).

Environment: TABLE_NAME (default ${DEFAULT_TABLE_NAME}), AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's usual
credentials and region settings. Exit status 0 (also when nothing matched), 1 on errors, 2 on usage errors.`;

/**
 * What a user typed, as the table's partition key: an identity ARN to its bare name, other SES ARNs to a
 * typed key (`template/NAME`), a domain lower-cased, an email kept exactly, typed keys passed through.
 */
export function normalizeIdentity(input: string): string {
  const name = input.trim();
  // A typed key (template/NAME, account/ID) is already a partition key: resource names are case-sensitive.
  if (name.includes('/') && !name.startsWith('arn:')) return name;
  return identityFrom(name)?.key ?? name;
}

export interface HistoryOptions {
  identity?: string;
  /** Any caller ARN (or service name), as typed. */
  actor?: string;
  eventName?: string;
  since?: TimeBound;
  until?: TimeBound;
  limit: number;
  json: boolean;
  /** The flags as typed, for the commands suggested in hints. */
  flags: string[];
}

export const historyCommand: CommandFactory = ({ io }) =>
  new Command('history')
    .summary("an identity's audit history, newest first: who, from which account and region")
    .description("An identity's audit history from the DynamoDB table, newest first.")
    .usage('IDENTITY [options]\n       ses-audit history --actor ARN | --event NAME [options]')
    .argument('[identity]', 'a domain, an email address, an identity ARN or a typed key')
    .option('--since <time>', 'from T on (see T below)', time())
    .option('--until <time>', 'up to and including T', time())
    .option('--actor <arn>', 'only calls by this caller (without IDENTITY: every identity, index byActor)')
    .option('--event <name>', 'only this event name, e.g. DeleteIdentity (without IDENTITY: index byEventName)')
    .option('--limit <n>', `at most N rows (default ${DEFAULT_HISTORY_LIMIT})`, integer(1, MAX_HISTORY_LIMIT))
    .option('--json', 'one JSON object per line (the whole row, and "who") instead of a table')
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (identityArg, opts) => {
      const identity = identityArg === undefined ? undefined : normalizeIdentity(identityArg);
      if (identity === '') throw new UsageError('IDENTITY is empty');
      if (identity === undefined && opts.actor === undefined && opts.event === undefined) {
        throw new UsageError('give an IDENTITY, or --actor ARN or --event NAME');
      }
      if (opts.since && opts.until && opts.since.utc > lastSecond(opts.until)) {
        throw new UsageError(`--since ${opts.since.utc} is after --until ${lastSecond(opts.until)}`);
      }
      const flags: string[] = [];
      for (const [flag, value] of [['--actor', opts.actor], ['--event', opts.event]] as const) {
        if (value !== undefined) flags.push(flag, value);
      }
      if (opts.since) flags.push('--since', opts.since.utc);
      if (opts.until) flags.push('--until', lastSecond(opts.until));
      const env = awsEnv(io.env, opts);
      await runHistory(io, env, {
        identity,
        actor: opts.actor,
        eventName: opts.event,
        since: opts.since,
        until: opts.until,
        limit: opts.limit ?? DEFAULT_HISTORY_LIMIT,
        json: Boolean(opts.json),
        flags,
      });
    });

/** Queries and prints; throws InputError with one explained line when DynamoDB fails. */
export async function runHistory(io: CliIO, env: CliIO['env'], o: HistoryOptions): Promise<void> {
  const tableName = env.TABLE_NAME || DEFAULT_TABLE_NAME;
  const client = makeDynamoClient(env);
  const ledgerTable = env[ENV.ledgerTableName];
  const trust = ledgerTable ? new TrustCheck(new Ledger(client, ledgerTable), new Date()) : undefined;
  try {
    await printHistory(client, tableName, o, io, trust);
  } catch (err) {
    throw new InputError(explain(err, env, { tableName }), err);
  } finally {
    client.destroy();
  }
}

/** The query for the options: an actor ARN resolved to the `actor` key its rows carry (see actorQueryOf). */
async function resolveQuery(client: DynamoDBClient, tableName: string, o: HistoryOptions): Promise<HistoryQuery> {
  const q: HistoryQuery = {
    ...(o.identity !== undefined ? { identity: o.identity } : {}),
    ...(o.eventName !== undefined ? { eventName: o.eventName } : {}),
    ...(o.since ? { since: o.since } : {}),
    ...(o.until ? { until: o.until } : {}),
  };
  if (o.actor === undefined) return q;
  const { actors, principalArn } = actorQueryOf(o.actor.trim());
  // A session is its own filter; on an identity's partition the role key (whose path may be unknown) is not needed.
  if (principalArn !== undefined && o.identity !== undefined) return { ...q, principalArn };
  let actor = actors[0];
  if (actors.length > 1) {
    // One single-item Query per candidate, in parallel; the first candidate (in order) that has rows wins.
    const found = await Promise.all(
      actors.map((candidate) => hasRows(client, tableName, { actor: candidate })),
    );
    actor = actors[found.indexOf(true)] ?? actors[0];
  }
  return { ...q, actor, ...(principalArn !== undefined ? { principalArn } : {}) };
}

async function printHistory(client: DynamoDBClient, tableName: string, o: HistoryOptions, io: CliIO, trust?: TrustCheck): Promise<void> {
  // Without a region nothing can be asked: say so before the first request.
  await client.config.region();
  const query = await resolveQuery(client, tableName, o);
  const rows: AuditRow[] = [];
  let more = false;
  let pending: AuditRow[] = [];
  // JSON lines go out a page at a time, each row with its source file's trust when a ledger is kept.
  const flushJson = async () => {
    const marks = trust ? await trust.of(pending.map((r) => r.sourceObject)) : undefined;
    const text = pending.map((row) => JSON.stringify({ ...row, who: whoOf(row), ...verifiedFields(marks?.get(row.sourceObject)) })).join('\n');
    pending = [];
    if (text) await write(io.stdout, `${text}\n`);
  };
  // One row past the limit tells whether there is more to show.
  for await (const row of queryHistory(client, tableName, { ...query, limit: o.limit + 1, whole: o.json })) {
    if (rows.length === o.limit) {
      more = true;
      break;
    }
    rows.push(row);
    if (o.json) {
      pending.push(row);
      if (pending.length >= JSON_PAGE) await flushJson();
    }
  }
  if (o.json) await flushJson();
  if (rows.length === 0) {
    io.stderr.write((await nothingMatched(client, tableName, o, query)) + '\n');
    return;
  }
  if (!o.json) {
    const marks = trust ? await trust.of(rows.map((r) => r.sourceObject)) : undefined;
    await write(io.stdout, formatHistory(rows, { withIdentity: o.identity === undefined, width: tableWidth(io.columns, io.env), marks }));
    if (marks && [...marks.values()].some((m) => !isVerified(m))) {
      io.stderr.write('(VERIFIED no: the row came from a log file no valid CloudTrail digest vouches for; see ses-audit verify)\n');
    }
  }
  if (trust?.unavailable) io.stderr.write(`(${trust.unavailable})\n`);
  if (more) io.stderr.write(`(newest ${o.limit === 1 ? 'row' : `${o.limit} rows`} shown; more with --limit N)\n`);
}

const JSON_PAGE = 100;

/** `"verified"` and `"trust"` for --json, when the ledger was read. */
function verifiedFields(mark: FileTrust | undefined): { verified?: boolean; trust?: FileTrust } {
  return mark === undefined ? {} : { verified: isVerified(mark), trust: mark };
}

/** Whether each row's source file can be trusted, from the ledger (LEDGER_TABLE_NAME); cached per file. */
export class TrustCheck {
  private readonly cache = new Map<string, FileTrust>();
  /** Set when the ledger could not be read: rows are then shown unmarked, with this note. */
  unavailable?: string;

  constructor(
    private readonly ledger: Ledger,
    private readonly now: Date,
  ) {}

  async of(sources: string[]): Promise<Map<string, FileTrust> | undefined> {
    if (this.unavailable) return undefined;
    const todo = [...new Set(sources)].filter((s) => !this.cache.has(s));
    try {
      for (const [uri, t] of await trustOfSources(this.ledger, todo, this.now)) this.cache.set(uri, t);
    } catch (err) {
      const name = err instanceof Error ? err.name : '';
      if (name !== 'ResourceNotFoundException') throw err;
      this.unavailable = `ledger table ${this.ledger.tableName} not found: rows not checked against CloudTrail's digests`;
      return undefined;
    }
    return this.cache;
  }
}

/** `no audit rows for X [...]`, or a pointer to where the rows are: another case of the email, its domain. */
async function nothingMatched(client: DynamoDBClient, tableName: string, o: HistoryOptions, q: HistoryQuery): Promise<string> {
  const { identity, actor: actorArg, eventName } = o;
  const subject = identity ?? (actorArg !== undefined ? `actor ${actorArg}` : `event ${eventName}`);
  const filters = [
    identity !== undefined && actorArg !== undefined ? `by ${actorArg}` : '',
    (identity !== undefined || actorArg !== undefined) && eventName !== undefined ? `for ${eventName}` : '',
  ].filter(Boolean);
  const what = [subject, ...filters, describeWindow(keyRange(o.since, o.until))].filter(Boolean).join(' ');
  const rowsText = (n: number, atLeast: boolean) => `${atLeast ? 'at least ' : ''}${n} row${n === 1 ? '' : 's'}`;

  const at = identity?.lastIndexOf('@') ?? -1;
  if (identity !== undefined && at > 0 && at < identity.length - 1) {
    const variants = await caseVariantsOf(client, tableName, identity, q);
    if (variants.length > 0) {
      return `no rows for ${what}; stored: ${variants.map((v) => `${v.identity} (${rowsText(v.count, v.atLeast)})`).join(', ')}`;
    }
    const domain = identity.slice(at + 1).toLowerCase();
    const { count, atLeast } = await countHistory(client, tableName, { ...q, identity: domain });
    if (count > 0) {
      const command = ['ses-audit', 'history', domain, ...o.flags].map(shellQuote).join(' ');
      return `no rows for ${what}; its domain ${domain} has ${rowsText(count, atLeast)}: ${command}`;
    }
  }
  if (q.principalArn !== undefined && q.actor !== undefined && identity === undefined) {
    const { count, atLeast } = await countHistory(client, tableName, { ...q, principalArn: undefined });
    if (count > 0) {
      const command = ['ses-audit', 'history', '--actor', q.actor].map(shellQuote).join(' ');
      return `no rows for ${what}; the role has ${rowsText(count, atLeast)} of other sessions: ${command}`;
    }
    return `no audit rows for ${what} (if the role has an IAM path, give its role ARN: arn:aws:iam::ACCOUNT:role/PATH/ROLE)`;
  }
  return `no audit rows for ${what}`;
}

/** `yes`, or `no` and why: the source file's trust as one short word. */
function verifiedText(mark: FileTrust | undefined): string {
  if (mark === undefined || mark === 'unknown') return 'no (unknown)';
  return mark === 'attested' ? 'yes' : `no (${mark})`;
}

function describeWindow(range: KeyRange): string {
  if (range.fromTime && range.toTime) return `between ${range.fromTime} and ${range.toTime}`;
  if (range.fromTime) return `since ${range.fromTime}`;
  if (range.toTime) return `until ${range.toTime}`;
  return '';
}

/**
 * The history table. TIME, ACTION, RESULT and WHO stay at any width (at 80 columns and more whole, except
 * very long values); ACCOUNT, REGION, ACTOR (the role or user ARN, shortened to `role/NAME` within its own
 * account) and SOURCE IP follow as the width allows.
 */
export function formatHistory(rows: AuditRow[], o: { withIdentity: boolean; width?: number; marks?: Map<string, FileTrust> }): string {
  const marks = o.marks;
  const columns: Column<AuditRow>[] = [
    { header: 'TIME', value: (r) => r.eventKey.split('#')[0] || r.eventTime },
    ...(marks ? [{ header: 'VERIFIED', value: (r: AuditRow) => verifiedText(marks.get(r.sourceObject)), soft: 14, min: 3 }] : []),
    ...(o.withIdentity ? [{ header: 'IDENTITY', value: (r: AuditRow) => r.identity, soft: 24, min: 12, ellipsis: 'middle' as const }] : []),
    { header: 'ACTION', value: (r) => r.eventName, soft: 24, min: 12 },
    { header: 'RESULT', value: (r) => r.errorCode ?? 'ok', soft: 12, min: 8 },
    { header: 'WHO', value: (r) => whoOf(r), soft: 20, min: 10, ellipsis: 'middle' },
    { header: 'ACCOUNT', value: (r) => r.accountId ?? '-', drop: 4 },
    { header: 'REGION', value: (r) => r.awsRegion ?? '-', drop: 3 },
    { header: 'ACTOR', value: (r) => r.actor, short: (r) => shortArn(r.actor, r.accountId), soft: 20, ellipsis: 'middle', drop: 2 },
    { header: 'SOURCE IP', value: (r) => r.sourceIPAddress ?? '-', drop: 1 },
  ];
  return renderTable(columns, rows, o.width);
}
