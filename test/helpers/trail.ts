/**
 * Trail files and Lambda events for handler tests: the sample files in events/trail, generated files
 * (test/fixtures/trailgen.ts), hand-made records, and S3 / SQS / Batch Operations events naming them.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync, gzipSync } from 'node:zlib';
import { generateTrail, type TrailGenOptions } from '../fixtures/trailgen.js';
import type { Config } from '../../src/config.js';
import { processTrail, type TrailSummary } from '../../src/pipeline.js';
import type { AuditRow } from '../../src/ses/row.js';

export const BUCKET = 'ses-audit-trail-test';
export const ACCOUNT = '111122223333';

const EVENTS = join(import.meta.dirname, '../../events');
const DATED = `AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/11/20`;
/** Keys of the two sample log files, relative to events/trail (no prefix). */
export const SAMPLE_1015 = `${DATED}/${ACCOUNT}_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz`;
export const SAMPLE_1030 = `${DATED}/${ACCOUNT}_CloudTrail_us-east-1_20261120T1030Z_e5f6a7b8.json.gz`;
export const SAMPLE_DIGEST = `AWSLogs/${ACCOUNT}/CloudTrail-Digest/us-east-1/2026/11/20/${ACCOUNT}_CloudTrail-Digest_us-east-1_ses-audit_us-east-1_20261120T110000Z.json.gz`;

export function sampleFile(key: string): Buffer {
  return readFileSync(join(EVENTS, 'trail', key));
}

/**
 * The reviewed rows of a sample file (test/golden/, made by scripts/make-golden.ts and checked by hand),
 * as read from `sourceObject`, without `ingestedAt`: the reference the pipeline, the handler and the table
 * are compared with, so that no test uses the code under test as its own oracle.
 */
export function goldenRows(sampleKey: string, sourceObject: string): Omit<AuditRow, 'ingestedAt'>[] {
  const name = sampleKey.slice(sampleKey.lastIndexOf('/') + 1).replace(/\.json\.gz$/, '.rows.json');
  const rows: unknown = JSON.parse(readFileSync(join(import.meta.dirname, '..', 'golden', name), 'utf8'));
  if (!Array.isArray(rows)) throw new Error(`${name}: not a list of rows`);
  // Boundary: the golden files are reviewed rows written by scripts/make-golden.ts.
  return (rows as Omit<AuditRow, 'ingestedAt'>[]).map((r) => ({ ...r, sourceObject }));
}

/** Rows without `ingestedAt` (the one attribute that depends on the clock), sorted as the golden files are. */
export function comparable(rows: Iterable<AuditRow>): Omit<AuditRow, 'ingestedAt'>[] {
  return [...rows]
    .map(({ ingestedAt: _i, ...rest }) => rest)
    .sort((a, b) => `${a.identity}|${a.eventKey}`.localeCompare(`${b.identity}|${b.eventKey}`));
}

export function loadEvent(name: string): unknown {
  return JSON.parse(readFileSync(join(EVENTS, name), 'utf8'));
}

/** A log-file key with the usual shape, under `prefix` (no trailing slash), unique by `tag`. */
export function logKey(tag: string, prefix = ''): string {
  return `${prefix ? `${prefix}/` : ''}${DATED}/${ACCOUNT}_CloudTrail_us-east-1_20261120T1015Z_${tag}.json.gz`;
}

export function gzipRecords(records: unknown[]): Buffer {
  return gzipSync(Buffer.from(JSON.stringify({ Records: records })));
}

/** A generated trail file, gzipped. */
export async function generatedFile(o: TrailGenOptions): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of generateTrail(o)) parts.push(chunk);
  return gzipSync(Buffer.concat(parts));
}

export function gunzippedLength(buf: Buffer): number {
  return gunzipSync(buf).length;
}

/** A management-event SES record with the given name and request parameters. */
export function sesRecord(eventName: string, requestParameters: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    eventVersion: '1.11',
    userIdentity: {
      type: 'IAMUser',
      principalId: 'AIDAJ45Q7YFFAREXAMPLE',
      arn: `arn:aws:iam::${ACCOUNT}:user/carol`,
      accountId: ACCOUNT,
      accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
      userName: 'carol',
    },
    eventTime: '2026-11-20T10:12:00Z',
    eventSource: 'ses.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: '203.0.113.10',
    userAgent: 'aws-cli/2.22.0',
    requestParameters,
    responseElements: null,
    requestID: 'c0ffee00-0000-4000-a000-000000000001',
    eventID: 'e0000000-0000-4000-a000-000000000001',
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    ...extra,
  };
}

/** The rows the pipeline makes of `file` on its own, as the contract's reference for what must be written. */
export async function expectedRows(
  file: Buffer,
  sourceObject: string,
  config: Config,
  now: () => Date,
): Promise<{ rows: AuditRow[]; summary: TrailSummary }> {
  const rows: AuditRow[] = [];
  const summary = await processTrail(Readable.from([file]), {
    config,
    sourceObject,
    now,
    sink: (chunk) => {
      rows.push(...chunk);
    },
  });
  return { rows, summary };
}

// ---------------------------------------------------------------------------------------------------------
// Events

/** URL-encodes a key as S3 event notifications do: percent-encoding, with `+` for space. */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%20/g, '+').replace(/%2F/g, '/');
}

export function s3Record(bucket: string, rawKey: string, size = 1000): Record<string, unknown> {
  return {
    eventVersion: '2.1',
    eventSource: 'aws:s3',
    awsRegion: 'us-east-1',
    eventTime: '2026-11-20T10:20:41.512Z',
    eventName: 'ObjectCreated:Put',
    userIdentity: { principalId: 'AWS:AROA4QWERTYUIOPASDFG:regionalDeliverySession' },
    s3: {
      s3SchemaVersion: '1.0',
      configurationId: 'ses-audit',
      bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
      object: { key: rawKey, size, sequencer: '00673DB9F1A7C2D3E4' },
    },
  };
}

/** A direct S3 notification naming each key (given decoded; encoded here as S3 does). */
export function s3Event(keys: string[], bucket = BUCKET): { Records: unknown[] } {
  return { Records: keys.map((k) => s3Record(bucket, encodeEventKey(k))) };
}

/** An SQS batch, one message per entry, each message an S3 event naming its keys. */
export function sqsEvent(messages: { id: string; keys: string[] }[], bucket = BUCKET): { Records: unknown[] } {
  return {
    Records: messages.map((m) => ({
      messageId: m.id,
      receiptHandle: `rh-${m.id}`,
      body: JSON.stringify(s3Event(m.keys, bucket)),
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: {},
      eventSource: 'aws:sqs',
      eventSourceARN: 'arn:aws:sqs:us-east-1:111122223333:ses-audit-trail-events',
      awsRegion: 'us-east-1',
    })),
  };
}

/** S3 Batch Operations schema 2.0 (plain keys), one task per key. */
export function batchOpsEvent(tasks: { id: string; key: string }[], bucket = BUCKET): unknown {
  return {
    invocationSchemaVersion: '2.0',
    invocationId: 'inv-test-0001',
    job: { id: 'job-0001', userArguments: {} },
    tasks: tasks.map((t) => ({ taskId: t.id, s3Key: t.key, s3VersionId: null, s3Bucket: bucket })),
  };
}
