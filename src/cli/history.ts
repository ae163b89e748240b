/** `ses-audit history IDENTITY [--since T] [--until T] ...`: an identity's audit rows, newest first. */
import { once } from 'node:events';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient } from '../aws.js';
import { identityFrom } from '../ses/identity.js';
import { InputError, oneLine, reasonOf } from '../errors.js';
import { countHistory, keyRange, queryHistory, type HistoryQuery, type KeyRange } from '../store/history.js';
import { DEFAULT_TABLE_NAME } from '../store/schema.js';
import { dynamoProblem } from '../store/table.js';
import type { AuditRow } from '../ses/row.js';
import { UsageError, parseCommandArgs, usageFailure, type CliIO, type Command } from './io.js';

export const DEFAULT_HISTORY_LIMIT = 100;

export const HISTORY_HELP = `Usage: ses-audit history IDENTITY [options]
       ses-audit history --actor ARN | --event NAME [options]

An identity's audit history from the DynamoDB table, newest first.
IDENTITY is a domain (example.com, any case), an email address (exact case), an identity ARN
(arn:aws:ses:REGION:ACCOUNT:identity/NAME) or a typed key (template/NAME, configuration-set/NAME,
account/123456789012, ...).

Options:
  --since T        from T on; T is a date (2026-11-20, from its start, UTC) or an ISO time with a zone
                   (2026-11-20T10:15:00Z, 2026-11-20T12:15:00+02:00)
  --until T        up to and including T (a date: through the end of that day, UTC)
  --actor ARN      only calls by this actor (without IDENTITY: every identity, index byActor)
  --event NAME     only this event name, e.g. DeleteIdentity (without IDENTITY: index byEventName)
  --limit N        at most N rows (default ${DEFAULT_HISTORY_LIMIT})
  --json           one JSON object per line (the whole row) instead of a table
  -h, --help       show this help

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

export const historyCommand: Command = async (args, io) => {
  let client: DynamoDBClient | undefined;
  try {
    const opts = parseOptions(args);
    if (opts === 'help') {
      io.stdout.write(HISTORY_HELP + '\n');
      return 0;
    }
    const tableName = io.env.TABLE_NAME || DEFAULT_TABLE_NAME;
    client = makeDynamoClient(io.env);
    try {
      await run(client, tableName, opts, io);
    } catch (err) {
      throw new InputError(explainAwsError(err, tableName, io.env), err);
    }
    return 0;
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, 'history', err);
    io.stderr.write(`error: ${reasonOf(err)}\n`);
    return 1;
  } finally {
    client?.destroy();
  }
};

interface Options {
  query: HistoryQuery;
  range: KeyRange;
  limit: number;
  json: boolean;
  /** The flags as typed, for the command suggested in hints. */
  flags: string[];
}

function parseOptions(args: string[]): Options | 'help' {
  const parsed = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      since: { type: 'string' },
      until: { type: 'string' },
      limit: { type: 'string' },
      json: { type: 'boolean' },
      actor: { type: 'string' },
      event: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const { values, positionals } = parsed;
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`one IDENTITY at a time (got ${positionals.length})`);
  const identity = positionals[0] === undefined ? undefined : normalizeIdentity(positionals[0]);
  if (identity === '') throw new UsageError('IDENTITY is empty');
  if (identity === undefined && values.actor === undefined && values.event === undefined) {
    throw new UsageError('give an IDENTITY, or --actor ARN or --event NAME');
  }
  let limit = DEFAULT_HISTORY_LIMIT;
  if (values.limit !== undefined) {
    if (!/^\d+$/.test(values.limit) || Number(values.limit) < 1 || !Number.isSafeInteger(Number(values.limit))) {
      throw new InputError(`--limit ${JSON.stringify(values.limit)}: expected a whole number of 1 or more`);
    }
    limit = Number(values.limit);
  }
  const query: HistoryQuery = {
    ...(identity !== undefined ? { identity } : {}),
    ...(values.actor !== undefined ? { actor: values.actor } : {}),
    ...(values.event !== undefined ? { eventName: values.event } : {}),
    ...(values.since !== undefined ? { since: values.since } : {}),
    ...(values.until !== undefined ? { until: values.until } : {}),
  };
  const flags: string[] = [];
  for (const name of ['since', 'until', 'actor', 'event'] as const) {
    if (values[name] !== undefined) flags.push(`--${name}`, values[name]);
  }
  // Validates the dates before anything is sent.
  const range = keyRange(query.since, query.until);
  return { query, range, limit, json: Boolean(values.json), flags };
}

async function run(client: DynamoDBClient, tableName: string, opts: Options, io: CliIO): Promise<void> {
  const rows: AuditRow[] = [];
  let more = false;
  // One row past the limit tells whether there is more to show.
  for await (const row of queryHistory(client, tableName, { ...opts.query, limit: opts.limit + 1 })) {
    if (rows.length === opts.limit) {
      more = true;
      break;
    }
    rows.push(row);
    if (opts.json) await write(io.stdout, JSON.stringify(row) + '\n');
  }

  if (rows.length === 0) {
    io.stderr.write((await nothingMatched(client, tableName, opts)) + '\n');
    return;
  }
  if (!opts.json) await write(io.stdout, formatTable(rows, opts.query.identity === undefined));
  if (more) {
    io.stderr.write(`(newest ${opts.limit} rows shown; more with --limit N)\n`);
  }
}

/** `no audit rows for X [between A and B]`, or the email-to-domain hint when the domain has rows. */
async function nothingMatched(client: DynamoDBClient, tableName: string, opts: Options): Promise<string> {
  const { identity, actor, eventName } = opts.query;
  const subject =
    identity ?? (actor !== undefined ? `actor ${actor}` : `event ${eventName}`);
  const filters = [
    identity !== undefined && actor !== undefined ? `by ${actor}` : '',
    (identity !== undefined || actor !== undefined) && eventName !== undefined ? `for ${eventName}` : '',
  ].filter(Boolean);
  const window = describeWindow(opts.range);
  const what = [subject, ...filters, window].filter(Boolean).join(' ');

  const at = identity?.lastIndexOf('@') ?? -1;
  if (identity !== undefined && at > 0 && at < identity.length - 1) {
    const domain = identity.slice(at + 1).toLowerCase();
    const { count: n, atLeast } = await countHistory(client, tableName, { ...opts.query, identity: domain });
    if (n > 0) {
      const count = `${atLeast ? 'at least ' : ''}${n} row${n === 1 ? '' : 's'}`;
      const command = ['ses-audit', 'history', domain, ...opts.flags].map(shellQuote).join(' ');
      return `no rows for ${what}; its domain ${domain} has ${count}: ${command}`;
    }
  }
  return `no audit rows for ${what}`;
}

function describeWindow(range: KeyRange): string {
  if (range.fromTime && range.toTime) return `between ${range.fromTime} and ${range.toTime}`;
  if (range.fromTime) return `since ${range.fromTime}`;
  if (range.toTime) return `until ${range.toTime}`;
  return '';
}

/** Aligned columns; values come from logs (user agents, error codes), so control characters are escaped. */
export function formatTable(rows: AuditRow[], withIdentity: boolean): string {
  const header = ['TIME', ...(withIdentity ? ['IDENTITY'] : []), 'ACTION', 'RESULT', 'ACTOR', 'SOURCE IP'];
  const lines = [
    header,
    ...rows.map((r) => [
      r.eventKey.split('#')[0] || r.eventTime,
      ...(withIdentity ? [r.identity] : []),
      r.eventName,
      r.errorCode ?? 'ok',
      r.actor,
      r.sourceIPAddress ?? '-',
    ].map((v) => printable(v ?? '-'))),
  ];
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  return lines
    .map((l) => l.map((v, i) => (i === l.length - 1 ? v : v.padEnd(widths[i]))).join('  ').trimEnd() + '\n')
    .join('');
}

function printable(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? '-';
  // C0/C1 controls and bidi overrides could rewrite the terminal or disguise a value.
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/** DynamoDB's and the network's errors, as one line an operator can act on. */
function explainAwsError(err: unknown, tableName: string, env: CliIO['env']): string {
  const problem = dynamoProblem(err, tableName, env);
  if (problem) return problem;
  if (err instanceof Error && err.name === 'ValidationException' && /index/i.test(reasonOf(err))) {
    return `table ${tableName}: ${reasonOf(err)}`;
  }
  return reasonOf(err);
}
