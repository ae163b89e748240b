/**
 * One trail file into the table: the pipeline feeding the batch writer, reading and writing overlapped,
 * with the writer's backpressure stalling the reader. Shared by the Lambda and `ses-audit process`.
 */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from './config.js';
import { processTrail, type TrailSummary } from './pipeline.js';
import { BatchWriter, type WriterStats } from './store/writer.js';
import type { ByteSource } from './trail/reader.js';

export interface IngestOptions {
  dynamo: DynamoDBClient;
  config: Config;
  /** Lambda's remaining time: the writer fails in time for Lambda to retry rather than time out mid-write. */
  remainingTimeMs?: () => number;
  onRetry?: (info: { attempt: number; reason: string; items: number }) => void;
  /** The writer's counts at the end, success or failure (rows written before a failure still count). */
  onWriterStats?: (stats: WriterStats) => void;
  now?: () => Date;
}

export interface IngestResult extends TrailSummary {
  writer: WriterStats;
}

export async function ingest(source: ByteSource, sourceObject: string, o: IngestOptions): Promise<IngestResult> {
  const writer = new BatchWriter({
    client: o.dynamo,
    tableName: o.config.tableName,
    concurrency: o.config.writeConcurrency,
    remainingTimeMs: o.remainingTimeMs,
    onRetry: o.onRetry,
  });
  let summary: TrailSummary;
  try {
    summary = await processTrail(source, {
      config: o.config,
      sourceObject,
      now: o.now,
      sink: (rows) => writer.write(rows),
    });
  } catch (err) {
    // Rows of the valid records read so far are still written (a replay overwrites them); the read
    // error is what the caller hears about, unless writing failed too.
    await writer.flush().catch(() => undefined);
    o.onWriterStats?.(writer.stats);
    throw err;
  }
  try {
    return { ...summary, writer: await writer.flush() };
  } finally {
    o.onWriterStats?.(writer.stats);
  }
}
