/**
 * Scripted aws-sdk-client-mock responses for the handler tests: GetObject answers from a map of object
 * bodies (or with the error S3 would give), and BatchWriteItem calls are recorded per key, with a
 * scriptable answer per call (throttle, 5xx, UnprocessedItems, a held response) so tests can count how
 * many times each row was written. The SDK clients themselves are real; only their send() is mocked.
 */
import { Readable } from 'node:stream';
import { GetObjectCommand, NoSuchKey, S3Client, S3ServiceException, type GetObjectCommandInput } from '@aws-sdk/client-s3';
import {
  BatchWriteItemCommand,
  DynamoDBClient,
  InternalServerError,
  ProvisionedThroughputExceededException,
  type AttributeValue,
  type BatchWriteItemCommandInput,
  type BatchWriteItemCommandOutput,
  type WriteRequest,
} from '@aws-sdk/client-dynamodb';
import { mockClient, type AwsClientStub } from 'aws-sdk-client-mock';

export const TEST_REGION = 'us-east-1';
const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret' };

// ---------------------------------------------------------------------------------------------------------
// S3

export function noSuchKey(): Error {
  return new NoSuchKey({ message: 'The specified key does not exist.', $metadata: { httpStatusCode: 404 } });
}

export function accessDenied(): Error {
  return new S3ServiceException({ name: 'AccessDenied', $fault: 'client', message: 'Access Denied', $metadata: { httpStatusCode: 403 } });
}

export function slowDown(): Error {
  return new S3ServiceException({ name: 'SlowDown', $fault: 'server', message: 'Please reduce your request rate.', $metadata: { httpStatusCode: 503 } });
}

export type S3Entry = Buffer | Error | ((input: GetObjectCommandInput) => unknown);

export class FakeS3 {
  readonly mock: AwsClientStub<S3Client>;
  readonly client = new S3Client({ region: TEST_REGION, credentials });
  /** `bucket/key` (decoded) -> bytes, or the error GetObject throws. Missing entries are NoSuchKey. */
  readonly objects = new Map<string, S3Entry>();

  constructor() {
    this.mock = mockClient(S3Client);
    this.install();
  }

  put(bucket: string, key: string, entry: S3Entry): void {
    this.objects.set(`${bucket}/${key}`, entry);
  }

  /** Inputs of every GetObject call, in order. */
  gets(): GetObjectCommandInput[] {
    return this.mock.commandCalls(GetObjectCommand).map((c) => c.args[0].input);
  }

  reset(): void {
    this.mock.reset();
    this.objects.clear();
    this.install();
  }

  restore(): void {
    this.mock.restore();
  }

  private install(): void {
    this.mock.on(GetObjectCommand).callsFake(async (input: GetObjectCommandInput) => {
      const entry = this.objects.get(`${input.Bucket}/${input.Key}`);
      if (entry === undefined) throw noSuchKey();
      if (entry instanceof Error) throw entry;
      if (typeof entry === 'function') return entry(input);
      // Several chunks, as a network stream would deliver them.
      const chunks: Buffer[] = [];
      for (let i = 0; i < entry.length; i += 16 * 1024) chunks.push(entry.subarray(i, i + 16 * 1024));
      return { Body: Readable.from(chunks), ContentLength: entry.length };
    });
  }
}

// ---------------------------------------------------------------------------------------------------------
// DynamoDB

export function throttled(): Error {
  return new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });
}

export function internalServerError(): Error {
  return new InternalServerError({ message: 'Internal server error', $metadata: { httpStatusCode: 500 } });
}

export function keyOfItem(item: Record<string, AttributeValue>): string {
  return `${item.identity?.S}\u0000${item.eventKey?.S}`;
}

export function keyOf(r: WriteRequest): string {
  return keyOfItem(r.PutRequest!.Item!);
}

