/**
 * Reading the audit table back: one identity's (or one actor's, one event name's, one severity's) rows,
 * newest first, optionally within a time window. Used by `ses-audit history`, `show` and `findings`.
 */
import { GetItemCommand, QueryCommand, type AttributeValue, type DynamoDBClient, type QueryCommandInput } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { SEVERITIES, type AuditRow, type Severity } from '../ses/row.js';
import { InputError } from '../errors.js';
import { INDEXES, PARTITION_KEY, SORT_KEY, projectsAll, type IndexSpec } from './schema.js';

/** The row attribute that holds the caller's own ARN (for a role: the session's). */
const PRINCIPAL_ARN = 'principalArn' satisfies keyof AuditRow;
/** The row attribute that lists every identity key of the event. */
const IDENTITIES = 'identities' satisfies keyof AuditRow;

export interface HistoryQuery {
  /** Partition key, exactly as stored (the caller normalizes what a user typed). */
  identity?: string;
  actor?: string;
  /** Only rows whose `principalArn` is this (an assumed-role session ARN narrows a role to one session). */
  principalArn?: string;
  eventName?: string;
  /** Rows with findings of this severity (index bySeverity). */
  severity?: Severity;
  /** Inclusive lower bound. */
  since?: TimeBound;
  /** Inclusive upper bound: a whole day through its end, a time through the end of that second. */
  until?: TimeBound;
  /** Stop after this many rows. Default: all. */
  limit?: number;
  /** DynamoDB's per-request Limit (items evaluated per page); tests use it to force paging. */
  pageSize?: number;
  /**
   * Whole rows even through an index that projects only some attributes: each row read from the index is
   * then read again from the table (`fullItems`). For output that promises the row as stored (`--json`).
   */
  whole?: boolean;
}

/** A time bound resolved to UTC at second precision, the precision of `eventTime`. */
export interface TimeBound {
  /** `YYYY-MM-DDTHH:MM:SSZ` */
  utc: string;
  /** A whole day was given (no time of day): as an upper bound it covers the whole day. */
  isDate: boolean;
}

/** The last second a bound covers: the end of the day for a whole day, else the second itself. */
export function lastSecond(bound: TimeBound): string {
  return bound.isDate ? bound.utc.replace('T00:00:00Z', 'T23:59:59Z') : bound.utc;
}

/** The sort-key range for a window: `[since, until]` as `eventKey` strings, either end open. */
export interface KeyRange {
  from?: string;
  to?: string;
  /** The same bounds for messages: `2026-11-20T00:00:00Z`, `2026-11-20T23:59:59Z`. */
  fromTime?: string;
  toTime?: string;
}

/** Turns since/until into eventKey bounds (an empty window, since after until, simply matches nothing). */
export function keyRange(since?: TimeBound, until?: TimeBound): KeyRange {
  const range: KeyRange = {};
  if (since !== undefined) {
    // eventKey is `TIME#ID`, so the bare TIME sorts before every key of that second.
    range.from = since.utc;
    range.fromTime = since.utc;
  }
  if (until !== undefined) {
    const last = lastSecond(until);
    // Every event ID of the last second: IDs are ASCII, all below U+FFFF.
    range.to = `${last}#\uffff`;
    range.toTime = last;
  }
  return range;
}

/**
 * Where a query reads: the table for an identity, else the index of the first of actor, event name and
 * severity it names (the others become filters). Undefined when it names none of them.
 */
export function readFrom(q: HistoryQuery): { index?: IndexSpec } | undefined {
  if (q.identity !== undefined) return {};
  if (q.actor !== undefined) return { index: INDEXES.byActor };
  if (q.eventName !== undefined) return { index: INDEXES.byEventName };
  if (q.severity !== undefined) return { index: INDEXES.bySeverity };
  return undefined;
}

/** The Query input for page one (without Limit and ExclusiveStartKey). */
export function buildQuery(tableName: string, q: HistoryQuery, range: KeyRange = keyRange(q.since, q.until)): QueryCommandInput {
  const source = readFrom(q);
  if (source === undefined) throw new InputError('give an identity, an actor, an event name or a severity');
  const index = source.index;
  const keys: Record<string, string | undefined> = {
    [PARTITION_KEY]: q.identity,
    [INDEXES.byActor.partitionKey]: q.actor,
    [INDEXES.byEventName.partitionKey]: q.eventName,
    [INDEXES.bySeverity.partitionKey]: q.severity,
  };
  const partitionKey = index?.partitionKey ?? PARTITION_KEY;
  const partition = { attribute: partitionKey, value: keys[partitionKey] ?? '', index: index?.name };
  // Of actor and event name, the one that is not the partition is a filter (severity is never combined).
  const filters: { attribute: string; value: string }[] = [];
  for (const attribute of [INDEXES.byActor.partitionKey, INDEXES.byEventName.partitionKey]) {
    const value = keys[attribute];
    if (attribute !== partitionKey && value !== undefined) filters.push({ attribute, value });
  }
  if (q.principalArn !== undefined) filters.push({ attribute: PRINCIPAL_ARN, value: q.principalArn });

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
  const index = readFrom(q)?.index;
  const whole = q.whole === true && index !== undefined && !projectsAll(index);
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
      const items = page.Items ?? [];
      const rows = (whole ? await fullItems(client, tableName, items.slice(0, limit - yielded)) : items).map(toRow);
      for (const row of rows) {
        if (yielded >= limit) return;
        yielded++;
        yield row;
      }
      startKey = page.LastEvaluatedKey;
      if (!startKey) return;
    }
  })();
}

/** GetItem calls in flight at once when index entries are completed from the table. */
const FULL_ROW_CONCURRENCY = 16;

