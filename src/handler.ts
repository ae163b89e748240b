/**
 * The Lambda entry point. Configuration is read and checked once, at cold start: a missing or wrong
 * setting fails the init with one clear message instead of every invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createApp } from './app.js';
import { makeDynamoClient, makeEventBridgeClient, makeS3Client } from './aws.js';
import { loadConfig } from './config.js';
import { METRIC_NAMESPACE, SERVICE_NAME } from './observability.js';
import type { HandlerResult } from './triggers/types.js';

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });
const app = createApp({
  s3: makeS3Client(process.env),
  dynamo: makeDynamoClient(process.env, { forWriter: true }),
  events: config.alertSeverity === 'off' ? undefined : makeEventBridgeClient(process.env),
  config,
  logger,
  metrics,
});

export const handler = async (event: unknown, context: Context): Promise<HandlerResult> => {
  logger.addContext(context);
  return app.handle(event, context);
};