/** What one BatchWriteItem call answers. */
export type CallOutcome =
  | { kind: 'ok' }
  | { kind: 'unprocessed'; items: WriteRequest[] }
  | { kind: 'throw'; error: Error }
  | { kind: 'hold'; release: Promise<CallOutcome> };

export interface CallInfo {
  /** 0-based over the table's life. */
  index: number;
  table: string;
  requests: WriteRequest[];
  /** True when none of these items was sent before: a new batch, not a retry. */
  firstAttempt: boolean;
}

export type Behavior = (call: CallInfo) => CallOutcome;

export interface RecordedCall extends CallInfo {
  outcome?: CallOutcome['kind'];
  accepted: number;
}

export class FakeTable {
  readonly mock: AwsClientStub<DynamoDBClient>;
  readonly client = new DynamoDBClient({ region: TEST_REGION, credentials });
  /** The table: key -> last item accepted. */
  readonly items = new Map<string, Record<string, AttributeValue>>();
  /** How many times each key was accepted (processed, not returned as unprocessed). */
  readonly writes = new Map<string, number>();
  readonly calls: RecordedCall[] = [];
  /** Calls whose answer has not been given yet. */
  inFlight = 0;
  maxInFlight = 0;
  behavior: Behavior = () => ({ kind: 'ok' });
  private readonly seen = new Set<string>();

  constructor() {
    this.mock = mockClient(DynamoDBClient);
    this.install();
  }

  reset(): void {
    this.mock.reset();
    this.items.clear();
    this.writes.clear();
    this.calls.length = 0;
    this.seen.clear();
    this.inFlight = 0;
    this.maxInFlight = 0;
    this.behavior = () => ({ kind: 'ok' });
    this.install();
  }

  restore(): void {
    this.mock.restore();
  }

  /** Every PutRequest item sent, over all calls (retries included). */
  sentItems(): Record<string, AttributeValue>[] {
    return this.calls.flatMap((c) => c.requests.map((r) => r.PutRequest!.Item!));
  }

  /** Number of new batches (first attempts) and of retry calls. */
  batchCounts(): { batches: number; retries: number } {
    const batches = this.calls.filter((c) => c.firstAttempt).length;
    return { batches, retries: this.calls.length - batches };
  }

  private install(): void {
    this.mock.on(BatchWriteItemCommand).callsFake(async (input: BatchWriteItemCommandInput): Promise<Partial<BatchWriteItemCommandOutput>> => {
      const tables = Object.keys(input.RequestItems ?? {});
      if (tables.length !== 1) throw new Error(`test table: expected one table per call, got ${tables.join(', ')}`);
      const table = tables[0];
      const requests = input.RequestItems![table];
      if (requests.length === 0 || requests.length > 25) throw new Error(`test table: ${requests.length} requests in one call`);
      const keys = requests.map(keyOf);
      if (new Set(keys).size !== keys.length) throw new Error('test table: two requests for one key in one call (DynamoDB rejects this)');
      const firstAttempt = keys.every((k) => !this.seen.has(k));
      for (const k of keys) this.seen.add(k);
      const call: RecordedCall = { index: this.calls.length, table, requests, firstAttempt, accepted: 0 };
      this.calls.push(call);
      this.inFlight++;
      this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
      try {
        let outcome = this.behavior(call);
        while (outcome.kind === 'hold') outcome = await outcome.release;
        call.outcome = outcome.kind;
        if (outcome.kind === 'throw') throw outcome.error;
        const unprocessed = outcome.kind === 'unprocessed' ? outcome.items : [];
        const left = new Set(unprocessed.map(keyOf));
        for (const r of requests) {
          const k = keyOf(r);
          if (left.has(k)) continue;
          this.items.set(k, r.PutRequest!.Item!);
          this.writes.set(k, (this.writes.get(k) ?? 0) + 1);
          call.accepted++;
        }
        return unprocessed.length ? { UnprocessedItems: { [table]: unprocessed } } : { UnprocessedItems: {} };
      } finally {
        this.inFlight--;
      }
    });
  }
}
