/**
 * SDK clients, created once and passed in (tests hand in mocks). Endpoints come from the SDK's standard
 * settings (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB), read from the `env` given so that commands run
 * in-process (tests, `ses-audit local`) can point at local servers without touching process.env. A custom S3
 * endpoint means a local server, which needs path-style addressing and no optional checksum headers.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

type Env = Record<string, string | undefined>;

function endpointOf(env: Env, service: 'S3' | 'DYNAMODB'): string | undefined {
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

export function makeS3Client(env: Env = process.env): S3Client {
  const endpoint = endpointOf(env, 'S3');
  return new S3Client({
    ...common(env),
    ...(endpoint
      ? { endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
  });
}

/**
 * `forWriter`: the batch writer retries throttling, 5xx and UnprocessedItems itself, with backoff and a
 * deadline it can see; the SDK's own retries underneath would multiply calls and hide sleeps from it.
 */
export function makeDynamoClient(env: Env = process.env, options: { forWriter?: boolean; maxSockets?: number } = {}): DynamoDBClient {
  const endpoint = endpointOf(env, 'DYNAMODB');
  const agent = { keepAlive: true, maxSockets: options.maxSockets ?? 50 };
  return new DynamoDBClient({
    ...common(env),
    ...(endpoint ? { endpoint } : {}),
    ...(options.forWriter ? { maxAttempts: 1 } : {}),
    requestHandler: {
      httpAgent: agent,
      httpsAgent: agent,
      // A call that never answers is retried by the writer rather than waited on for ever.
      ...(options.forWriter ? { requestTimeout: 10_000, connectionTimeout: 3_000 } : {}),
    },
  });
}
