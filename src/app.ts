/**
 * The function's logic with its dependencies passed in: any supported event in, each named trail file
 * streamed from S3 into the table, and the answer its service expects out. `handler.ts` only wires the
 * real clients; tests hand in mocked ones.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Logger } from '@aws-lambda-powertools/logger';
import { MetricUnit, type Metrics } from '@aws-lambda-powertools/metrics';
import type { Config } from './config.js';
import { isRetryable, reasonOf, SourceError, WriteError } from './errors.js';
import { ingest, type IngestResult } from './ingest.js';
import { METRICS } from './observability.js';
import { classifyKey } from './trail/keys.js';
import { s3Uri, type S3ObjectRef } from './trail/object.js';
import { openS3Object } from './trail/source.js';
import { planInvocation } from './triggers/index.js';
import type { HandlerResult, UnitResult } from './triggers/types.js';

export interface AppDeps {
  s3: S3Client;
  dynamo: DynamoDBClient;
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
  | ({ status: 'processed'; ms: number } & IngestResult);

/** Leave a file for the retry rather than start it with less than this left. */
const START_MARGIN_MS = 10_000;

export function createApp(deps: AppDeps) {
  const { logger, metrics } = deps;

  async function processObject(ref: S3ObjectRef, context: InvocationContext): Promise<ObjectOutcome> {
    const info = classifyKey(ref.key);
    const uri = s3Uri(ref);
    if (info.kind !== 'log') {
      logger.debug('skipped: not a CloudTrail log file', { object: uri, kind: info.kind });
      metrics.addMetric(METRICS.filesSkipped, MetricUnit.Count, 1);
      return { status: 'skipped', kind: info.kind };
    }
    const left = context.getRemainingTimeInMillis();
    if (left < START_MARGIN_MS) {
      throw new SourceError(`not started: ${left} ms of Lambda time left`, { retryable: true });
    }
    const started = performance.now();
    // Reading stops with the writer's margin to spare, so the invocation fails cleanly instead of timing out.
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), Math.max(0, left - START_MARGIN_MS / 2));
    let retries = 0;
    let written = 0;
    try {
      const { body } = await openS3Object(deps.s3, ref, {
        expectedBucketOwner: deps.config.expectedBucketOwner,
        abortSignal: abort.signal,
      });
      const result = await ingest(body, uri, {
        dynamo: deps.dynamo,
        config: deps.config,
        remainingTimeMs: () => context.getRemainingTimeInMillis(),
        onRetry: () => retries++,
        onWriterStats: (stats) => (written = stats.rowsWritten),
        now: deps.now,
      });
      const ms = Math.round(performance.now() - started);
      logger.info('file processed', {
        object: uri,
        bytes: result.bytes,
        compressedBytes: result.sourceBytes,
        records: result.records,
        sesEvents: result.sesEvents,
        rowsWritten: result.writer.rowsWritten,
        skippedRecords: result.skipped,
        filtered: result.filtered,
        badRecords: result.badRecords,
        retries: result.writer.retries,
        jsonFallbacks: result.writer.jsonFallbacks,
        truncated: result.writer.truncated,
        durationMs: ms,
      });
      for (const reason of result.badRecordReasons) logger.warn('bad record', { object: uri, reason });
      metrics.addMetric(METRICS.filesProcessed, MetricUnit.Count, 1);
      metrics.addMetric(METRICS.recordsRead, MetricUnit.Count, result.records);
      metrics.addMetric(METRICS.sesEvents, MetricUnit.Count, result.sesEvents);
      metrics.addMetric(METRICS.rowsWritten, MetricUnit.Count, result.writer.rowsWritten);
      metrics.addMetric(METRICS.writeRetries, MetricUnit.Count, result.writer.retries);
      if (result.oldestEventMs !== undefined) {
        const now = (deps.now ?? (() => new Date()))().getTime();
        metrics.addMetric(METRICS.deliveryLagSeconds, MetricUnit.Seconds, Math.max(0, Math.round((now - result.oldestEventMs) / 1000)));
      }
      return { status: 'processed', ms, ...result };
    } catch (caught) {
      // Our own deadline abort surfaces from the body stream as a plain reset: say what happened.
      const err = abort.signal.aborted && !(caught instanceof WriteError)
        ? new SourceError('S3 read aborted: time ran out', { retryable: true, cause: caught })
        : caught;
      metrics.addMetric(METRICS.failures, MetricUnit.Count, 1);
      if (written) metrics.addMetric(METRICS.rowsWritten, MetricUnit.Count, written);
      if (retries) metrics.addMetric(METRICS.writeRetries, MetricUnit.Count, retries);
      logger.error('file failed', { object: uri, reason: reasonOf(err), retryable: isRetryable(err) });
      throw err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function handle(event: unknown, context: InvocationContext): Promise<HandlerResult> {
    const plan = planInvocation(event);
    const results = new Map<string, UnitResult>();
    for (const unit of plan.units) {
      if (unit.error) {
        logger.warn('event item refused', { item: unit.id, reason: reasonOf(unit.error) });
        continue;
      }
      if (unit.note) logger.debug('event item note', { item: unit.id, note: unit.note });
      if (unit.objects.length === 0) continue;
      // Units are independent (one SQS message each): one failure does not stop the others.
      try {
        const parts: string[] = [];
        for (const ref of unit.objects) {
          const out = await processObject(ref, context);
          parts.push(out.status === 'skipped' ? `skipped (${out.kind})` : `${out.writer.rowsWritten} rows from ${out.records} records`);
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
