/**
 * The function's logic with its dependencies passed in: any supported event in, each named trail file
 * streamed from S3 into the table, and the answer its service expects out. `handler.ts` only wires the
 * real clients; tests hand in mocked ones.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import { ENV, type Config } from './config.js';
import { ConfigError, isRetryable, reasonOf, SourceError, WriteError } from './errors.js';
import { isObject } from './json.js';
import type { Ledger } from './store/ledger.js';
import type { VerifyReport } from './store/reconcile.js';
import type { PublicKeySource } from './trail/public-keys.js';
import {
  DEFAULT_GRACE_MS,
  failedLogFileEntry,
  ingestDigest,
  logFileEntry,
  readS3Digest,
  reconcileWindow,
  type DigestOutcome,
} from './trust.js';
import { ingest, type IngestResult } from './ingest.js';
import { METRICS } from './observability.js';
import { classifyKey } from './trail/keys.js';
import { parseS3Uri, s3Uri, type S3ObjectRef } from './trail/object.js';
import { openS3Object } from './trail/source.js';
import type { ByteSource } from './trail/reader.js';
import { planInvocation } from './triggers/index.js';
import type { HandlerResult, UnitResult } from './triggers/types.js';

export interface AppDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
  /** Where alerts go (ALERT_EVENT_BUS); without it none are published. */
  events?: EventBridgeClient;
  /** The ledger and CloudTrail's public keys (LEDGER_TABLE_NAME); without them nothing is recorded and digests are skipped. */
  trust?: { ledger: Ledger; keys: PublicKeySource };
  config: Config;
  logger: Logger;
  metrics: Metrics;
  now?: () => Date;
}

/** The part of Lambda's context the function uses. */
export interface InvocationContext {
  getRemainingTimeInMillis(): number;
  awsRequestId?: string;
}

export type ObjectOutcome =
  | { status: 'skipped'; kind: string }
  | ({ status: 'processed'; ms: number } & IngestResult)
  | ({ status: 'digest' } & DigestOutcome);

/** What a scheduled run reconciles: the hours that have just passed the grace period. */
export interface ScheduledResult {
  reconciled: { since: string; until: string };
  report: VerifyReport;
}

/** What the function returns: the answer its trigger expects, or a scheduled run's report. */
export type FunctionResult = HandlerResult | ScheduledResult;

/**
 * Leave a file for the retry rather than start it with less than this left: reading stops at half of it
 * and the writer keeps its own 3 s margin. The construct's smallest timeout (30 s) leaves room for one file.
 */
export const START_MARGIN_MS = 10_000;
/** The least time a unit of several gets, however many share the invocation. */
const MIN_UNIT_MS = 2 * START_MARGIN_MS;

/**
 * Each unit of an event that names several (an SQS batch) gets a fair share of the time left: the time left
 * divided by the units still to run (so what one leaves over goes to the next), and at least MIN_UNIT_MS.
 * One large or stuck file then fails on its own, retryable, instead of leaving every later file "not
 * started" on every retry. The share is the unit's own deadline: reading and writing see it as Lambda's.
 */
export function unitContext(context: InvocationContext, unitsLeft: number): InvocationContext {
  const left = context.getRemainingTimeInMillis();
  const share = Math.min(left, Math.max(MIN_UNIT_MS, Math.floor(left / Math.max(1, unitsLeft))));
  const reserved = left - share;
  return {
    awsRequestId: context.awsRequestId,
    getRemainingTimeInMillis: () => context.getRemainingTimeInMillis() - reserved,
  };
}

