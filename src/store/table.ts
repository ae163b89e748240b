/**
 * Create-if-missing for the audit table and the ledger table: for `ses-audit local` and tests, where nothing
 * like the CDK stack has made them. Safe to call on every start.
 */
import {
  CreateTableCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
  type CreateTableCommandInput,
  type DynamoDBClient,
  type TableDescription,
} from '@aws-sdk/client-dynamodb';
import { createLedgerTableInput, createTableInput, TTL_ATTRIBUTE } from './schema.js';
import { reasonOf } from '../errors.js';

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
  const result = await ensureCreated(client, createTableInput(tableName), options);
  await ensureTtl(client, tableName, options.note ?? defaultNote);
  return result;
}

/** Creates the ledger table (schema.ts) if missing and waits until it is ACTIVE. */
export function ensureLedgerTable(client: DynamoDBClient, tableName: string, options: EnsureOptions = {}): Promise<EnsureResult> {
  return ensureCreated(client, createLedgerTableInput(tableName), options);
}

async function ensureCreated(client: DynamoDBClient, input: CreateTableCommandInput, options: EnsureOptions): Promise<EnsureResult> {
  const tableName = input.TableName ?? '';
  let result: EnsureResult = 'exists';
  if ((await describeTable(client, tableName)) === undefined) {
    try {
      await client.send(new CreateTableCommand(input));
      result = 'created';
    } catch (err) {
      // Someone else created it between our describe and create: fine, it exists.
      if (errorName(err) !== 'ResourceInUseException') throw err;
    }
  }
  await waitForActive(client, tableName, options.timeoutMs ?? 5 * 60_000);
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

function errorName(err: unknown): string | undefined {
  return err instanceof Error ? err.name : undefined;
}
