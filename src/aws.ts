/**
 * SDK clients, created once and passed in (tests hand in mocks). Endpoints come from the SDK's standard
 * settings (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB), read from the `env` given so that commands run
 * in-process (tests, `ses-audit local`) can point at local servers without touching process.env. A custom S3
 * endpoint means a local server, which needs path-style addressing and no optional checksum headers.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { CloudTrailClient } from '@aws-sdk/client-cloudtrail';

type Env = Record<string, string | undefined>;

function endpointOf(env: Env, service: 'S3' | 'DYNAMODB' | 'EVENTBRIDGE' | 'CLOUDTRAIL'): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

/**
 * Region, credentials and profile from `env` when it names them (it may not be process.env); otherwise the
 * SDK's default chain. Access keys in `env` are used as they are; else AWS_PROFILE names the profile whose
 * credentials and region the SDK reads.
 */
function common(env: Env) {
  const region = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  const credentials =
    env.AWS_ACCESS_KEY_ID && env.AWS_SECRET_ACCESS_KEY
      ? { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY, sessionToken: env.AWS_SESSION_TOKEN }
      : undefined;
  const profile = credentials ? undefined : env.AWS_PROFILE || undefined;
  return { ...(region ? { region } : {}), ...(credentials ? { credentials } : {}), ...(profile ? { profile } : {}) };
}

/** A socket that stays silent this long is given up (a stalled body or listing fails and is retried). */
export const S3_SOCKET_TIMEOUT_MS = 30_000;

export function makeS3Client(env: Env = process.env, options: { socketTimeoutMs?: number } = {}): S3Client {
  const endpoint = endpointOf(env, 'S3');
  return new S3Client({
    ...common(env),
    // Bodies may take long to stream, so no whole-request timeout; but a silent socket is a dead one.
    requestHandler: { connectionTimeout: 5_000, socketTimeout: options.socketTimeoutMs ?? S3_SOCKET_TIMEOUT_MS },
    ...(endpoint
      ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
}

/** A BatchWriteItem call answers in milliseconds; one that has not in this long is abandoned and retried. */
export const WRITE_REQUEST_TIMEOUT_MS = 10_000;

/** The SDK's logging middleware, by the name the client registers it under. */
export const SDK_LOGGER_MIDDLEWARE = 'loggerMiddleware';

/**
 * `forWriter`: the batch writer retries throttling, 5xx, timeouts and UnprocessedItems itself, with backoff
 * and a deadline it can see; the SDK's own retries underneath would multiply calls and hide sleeps from it.
 * Its calls time out: without `throwOnRequestTimeout` the SDK's `requestTimeout` only logs a warning, and
 * without a socket timeout a call that never answers holds the invocation until Lambda kills it.
 * The writer's client also goes without the SDK's logging middleware: with no logger configured it still
 * builds a redacted copy of every request and response to hand to the no-op logger (a copy of 25 items per
 * BatchWriteItem, about a fifth of the writer's CPU); the writer reports its own failures.
 */
export function makeDynamoClient(
  env: Env = process.env,
  options: { forWriter?: boolean; maxSockets?: number; requestTimeoutMs?: number } = {},
): DynamoDBClient {
  const endpoint = endpointOf(env, 'DYNAMODB');
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  const timeout = options.requestTimeoutMs ?? WRITE_REQUEST_TIMEOUT_MS;
  const client = new DynamoDBClient({
    ...common(env),
    ...(endpoint ? { endpoint } : {}),
    ...(options.forWriter ? { maxAttempts: 1 } : {}),
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent,
      // Every call times out (the writer's own loop retries; other callers get the SDK's retries).
      connectionTimeout: 3_000,
      requestTimeout: timeout,
      throwOnRequestTimeout: true,
      socketTimeout: timeout,
    },
  });
  // The middleware stack's public `remove`; false would mean the SDK renamed it (a test watches for that).
  if (options.forWriter) client.middlewareStack.remove(SDK_LOGGER_MIDDLEWARE);
  return client;
}

/**
 * Alerts (AWS_ENDPOINT_URL_EVENTBRIDGE): the publisher retries throttling and partial failures itself, like
 * the writer, so the SDK does not retry underneath; a call that never answers times out.
 */
export function makeEventBridgeClient(env: Env = process.env): EventBridgeClient {
  const endpoint = endpointOf(env, 'EVENTBRIDGE');
  return new EventBridgeClient({
    ...common(env),
    ...(endpoint ? { endpoint } : {}),
    maxAttempts: 1,
    requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true, socketTimeout: 10_000 },
  });
}

/**
 * CloudTrail in a given region (ListPublicKeys: a digest's keys live in the digest's region), endpoint from
 * AWS_ENDPOINT_URL_CLOUDTRAIL. One client per region, made on first use.
 */
export function cloudTrailClients(env: Env = process.env): (region: string) => CloudTrailClient {
  const clients = new Map<string, CloudTrailClient>();
  const endpoint = endpointOf(env, 'CLOUDTRAIL');
  return (region) => {
    let client = clients.get(region);
    if (!client) {
      client = new CloudTrailClient({
        ...common(env),
        region,
        ...(endpoint ? { endpoint } : {}),
        requestHandler: { connectionTimeout: 3_000, requestTimeout: 10_000, throwOnRequestTimeout: true, socketTimeout: 10_000 },
      });
      clients.set(region, client);
    }
    return client;
  };
}