export function createApp(deps: AppDeps) {
  const { logger, metrics } = deps;
  const now = deps.now ?? (() => new Date());
  if (!deps.trust) logger.warn(`${ENV.ledgerTableName} is not set: no ledger is kept and digest files are skipped`);

  async function processObject(ref: S3ObjectRef, context: InvocationContext): Promise<ObjectOutcome> {
    const info = classifyKey(ref.key);
    const uri = s3Uri(ref);
    if (info.kind === 'digest' && deps.trust) return processDigest(ref, deps.trust);
    if (info.kind !== 'log') {
      logger.debug('skipped: not a CloudTrail log file', { object: uri, kind: info.kind });
      metrics.addMetric(METRICS.filesSkipped, MetricUnit.Count, 1);
      return { status: 'skipped', kind: info.kind };
    }
    const left = context.getRemainingTimeInMillis();
    if (left < START_MARGIN_MS) {
      throw new SourceError(
        `not started: ${left} ms of Lambda time left for this file, and a file needs ${START_MARGIN_MS} ms to start (retried later; if this repeats, raise the function timeout or lower the SQS batch size)`,
        { retryable: true },
      );
    }
    const started = performance.now();
    // Reading stops with the writer's margin to spare, so the invocation fails cleanly instead of timing out.
    const abort = new AbortController();
    let body: ByteSource | undefined;
    // At the deadline both the request and a body already streaming stop (a stalled socket sends nothing
    // that would let the reader notice by itself).
    const timer = setTimeout(() => {
      abort.abort();
      body?.destroy?.();
    }, Math.max(0, left - START_MARGIN_MS / 2));
    let retries = 0;
    let written = 0;
    let alerted = 0;
    try {
      ({ body } = await openS3Object(deps.s3, ref, {
        expectedBucketOwner: deps.config.expectedBucketOwner,
        abortSignal: abort.signal,
      }));
      const result = await ingest(body, uri, {
        dynamo: deps.dynamo,
        events: deps.events,
        config: deps.config,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        onRetry: () => retries++,
        onStats: (stats) => {
          written = stats.writer.rowsWritten;
          alerted = stats.alerts.published;
        },
        now: deps.now,
      });
      // The ledger accounts for every file read; a file it cannot record is retried like one not written.
      await deps.trust?.ledger
        .putLogFile(logFileEntry(uri, result, result.writer.rowsWritten, now().toISOString(), ref.versionId))
        .catch((err: unknown) => {
          throw new WriteError(`ledger entry not written: ${reasonOf(err)}`, err, isRetryable(err));
        });
      const ms = Math.round(performance.now() - started);
      logger.info('file processed', {
        object: uri,
        bytes: result.bytes,
        compressedBytes: result.sourceBytes,
        records: result.records,
        sesEvents: result.sesEvents,
        sha256: result.sha256,
        rowsWritten: result.writer.rowsWritten,
        skippedRecords: result.skipped,
        filtered: result.filtered,
        badRecords: result.badRecords,
        retries: result.writer.retries,
        alertsPublished: result.alerts.published,
        jsonFallbacks: result.writer.jsonFallbacks,
        truncated: result.writer.truncated,
        durationMs: ms,
      });
      for (const reason of result.badRecordReasons) logger.warn('bad record', { object: uri, reason });
      metrics.addMetric(METRICS.filesProcessed, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.recordsRead, MetricUnit.Count, result.records);
      metrics.addMetric(METRICS.sesEvents, MetricUnit.Count, result.sesEvents);
      metrics.addMetric(METRICS.rowsWritten, MetricUnit.Count, result.writer.rowsWritten);
      metrics.addMetric(METRICS.writeRetries, MetricUnit.Count, result.writer.retries + result.alerts.retries);
      metrics.addMetric(METRICS.alertsPublished, MetricUnit.Count, result.alerts.published);
      if (result.oldestEventMs !== undefined) {
        const lag = Math.round((now().getTime() - result.oldestEventMs) / 1000);
        metrics.addMetric(METRICS.deliveryLagSeconds, MetricUnit.Seconds, Math.max(0, lag));
      }
      return { status: 'processed', ms, ...result };
    } catch (caught) {
      // Our own deadline abort surfaces from the body stream as a plain reset: say what happened.
      const err = abort.signal.aborted && !(caught instanceof WriteError)
        ? new SourceError('S3 read aborted: time ran out', { retryable: true, cause: caught })
        : caught;
      // The reader has closed the body; aborting also cancels a request still under way, so no socket
      // stays checked out of the keep-alive pool after a failed file.
      abort.abort();
      metrics.addMetric(METRICS.failures, MetricUnit.Count, 1);
      if (written) metrics.addMetric(METRICS.rowsWritten, MetricUnit.Count, written);
      if (retries) metrics.addMetric(METRICS.writeRetries, MetricUnit.Count, retries);
      if (alerted) metrics.addMetric(METRICS.alertsPublished, MetricUnit.Count, alerted);
      logger.error('file failed', { object: uri, reason: reasonOf(err), retryable: isRetryable(err) });
      // Recorded as failed (a retry that succeeds overwrites it): its rows so far are then marked untrusted.
      await deps.trust?.ledger.putLogFile(failedLogFileEntry(uri, reasonOf(err), written, now().toISOString())).catch((e: unknown) => {
        logger.warn('ledger entry for a failed file not written', { object: uri, reason: reasonOf(e) });
      });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function processDigest(ref: S3ObjectRef, trust: NonNullable<AppDeps['trust']>): Promise<ObjectOutcome> {
    const uri = s3Uri(ref);
    const source = await readS3Digest(deps.s3, ref, deps.config.expectedBucketOwner);
    const readDigest = (previous: string) => {
      const ref = parseS3Uri(previous);
      if (!ref) return Promise.reject(new Error(`not an s3:// URI: ${previous}`));
      return readS3Digest(deps.s3, ref, deps.config.expectedBucketOwner);
    };
    const out = await ingestDigest(uri, source, { ...trust, now, readDigest });
    const { entry } = out;
    const facts = { object: uri, verdict: entry.verdict, chain: entry.chain, files: Object.keys(entry.files).length };
    if (entry.verdict === 'valid') {
      metrics.addMetric(METRICS.digestsVerified, MetricUnit.Count, 1);
      logger.info('digest verified', { ...facts, notYetIngested: out.notYetIngested.length });
    } else if (entry.verdict === 'invalid') {
      metrics.addMetric(METRICS.digestsInvalid, MetricUnit.Count, 1);
      logger.error('digest invalid', { ...facts, reason: entry.reason });
    } else {
      logger.warn('digest unverifiable', { ...facts, reason: entry.reason });
    }
    if (entry.chain === 'gap') {
      metrics.addMetric(METRICS.digestChainGaps, MetricUnit.Count, 1);
      logger.error('digest chain gap', { ...facts, reason: entry.chainReason });
    }
    if (out.tampered.length > 0) {
      metrics.addMetric(METRICS.filesTampered, MetricUnit.Count, out.tampered.length);
      logger.error('log files differ from their digest', { digest: uri, files: out.tampered.slice(0, 20), count: out.tampered.length });
    }
    return { status: 'digest', ...out };
  }

  /**
   * The scheduled run: reconciles the hours that have just passed the grace period (a missing file produces
   * no event of its own). Each hour is reconciled once, by the run after it leaves the grace period.
   */
  async function reconcileScheduled(scheduledAt: Date): Promise<ScheduledResult> {
    if (!deps.trust) throw new ConfigError(`${ENV.ledgerTableName} is not set: there is no ledger to reconcile`);
    const hour = 3_600_000;
    // From the event's own time, so a retried or replayed run reconciles the same hours it was meant to.
    const end = Math.floor((scheduledAt.getTime() - DEFAULT_GRACE_MS) / hour) * hour;
    const since = new Date(end - deps.config.reconcileEveryHours * hour).toISOString().replace('.000Z', 'Z');
    const until = new Date(end - 1000).toISOString().replace('.000Z', 'Z');
    const { report, logFiles, digests } = await reconcileWindow(deps.trust.ledger, { since, until, now: now(), graceMs: DEFAULT_GRACE_MS });
    // Tampered files the digest's arrival already counted (they were in the ledger then) are not counted twice.
    const recordedAt = new Map(digests.flatMap((d) => Object.keys(d.files).map((f): [string, string] => [f, d.recordedAt])));
    const ingestedAt = new Map(logFiles.map((f): [string, string] => [f.uri, f.ingestedAt]));
    const lateTampered = report.tampered.filter((f) => (ingestedAt.get(f) ?? '') > (recordedAt.get(f) ?? ''));
    metrics.addMetric(METRICS.filesMissing, MetricUnit.Count, report.missing.length);
    metrics.addMetric(METRICS.filesUnattested, MetricUnit.Count, report.unattested.length);
    metrics.addMetric(METRICS.filesTampered, MetricUnit.Count, lateTampered.length);
    const log = report.ok ? logger.info.bind(logger) : logger.error.bind(logger);
    log('ledger reconciled', {
      since,
      until,
      logFiles: report.logFiles,
      digests: report.digests,
      missing: report.missing.slice(0, 20),
      unattested: report.unattested.slice(0, 20),
      tampered: report.tampered.slice(0, 20),
      failed: report.failed.slice(0, 20),
      counts: { missing: report.missing.length, unattested: report.unattested.length, tampered: report.tampered.length, failed: report.failed.length },
    });
    return { reconciled: { since, until }, report };
  }

  async function handle(event: unknown, context: InvocationContext): Promise<FunctionResult> {
    if (isScheduledEvent(event)) {
      try {
        const at = Date.parse(event.time ?? '');
        return await reconcileScheduled(Number.isNaN(at) ? now() : new Date(at));
      } finally {
        metrics.publishStoredMetrics();
      }
    }
    const plan = planInvocation(event);
    const results = new Map<string, UnitResult>();
    let unitsLeft = plan.units.filter((u) => !u.error && u.objects.length > 0).length;
    for (const unit of plan.units) {
      if (unit.error) {
        logger.warn('event item refused', { item: unit.id, reason: reasonOf(unit.error) });
        continue;
      }
      if (unit.note) logger.debug('event item note', { item: unit.id, note: unit.note });
      if (unit.objects.length === 0) continue;
      // Units are independent (one SQS message each): one failure does not stop the others.
      const own = unitContext(context, unitsLeft--);
      try {
        const parts: string[] = [];
        for (const ref of unit.objects) {
          const out = await processObject(ref, own);
          parts.push(describeOutcome(out));
        }
        results.set(unit.id, { ok: true, summary: parts.join('; ') });
      } catch (err) {
        results.set(unit.id, { ok: false, error: err });
      }
    }
    try {
      return plan.respond(results);
    } finally {
      metrics.publishStoredMetrics();
    }
  }

  return { handle, processObject };
}

function describeOutcome(out: ObjectOutcome): string {
  const count = (n: number, word: string) => `${n} ${word}${n === 1 ? '' : 's'}`;
  if (out.status === 'skipped') return `skipped (${out.kind})`;
  if (out.status === 'digest') {
    const gap = out.entry.chain === 'gap' ? ', chain gap' : '';
    return `digest ${out.entry.verdict}${gap}, ${count(Object.keys(out.entry.files).length, 'file')} attested`;
  }
  return `${count(out.writer.rowsWritten, 'row')} from ${count(out.records, 'record')}`;
}

/** EventBridge's scheduled event (the construct's reconciliation schedule), with its `time`. */
function isScheduledEvent(event: unknown): event is { time?: string } {
  return isObject(event) && event.source === 'aws.events' && event['detail-type'] === 'Scheduled Event' && (event.time === undefined || typeof event.time === 'string');
}
