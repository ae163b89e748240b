/**
 * The S3 objects named by one notification, whatever carried it: an S3 event record, an S3 event,
 * CloudTrail's own SNS notice, an EventBridge "Object Created" event, S3's test event, or (in SQS) an SNS
 * envelope around any of these. Malformed input throws `InputError`; callers turn that into one failed unit.
 */
import { InputError } from '../errors.js';
import type { S3ObjectRef } from '../trail/object.js';
import { decodeS3EventKey } from '../trail/keys.js';
import { describeKeys, isObject, path, str, type JsonObject } from '../json.js';

export interface Extracted {
  objects: S3ObjectRef[];
  /** What was ignored and why. */
  notes: string[];
}

const OBJECT_CREATED_RE = /^(?:s3:)?ObjectCreated:/;

/**
 * One record of an S3 event notification. Only `ObjectCreated:*` names work (CloudTrail only ever puts);
 * anything else (ObjectRemoved, Replication, ...) is ignored with a note. The `s3:` prefix some
 * S3-compatible servers put before the event name is accepted. Keys are URL-encoded (`+` for space).
 */
export function fromS3Record(record: unknown, where: string): Extracted {
  if (!isObject(record) || record.eventSource !== 'aws:s3') {
    const seen = isObject(record) ? `eventSource ${JSON.stringify(record.eventSource)}` : describeKeys(record);
    throw new InputError(`${where}: not an S3 event record (${seen})`);
  }
  const eventName = str(record.eventName);
  if (!eventName || !OBJECT_CREATED_RE.test(eventName)) {
    return { objects: [], notes: [`${eventName ?? 'record without eventName'} ignored`] };
  }
  const bucket = str(path(record, 's3', 'bucket', 'name'));
  if (!bucket) throw new InputError(`${where}: S3 event record without s3.bucket.name`);
  const rawKey = str(path(record, 's3', 'object', 'key'));
  if (!rawKey) throw new InputError(`${where}: S3 event record without s3.object.key`);
  const versionId = str(path(record, 's3', 'object', 'versionId'));
  return { objects: [{ bucket, key: decodeS3EventKey(rawKey), ...(versionId ? { versionId } : {}) }], notes: [] };
}

/** `{"Records":[...]}` of S3 records (the body S3 sends to SQS and SNS). */
export function fromS3Event(event: JsonObject, where: string): Extracted {
  const records = event.Records;
  if (!Array.isArray(records) || records.length === 0) throw new InputError(`${where}: S3 event without Records`);
  return merge(records.map((r, i) => fromS3Record(r, `${where}.Records[${i}]`)));
}

/**
 * CloudTrail's SNS notice after each delivery: `{"s3Bucket":"...","s3ObjectKey":["AWSLogs/..."]}`.
 * Its keys are plain (not URL-encoded).
 */
export function fromCloudTrailNotice(notice: JsonObject, where: string): Extracted {
  const bucket = str(notice.s3Bucket);
  const keys = notice.s3ObjectKey;
  if (!bucket || !Array.isArray(keys)) throw new InputError(`${where}: CloudTrail notice without s3Bucket or s3ObjectKey`);
  if (keys.length === 0) return { objects: [], notes: ['CloudTrail notice without keys ignored'] };
  const objects = keys.map((key, i) => {
    const k = str(key);
    if (!k) throw new InputError(`${where}: CloudTrail notice s3ObjectKey[${i}] is not a key`);
    return { bucket, key: k };
  });
  return { objects, notes: [] };
}

/**
 * An S3 event on the EventBridge bus. `detail.object.key` is plain (not URL-encoded). Other S3 detail
 * types (Object Deleted, ...) are ignored; an event from another source is not ours to guess at.
 */
export function fromEventBridge(event: JsonObject, where: string): Extracted {
  const detailType = event['detail-type'];
  if (event.source !== 'aws.s3') {
    throw new InputError(
      `${where}: unsupported EventBridge event (source ${JSON.stringify(event.source)}, detail-type ${JSON.stringify(detailType)})`,
    );
  }
  if (detailType !== 'Object Created') {
    return { objects: [], notes: [`EventBridge ${JSON.stringify(detailType)} ignored`] };
  }
  const bucket = str(path(event, 'detail', 'bucket', 'name'));
  const key = str(path(event, 'detail', 'object', 'key'));
  if (!bucket || !key) throw new InputError(`${where}: Object Created event without detail.bucket.name or detail.object.key`);
  const versionId = str(path(event, 'detail', 'object', 'version-id'));
  return { objects: [{ bucket, key, ...(versionId ? { versionId } : {}) }], notes: [] };
}

/** `{"Service":"Amazon S3","Event":"s3:TestEvent",...}`, sent once when a notification is configured. */
export function isS3TestEvent(value: unknown): boolean {
  return isObject(value) && value.Event === 's3:TestEvent';
}

/** True for a top-level value that is an EventBridge event (as delivered to Lambda, SQS or SNS targets). */
export function isEventBridgeEvent(value: unknown): value is JsonObject {
  return isObject(value) && typeof value['detail-type'] === 'string' && typeof value.source === 'string';
}

/**
 * A message body: an SNS `Message`, or an SQS body (`allowSnsEnvelope`: SNS delivers to SQS wrapped in
 * `{"Type":"Notification","Message":"..."}` unless raw message delivery is on).
 */
export function fromMessage(body: string, where: string, allowSnsEnvelope: boolean): Extracted {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch (err) {
    throw new InputError(`${where} is not JSON`, err);
  }
  if (!isObject(value)) throw new InputError(`${where} is not a JSON object (${describeKeys(value)})`);

  if (allowSnsEnvelope && typeof value.Type === 'string' && ('TopicArn' in value || 'Message' in value)) {
    if (value.Type === 'Notification') {
      if (typeof value.Message !== 'string') throw new InputError(`${where}: SNS notification without Message`);
      return fromMessage(value.Message, `${where}.Message`, false);
    }
    // A cross-account subscription waits for confirmation; it is not work, and retrying cannot confirm it.
    return { objects: [], notes: [`SNS ${value.Type} ignored`] };
  }
  if (isS3TestEvent(value)) return { objects: [], notes: ['s3:TestEvent ignored'] };
  if (Array.isArray(value.Records)) return fromS3Event(value, where);
  if ('s3ObjectKey' in value || 's3Bucket' in value) return fromCloudTrailNotice(value, where);
  if (isEventBridgeEvent(value)) return fromEventBridge(value, where);
  throw new InputError(`${where}: unrecognized message (${describeKeys(value)})`);
}

export function merge(parts: Extracted[]): Extracted {
  return { objects: parts.flatMap((p) => p.objects), notes: parts.flatMap((p) => p.notes) };
}
