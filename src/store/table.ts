/**
 * Create-if-missing for the audit table and a bucket: for `ses-audit local` and tests, where nothing like the
 * CDK stack has made them. Safe to call on every start.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  type BucketLocationConstraint,
  type S3Client,
} from '@aws-sdk/client-s3';
import { createTableInput, TTL_ATTRIBUTE } from './schema.js';
import { oneLine, reasonOf } from '../errors.js';

export type EnsureResult = 'created' | 'exists';

export interface EnsureOptions {
  /** Where notes go (e.g. a server without TTL support). Default: `note: ...` lines on stderr. */
  note?: (message: string) => void;
  /** Give up waiting for ACTIVE after this long. Default 5 minutes (real DynamoDB with indexes). */
  timeoutMs?: number;
}

const defaultNote = (message: string): void => {
  process.stderr.write(`note: ${message}\n`);
};

/** Creates the table (schema.ts) if missing, waits until it and its indexes are ACTIVE, and enables TTL. */
export async function ensureTable(
  client: DynamoDBClient,
  tableName: string,
  options: EnsureOptions = {},
): Promise<EnsureResult> {
  const note = options.note ?? defaultNote;
  let result: EnsureResult = 'exists';
  if ((await describeTable(client, tableName)) === undefined) {
    try {
      await client.send(new CreateTableCommand(createTableInput(tableName)));
      result = 'created';
    } catch (err) {
      // Someone else created it between our describe and create: fine, it exists.
      if (errorName(err) !== 'ResourceInUseException') throw err;
    }
  }
  await waitForActive(client, tableName, options.timeoutMs ?? 5 * 60_000);
  await ensureTtl(client, tableName, note);
  return result;
}

async function describeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription | undefined> {
  try {
    return (await client.send(new DescribeTableCommand({ TableName: tableName }))).Table;
  } catch (err) {
    if (errorName(err) === 'ResourceNotFoundException') return undefined;
    throw err;
  }
}

async function waitForActive(client: DynamoDBClient, tableName: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // Local servers are ACTIVE at once; real DynamoDB takes seconds, so back off up to 5 s.
  for (let delay = 50; ; delay = Math.min(delay * 2, 5_000)) {
    const table = await describeTable(client, tableName);
    const indexesActive = (table?.GlobalSecondaryIndexes ?? []).every((i) => i.IndexStatus === 'ACTIVE');
    if (table?.TableStatus === 'ACTIVE' && indexesActive) return;
    if (Date.now() + delay > deadline) {
      throw new Error(`table ${tableName} is not ACTIVE after ${Math.round(timeoutMs / 1000)} s (${table?.TableStatus ?? 'missing'})`);
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
  }
}

async function ensureTtl(client: DynamoDBClient, tableName: string, note: (message: string) => void): Promise<void> {
  let current: { status?: string; attribute?: string } = {};
  try {
    const d = (await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }))).TimeToLiveDescription;
    current = { status: d?.TimeToLiveStatus, attribute: d?.AttributeName };
  } catch (err) {
    if (!isUnsupported(err)) throw err;
  }
  if (current.status === 'ENABLED' || current.status === 'ENABLING') {
    if (current.attribute !== undefined && current.attribute !== TTL_ATTRIBUTE) {
      note(`table ${tableName} expires items on ${current.attribute}, not ${TTL_ATTRIBUTE}: rows will not expire`);
    }
    return;
  }
  try {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { Enabled: true, AttributeName: TTL_ATTRIBUTE },
      }),
    );
  } catch (err) {
    if (isUnsupported(err)) {
      // dynalite (4.x) has no UpdateTimeToLive: rows keep their expiresAt but nothing deletes them.
      note(`this DynamoDB server does not support TTL; rows will not expire (${TTL_ATTRIBUTE} is still written)`);
      return;
    }
    // Real DynamoDB refuses a second change within an hour, or when TTL is already on: nothing to do.
    if (errorName(err) === 'ValidationException' && /already enabled/i.test(reasonOf(err))) return;
    throw err;
  }
}

function isUnsupported(err: unknown): boolean {
  const name = errorName(err);
  return name === 'UnknownOperationException' || name === 'UnrecognizedClientException' || name === 'NotImplemented';
}

/** Creates the bucket if missing (in the client's region). */
export async function ensureBucket(s3: S3Client, bucket: string): Promise<EnsureResult> {
  if (await bucketExists(s3, bucket)) return 'exists';
  const region = await s3.config.region();
  try {
    await s3.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the default location and refuses to be named.
        ...(region && region !== 'us-east-1' ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
      }),
    );
    return 'created';
  } catch (err) {
    const name = errorName(err);
    if (name === 'BucketAlreadyOwnedByYou') return 'exists';
    // s3rver answers BucketAlreadyExists for a bucket we own too (a racing creator); S3 means another account.
    if (name === 'BucketAlreadyExists' && (await bucketExists(s3, bucket))) return 'exists';
    if (name === 'BucketAlreadyExists') throw new Error(`bucket ${bucket} belongs to another account`);
    throw err;
  }
}

async function bucketExists(s3: S3Client, bucket: string): Promise<boolean> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (err) {
    const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || errorName(err) === 'NotFound' || errorName(err) === 'NoSuchBucket') return false;
    if (status === 403) throw new Error(`bucket ${bucket} exists but this account cannot use it (403)`);
    throw err;
  }
}

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}

/**
 * One line for the DynamoDB failures a user can act on: a missing table, an endpoint that cannot be
 * reached. Undefined for anything else (the caller decides).
 */
export function dynamoProblem(err: unknown, tableName: string, env: Record<string, string | undefined>): string | undefined {
  const name = err instanceof Error ? err.name : '';
  const code = (err as { code?: unknown } | undefined)?.code;
  if (name === 'ResourceNotFoundException') return `table ${tableName} not found${env.TABLE_NAME ? '' : ' (set TABLE_NAME)'}`;
  const network = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'ECONNRESET', 'EHOSTUNREACH'];
  if ((typeof code === 'string' && network.includes(code)) || name === 'TimeoutError' || err instanceof AggregateError) {
    const endpoint = env.AWS_ENDPOINT_URL_DYNAMODB || env.AWS_ENDPOINT_URL || 'the regional endpoint';
    return `cannot reach DynamoDB at ${endpoint}: ${networkReason(err)}`;
  }
  return undefined;
}

/** The network error's code says it best; Node reports a refused dual-stack connect as an AggregateError. */
function networkReason(err: unknown): string {
  const first: unknown = err instanceof AggregateError && err.errors.length ? err.errors[0] : err;
  const code = (first as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' ? code : oneLine(reasonOf(first));
}
