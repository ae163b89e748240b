/**
 * The Lambda entry point. Configuration is read and checked once, at cold start: a missing or wrong
 * setting fails the init with one clear message instead of every invocation.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { createApp, type FunctionResult } from './app.js';
import { cloudTrailClients, makeDynamoClient, makeEventBridgeClient, makeS3Client } from './aws.js';
import { loadConfig } from './config.js';
import { METRIC_NAMESPACE, SERVICE_NAME } from './observability.js';
import { Ledger } from './store/ledger.js';
import { cloudTrailKeySource, fileKeySource } from './trail/public-keys.js';

const config = loadConfig(process.env);
const logger = new Logger({ serviceName: SERVICE_NAME });
const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });
// Trust needs the ledger; the public keys come from a file when one is named (local runs), else from
// CloudTrail's ListPublicKeys in each digest's region. A key file is read and checked here, at cold start.
const trust = config.ledgerTableName
  ? {
      ledger: new Ledger(makeDynamoClient(process.env), config.ledgerTableName),
      keys: config.publicKeysFile ? await fileKeySource(config.publicKeysFile) : cloudTrailKeySource(cloudTrailClients(process.env)),
    }
  : undefined;
const app = createApp({
  s3: makeS3Client(process.env),
  dynamo: makeDynamoClient(process.env, { forWriter: true }),
  events: config.alertSeverity === 'off' ? undefined : makeEventBridgeClient(process.env),
  ...(trust ? { trust } : {}),
  config,
  logger,
  metrics,
});

export const handler = async (event: unknown, context: Context): Promise<FunctionResult> => {
  logger.addContext(context);
  return app.handle(event, context);
};
