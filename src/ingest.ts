/**
 * One trail file into the table: the pipeline feeding the batch writer, reading and writing overlapped,
 * with the writer's backpressure stalling the reader; and, when an EventBridge client is given, the rows
 * with findings at or above ALERT_SEVERITY published as alerts. Shared by the Lambda and the CLI.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { AlertPublisher, type AlertStats } from './alerts/publisher.js';
import type { Config } from './config.js';
import { processTrail, type TrailSummary } from './pipeline.js';
import { BatchWriter, type WriterStats } from './store/writer.js';
import type { ByteSource } from './trail/reader.js';

export interface IngestOptions {
  dynamo: DynamoDBClient;
  /** Alerts are published only with a client (the Lambda), and only when ALERT_SEVERITY is not off. */
  events?: EventBridgeClient;
  config: Config;
  /** Lambda's remaining time: the writer fails in time for Lambda to retry rather than time out mid-write. */
  remainingTimeMs?: () => number;
  onRetry?: (info: { attempt: number; reason: string; items: number }) => void;
  /** The writer's and publisher's counts at the end, success or failure (what was done before a failure counts). */
  onStats?: (stats: { writer: WriterStats; alerts: AlertStats }) => void;
  now?: () => Date;
}

export interface IngestResult extends TrailSummary {
  writer: WriterStats;
  alerts: AlertStats;
}

const NO_ALERTS: AlertStats = { published: 0, calls: 0, retries: 0 };

export async function ingest(source: ByteSource, sourceObject: string, o: IngestOptions): Promise<IngestResult> {
  const writer = new BatchWriter({
    client: o.dynamo,
    tableName: o.config.tableName,
    concurrency: o.config.writeConcurrency,
    remainingTimeMs: o.remainingTimeMs,
    onRetry: o.onRetry,
  });
  const alerts =
    o.events && o.config.alertSeverity !== 'off'
      ? new AlertPublisher({
          client: o.events,
          eventBus: o.config.alertEventBus,
          threshold: o.config.alertSeverity,
          remainingTimeMs: o.remainingTimeMs,
          onRetry: (r) => o.onRetry?.({ attempt: r.attempt, reason: r.reason, items: r.entries }),
        })
      : undefined;
  const stats = () => ({ writer: writer.stats, alerts: alerts?.stats ?? NO_ALERTS });
  let summary: TrailSummary;
  try {
    summary = await processTrail(source, {
      config: o.config,
      sourceObject,
      now: o.now,
      sink: async (rows) => {
        await writer.write(rows);
        await alerts?.publish(rows);
      },
    });
  } catch (err) {
    // Rows of the valid records read so far are still written and their alerts published (a replay
    // overwrites the rows and publishes again); the read error is what the caller hears about.
    await writer.flush().catch(() => undefined);
    await alerts?.flush().catch(() => undefined);
    o.onStats?.(stats());
    throw err;
  }
  try {
    const written = await writer.flush();
    return { ...summary, writer: written, alerts: alerts ? await alerts.flush() : NO_ALERTS };
  } finally {
    o.onStats?.(stats());
  }
}
