import { describe, expect, it } from 'vitest';
import { InputError, SesAuditError, SourceError, WriteError, isRetryable } from '../../src/errors.js';
import {
  InvocationFailedError,
  planInvocation,
  RESULT_STRING_MAX,
  type InvocationSummary,
  type UnitResult,
} from '../../src/triggers/index.js';

/** The plan of a direct S3 event: its respond() answers with an invocation summary. */
function s3Plan(event: unknown) {
  const plan = planInvocation(event);
  if (plan.kind !== 's3') throw new Error(`expected an S3 plan, got ${plan.kind}`);
  return plan;
}

/** The plan of an SQS event: its respond() answers with an SQS batch response. */
function sqsPlan(event: unknown) {
  const plan = planInvocation(event);
  if (plan.kind !== 'sqs') throw new Error(`expected an SQS plan, got ${plan.kind}`);
  return plan;
}

/** The plan of an S3 Batch Operations event: its respond() answers with a batch result. */
function batchPlan(event: unknown) {
  const plan = planInvocation(event);
  if (plan.kind !== 'batch-operations') throw new Error(`expected a Batch Operations plan, got ${plan.kind}`);
  return plan;
}

const BUCKET = 'ses-audit-trail-local';
const ACCT = '111122223333';
const KEY = `AWSLogs/${ACCT}/CloudTrail/us-east-1/2026/11/20/${ACCT}_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz`;
const KEY2 = KEY.replace('T1015Z_a1b2c3d4', 'T1030Z_e5f6a7b8');

// --- event builders (real field names; only what the code reads plus a little context) ---

function s3Record(encodedKey: string, extra: { eventName?: string; size?: number; versionId?: string; eTag?: string } = {}) {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-20T10:20:41.512Z',
    eventName: extra.eventName ?? 'ObjectCreated:Put',
    s3: {
      s3SchemaVersion: '1.0',
      bucket: { name: BUCKET, arn: `arn:aws:s3:::${BUCKET}` },
      object: {
        key: encodedKey,
        ...(extra.size !== undefined ? { size: extra.size } : {}),
        ...(extra.versionId ? { versionId: extra.versionId } : {}),
        ...(extra.eTag ? { eTag: extra.eTag } : {}),
        sequencer: '00673DB9F1A7C2D3E4',
      },
    },
  };
}
const s3Event = (...records: unknown[]) => ({ Records: records });
const sqsRecord = (messageId: string, body: string) => ({
  messageId,
  receiptHandle: `AQEB${messageId}`,
  body,
  attributes: { ApproximateReceiveCount: '1', SentTimestamp: '1795170041912', SenderId: 'AIDAJHIPRHEMV73VRJEBU' },
  messageAttributes: {},
  md5OfBody: '',
  eventSource: 'aws:sqs',
  eventSourceARN: `arn:aws:sqs:us-east-1:${ACCT}:ses-audit-trail-events`,
  awsRegion: 'us-east-1',
});
const sqsEvent = (...records: unknown[]) => ({ Records: records });
const snsEnvelope = (message: string, type = 'Notification') => ({
  Type: type,
  MessageId: 'f3c8b2d1-6e7a-5b4c-9d8e-1a2b3c4d5e6f',
  TopicArn: `arn:aws:sns:us-east-1:${ACCT}:ses-audit-trail-delivery`,
  Message: message,
  Timestamp: '2026-11-20T10:20:42.118Z',
});
const snsRecord = (messageId: string, message: string) => ({
  EventVersion: '1.0',
  EventSubscriptionArn: `arn:aws:sns:us-east-1:${ACCT}:ses-audit-trail-delivery:2bcfbf39`,
  EventSource: 'aws:sns',
  Sns: { Type: 'Notification', MessageId: messageId, TopicArn: `arn:aws:sns:us-east-1:${ACCT}:ses-audit-trail-delivery`, Message: message },
});
const notice = (...keys: string[]) => JSON.stringify({ s3Bucket: BUCKET, s3ObjectKey: keys });
const testEvent = JSON.stringify({ Service: 'Amazon S3', Event: 's3:TestEvent', Time: '2026-11-20T09:58:12.401Z', Bucket: BUCKET });
const ebEvent = (key: string, detailType = 'Object Created', source = 'aws.s3') => ({
  version: '0',
  id: '17793124-05d4-b198-2fde-7ededc63b103',
  'detail-type': detailType,
  source,
  account: ACCT,
  time: '2026-11-20T10:20:41Z',
  region: 'us-east-1',
  resources: [`arn:aws:s3:::${BUCKET}`],
  detail: { version: '0', bucket: { name: BUCKET }, object: { key, size: 1305, etag: 'b21b84d6', 'version-id': 'v1' }, reason: 'PutObject' },
});
const batch1 = (tasks: unknown[]) => ({
  invocationSchemaVersion: '1.0',
  invocationId: 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo',
  job: { id: 'f3cc4f60-61f6-4a2b-8a21-d07600c373ce' },
  tasks,
});
const batch2 = (tasks: unknown[], userArguments?: Record<string, unknown>) => ({
  invocationSchemaVersion: '2.0',
  invocationId: 'Jr3s8KZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZzYWRmaAo',
  job: { id: '7c1d8e52-3b9a-4f6e-a2d4-95b0e61f3c87', ...(userArguments ? { userArguments } : {}) },
  tasks,
});

