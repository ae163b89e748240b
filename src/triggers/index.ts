/**
 * Every event shape the handler accepts, turned into a plan: the units of work, and how to answer the
 * service once each unit has a result. Pure: no AWS calls, no clock, no environment.
 *
 * Key encoding, per source:
 * - S3 event notifications (direct, in SQS, in SNS): URL-encoded, `+` for space.
 * - CloudTrail's SNS notice, EventBridge `detail.object.key`: plain.
 * - S3 Batch Operations schema 1.0: URL-encoded (AWS S3 User Guide, "Invoke AWS Lambda function":
 *   "keys from S3 Batch Operations are URL encoded"; sent with `+` for space, so decoded like S3 events).
 *   Schema 2.0: taken as plain, per this project's contract. AWS documents no 2.0 example with a key that
 *   needs escaping (AWS Lambda Powertools for Python decodes both versions); if real 2.0 keys turn out
 *   encoded, flip `BATCH_KEYS_URL_ENCODED['2.0']`. For CloudTrail keys it only matters when the trail
 *   prefix has a space, `+` or `%` in it.
 */
import { InputError } from '../errors.js';
import { decodeS3EventKey } from '../trail/keys.js';
import type { S3ObjectRef } from '../trail/object.js';
import { describeKeys, isObject, str, path, type JsonObject } from '../json.js';
import { fromEventBridge, fromMessage, fromS3Record, isEventBridgeEvent, isS3TestEvent, type Extracted } from './messages.js';
import { batchResponse, sqsResponse, summarizeOrThrow } from './respond.js';
import type { Plan, WorkUnit } from './types.js';

export type * from './types.js';
export { InvocationFailedError, NotProcessedError, outcomeOf, RESULT_STRING_MAX } from './respond.js';
export type { UnitFailure, UnitOutcome } from './respond.js';

/** Schema versions of S3 Batch Operations, and whether their task keys are URL-encoded. */
export const BATCH_KEYS_URL_ENCODED: Readonly<Record<string, boolean>> = { '1.0': true, '2.0': false };

/** Throws `InputError` for an event that is none of the supported shapes, naming what it saw. */
export function planInvocation(event: unknown): Plan {
  if (!isObject(event)) throw new InputError(`unsupported event: ${describeKeys(event)}, not an object`);
  if (Array.isArray(event.Records)) return planRecords(event.Records);
  if (Array.isArray(event.tasks) && 'invocationSchemaVersion' in event) return planBatchOperations(event, event.tasks);
  if (isEventBridgeEvent(event)) return planEventBridge(event);
  if (isS3TestEvent(event)) {
    // S3 sends its test event to SQS and SNS; seen directly only when someone invokes with it by hand.
    const units = [{ id: 'event', objects: [], note: 's3:TestEvent ignored' }];
    return { kind: 's3', units, respond: (results) => summarizeOrThrow('s3', units, results) };
  }
  throw new InputError(`unsupported event: no Records, tasks or detail-type (${describeKeys(event)})`);
}

function planRecords(records: unknown[]): Plan {
  if (records.length === 0) throw new InputError('unsupported event: Records is empty');
  const first = records[0];
  const source = isObject(first) ? (first.eventSource ?? first.EventSource) : undefined;
  switch (source) {
    case 'aws:s3':
      return planS3(records);
    case 'aws:sqs':
      return planSqs(records);
    case 'aws:sns':
      return planSns(records);
    default:
      throw new InputError(
        `unsupported event: Records[0] ${source === undefined ? `has no eventSource (${describeKeys(first)})` : `eventSource ${JSON.stringify(source)}`}`,
      );
  }
}

/** Direct S3 notification: one unit per record. */
function planS3(records: unknown[]): Plan {
  const units = uniqueIds(records.map((rec, i) => unitOf(`Records[${i}]`, () => fromS3Record(rec, `Records[${i}]`))));
  return { kind: 's3', units, respond: (results) => summarizeOrThrow('s3', units, results) };
}

/**
 * SQS: one unit per message, so a bad message fails alone. A record without a messageId cannot be
 * reported back, so the event is not an SQS event we can answer: that throws.
 */
function planSqs(records: unknown[]): Plan {
  const messageIds = records.map((rec, i) => {
    const messageId = str(path(rec, 'messageId'));
    if (!messageId || !isObject(rec) || rec.eventSource !== 'aws:sqs') {
      throw new InputError(`unsupported event: Records[${i}] is not an SQS message with a messageId`);
    }
    return messageId;
  });
  const units = uniqueIds(
    records.map((rec, i) =>
      unitOf(messageIds[i], () => {
        const body = path(rec, 'body');
        if (typeof body !== 'string') throw new InputError('SQS message without body');
        return fromMessage(body, 'body', true);
      }),
    ),
  );
  // uniqueIds may have suffixed a repeated messageId; SQS must still get the id it sent.
  const messageIdOf = new Map(units.map((u, i) => [u.id, messageIds[i]]));
  return { kind: 'sqs', units, respond: (results) => sqsResponse(units, messageIdOf, results) };
}

