/**
 * Reading the audit table back: one identity's (or one actor's, or one event name's) rows, newest first,
 * optionally within a time window. Used by `ses-audit history`.
 */
import { QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AuditRow } from '../ses/row.js';
import { InputError } from '../errors.js';
import { INDEXES, PARTITION_KEY, SORT_KEY } from './schema.js';

export interface HistoryQuery {
  /** Partition key, exactly as stored (the caller normalizes what a user typed). */
  identity?: string;
  actor?: string;
  eventName?: string;
  /** Inclusive lower bound: a date (`2026-11-20`) or an ISO time with zone (`2026-11-20T10:15:00Z`). */
  since?: string;
  /** Inclusive upper bound: a date means through the end of that day, a time through the end of that second. */
  until?: string;
  /** Stop after this many rows. Default: all. */
  limit?: number;
  /** DynamoDB's per-request Limit (items evaluated per page); tests use it to force paging. */
  pageSize?: number;
}

/** A time bound as given, resolved to UTC at second precision, the precision of `eventTime`. */
export interface TimeBound {
  /** `YYYY-MM-DDTHH:MM:SSZ` */
  utc: string;
  /** Whole day given (no time of day). */
  isDate: boolean;
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/**
 * Parses `--since`/`--until`: `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS[.fff]]` with `Z` or an offset
 * (converted to UTC). Sub-second digits are dropped: CloudTrail times have whole seconds, and the bounds
 * are inclusive of the second they fall in. Throws InputError with a one-line reason for anything else.
 */
export function parseTimeBound(value: string, which: 'since' | 'until'): TimeBound {
  const bad = (why: string): InputError =>
    new InputError(`--${which} ${JSON.stringify(value)}: ${why}`);
  const date = DATE_RE.exec(value);
  if (date) {
    const [, y, mo, d] = date;
    const ms = Date.UTC(+y, +mo - 1, +d);
    if (!sameFields(ms, +y, +mo, +d, 0, 0, 0)) throw bad('no such date');
    return { utc: `${y}-${mo}-${d}T00:00:00Z`, isDate: true };
  }
  const time = TIME_RE.exec(value);
  if (!time) {
    const hint = /^\d{4}-\d{2}-\d{2}[Tt][\d:.]+$/.test(value) ? 'add a time zone (Z or +HH:MM)' : 'expected YYYY-MM-DD or an ISO time like 2026-11-20T10:15:00Z';
    throw bad(hint);
  }
  const [, y, mo, d, h, mi, s = '00', , z, sign, oh, om] = time;
  const local = Date.UTC(+y, +mo - 1, +d, +h, +mi, +s);
  if (!sameFields(local, +y, +mo, +d, +h, +mi, +s)) throw bad('no such date or time');
  let offsetMinutes = 0;
  if (!z) {
    if (+oh > 23 || +om > 59) throw bad('bad time zone offset');
    offsetMinutes = (sign === '-' ? -1 : 1) * (+oh * 60 + +om);
  }
  const utc = new Date(local - offsetMinutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return { utc, isDate: false };
}

function sameFields(ms: number, y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  const t = new Date(ms);
  return (
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  );
}

/** The sort-key range for a window: `[since, until]` as `eventKey` strings, either end open. */
export interface KeyRange {
  from?: string;
  to?: string;
  /** The same bounds for messages: `2026-11-20T00:00:00Z`, `2026-11-20T23:59:59Z`. */
  fromTime?: string;
  toTime?: string;
}

/** Turns since/until into eventKey bounds; throws InputError for bad values or an empty window. */
export function keyRange(since?: string, until?: string): KeyRange {
  const range: KeyRange = {};
  if (since !== undefined) {
    const b = parseTimeBound(since, 'since');
    // eventKey is `TIME#ID`, so the bare TIME sorts before every key of that second.
    range.from = b.utc;
    range.fromTime = b.utc;
  }
  if (until !== undefined) {
    const b = parseTimeBound(until, 'until');
    const last = b.isDate ? b.utc.replace('T00:00:00Z', 'T23:59:59Z') : b.utc;
    // Every event ID of the last second: IDs are ASCII, all below U+FFFF.
    range.to = `${last}#\uffff`;
    range.toTime = last;
  }
  if (range.fromTime && range.toTime && range.fromTime > range.toTime) {
    throw new InputError(`--since ${since} is after --until ${until}`);
  }
  return range;
}

/** The Query input for page one (without Limit and ExclusiveStartKey). */
export function buildQuery(tableName: string, q: HistoryQuery, range: KeyRange = keyRange(q.since, q.until)): QueryCommandInput {
  let partition: { attribute: string; value: string; index?: string };
  const filters: { attribute: string; value: string }[] = [];
  if (q.identity !== undefined) {
    partition = { attribute: PARTITION_KEY, value: q.identity };
    if (q.actor !== undefined) filters.push({ attribute: INDEXES.byActor.partitionKey, value: q.actor });
    if (q.eventName !== undefined) filters.push({ attribute: INDEXES.byEventName.partitionKey, value: q.eventName });
  } else if (q.actor !== undefined) {
    partition = { attribute: INDEXES.byActor.partitionKey, value: q.actor, index: INDEXES.byActor.name };
    if (q.eventName !== undefined) filters.push({ attribute: INDEXES.byEventName.partitionKey, value: q.eventName });
  } else if (q.eventName !== undefined) {
    partition = { attribute: INDEXES.byEventName.partitionKey, value: q.eventName, index: INDEXES.byEventName.name };
  } else {
    throw new InputError('give an identity, an actor or an event name');
  }

  const names: Record<string, string> = { '#pk': partition.attribute };
  const values: Record<string, AttributeValue> = { ':pk': { S: partition.value } };
  let condition = '#pk = :pk';
  if (range.from !== undefined || range.to !== undefined) {
    names['#sk'] = SORT_KEY;
    if (range.from !== undefined) values[':from'] = { S: range.from };
    if (range.to !== undefined) values[':to'] = { S: range.to };
    condition +=
      range.from !== undefined && range.to !== undefined
        ? ' AND #sk BETWEEN :from AND :to'
        : range.from !== undefined
          ? ' AND #sk >= :from'
          : ' AND #sk <= :to';
  }
  const filterParts = filters.map((f, i) => {
    names[`#f${i}`] = f.attribute;
    values[`:f${i}`] = { S: f.value };
    return `#f${i} = :f${i}`;
  });
  return {
    TableName: tableName,
    ...(partition.index ? { IndexName: partition.index } : {}),
    KeyConditionExpression: condition,
    ...(filterParts.length > 0 ? { FilterExpression: filterParts.join(' AND ') } : {}),
    ExpressionAttributeNames: names,
    ExpressionAttributeValues: values,
    ScanIndexForward: false,
  };
}

/**
 * The matching rows, newest first, paging through the table until `limit`. Bad input (dates, no key)
 * throws at once, before any request; DynamoDB errors surface from the iteration.
 */
export function queryHistory(client: DynamoDBClient, tableName: string, q: HistoryQuery): AsyncGenerator<AuditRow> {
  const input = buildQuery(tableName, q);
  const limit = q.limit ?? Infinity;
  if (!(limit >= 0)) throw new InputError(`limit must be a number of 0 or more, not ${q.limit}`);
  // Without a filter every item evaluated is returned, so a page never needs more than what is left.
  const filtered = input.FilterExpression !== undefined;
  return (async function* rows() {
    let yielded = 0;
    let startKey: Record<string, AttributeValue> | undefined;
    while (yielded < limit) {
      const caps = [q.pageSize, filtered ? undefined : limit - yielded].filter(
        (n): n is number => n !== undefined && Number.isFinite(n),
      );
      const page = await client.send(
        new QueryCommand({
          ...input,
          ...(caps.length > 0 ? { Limit: Math.max(1, Math.min(...caps)) } : {}),
          ...(startKey ? { ExclusiveStartKey: startKey } : {}),
        }),
      );
      for (const item of page.Items ?? []) {
        if (yielded >= limit) return;
        yielded++;
        yield toRow(item);
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) return;
    }
  })();
}

/**
 * How many rows match, for hints: stops at `cap` matches or after `maxPages` pages (a filtered query
 * on a busy partition would otherwise read all of it), and then says the count is a lower bound.
 */
export async function countHistory(
  client: DynamoDBClient,
  tableName: string,
  q: HistoryQuery,
  { cap = 1000, maxPages = 20 }: { cap?: number; maxPages?: number } = {},
): Promise<{ count: number; atLeast: boolean }> {
  const input = buildQuery(tableName, q);
  let count = 0;
  let pages = 0;
  let startKey: Record<string, AttributeValue> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({ ...input, Select: 'COUNT', ...(startKey ? { ExclusiveStartKey: startKey } : {}) }),
    );
    count += page.Count ?? 0;
    pages++;
    startKey = page.LastEvaluatedKey;
  } while (startKey && count < cap && pages < maxPages);
  return { count, atLeast: startKey !== undefined };
}

/**
 * An item as an AuditRow. Numbers beyond 2^53 stay strings (exact, and printable as JSON); sets become
 * arrays so that they print. requestParameters & co. are left as stored: a map or JSON text.
 */
export function toRow(item: Record<string, AttributeValue>): AuditRow {
  const native = unmarshall(item, {
    wrapNumbers: (text: string) => {
      const n = Number(text);
      return /^-?\d+$/.test(text) && !Number.isSafeInteger(n) ? text : n;
    },
  });
  return plain(native) as AuditRow;
}

function plain(value: unknown): unknown {
  if (value instanceof Set) return [...value].map(plain);
  if (value instanceof Uint8Array) return Buffer.from(value).toString('base64');
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}
