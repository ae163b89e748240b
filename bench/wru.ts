/**
 * Write units per SES event (docs/cost.md): every SES record of the public samples (../shared/samples) and of
 * the bench's generated trail files through the real row builder (recordToRows, via processTrail for the
 * files) and the real marshaller (encodeRow), priced by src/store/capacity.ts under the schema before this
 * change (every index ALL), the chosen one (src/store/schema.ts), and variants that are not built but priced
 * for the decision record. Also the ledger's items (one per log file, one per digest), through the real
 * Ledger code with a recording client.
 */
import { createReadStream, existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { processTrail } from '../src/pipeline.js';
import { recordToRows, type RowContext } from '../src/ses/rows.js';
import type { AuditRow } from '../src/ses/row.js';
import { itemBytes, writeCost, writeUnits, type CostOptions } from '../src/store/capacity.js';
import { Ledger, type DigestEntry, type LogFileEntry } from '../src/store/ledger.js';
import { encodeRow } from '../src/store/marshal.js';
import { INDEXES, INDEX_LIST, INDEX_VIEW_ATTRIBUTES, type IndexSpec } from '../src/store/schema.js';
import { table } from './harness.js';
import { int } from './fmt.js';

export const SAMPLES_DIR = join(import.meta.dirname, '..', '..', 'shared', 'samples');

/**
 * An organization trail's object, as rows carry it in `sourceObject`: the bucket name the CloudTrail console
 * makes, the `o-` segment, CloudTrail's file name with its 16-character suffix. 186 characters.
 */
export function orgTrailUri(account = '111122223333', region = 'us-east-1', stamp = '20261120T1015Z'): string {
  const day = `${stamp.slice(0, 4)}/${stamp.slice(4, 6)}/${stamp.slice(6, 8)}`;
  return `s3://aws-cloudtrail-logs-111122223333-a1b2c3d4/AWSLogs/o-abcdefghij/${account}/CloudTrail/${region}/${day}/${account}_CloudTrail_${region}_${stamp}_Vhqw4Hd9xgEYrkkK.json.gz`;
}

const INGESTED_AT = '2026-11-20T10:20:41.512Z';
/** Epoch seconds 90 days after INGESTED_AT: an `expiresAt` as a retention period writes it. */
const EXPIRES_AT = Math.floor(Date.parse(INGESTED_AT) / 1000) + 90 * 86_400;

/** The schema before this change: every index projects every attribute. */
export const BEFORE: IndexSpec[] = INDEX_LIST.map((i) => ({ ...i, projection: { type: 'ALL' } }));

export interface Scenario {
  label: string;
  indexes: IndexSpec[];
  options?: CostOptions;
  ctx?: Partial<RowContext>;
  /** Built (the schema as shipped), or priced only. */
  built: boolean;
}

const withoutReadOnly: CostOptions = {
  include: (index, item) => !(index.name === INDEXES.byEventName.name && item.readOnly?.BOOL === true),
};
const severityInclude: IndexSpec[] = INDEX_LIST.map((i) =>
  i.name === INDEXES.bySeverity.name
    ? { ...i, projection: { type: 'INCLUDE', attributes: [...INDEX_VIEW_ATTRIBUTES.filter((a) => a !== 'sourceObject'), 'findings'] } }
    : i,
);

export const SCENARIOS: Scenario[] = [
  { label: 'before: byActor, byEventName, bySeverity all ALL', indexes: BEFORE, built: false },
  { label: '**chosen**: byActor, byEventName INCLUDE (view attributes), bySeverity ALL', indexes: INDEX_LIST, built: true },
  { label: 'chosen, READ_ONLY_RETENTION_DAYS set (read-only rows carry expiresAt)', indexes: INDEX_LIST, ctx: { readOnlyExpiresAt: EXPIRES_AT }, built: true },
  { label: 'chosen, RETENTION_DAYS and READ_ONLY_RETENTION_DAYS set (every row carries expiresAt)', indexes: INDEX_LIST, ctx: { expiresAt: EXPIRES_AT + 86_400, readOnlyExpiresAt: EXPIRES_AT }, built: true },
  { label: 'not built: byEventName without read-only calls', indexes: INDEX_LIST, options: withoutReadOnly, built: false },
  { label: 'not built: bySeverity INCLUDE (the findings view)', indexes: severityInclude, built: false },
  { label: 'not built: both of the above', indexes: severityInclude, options: withoutReadOnly, built: false },
];

export interface Tally {
  events: number;
  rows: number;
  /** Write units: total, and by table and index. */
  total: number;
  parts: Record<string, number>;
  /** Base items over 1 KB. */
  over1k: number;
  /** The largest entry of each index. */
  largest: Record<string, number>;
  /** Bytes stored per row (table and index entries, with DynamoDB's 100 bytes of overhead each). */
  storedBytes: number;
  readOnlyRows: number;
  /** Rows with findings (in bySeverity). */
  findingRows: number;
}

export function emptyTally(): Tally {
  return { events: 0, rows: 0, total: 0, parts: {}, over1k: 0, largest: {}, storedBytes: 0, readOnlyRows: 0, findingRows: 0 };
}

/** Adds one SES event's rows. */
export function tallyRows(t: Tally, rows: readonly AuditRow[], s: Scenario): void {
  t.events++;
  for (const row of rows) {
    const item = encodeRow(row).item;
    const c = writeCost(item, s.indexes, s.options);
    t.rows++;
    t.total += c.total;
    t.parts.table = (t.parts.table ?? 0) + c.table;
    if (c.bytes > 1024) t.over1k++;
    t.storedBytes += c.bytes + 100;
    for (const [name, units] of Object.entries(c.indexes)) {
      t.parts[name] = (t.parts[name] ?? 0) + units;
      t.largest[name] = Math.max(t.largest[name] ?? 0, c.indexBytes[name]);
      t.storedBytes += c.indexBytes[name] + 100;
    }
    if (row.readOnly === true) t.readOnlyRows++;
    if (row.findings !== undefined) t.findingRows++;
  }
}

/** The SES records of the samples, by file (a file is a JSON list of {source, record}). */
export function sampleRecords(): Map<string, unknown[]> | undefined {
  if (!existsSync(SAMPLES_DIR)) return undefined;
  const out = new Map<string, unknown[]>();
  for (const f of readdirSync(SAMPLES_DIR).filter((n) => n.endsWith('.json')).sort()) {
    // A boundary: the samples are lists of {source, record}.
    const list = JSON.parse(readFileSync(join(SAMPLES_DIR, f), 'utf8')) as { record?: unknown }[];
    out.set(f, list.map((x) => x.record));
  }
  return out;
}

export function tallySamples(records: unknown[], s: Scenario): Tally {
  const t = emptyTally();
  for (const record of records) {
    const r = recordToRows(record, { sourceObject: orgTrailUri(), ingestedAt: INGESTED_AT, ...s.ctx });
    if (r.kind === 'rows') tallyRows(t, r.rows, s);
  }
  return t;
}

/** One generated trail file's rows under each scenario: SES events, rows, write units. */
export async function tallyFile(file: string, scenarios: Scenario[]): Promise<{ tallies: Tally[]; sesEvents: number; records: number; bytes: number }> {
  const tallies = scenarios.map(() => emptyTally());
  const summary = await processTrail(createReadStream(file, { highWaterMark: 1 << 20 }), {
    config: { maxUncompressedBytes: 2 ** 40, maxRecordBytes: 1 << 22 },
    sourceObject: orgTrailUri(),
    now: () => new Date(INGESTED_AT),
    sink: (rows) => {
      // Rows arrive grouped by chunk, not by event: count events from eventKey changes within the rows of a call.
      scenarios.forEach((s, i) => {
        const byEvent = new Map<string, AuditRow[]>();
        for (const r of rows) byEvent.set(r.eventKey, [...(byEvent.get(r.eventKey) ?? []), r]);
        for (const group of byEvent.values()) tallyRows(tallies[i], group, s);
      });
    },
  });
  return { tallies, sesEvents: summary.sesEvents, records: summary.records, bytes: summary.bytes };
}

const per = (n: number, d: number, digits = 2): string => (d > 0 ? (n / d).toFixed(digits) : '-');

/** Write units per SES event under each scenario: all samples, each file, and where they go. */
export function scenarioTable(rows: { s: Scenario; all: Tally; byFile: Map<string, Tally> }[], files: string[]): string {
  const indexNames = INDEX_LIST.map((i) => i.name);
  return table(
    ['schema', 'WRU / SES event', ...files.map((f) => `… ${f}`), 'WRU / row', 'table', ...indexNames, 'largest entry: byActor / byEventName / bySeverity'],
    rows.map(({ s, all, byFile }) => [
      s.label,
      `**${per(all.total, all.events)}**`,
      ...files.map((f) => per(byFile.get(f)?.total ?? 0, byFile.get(f)?.events ?? 0)),
      per(all.total, all.rows),
      per(all.parts.table ?? 0, all.events),
      ...indexNames.map((n) => per(all.parts[n] ?? 0, all.events)),
      indexNames.map((n) => (all.largest[n] === undefined ? '-' : `${int(all.largest[n])} B`)).join(' / '),
    ]),
  );
}

export interface LedgerUnits {
  logFile: number;
  logFileBytes: number;
  digest: number;
  digestBytes: number;
  digestFiles: number;
}

/** The ledger's items for one log file and one hourly digest of `files` log files, as the real code builds them. */
export async function ledgerUnits(files = 12): Promise<LedgerUnits> {
  const mock = mockClient(DynamoDBClient);
  const items: Record<string, AttributeValue>[] = [];
  mock.on(PutItemCommand).callsFake((input: { Item?: Record<string, AttributeValue> }) => {
    if (input.Item) items.push(input.Item);
    return {};
  });
  const ledger = new Ledger(new DynamoDBClient({ region: 'us-east-1' }), 'ledger');
  const hex = (n: number, seed: number) => Array.from({ length: n }, (_, i) => ((i * 7 + seed) % 16).toString(16)).join('');
  const uri = orgTrailUri();
  const entry: LogFileEntry = {
    uri,
    deliveryTime: '2026-11-20T10:15:00Z',
    sha256: hex(64, 1),
    outcome: 'ingested',
    bytes: 104_857,
    records: 70,
    sesEvents: 1,
    rows: 1,
    oldestEventTime: '2026-11-20T10:09:12Z',
    newestEventTime: '2026-11-20T10:14:58Z',
    ingestedAt: INGESTED_AT,
  };
  await ledger.putLogFile(entry);
  const logItem = items[0];
  const attested: Record<string, string> = {};
  for (let m = 0; m < files; m++) attested[orgTrailUri('111122223333', 'us-east-1', `20261120T10${String(m * 5).padStart(2, '0')}Z`)] = hex(64, m);
  const digestUri = 's3://aws-cloudtrail-logs-111122223333-a1b2c3d4/AWSLogs/o-abcdefghij/111122223333/CloudTrail-Digest/us-east-1/2026/11/20/111122223333_CloudTrail-Digest_us-east-1_org-trail_us-east-1_20261120T110000Z.json.gz';
  const digest: DigestEntry = {
    uri: digestUri,
    verdict: 'valid',
    sha256: hex(64, 3),
    signature: hex(512, 4),
    digestStartTime: '2026-11-20T10:00:00Z',
    digestEndTime: '2026-11-20T11:00:00Z',
    accountId: '111122223333',
    region: 'us-east-1',
    backfill: false,
    previous: { uri: digestUri.replace('T110000Z', 'T100000Z'), sha256: hex(64, 5), signature: hex(512, 6) },
    chain: 'linked',
    files: attested,
    recordedAt: INGESTED_AT,
  };
  await ledger.putDigest(digest);
  const digestItems = items.slice(1);
  mock.restore();
  return {
    logFile: writeUnits(itemBytes(logItem)),
    logFileBytes: itemBytes(logItem),
    digest: digestItems.reduce((n, i) => n + writeUnits(itemBytes(i)), 0),
    digestBytes: digestItems.reduce((n, i) => n + itemBytes(i), 0),
    digestFiles: files,
  };
}
