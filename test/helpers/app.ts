/**
 * `createApp` wired as handler.ts wires it, but with mocked clients, a fixed clock and captured output:
 * a real Powertools Logger (DEBUG) and a real Metrics, whose lines the tests read back.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { createApp, type InvocationContext } from '../../src/app.js';
import { loadConfig, type Config } from '../../src/config.js';
import { METRIC_NAMESPACE, SERVICE_NAME } from '../../src/observability.js';
import { captureOutput, type Captured } from './capture.js';
import type { FakeS3, FakeTable } from './aws-mocks.js';
import type { S3BatchResult } from 'aws-lambda';
import type { InvocationSummary } from '../../src/triggers/types.js';
import type { FunctionResult } from '../../src/app.js';

export const TABLE = 'ses-audit-test';
/** The fixed clock of the tests: 2026-11-20T10:35:00Z. */
export const NOW = new Date('2026-11-20T10:35:00Z');

export interface AppUnderTest {
  app: ReturnType<typeof createApp>;
  config: Config;
  out: Captured;
  logger: Logger;
  metrics: Metrics;
}

export interface MakeAppOptions {
  env?: Record<string, string>;
  /** Omit for the fixed clock; `null` for the real one (no `now` passed to createApp). */
  now?: (() => Date) | null;
  /** A hand-made S3 client instead of the mocked one (to see `send`'s options, e.g. the abort signal). */
  s3Client?: S3Client;
  /** An EventBridge client (mocked by the test): alerts are published only with one. */
  events?: EventBridgeClient;
}

/**
 * Builds the app and starts capturing stdout/stderr (call `out.restore()` in afterEach).
 * POWERTOOLS_DEV would route logs through the global console (which vitest intercepts): cleared here.
 */
export function makeApp(s3: FakeS3, table: FakeTable, o: MakeAppOptions = {}): AppUnderTest {
  delete process.env.POWERTOOLS_DEV;
  delete process.env.POWERTOOLS_METRICS_DISABLED;
  const out = captureOutput();
  const config = loadConfig({ TABLE_NAME: TABLE, ...o.env });
  const logger = new Logger({ serviceName: SERVICE_NAME, logLevel: 'DEBUG' });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });
  const now = o.now === undefined ? () => NOW : o.now ?? undefined;
  const app = createApp({
    s3: o.s3Client ?? s3.client,
    dynamo: table.client,
    ...(o.events ? { events: o.events } : {}),
    config,
    logger,
    metrics,
    ...(now ? { now } : {}),
  });
  return { app, config, out, logger, metrics };
}

/** Lambda's context: `ms` left, or a function of the call count for a clock that runs down. */
export function lambdaContext(ms: number | (() => number) = 300_000): InvocationContext {
  return {
    getRemainingTimeInMillis: typeof ms === 'number' ? () => ms : ms,
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
  };
}

/** The error a promise rejects with (fails the test if it resolves). */
export async function rejectionOf(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (err) {
    // What the handler throws is an Error (our errors, or the SDK's).
    return err as Error;
  }
  throw new Error('expected the invocation to fail, but it succeeded');
}

/** An S3, SNS or EventBridge invocation's result (fails the test for any other shape). */
export function invocationSummary(result: FunctionResult): InvocationSummary {
  if (!('summaries' in result)) throw new Error(`expected an invocation summary, got ${JSON.stringify(result)}`);
  return result;
}

/** An S3 Batch Operations invocation's result (fails the test for any other shape). */
export function batchResult(result: FunctionResult): S3BatchResult {
  if (!('results' in result)) throw new Error(`expected a Batch Operations result, got ${JSON.stringify(result)}`);
  return result;
}
