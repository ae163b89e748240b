/**
 * Rows with findings at or above ALERT_SEVERITY go to Amazon EventBridge as they are read (DESIGN.md,
 * Findings): one event per row, PutEvents in batches of 10 (its limit), retried like the writer (throttling,
 * 5xx, network errors and the entries a partial failure names, with full-jitter backoff and a deadline
 * margin). An alert that cannot be published makes flush() reject with a WriteError, so the file fails like
 * a row that cannot be written, and the retry publishes it again (at-least-once: consumers de-duplicate on
 * identity + eventKey).
 */
import {
  PutEventsCommand,
  type EventBridgeClient,
  type PutEventsRequestEntry,
  type PutEventsResultEntry,
} from '@aws-sdk/client-eventbridge';
import { WriteError, isRetryable, reasonOf } from '../errors.js';
import { DEFAULT_RETRY, backoffMs, type RetryPolicy } from '../retry.js';
import { SEVERITIES, type AuditRow, type Severity } from '../ses/row.js';

export const ALERT_SOURCE = 'ses-audit';
export const ALERT_DETAIL_TYPE = 'SES audit finding';
/** PutEvents takes at most 10 entries. */
export const MAX_ENTRIES = 10;

/** The event's `detail`: enough to act on without opening the table, and the key to find the row. */
export interface AlertDetail {
  identity: string;
  eventKey: string;
  eventName: string;
  eventTime: string;
  actor: string;
  findings: string[];
  severity: Severity;
  sourceObject: string;
  accountId?: string;
  awsRegion?: string;
  userName?: string;
  sourceIPAddress?: string;
  errorCode?: string;
}

/** Whether a row's severity is `threshold` or higher. */
export function atOrAbove(severity: Severity | undefined, threshold: Severity): boolean {
  return severity !== undefined && SEVERITIES.indexOf(severity) <= SEVERITIES.indexOf(threshold);
}

export function alertDetail(row: AuditRow & { severity: Severity }): AlertDetail {
  const { identity, eventKey, eventName, eventTime, actor, severity, sourceObject } = row;
  return {
    identity,
    eventKey,
    eventName,
    eventTime,
    actor,
    findings: row.findings ?? [],
    severity,
    sourceObject,
    ...(row.accountId !== undefined ? { accountId: row.accountId } : {}),
    ...(row.awsRegion !== undefined ? { awsRegion: row.awsRegion } : {}),
    ...(row.userName !== undefined ? { userName: row.userName } : {}),
    ...(row.sourceIPAddress !== undefined ? { sourceIPAddress: row.sourceIPAddress } : {}),
    ...(row.errorCode !== undefined ? { errorCode: row.errorCode } : {}),
  };
}

export interface PublisherOptions {
  client: EventBridgeClient;
  /** A bus name or ARN. */
  eventBus: string;
  threshold: Severity;
  remainingTimeMs?: () => number;
  retry?: Partial<RetryPolicy>;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (info: { attempt: number; reason: string; entries: number }) => void;
}

export interface AlertStats {
  /** Events EventBridge accepted. */
  published: number;
  /** PutEvents calls, retries included. */
  calls: number;
  retries: number;
}

export class AlertPublisher {
  private readonly retry: RetryPolicy;
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;
  private pending: PutEventsRequestEntry[] = [];
  private readonly counters: AlertStats = { published: 0, calls: 0, retries: 0 };

  constructor(private readonly o: PublisherOptions) {
    this.retry = { ...DEFAULT_RETRY, ...o.retry };
    this.sleep = o.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
    this.random = o.random ?? Math.random;
  }

  get stats(): AlertStats {
    return { ...this.counters };
  }

  /** Takes the alert rows among `rows`; sends every full batch before resolving (alerts are rare). */
  async publish(rows: readonly AuditRow[]): Promise<void> {
    for (const row of rows) {
      if (row.severity === undefined || !atOrAbove(row.severity, this.o.threshold)) continue;
      this.pending.push(this.entry({ ...row, severity: row.severity }));
      if (this.pending.length === MAX_ENTRIES) await this.send(this.pending.splice(0));
    }
  }

  /** Sends what is left; resolves with the stats, or rejects with WriteError naming what was not published. */
  async flush(): Promise<AlertStats> {
    if (this.pending.length > 0) await this.send(this.pending.splice(0));
    return this.stats;
  }

  private entry(row: AuditRow & { severity: Severity }): PutEventsRequestEntry {
    const time = new Date(row.eventTime);
    return {
      Source: ALERT_SOURCE,
      DetailType: ALERT_DETAIL_TYPE,
      Detail: JSON.stringify(alertDetail(row)),
      EventBusName: this.o.eventBus,
      ...(Number.isNaN(time.getTime()) ? {} : { Time: time }),
    };
  }

  /** One batch until every entry is accepted; throws WriteError otherwise. */
  private async send(batch: PutEventsRequestEntry[]): Promise<void> {
    let entries = batch;
    for (let attempt = 1; ; attempt++) {
      let reason: string;
      let cause: unknown;
      let retryable = true;
      try {
        this.counters.calls++;
        const out = await this.o.client.send(new PutEventsCommand({ Entries: entries }));
        const failed = failedEntries(entries, out.Entries ?? [], out.FailedEntryCount ?? 0);
        this.counters.published += entries.length - failed.length;
        if (failed.length === 0) return;
        reason = failed[0].result.ErrorCode ?? 'FailedEntry';
        retryable = failed.every((f) => RETRYABLE_ENTRY_ERRORS.has(f.result.ErrorCode ?? ''));
        entries = failed.map((f) => f.entry);
        if (!retryable) cause = new Error(failed[0].result.ErrorMessage ?? reason);
      } catch (err) {
        reason = errorName(err);
        cause = err;
        retryable = isRetryable(err);
      }
      const count = entries.length === 1 ? '1 alert' : `${entries.length} alerts`;
      if (!retryable) throw new WriteError(`${count} not published to EventBridge: ${reason}: ${reasonOf(cause)} (not retryable)`, cause, false);
      if (attempt >= this.retry.maxAttempts) throw new WriteError(`${count} not published to EventBridge after ${attempt} attempts: ${reason}`, cause);
      const delay = backoffMs(this.retry, attempt, this.random);
      const left = this.o.remainingTimeMs?.();
      if (left !== undefined && left - delay < this.retry.timeMarginMs) {
        throw new WriteError(`${count} not published to EventBridge: Lambda time running out (${left} ms left) after ${attempt} attempts: ${reason}`, cause);
      }
      this.counters.retries++;
      this.o.onRetry?.({ attempt, reason, entries: entries.length });
      await this.sleep(delay);
    }
  }
}

/** EventBridge's per-entry error codes that mean "try again". */
const RETRYABLE_ENTRY_ERRORS: ReadonlySet<string> = new Set(['ThrottlingException', 'InternalFailure', 'InternalException', 'ServiceUnavailable']);

/** The entries a PutEvents answer did not accept (results are positional; a missing result counts as failed). */
function failedEntries(
  sent: PutEventsRequestEntry[],
  results: PutEventsResultEntry[],
  failedCount: number,
): { entry: PutEventsRequestEntry; result: PutEventsResultEntry }[] {
  if (failedCount === 0 && results.every((r) => r.ErrorCode === undefined)) return [];
  return sent
    .map((entry, i) => ({ entry, result: results[i] ?? { ErrorCode: 'NoResult' } }))
    .filter(({ result }) => result.ErrorCode !== undefined || result.EventId === undefined);
}

function errorName(err: unknown): string {
  if (err instanceof Error && err.name && err.name !== 'Error') return err.name;
  return reasonOf(err);
}
