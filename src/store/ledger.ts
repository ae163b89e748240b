/**
 * The ingestion ledger (DESIGN.md, Trust): one item per log file read (the SHA-256 of exactly the bytes
 * parsed, counts, outcome) and per digest file (its verdict, its place in the chain, the files it attests).
 * Never rows: the audit table holds those.
 *
 * Keys: items are grouped by delivery hour, so that reconciling an hour reads one partition however many
 * accounts and regions deliver into the bucket (an organization trail: thousands of files an hour), and
 * every item is found again from its URI alone (the hour is in the file's name):
 *   log file  pk `log#YYYY-MM-DDTHH` (the timestamp in its key), sk the file's URI
 *   digest    pk `digest#YYYY-MM-DDTHH` (its digestEndTime, also in its name), sk the digest's URI
 * A file whose name has no CloudTrail timestamp (a local file given to `process`) goes under `log#undated`.
 * A digest's attested files are a map of URI -> SHA-256; a digest listing too many files for one item
 * (400 KB) continues in items `URI#2`, `URI#3`, ... of the same partition.
 */
import {
  BatchGetItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  type AttributeValue,
  type BatchGetItemCommandOutput,
  type QueryCommandOutput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { LEDGER_PARTITION_KEY as PK, LEDGER_SORT_KEY as SK } from './schema.js';
import type { DigestVerdict } from '../trail/digest.js';
import { DEFAULT_RETRY, backoffMs } from '../retry.js';

export type FileOutcome = 'ingested' | 'failed';

export interface LogFileEntry {
  /** `s3://bucket/key` (the key not encoded), or the local path, as rows' `sourceObject`. */
  uri: string;
  /** The timestamp in the file's name (`YYYY-MM-DDTHH:MM:00Z`): when CloudTrail delivered it. */
  deliveryTime?: string;
  /** Hex SHA-256 of the decompressed content read; absent when reading failed. */
  sha256?: string;
  outcome: FileOutcome;
  /** Why reading failed (one line). */
  reason?: string;
  bytes?: number;
  records?: number;
  sesEvents?: number;
  /** Rows handed to the table (for a failed file: those written before the failure). */
  rows?: number;
  /** The SES events' time range (as logged), to find the files whose rows another file may have overwritten. */
  oldestEventTime?: string;
  newestEventTime?: string;
  /** The S3 object version read, when the bucket is versioned. */
  versionId?: string;
  ingestedAt: string;
}

export type ChainState = 'first' | 'linked' | 'gap' | 'unchecked';

export interface DigestEntry {
  uri: string;
  verdict: DigestVerdict['verdict'];
  reason?: string;
  /** Hex SHA-256 of the digest's uncompressed content. */
  sha256: string;
  signature?: string;
  digestStartTime?: string;
  digestEndTime?: string;
  accountId?: string;
  region?: string;
  backfill: boolean;
  /** The previous digest this one names (null fields in the first digest of a chain: absent). */
  previous?: { uri: string; sha256: string; signature: string };
  /** The chain as seen when the digest arrived (`verify` checks it again). */
  chain: ChainState;
  chainReason?: string;
  /** The log files it attests: URI -> SHA-256. */
  files: Record<string, string>;
  recordedAt: string;
}

// ---------------------------------------------------------------------------------------------------------
// Keys

const LOG_NAME_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})Z_[^/]*$/;
const DIGEST_NAME_TIME = /_(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z(?:_backfill)?\.json\.gz$/;
export const UNDATED = 'undated';

/** The delivery time in a log file's name (`..._20261120T1015Z_abcd.json.gz`), as an ISO time. */
export function deliveryTimeOf(uri: string): string | undefined {
  const m = LOG_NAME_TIME.exec(uri);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:00Z` : undefined;
}

/** The end time in a digest file's name (`..._20261120T110000Z.json.gz`), as an ISO time. */
export function digestEndTimeOf(uri: string): string | undefined {
  const m = DIGEST_NAME_TIME.exec(uri);
  return m ? `${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z` : undefined;
}

/** `YYYY-MM-DDTHH` of an ISO time. */
export function hourOf(iso: string): string {
  return iso.slice(0, 13);
}

/**
 * The URI prefix of the digests of a log file's trail, account and region:
 * `s3://B/[P/]AWSLogs/[o-org/]ACCOUNT/CloudTrail/REGION/...` -> `s3://B/[P/]AWSLogs/[o-org/]ACCOUNT/CloudTrail-Digest/REGION/`.
 */
export function digestPrefixOf(logUri: string): string | undefined {
  const m = /^(.*\/AWSLogs\/(?:o-[a-z0-9]{10,32}\/)?\d{12}\/)CloudTrail\/([^/]+)\/\d{4}\/\d{2}\/\d{2}\/[^/]+$/s.exec(logUri);
  return m ? `${m[1]}CloudTrail-Digest/${m[2]}/` : undefined;
}

export function logPartition(hour: string): string {
  return `log#${hour}`;
}

export function digestPartition(hour: string): string {
  return `digest#${hour}`;
}

function logKey(uri: string): Record<string, AttributeValue> {
  const t = deliveryTimeOf(uri);
  return { [PK]: { S: logPartition(t ? hourOf(t) : UNDATED) }, [SK]: { S: uri } };
}

function digestKey(uri: string, endTime?: string): Record<string, AttributeValue> {
  const t = digestEndTimeOf(uri) ?? endTime;
  return { [PK]: { S: digestPartition(t ? hourOf(t) : UNDATED) }, [SK]: { S: uri } };
}

// ---------------------------------------------------------------------------------------------------------
// Items

const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });

function logItem(e: LogFileEntry): Record<string, AttributeValue> {
  const item: Record<string, AttributeValue> = { ...logKey(e.uri), kind: S('log'), outcome: S(e.outcome), ingestedAt: S(e.ingestedAt) };
  for (const name of ['deliveryTime', 'sha256', 'reason', 'oldestEventTime', 'newestEventTime', 'versionId'] as const) {
    const v = e[name];
    if (v !== undefined && v !== '') item[name] = S(v);
  }
  for (const name of ['bytes', 'records', 'sesEvents', 'rows'] as const) {
    const v = e[name];
    if (v !== undefined) item[name] = N(v);
  }
  return item;
}

function logEntry(item: Record<string, AttributeValue>): LogFileEntry {
  const s = (name: string) => item[name]?.S;
  const n = (name: string) => (item[name]?.N === undefined ? undefined : Number(item[name].N));
  const entry: LogFileEntry = { uri: s(SK) ?? '', outcome: s('outcome') === 'failed' ? 'failed' : 'ingested', ingestedAt: s('ingestedAt') ?? '' };
  for (const name of ['deliveryTime', 'sha256', 'reason', 'oldestEventTime', 'newestEventTime', 'versionId'] as const) {
    const v = s(name);
    if (v !== undefined) entry[name] = v;
  }
  for (const name of ['bytes', 'records', 'sesEvents', 'rows'] as const) {
    const v = n(name);
    if (v !== undefined) entry[name] = v;
  }
  if (entry.deliveryTime === undefined) {
    const t = deliveryTimeOf(entry.uri);
    if (t) entry.deliveryTime = t;
  }
  return entry;
}

/** Bytes of attested-file map entries per digest item: well under DynamoDB's 400 KB item limit. */
const FILES_PER_ITEM_BYTES = 300_000;

function digestItems(e: DigestEntry): Record<string, AttributeValue>[] {
  const base: Record<string, AttributeValue> = {
    ...digestKey(e.uri, e.digestEndTime),
    kind: S('digest'),
    verdict: S(e.verdict),
    sha256: S(e.sha256),
    backfill: { BOOL: e.backfill },
    chain: S(e.chain),
    recordedAt: S(e.recordedAt),
  };
  for (const name of ['reason', 'signature', 'digestStartTime', 'digestEndTime', 'accountId', 'region', 'chainReason'] as const) {
    const v = e[name];
    if (v !== undefined && v !== '') base[name] = S(v);
  }
  if (e.previous) {
    base.previousUri = S(e.previous.uri);
    base.previousSha256 = S(e.previous.sha256);
    base.previousSignature = S(e.previous.signature);
  }
  const parts: Record<string, AttributeValue>[] = [{}];
  let size = 0;
  for (const [uri, sha] of Object.entries(e.files)) {
    const bytes = Buffer.byteLength(uri) + sha.length + 8;
    if (size + bytes > FILES_PER_ITEM_BYTES && size > 0) {
      parts.push({});
      size = 0;
    }
    size += bytes;
    parts[parts.length - 1][uri] = S(sha);
  }
  return parts.map((files, i): Record<string, AttributeValue> => {
    if (i === 0) return { ...base, files: { M: files }, parts: N(parts.length) };
    return { [PK]: base[PK], [SK]: S(`${e.uri}#${i + 1}`), kind: S('digest-files'), files: { M: files } };
  });
}

function digestEntry(item: Record<string, AttributeValue>): DigestEntry {
  const s = (name: string) => item[name]?.S;
  const verdict = s('verdict');
  const chain = s('chain');
  const entry: DigestEntry = {
    uri: s(SK) ?? '',
    verdict: verdict === 'valid' || verdict === 'unverifiable' ? verdict : 'invalid',
    sha256: s('sha256') ?? '',
    backfill: item.backfill?.BOOL === true,
    chain: chain === 'first' || chain === 'linked' || chain === 'gap' ? chain : 'unchecked',
    files: filesOf(item),
    recordedAt: s('recordedAt') ?? '',
  };
  for (const name of ['reason', 'signature', 'digestStartTime', 'digestEndTime', 'accountId', 'region', 'chainReason'] as const) {
    const v = s(name);
    if (v !== undefined) entry[name] = v;
  }
  const [uri, sha256, signature] = [s('previousUri'), s('previousSha256'), s('previousSignature')];
  if (uri !== undefined && sha256 !== undefined && signature !== undefined) entry.previous = { uri, sha256, signature };
  return entry;
}

function filesOf(item: Record<string, AttributeValue>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [uri, v] of Object.entries(item.files?.M ?? {})) if (v.S !== undefined) out[uri] = v.S;
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// Reading and writing

export class Ledger {
  constructor(
    private readonly client: DynamoDBClient,
    readonly tableName: string,
  ) {}

  async putLogFile(entry: LogFileEntry): Promise<void> {
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: logItem(entry) }));
  }

  async putDigest(entry: DigestEntry): Promise<void> {
    // Continuation items first: a reader that finds the main item finds all of its files.
    const [main, ...rest] = digestItems(entry);
    for (const item of rest) await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: item }));
    await this.client.send(new PutItemCommand({ TableName: this.tableName, Item: main }));
  }

  async logFile(uri: string): Promise<LogFileEntry | undefined> {
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: logKey(uri), ConsistentRead: true }));
    return out.Item ? logEntry(out.Item) : undefined;
  }

  /** A digest by its URI, with every part of its file list. */
  async digest(uri: string): Promise<DigestEntry | undefined> {
    const key = digestKey(uri);
    const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key, ConsistentRead: true }));
    if (!out.Item) return undefined;
    const entry = digestEntry(out.Item);
    const parts = Number(out.Item.parts?.N ?? '1');
    for (let i = 2; i <= parts; i++) {
      const more = await this.client.send(
        new GetItemCommand({ TableName: this.tableName, Key: { [PK]: key[PK], [SK]: S(`${uri}#${i}`) }, ConsistentRead: true }),
      );
      if (more.Item) Object.assign(entry.files, filesOf(more.Item));
    }
    return entry;
  }

  /** Several log files at once (the function, on a digest's arrival); missing ones are left out. */
  async logFiles(uris: string[]): Promise<Map<string, LogFileEntry>> {
    const found = new Map<string, LogFileEntry>();
    for (let i = 0; i < uris.length; i += 100) {
      let keys: Record<string, AttributeValue>[] | undefined = uris.slice(i, i + 100).map(logKey);
      for (let attempt = 0; keys && keys.length > 0 && attempt < 10; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, backoffMs(DEFAULT_RETRY, attempt, Math.random)));
        const out: BatchGetItemCommandOutput = await this.client.send(
          new BatchGetItemCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.tableName] ?? []) {
          const e = logEntry(item);
          found.set(e.uri, e);
        }
        keys = out.UnprocessedKeys?.[this.tableName]?.Keys;
      }
      if (keys && keys.length > 0) throw new Error(`ledger: ${keys.length} log file entries not read after 10 attempts (throttled)`);
    }
    return found;
  }

  /** Every log file delivered in one hour (`YYYY-MM-DDTHH`). */
  async logFilesOfHour(hour: string): Promise<LogFileEntry[]> {
    return (await this.partition(logPartition(hour))).map(logEntry);
  }

  /** Every digest that ended in one hour, with their whole file lists. */
  async digestsOfHour(hour: string): Promise<DigestEntry[]> {
    const items = await this.partition(digestPartition(hour));
    const byUri = new Map<string, DigestEntry>();
    const continuations: Record<string, AttributeValue>[] = [];
    for (const item of items) {
      if (item.kind?.S === 'digest-files') continuations.push(item);
      else {
        const e = digestEntry(item);
        byUri.set(e.uri, e);
      }
    }
    for (const item of continuations) {
      const sk = item[SK]?.S ?? '';
      const owner = byUri.get(sk.replace(/#\d+$/, ''));
      if (owner) Object.assign(owner.files, filesOf(item));
    }
    return [...byUri.values()];
  }

  /**
   * The digests that may attest a log file: those of its trail, account and region (a key prefix) that ended
   * in the `hours` after its delivery hour (its own digest ends within the next hour; late files come in
   * `_backfill` digests some hours on). A Query per hour on the account-region's items only.
   */
  async digestsFor(logUri: string, hours = 3): Promise<DigestEntry[]> {
    const delivered = deliveryTimeOf(logUri);
    const prefix = digestPrefixOf(logUri);
    if (delivered === undefined || prefix === undefined) return [];
    const first = Date.parse(`${hourOf(delivered)}:00:00Z`);
    const out: DigestEntry[] = [];
    for (let h = 1; h <= hours; h++) {
      const hour = new Date(first + h * 3_600_000).toISOString().slice(0, 13);
      const items = await this.partition(digestPartition(hour), prefix);
      out.push(...items.filter((i) => i.kind?.S === 'digest').map(digestEntry));
    }
    return out;
  }

  private async partition(pk: string, skPrefix?: string): Promise<Record<string, AttributeValue>[]> {
    const items: Record<string, AttributeValue>[] = [];
    let start: Record<string, AttributeValue> | undefined;
    do {
      const out: QueryCommandOutput = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: skPrefix === undefined ? '#pk = :pk' : '#pk = :pk AND begins_with(#sk, :prefix)',
          ExpressionAttributeNames: { '#pk': PK, ...(skPrefix === undefined ? {} : { '#sk': SK }) },
          ExpressionAttributeValues: { ':pk': S(pk), ...(skPrefix === undefined ? {} : { ':prefix': S(skPrefix) }) },
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