/**
 * The table's items for entries read from an index that projects only some attributes, in the same order:
 * one GetItem each (the read-only policy the stack gives people allows Query and GetItem, not BatchGetItem;
 * an eventually consistent read of a row under 4 KB is half a read unit). An entry whose item is gone
 * meanwhile (expired, deleted) is kept as the index had it.
 */
export async function fullItems(
  client: DynamoDBClient,
  tableName: string,
  entries: Record<string, AttributeValue>[],
): Promise<Record<string, AttributeValue>[]> {
  const out = [...entries];
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < entries.length) {
      const i = next++;
      const entry = entries[i];
      const key = { [PARTITION_KEY]: entry[PARTITION_KEY], [SORT_KEY]: entry[SORT_KEY] };
      const res = await client.send(new GetItemCommand({ TableName: tableName, Key: key }));
      if (res.Item) out[i] = res.Item;
    }
  };
  await Promise.all(Array.from({ length: Math.min(FULL_ROW_CONCURRENCY, entries.length) }, worker));
  return out;
}

/** Whether any row matches (one item read when the query has no filter). */
export async function hasRows(client: DynamoDBClient, tableName: string, q: HistoryQuery): Promise<boolean> {
  for await (const _row of queryHistory(client, tableName, { ...q, limit: 1 })) return true;
  return false;
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
  // A boundary: the items of this table are rows this product wrote (src/store/marshal.ts).
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

/** A stored partition and how many rows of the query it has. */
export interface StoredVariant {
  identity: string;
  count: number;
  atLeast: boolean;
}

/**
 * Email identities stored in another case than `email` (SES keeps an email identity's case, so
 * `Alice@Example.com` and `alice@example.com` are two partitions), found without a Scan:
 * - the usual spellings: the local part as typed, lower-case, upper-case and capitalized, each with the
 *   domain as typed, lower-case and upper-case (one Query each, at most a dozen);
 * - and every email the domain's own rows name in `identities` (a call that named the domain and the email
 *   together, as the SES console's GetIdentityVerificationAttributes does), from the newest `domainPages`
 *   pages of the domain's partition.
 * An email stored in another mixed case that no call named together with its domain is not found: only a
 * Scan could find it. The counts apply the rest of `q` (window, filters; its identity is replaced).
 */
export async function caseVariantsOf(
  client: DynamoDBClient,
  tableName: string,
  email: string,
  q: HistoryQuery = {},
  { domainPages = 3 }: { domainPages?: number } = {},
): Promise<StoredVariant[]> {
  const at = email.lastIndexOf('@');
  if (at <= 0 || at === email.length - 1) return [];
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const lower = local.toLowerCase();
  const candidates = new Set<string>();
  for (const l of [local, lower, local.toUpperCase(), lower.charAt(0).toUpperCase() + lower.slice(1)]) {
    for (const d of [domain, domain.toLowerCase(), domain.toUpperCase()]) candidates.add(`${l}@${d}`);
  }
  let startKey: Record<string, AttributeValue> | undefined;
  for (let page = 0; page < domainPages; page++) {
    const res = await client.send(
      new QueryCommand({
        TableName: tableName,
        KeyConditionExpression: '#pk = :pk',
        ProjectionExpression: '#ids',
        ExpressionAttributeNames: { '#pk': PARTITION_KEY, '#ids': IDENTITIES },
        ExpressionAttributeValues: { ':pk': { S: domain.toLowerCase() } },
        ScanIndexForward: false,
        ...(startKey ? { ExclusiveStartKey: startKey } : {}),
      }),
    );
    for (const item of res.Items ?? []) {
      const named = unmarshall(item)[IDENTITIES];
      const list: unknown[] = named instanceof Set ? [...named] : Array.isArray(named) ? named : [];
      for (const v of list) if (typeof v === 'string' && v.toLowerCase() === email.toLowerCase()) candidates.add(v);
    }
    startKey = res.LastEvaluatedKey;
    if (!startKey) break;
  }
  candidates.delete(email);
  const found: StoredVariant[] = [];
  for (const identity of candidates) {
    const { count, atLeast } = await countHistory(client, tableName, { ...q, identity }, { cap: 1000, maxPages: 5 });
    if (count > 0) found.push({ identity, count, atLeast });
  }
  return found;
}

/**
 * Rows with findings of `threshold` or higher, newest first: one Query per severity on the sparse index
 * bySeverity (never a Scan), merged by eventKey.
 */
export async function* queryFindings(
  client: DynamoDBClient,
  tableName: string,
  q: { threshold: Severity; since?: TimeBound; until?: TimeBound; limit?: number; pageSize?: number; whole?: boolean },
): AsyncGenerator<AuditRow> {
  const streams = SEVERITIES.slice(0, SEVERITIES.indexOf(q.threshold) + 1).map((severity) =>
    queryHistory(client, tableName, { severity, since: q.since, until: q.until, pageSize: q.pageSize, whole: q.whole }),
  );
  const heads = await Promise.all(streams.map((s) => s.next()));
  const limit = q.limit ?? Infinity;
  for (let yielded = 0; yielded < limit; yielded++) {
    let best = -1;
    for (let i = 0; i < heads.length; i++) {
      const h = heads[i];
      if (h.done) continue;
      const b = best < 0 ? undefined : heads[best];
      if (b === undefined || b.done || h.value.eventKey > b.value.eventKey) best = i;
    }
    if (best < 0) return;
    const head = heads[best];
    if (head.done) return;
    yield head.value;
    heads[best] = await streams[best].next();
  }
  for (const s of streams) await s.return(undefined);
}
