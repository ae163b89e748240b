/**
 * SDK clients, created once and passed in (tests hand in mocks). Endpoints come from the SDK's standard
 * settings (AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB); a custom S3 endpoint means a local server,
 * which needs path-style addressing and no optional checksum headers.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';

type Env = Record<string, string | undefined>;

function customEndpoint(env: Env, service: 'S3' | 'DYNAMODB'): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}

export function makeS3Client(env: Env = process.env): S3Client {
  const local = customEndpoint(env, 'S3') !== undefined;
  return new S3Client({
    forcePathStyle: local,
    ...(local ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' } : {}),
  });
}

export function makeDynamoClient(_env: Env = process.env): DynamoDBClient {
  // Retries of BatchWriteItem are ours (with UnprocessedItems); the SDK's own retry stays for other calls.
  return new DynamoDBClient({});
}