/** SNS: one unit per record; the message is an S3 event or CloudTrail's notice. */
function planSns(records: unknown[]): Plan {
  const units = uniqueIds(
    records.map((rec, i) => {
      const where = `Records[${i}]`;
      const id = str(path(rec, 'Sns', 'MessageId')) ?? where;
      return unitOf(id, () => {
        if (!isObject(rec) || rec.EventSource !== 'aws:sns') throw new InputError(`${where} is not an SNS record`);
        const message = path(rec, 'Sns', 'Message');
        if (typeof message !== 'string') throw new InputError(`${where}: SNS record without Sns.Message`);
        return fromMessage(message, 'Sns.Message', false);
      });
    }),
  );
  return { kind: 'sns', units, respond: (results) => summarizeOrThrow('sns', units, results) };
}

/** An EventBridge event from another source (a schedule, a CloudTrail API event) is not ours: it throws. */
function planEventBridge(event: JsonObject): Plan {
  if (event.source !== 'aws.s3') {
    throw new InputError(
      `unsupported event: EventBridge source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(event['detail-type'])}`,
    );
  }
  const id = str(event.id) ?? 'event';
  const units = [unitOf(id, () => fromEventBridge(event, 'event'))];
  return { kind: 'eventbridge', units, respond: (results) => summarizeOrThrow('eventbridge', units, results) };
}

/** S3 Batch Operations, schema 1.0 or 2.0: one unit per task (S3 sends one task per invocation). */
function planBatchOperations(event: JsonObject, rawTasks: unknown[]): Plan {
  const version = event.invocationSchemaVersion;
  if (typeof version !== 'string' || !(version in BATCH_KEYS_URL_ENCODED)) {
    throw new InputError(`unsupported S3 Batch Operations invocationSchemaVersion ${JSON.stringify(version)}`);
  }
  const invocationId = str(event.invocationId);
  if (!invocationId) throw new InputError('S3 Batch Operations event without invocationId');
  const encoded = BATCH_KEYS_URL_ENCODED[version];
  const taskIds = rawTasks.map((task, i) => {
    const taskId = str(path(task, 'taskId'));
    // Without a taskId there is nothing to answer with: the event is broken, not just this task.
    if (!taskId) throw new InputError(`S3 Batch Operations tasks[${i}] without taskId`);
    return taskId;
  });
  const units = uniqueIds(
    rawTasks.map((task, i) =>
      unitOf(taskIds[i], () => ({ objects: [batchTaskObject(task, encoded, i)], notes: [] })),
    ),
  );
  const tasks = units.map((unit, i) => ({ taskId: taskIds[i], unit }));
  const userArguments = path(event, 'job', 'userArguments');
  return {
    kind: 'batch-operations',
    units,
    ...(isObject(userArguments) ? { userArguments: stringValues(userArguments) } : {}),
    respond: (results) => batchResponse(version, invocationId, tasks, results),
  };
}

function batchTaskObject(task: unknown, encoded: boolean, i: number): S3ObjectRef {
  const bucket = str(path(task, 's3Bucket')) ?? bucketFromArn(path(task, 's3BucketArn'));
  if (!bucket) throw new InputError(`tasks[${i}] without s3Bucket or s3BucketArn`);
  const rawKey = str(path(task, 's3Key'));
  if (!rawKey) throw new InputError(`tasks[${i}] without s3Key`);
  const versionId = str(path(task, 's3VersionId')); // null when the bucket is not versioned
  return { bucket, key: encoded ? decodeS3EventKey(rawKey) : rawKey, ...(versionId ? { versionId } : {}) };
}

/** `arn:aws:s3:::bucket` (bucket names hold no `:`; directory bucket ARNs end in `bucket/NAME`). */
function bucketFromArn(arn: unknown): string | undefined {
  const s = str(arn);
  if (!s?.startsWith('arn:')) return undefined;
  const resource = s.slice(s.lastIndexOf(':') + 1);
  return str(resource.startsWith('bucket/') ? resource.slice('bucket/'.length) : resource);
}

function unitOf(id: string, extract: () => Extracted): WorkUnit {
  try {
    const { objects, notes } = extract();
    return { id, objects, ...(notes.length ? { note: notes.join('; ') } : {}) };
  } catch (err) {
    return { id, objects: [], error: err instanceof Error ? err : new InputError(String(err)) };
  }
}

/** Unit ids key the results map: a repeated id (a message delivered twice in one batch) gets `#2`, `#3`. */
function uniqueIds(units: WorkUnit[]): WorkUnit[] {
  const taken = new Set<string>();
  return units.map((u) => {
    let id = u.id;
    for (let n = 2; taken.has(id); n++) id = `${u.id}#${n}`;
    taken.add(id);
    return id === u.id ? u : { ...u, id };
  });
}

function stringValues(obj: JsonObject): Record<string, string> {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]));
}
