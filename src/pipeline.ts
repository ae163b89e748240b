/**
 * One trail file, end to end and independent of where it came from or where rows go: bytes in, rows out
 * to `sink` chunk by chunk (the sink's promise is awaited, so a slow writer stalls reading), and a summary.
 */
import type { Config, ReaderLimits } from './config.js';
import { readTrail, type ByteSource } from './trail/reader.js';
import { recordToRows, type RowContext } from './ses/rows.js';
import type { AuditRow } from './ses/row.js';
import { InputError, jsonParseReason } from './errors.js';

/** The settings that shape rows: reader limits, which events are kept, and retention. */
export type PipelineConfig = ReaderLimits &
  Partial<Pick<Config, 'keepReadOnly' | 'keepDataEvents' | 'retentionDays' | 'readOnlyRetentionDays'>>;

export interface ProcessOptions {
  config: PipelineConfig;
  sourceObject: string;
  now?: () => Date;
  /** Receives the rows of each chunk; awaited before the next chunk is read. */
  sink: (rows: AuditRow[]) => Promise<void> | void;
}

export interface TrailSummary {
  sourceObject: string;
  /** Elements of Records. */
  records: number;
  /** Records from ses.amazonaws.com (duplicates and filtered ones included). */
  sesEvents: number;
  rows: number;
  /** Records of other services. */
  skipped: number;
  /** SES events left out by the read-only / data-event settings. */
  filtered: number;
  /** Events whose eventTime and eventID were seen before in this file (emitted again; the keys overwrite). */
  duplicates: number;
  /** Records that are not objects, or SES events without a usable eventTime. */
  badRecords: number;
  /** The first few bad-record reasons, `record N: reason`. */
  badRecordReasons: string[];
  bytes: number;
  sourceBytes: number;
  gzip: boolean;
  /** Hex SHA-256 of the decompressed content (what CloudTrail's digest attests). */
  sha256: string;
  /** Oldest and newest SES eventTime (epoch ms), for delivery lag. */
  oldestEventMs?: number;
  newestEventMs?: number;
}

const MAX_REASONS = 10;
/** A summary with nothing counted yet: a file before its first byte, or a digest (a file without records). */
export function emptySummary(sourceObject: string): TrailSummary {
  return {
    sourceObject,
    records: 0,
    sesEvents: 0,
    rows: 0,
    skipped: 0,
    filtered: 0,
    duplicates: 0,
    badRecords: 0,
    badRecordReasons: [],
    bytes: 0,
    sourceBytes: 0,
    gzip: false,
    sha256: '',
  };
}

/** Remembering eventKeys to count repeats costs memory: stop remembering past this many. */
const MAX_REMEMBERED_EVENTS = 100_000;

export async function processTrail(source: ByteSource, options: ProcessOptions): Promise<TrailSummary> {
  const now = (options.now ?? (() => new Date()))();
  const ingestedAt = now.toISOString();
  const after = (days: number | undefined): number | undefined =>
    days === undefined ? undefined : Math.floor(now.getTime() / 1000) + days * 86_400;
  const ctx: RowContext = {
    sourceObject: options.sourceObject,
    ingestedAt,
    expiresAt: after(options.config.retentionDays),
    // Rows of read-only calls (the Get/List polling noise) may expire sooner than the changes.
    readOnlyExpiresAt: after(options.config.readOnlyRetentionDays),
  };
  const keepReadOnly = options.config.keepReadOnly ?? true;
  const keepDataEvents = options.config.keepDataEvents ?? true;
  const summary = emptySummary(options.sourceObject);
  const seen = new Set<string>();
  let pending: AuditRow[] = [];

  const bad = (index: number, reason: string) => {
    summary.badRecords++;
    if (summary.badRecordReasons.length < MAX_REASONS) summary.badRecordReasons.push(`record ${index}: ${reason}`);
  };

  const sendPending = async (): Promise<void> => {
    if (pending.length === 0) return;
    const rows = pending;
    pending = [];
    summary.rows += rows.length;
    await options.sink(rows);
  };

  let result;
  try {
    result = await readTrail(
    source,
    options.config,
    {
      candidate(json, index) {
        let value: unknown;
        try {
          value = JSON.parse(json);
        } catch (err) {
          throw new InputError(`invalid JSON in record ${index}: ${jsonParseReason(err)}`, err);
        }
        const out = recordToRows(value, ctx);
        if (out.kind === 'not-ses') return;
        if (out.kind === 'bad') return bad(index, out.reason);
        summary.sesEvents++;
        // Every row of an event carries the event's readOnly and eventCategory.
        const { readOnly, eventCategory } = out.rows[0];
        if ((!keepReadOnly && readOnly === true) || (!keepDataEvents && eventCategory === 'Data')) {
          summary.filtered++;
          return;
        }
        // A repeated event is still emitted: its rows carry the same keys, so writing them again overwrites.
        if (seen.has(out.eventKey)) summary.duplicates++;
        else if (seen.size < MAX_REMEMBERED_EVENTS) seen.add(out.eventKey);
        if (summary.oldestEventMs === undefined || out.eventTime < summary.oldestEventMs) summary.oldestEventMs = out.eventTime;
        if (summary.newestEventMs === undefined || out.eventTime > summary.newestEventMs) summary.newestEventMs = out.eventTime;
        for (const row of out.rows) pending.push(row);
      },
      notObject(index, kind) {
        bad(index, `${kind}, not an object`);
      },
    },
    sendPending,
  );
  } catch (err) {
    // The rows of valid records read before the failure still go out (the reason says what failed); a
    // failing sink must not hide the read error.
    await sendPending().catch(() => undefined);
    throw err;
  }
  await sendPending();
  summary.records = result.records;
  // Candidates that parsed to another eventSource, and every record that never was a candidate.
  summary.skipped = result.records - summary.sesEvents - summary.badRecords;
  summary.bytes = result.bytes;
  summary.sourceBytes = result.sourceBytes;
  summary.gzip = result.gzip;
  summary.sha256 = result.sha256;
  return summary;
}