const ok = (summary?: string): UnitResult => (summary === undefined ? { ok: true } : { ok: true, summary });
const fail = (error: unknown): UnitResult => ({ ok: false, error });

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// --- S3 ---

describe('S3 event notifications', () => {
  it('one unit per record, keys decoded, versionId kept (size and eTag are not used)', () => {
    const plan = planInvocation(
      s3Event(
        s3Record('my+trail/team%3Dmail/Z%C3%BCrich/' + KEY, { size: 1305, versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY', eTag: 'b21b' }),
        s3Record(`a%2Bb/${KEY2}`, { eventName: 'ObjectCreated:CompleteMultipartUpload' }),
      ),
    );
    expect(plan.kind).toBe('s3');
    expect(plan.units).toEqual([
      {
        id: 'Records[0]',
        objects: [{ bucket: BUCKET, key: `my trail/team=mail/Zürich/${KEY}`, versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY' }],
      },
      { id: 'Records[1]', objects: [{ bucket: BUCKET, key: `a+b/${KEY2}` }] },
    ]);
  });

  it('ignores records that are not ObjectCreated, with a note', () => {
    const plan = planInvocation(s3Event(s3Record(KEY, { eventName: 'ObjectRemoved:Delete' })));
    expect(plan.units).toEqual([{ id: 'Records[0]', objects: [], note: 'ObjectRemoved:Delete ignored' }]);
    expect(plan.respond(new Map())).toMatchObject({ trigger: 's3', units: 1, objects: 0, ignored: 1 });
  });

  it('accepts the s3: prefix S3-compatible servers put on event names', () => {
    const plan = planInvocation(s3Event(s3Record(KEY, { eventName: 's3:ObjectCreated:Put' })));
    expect(plan.units[0].objects).toHaveLength(1);
  });

  it('respond returns a summary when every unit succeeded', () => {
    const plan = s3Plan(s3Event(s3Record(KEY), s3Record(KEY2), s3Record(KEY, { eventName: 'ObjectRemoved:Delete' })));
    const summary: InvocationSummary = plan.respond(new Map([['Records[0]', ok('12 rows')], ['Records[1]', ok()]]));
    expect(summary).toEqual({
      trigger: 's3',
      units: 3,
      objects: 2,
      ignored: 1,
      notes: ['Records[2]: ObjectRemoved:Delete ignored'],
      summaries: ['12 rows'],
    });
  });

  it('respond throws one error naming every failed unit and its object', () => {
    const plan = planInvocation(s3Event(s3Record(KEY), s3Record(`my+trail/${KEY2}`)));
    const err = thrownBy(() =>
      plan.respond(new Map([['Records[0]', ok()], ['Records[1]', fail(new InputError('corrupt gzip: unexpected end of file'))]])),
    );
    expect(err).toBeInstanceOf(InvocationFailedError);
    const e = err as InvocationFailedError;
    expect(e.message).toBe(`s3: 1 of 2 unit(s) failed: Records[1] (s3://${BUCKET}/my trail/${KEY2}): corrupt gzip: unexpected end of file`);
    expect(e.failures.map((f) => f.id)).toEqual(['Records[1]']);
    expect(e.retryable).toBe(false);
    expect(e.message).not.toContain('\n');
  });

  it('a retryable failure makes the aggregate retryable, and the cause keeps every error', () => {
    const plan = planInvocation(s3Event(s3Record(KEY), s3Record(KEY2)));
    const e1 = new InputError('corrupt');
    const e2 = new WriteError('DynamoDB throttled');
    const err = thrownBy(() => plan.respond(new Map([['Records[0]', fail(e1)], ['Records[1]', fail(e2)]]))) as InvocationFailedError;
    expect(err.retryable).toBe(true);
    expect(err.cause).toBeInstanceOf(AggregateError);
    expect((err.cause as AggregateError).errors).toEqual([e1, e2]);
  });

  it('a unit with objects and no result failed (not processed)', () => {
    const plan = planInvocation(s3Event(s3Record(KEY)));
    const err = thrownBy(() => plan.respond(new Map())) as InvocationFailedError;
    expect(err.message).toContain('not processed');
    expect(err.retryable).toBe(true);
  });

  it('a record without a key fails alone, and the invocation throws', () => {
    const broken = s3Record(KEY) as { s3: { object: Record<string, unknown> } };
    delete broken.s3.object.key;
    const plan = planInvocation(s3Event(s3Record(KEY), broken));
    expect(plan.units[0].error).toBeUndefined();
    expect(plan.units[1]).toMatchObject({ id: 'Records[1]', objects: [] });
    expect(plan.units[1].error).toBeInstanceOf(InputError);
    expect(plan.units[1].error?.message).toBe('Records[1]: S3 event record without s3.object.key');
    // A result claiming success does not hide a planning error.
    expect(() => plan.respond(new Map([['Records[0]', ok()], ['Records[1]', ok()]]))).toThrow(/s3\.object\.key/);
  });

  it.each([
    ['+ for a space', 'my+trail/x.json.gz', 'my trail/x.json.gz'],
    ['%20 for a space', 'my%20trail/x.json.gz', 'my trail/x.json.gz'],
    ['%2B for a literal +', 'a%2Bb/x.json.gz', 'a+b/x.json.gz'],
    ['%3D for =', 'team%3Dmail/x.json.gz', 'team=mail/x.json.gz'],
    ['unicode', 'Z%C3%BCrich/%E6%97%A5%E6%9C%AC/x.json.gz', 'Zürich/日本/x.json.gz'],
  ])('decodes keys: %s', (_name, encoded, decoded) => {
    expect(planInvocation(s3Event(s3Record(encoded))).units[0].objects[0].key).toBe(decoded);
  });
});

// --- SQS ---

describe('SQS', () => {
  it('a body that is an S3 event', () => {
    const plan = planInvocation(sqsEvent(sqsRecord('m1', JSON.stringify(s3Event(s3Record(`my+trail/${KEY}`), s3Record(KEY2))))));
    expect(plan.kind).toBe('sqs');
    expect(plan.units).toEqual([
      { id: 'm1', objects: [{ bucket: BUCKET, key: `my trail/${KEY}` }, { bucket: BUCKET, key: KEY2 }] },
    ]);
  });

  it('an SNS envelope around an S3 event (keys still URL-encoded)', () => {
    const body = JSON.stringify(snsEnvelope(JSON.stringify(s3Event(s3Record(`my+trail/a%2Bb/${KEY}`)))));
    const plan = planInvocation(sqsEvent(sqsRecord('m1', body)));
    expect(plan.units[0].objects).toEqual([{ bucket: BUCKET, key: `my trail/a+b/${KEY}` }]);
  });

  it("an SNS envelope around CloudTrail's notice (keys not URL-encoded)", () => {
    const body = JSON.stringify(snsEnvelope(notice(`my trail/a+b/${KEY}`, `x%20y/${KEY2}`)));
    const plan = planInvocation(sqsEvent(sqsRecord('m1', body)));
    expect(plan.units[0].objects).toEqual([
      { bucket: BUCKET, key: `my trail/a+b/${KEY}` },
      { bucket: BUCKET, key: `x%20y/${KEY2}` },
    ]);
  });

  it('an EventBridge event delivered to the queue', () => {
    const plan = planInvocation(sqsEvent(sqsRecord('m1', JSON.stringify(ebEvent(`my trail/${KEY}`)))));
    expect(plan.units[0].objects).toEqual([{ bucket: BUCKET, key: `my trail/${KEY}`, versionId: 'v1' }]);
  });

  it('the s3:TestEvent is ignored, not a failure, directly or inside SNS', () => {
    const plan = planInvocation(sqsEvent(sqsRecord('t1', testEvent), sqsRecord('t2', JSON.stringify(snsEnvelope(testEvent)))));
    expect(plan.units).toEqual([
      { id: 't1', objects: [], note: 's3:TestEvent ignored' },
      { id: 't2', objects: [], note: 's3:TestEvent ignored' },
    ]);
    expect(plan.respond(new Map())).toEqual({ batchItemFailures: [] });
  });

  it('an SNS subscription confirmation is ignored with a note', () => {
    const body = JSON.stringify({ ...snsEnvelope('You have chosen to subscribe...', 'SubscriptionConfirmation'), SubscribeURL: 'https://sns...' });
    const plan = planInvocation(sqsEvent(sqsRecord('c1', body)));
    expect(plan.units[0]).toEqual({ id: 'c1', objects: [], note: 'SNS SubscriptionConfirmation ignored' });
  });

  it('mixed batch: one good, one failed, one test event -> exactly one batchItemFailure', () => {
    const plan = planInvocation(
      sqsEvent(
        sqsRecord('good', JSON.stringify(s3Event(s3Record(KEY)))),
        sqsRecord('bad', JSON.stringify(s3Event(s3Record(KEY2)))),
        sqsRecord('test', testEvent),
      ),
    );
    const response = plan.respond(new Map([['good', ok()], ['bad', fail(new SourceError('NoSuchKey: missing object'))]]));
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  it.each([
    ['not JSON', 'this body is not JSON {', 'body is not JSON'],
    ['JSON but not an object', '[1,2]', 'body is not a JSON object (an array)'],
    ['a JSON string', '"hello"', 'body is not a JSON object (a string)'],
    ['an unknown object', '{"hello":"world","n":1}', 'body: unrecognized message (keys: hello, n)'],
    ['an S3 event without records', '{"Records":[]}', 'body: S3 event without Records'],
    ['an S3 record without a bucket', JSON.stringify(s3Event({ eventSource: 'aws:s3', eventName: 'ObjectCreated:Put', s3: { object: { key: 'k' } } })), 'body.Records[0]: S3 event record without s3.bucket.name'],
    ['a record of another source', JSON.stringify(s3Event({ eventSource: 'aws:dynamodb' })), 'body.Records[0]: not an S3 event record (eventSource "aws:dynamodb")'],
    ['an SNS envelope around junk', JSON.stringify(snsEnvelope('junk')), 'body.Message is not JSON'],
    ['an SNS envelope without Message', JSON.stringify({ Type: 'Notification', TopicArn: 'arn:aws:sns:us-east-1:1:t' }), 'body: SNS notification without Message'],
    ['nested SNS envelopes', JSON.stringify(snsEnvelope(JSON.stringify(snsEnvelope(testEvent)))), 'body.Message: unrecognized message'],
    ['a notice with a key that is not a string', JSON.stringify({ s3Bucket: BUCKET, s3ObjectKey: [KEY, 7] }), 'body: CloudTrail notice s3ObjectKey[1] is not a key'],
    ['EventBridge from another source', JSON.stringify(ebEvent(KEY, 'Scheduled Event', 'aws.events')), 'body: unsupported EventBridge event (source "aws.events", detail-type "Scheduled Event")'],
  ])('a malformed body fails that message only: %s', (_name, body, reason) => {
    const plan = planInvocation(sqsEvent(sqsRecord('good', JSON.stringify(s3Event(s3Record(KEY)))), sqsRecord('bad', body)));
    expect(plan.units[0].error).toBeUndefined();
    expect(plan.units[1].error).toBeInstanceOf(InputError);
    expect(plan.units[1].error?.message.startsWith(reason)).toBe(true);
    // Even if the runner reported success for it, the message fails; the good one does not.
    expect(plan.respond(new Map([['good', ok()], ['bad', ok()]]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'bad' }] });
  });

  it('a message with objects and no result is reported as failed', () => {
    const plan = planInvocation(sqsEvent(sqsRecord('a', JSON.stringify(s3Event(s3Record(KEY)))), sqsRecord('b', JSON.stringify(s3Event(s3Record(KEY2))))));
    expect(plan.respond(new Map([['a', ok()]]))).toEqual({ batchItemFailures: [{ itemIdentifier: 'b' }] });
  });

  it('a messageId seen twice gets two units but is reported under its own id, once', () => {
    const body = JSON.stringify(s3Event(s3Record(KEY)));
    const plan = sqsPlan(sqsEvent(sqsRecord('dup', body), sqsRecord('dup', body)));
    expect(plan.units.map((u) => u.id)).toEqual(['dup', 'dup#2']);
    const r = plan.respond(new Map([['dup', fail(new Error('x'))], ['dup#2', fail(new Error('y'))]]));
    expect(r).toEqual({ batchItemFailures: [{ itemIdentifier: 'dup' }] });
  });

  it('never throws from respond, even when everything failed', () => {
    const plan = planInvocation(sqsEvent(sqsRecord('a', 'x'), sqsRecord('b', 'y')));
    expect(plan.respond(new Map())).toEqual({ batchItemFailures: [{ itemIdentifier: 'a' }, { itemIdentifier: 'b' }] });
  });

  it('a record without messageId is not an SQS event we can answer', () => {
    const rec = { ...sqsRecord('m', testEvent), messageId: undefined };
    expect(() => planInvocation(sqsEvent(rec))).toThrow(InputError);
  });
});

// --- SNS ---

describe('SNS', () => {
  it('an S3 event as the message', () => {
    const plan = planInvocation({ Records: [snsRecord('n1', JSON.stringify(s3Event(s3Record(`my+trail/${KEY}`))))] });
    expect(plan.kind).toBe('sns');
    expect(plan.units).toEqual([{ id: 'n1', objects: [{ bucket: BUCKET, key: `my trail/${KEY}` }] }]);
  });

  it("CloudTrail's notice, keys taken as they are", () => {
    const plan = planInvocation({ Records: [snsRecord('n1', notice(`my trail/a+b%3D/${KEY}`, KEY2))] });
    expect(plan.units[0].objects).toEqual([
      { bucket: BUCKET, key: `my trail/a+b%3D/${KEY}` },
      { bucket: BUCKET, key: KEY2 },
    ]);
  });

  it('a notice without keys is ignored with a note', () => {
    const plan = planInvocation({ Records: [snsRecord('n1', notice())] });
    expect(plan.units[0]).toEqual({ id: 'n1', objects: [], note: 'CloudTrail notice without keys ignored' });
  });

  it('the S3 test event is ignored', () => {
    const plan = planInvocation({ Records: [snsRecord('n1', testEvent)] });
    expect(plan.respond(new Map())).toMatchObject({ trigger: 'sns', ignored: 1, notes: ['n1: s3:TestEvent ignored'] });
  });

  it('respond throws on failure, returns a summary otherwise', () => {
    const plan = planInvocation({ Records: [snsRecord('n1', notice(KEY, KEY2)), snsRecord('n2', 'not json')] });
    expect(plan.units[1].error?.message).toBe('Sns.Message is not JSON');
    expect(() => plan.respond(new Map([['n1', ok()]]))).toThrow(/^sns: 1 of 2 unit\(s\) failed: n2: Sns.Message is not JSON$/);
    const good = planInvocation({ Records: [snsRecord('n1', notice(KEY, KEY2))] });
    expect(good.respond(new Map([['n1', ok()]]))).toMatchObject({ trigger: 'sns', units: 1, objects: 2, ignored: 0 });
    expect(() => good.respond(new Map([['n1', fail(new SourceError('AccessDenied'))]]))).toThrow(InvocationFailedError);
  });

  it('an SNS envelope inside an SNS message is not unwrapped', () => {
    const plan = planInvocation({ Records: [snsRecord('n1', JSON.stringify(snsEnvelope(testEvent)))] });
    expect(plan.units[0].error?.message).toMatch(/^Sns\.Message: unrecognized message/);
  });
});

// --- EventBridge ---

describe('EventBridge', () => {
  it('Object Created: key not URL-encoded, version-id kept', () => {
    const plan = planInvocation(ebEvent(`my trail/a+b%3D/Zürich/${KEY}`));
    expect(plan.kind).toBe('eventbridge');
    expect(plan.units).toEqual([
      {
        id: '17793124-05d4-b198-2fde-7ededc63b103',
        objects: [{ bucket: BUCKET, key: `my trail/a+b%3D/Zürich/${KEY}`, versionId: 'v1' }],
      },
    ]);
  });

  it('respond: summary on success, throws on failure', () => {
    const plan = planInvocation(ebEvent(KEY));
    const id = plan.units[0].id;
    expect(plan.respond(new Map([[id, ok('3 rows')]]))).toMatchObject({ trigger: 'eventbridge', summaries: ['3 rows'] });
    expect(() => plan.respond(new Map([[id, fail(new SourceError('NoSuchKey'))]]))).toThrow(/eventbridge: 1 of 1 unit\(s\) failed/);
  });

  it('other S3 detail types are ignored', () => {
    const plan = planInvocation(ebEvent(KEY, 'Object Deleted'));
    expect(plan.units[0]).toMatchObject({ objects: [], note: 'EventBridge "Object Deleted" ignored' });
    expect(plan.respond(new Map())).toMatchObject({ ignored: 1 });
  });

  it('an event without a key fails its unit', () => {
    const e = ebEvent(KEY) as { detail: { object: Record<string, unknown> } };
    delete e.detail.object.key;
    const plan = planInvocation(e);
    expect(plan.units[0].error).toBeInstanceOf(InputError);
    expect(() => plan.respond(new Map())).toThrow(/detail\.object\.key/);
  });

  it('an event from another source is unsupported', () => {
    expect(() => planInvocation(ebEvent(KEY, 'Scheduled Event', 'aws.events'))).toThrow(
      'unsupported event: EventBridge source "aws.events", detail-type "Scheduled Event"',
    );
  });
});

// --- S3 Batch Operations ---

describe('S3 Batch Operations', () => {
  it('schema 1.0: bucket from the ARN, key URL-encoded, version id kept', () => {
    const plan = batchPlan(
      batch1([{ taskId: 't1', s3Key: `my+trail/a%2Bb/Z%C3%BCrich/${KEY}`, s3VersionId: 'v7', s3BucketArn: `arn:aws:s3:::${BUCKET}` }]),
    );
    expect(plan.kind).toBe('batch-operations');
    expect(plan.units).toEqual([{ id: 't1', objects: [{ bucket: BUCKET, key: `my trail/a+b/Zürich/${KEY}`, versionId: 'v7' }] }]);
    expect(plan.userArguments).toBeUndefined();
  });

  it('schema 2.0: bucket name, key as it is, user arguments', () => {
    const plan = batchPlan(
      batch2([{ taskId: 't1', s3Key: `my trail/a+b/${KEY}`, s3VersionId: null, s3Bucket: BUCKET }], { requestedBy: 'ops', n: 2 }),
    );
    expect(plan.units).toEqual([{ id: 't1', objects: [{ bucket: BUCKET, key: `my trail/a+b/${KEY}` }] }]);
    expect(plan.userArguments).toEqual({ requestedBy: 'ops', n: '2' });
  });

  it('schema 1.0 with the ARN form of the AWS docs example', () => {
    const plan = batchPlan(batch1([{ taskId: 't1', s3Key: KEY, s3VersionId: null, s3BucketArn: `arn:aws:s3:us-east-1:0123456788:${BUCKET}` }]));
    expect(plan.units[0].objects[0].bucket).toBe(BUCKET);
  });

  const task1 = { taskId: 'dGFza2lkZ29lc2hlcmUK', s3Key: KEY, s3VersionId: null, s3BucketArn: `arn:aws:s3:::${BUCKET}` };

  it('Succeeded, with the unit summary as result string', () => {
    const plan = batchPlan(batch1([task1]));
    expect(plan.respond(new Map([[task1.taskId, ok('42 SES events, 44 rows')]]))).toEqual({
      invocationSchemaVersion: '1.0',
      treatMissingKeysAs: 'PermanentFailure',
      invocationId: 'YXNkbGZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZza2RmaAo',
      results: [{ taskId: task1.taskId, resultCode: 'Succeeded', resultString: '42 SES events, 44 rows' }],
    });
    const r = plan.respond(new Map([[task1.taskId, ok()]]));
    expect(r.results[0]).toEqual({ taskId: task1.taskId, resultCode: 'Succeeded', resultString: 'ok' });
  });

  it.each([
    ['a retryable SourceError (throttling)', new SourceError('SlowDown: reduce your request rate', { retryable: true }), 'TemporaryFailure', 'SlowDown: reduce your request rate'],
    ['a WriteError (DynamoDB gave up)', new WriteError('ProvisionedThroughputExceededException after 8 attempts'), 'TemporaryFailure', 'ProvisionedThroughputExceededException after 8 attempts'],
    ['an SDK timeout that was not wrapped', Object.assign(new Error('socket hang up'), { name: 'TimeoutError' }), 'TemporaryFailure', 'socket hang up'],
    ['an SDK error marked $retryable', Object.assign(new Error('Rate exceeded'), { name: 'Foo', $retryable: { throttling: true } }), 'TemporaryFailure', 'Rate exceeded'],
    ['an HTTP 503', Object.assign(new Error('Service Unavailable'), { $metadata: { httpStatusCode: 503 } }), 'TemporaryFailure', 'Service Unavailable'],
    ['a missing object', new SourceError('missing object (NoSuchKey)'), 'PermanentFailure', 'missing object (NoSuchKey)'],
    ['a corrupt file', new InputError('corrupt gzip: incorrect header check'), 'PermanentFailure', 'corrupt gzip: incorrect header check'],
    ['an unwrapped NoSuchKey', Object.assign(new Error('The specified key does not exist.'), { name: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }), 'PermanentFailure', 'The specified key does not exist.'],
    ['a bug', new TypeError("Cannot read properties of undefined (reading 'x')"), 'PermanentFailure', "Cannot read properties of undefined (reading 'x')"],
    ['a thrown string', 'boom', 'PermanentFailure', 'boom'],
  ])('%s -> %s', (_name, error, resultCode, resultString) => {
    const plan = batchPlan(batch1([task1]));
    const r = plan.respond(new Map([[task1.taskId, fail(error)]]));
    expect(r.results).toEqual([{ taskId: task1.taskId, resultCode, resultString }]);
  });

  it('schema 2.0 answers with 2.0 and its invocation id', () => {
    const plan = batchPlan(batch2([{ taskId: 't2', s3Key: KEY, s3VersionId: null, s3Bucket: BUCKET }]));
    const r = plan.respond(new Map([['t2', fail(new InputError('not a CloudTrail log file'))]]));
    expect(r).toEqual({
      invocationSchemaVersion: '2.0',
      treatMissingKeysAs: 'PermanentFailure',
      invocationId: 'Jr3s8KZqYWRmaiBhc2RmdW9hZHNmZGpmaGFzbGtkaGZzYWRmaAo',
      results: [{ taskId: 't2', resultCode: 'PermanentFailure', resultString: 'not a CloudTrail log file' }],
    });
  });

  it('the result string is one line of at most 256 characters', () => {
    const plan = batchPlan(batch1([task1]));
    const long = new Error(`first line\n   second line ${'é'.repeat(400)} ${'📧'.repeat(50)}`);
    const r = plan.respond(new Map([[task1.taskId, fail(long)]]));
    const s = r.results[0].resultString;
    expect(s).not.toMatch(/\n/);
    expect(Array.from(s).length).toBeLessThanOrEqual(RESULT_STRING_MAX);
    expect(s.length).toBeLessThanOrEqual(RESULT_STRING_MAX);
    expect(s.startsWith('first line second line éé')).toBe(true);
    expect(s.endsWith('…')).toBe(true);
    const longSummary = plan.respond(new Map([[task1.taskId, ok('x'.repeat(1000))]]));
    expect(longSummary.results[0].resultString).toHaveLength(RESULT_STRING_MAX);
  });

  it('a task with no result is a TemporaryFailure (S3 redrives it)', () => {
    const plan = batchPlan(batch1([task1]));
    const r = plan.respond(new Map());
    expect(r.results[0]).toMatchObject({ resultCode: 'TemporaryFailure', resultString: expect.stringContaining('not processed') });
  });

  it('a task without a key is a PermanentFailure, not a thrown invocation', () => {
    const plan = batchPlan(batch2([{ taskId: 't1', s3Key: '', s3VersionId: null, s3Bucket: BUCKET }]));
    expect(plan.units[0].error).toBeInstanceOf(InputError);
    const r = plan.respond(new Map());
    expect(r.results).toEqual([{ taskId: 't1', resultCode: 'PermanentFailure', resultString: 'tasks[0] without s3Key' }]);
  });

  it('several tasks answer in order', () => {
    const plan = batchPlan(
      batch1([
        { ...task1, taskId: 'a' },
        { ...task1, taskId: 'b' },
      ]),
    );
    const r = plan.respond(new Map([['a', fail(new SourceError('throttled', { retryable: true }))], ['b', ok()]]));
    expect(r.results.map((x) => [x.taskId, x.resultCode])).toEqual([
      ['a', 'TemporaryFailure'],
      ['b', 'Succeeded'],
    ]);
  });

  it.each([
    ['an unknown schema version', { ...batch1([task1]), invocationSchemaVersion: '3.0' }, 'unsupported S3 Batch Operations invocationSchemaVersion "3.0"'],
    ['no invocationId', { ...batch1([task1]), invocationId: undefined }, 'S3 Batch Operations event without invocationId'],
    ['a task without taskId', batch1([{ ...task1, taskId: undefined }]), 'S3 Batch Operations tasks[0] without taskId'],
  ])('%s throws', (_name, event, message) => {
    expect(() => batchPlan(event)).toThrow(message);
  });
});

// --- unknown shapes ---

describe('unknown events', () => {
  it.each([
    ['an object of unknown shape', { foo: 1, bar: 2 }, 'unsupported event: no Records, tasks or detail-type (keys: foo, bar)'],
    ['an empty object', {}, 'unsupported event: no Records, tasks or detail-type (no keys)'],
    ['null', null, 'unsupported event: null, not an object'],
    ['a string', 'hello', 'unsupported event: a string, not an object'],
    ['an array', [1], 'unsupported event: an array, not an object'],
    ['empty Records', { Records: [] }, 'unsupported event: Records is empty'],
    ['Records of another source', { Records: [{ eventSource: 'aws:kinesis' }] }, 'unsupported event: Records[0] eventSource "aws:kinesis"'],
    ['Records without a source', { Records: [{ a: 1 }] }, 'unsupported event: Records[0] has no eventSource (keys: a)'],
    ['tasks without a schema version', { tasks: [] }, 'unsupported event: no Records, tasks or detail-type (keys: tasks)'],
  ])('%s', (_name, event, message) => {
    const err = thrownBy(() => planInvocation(event));
    expect(err).toBeInstanceOf(InputError);
    expect((err as InputError).reason).toBe(message);
    expect((err as SesAuditError).retryable).toBe(false);
  });

  it('lists at most ten keys', () => {
    const event = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i]));
    expect(() => planInvocation(event)).toThrow('(keys: k0, k1, k2, k3, k4, k5, k6, k7, k8, k9, ... (12 in all))');
  });

  it('the S3 test event invoked directly is ignored', () => {
    const plan = planInvocation(JSON.parse(testEvent));
    expect(plan).toMatchObject({ kind: 's3', units: [{ id: 'event', objects: [], note: 's3:TestEvent ignored' }] });
    expect(plan.respond(new Map())).toMatchObject({ ignored: 1 });
  });
});

describe('isRetryable', () => {
  it.each([
    [new WriteError('x'), true],
    [new InputError('x'), false],
    [new SourceError('x'), false],
    [new SourceError('x', { retryable: true }), true],
    [Object.assign(new Error('x'), { code: 'ECONNRESET' }), true],
    [Object.assign(new Error('x'), { name: 'ThrottlingException' }), true],
    [Object.assign(new Error('x'), { $metadata: { httpStatusCode: 429 } }), true],
    [Object.assign(new Error('x'), { name: 'AccessDenied', $metadata: { httpStatusCode: 403 } }), false],
    [undefined, false],
    ['ETIMEDOUT', false],
  ])('%s -> %s', (err, expected) => {
    expect(isRetryable(err)).toBe(expected);
  });
});
