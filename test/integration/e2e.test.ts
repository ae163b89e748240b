/**
 * The deployed path on real local servers over HTTP: sample Lambda events given to the bundled handler
 * (dist/handler.mjs, built by `npm test`) through `ses-audit invoke`, S3 read from s3rver, rows written
 * to dynalite through the real AWS SDK.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { readFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { DeleteTableCommand, ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { startLocalAws, type LocalAws } from '../../src/local/servers.js';
import { ensureTable } from '../../src/store/table.js';
import { ensureBucket } from '../../src/local/bucket.js';
import { makeDynamoClient, makeS3Client } from '../../src/aws.js';
import { toRow } from '../../src/store/history.js';
import type { AuditRow } from '../../src/ses/row.js';
import { writeTrailFile } from '../fixtures/trailgen.js';
import { runCli } from '../helpers/cli.js';
import { comparable, goldenRows } from '../helpers/trail.js';
import { gunzipSync } from 'node:zlib';

const ROOT = join(import.meta.dirname, '../..');
const BUCKET = 'ses-audit-trail-local';
const TABLE = 'e2e-audit';
const LOGS = 'events/trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20';
const FIRST = '111122223333_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz';
const SECOND = '111122223333_CloudTrail_us-east-1_20261120T1030Z_e5f6a7b8.json.gz';
const keyOf = (prefix: string, file: string) => `${prefix}AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/${file}`;

let aws: LocalAws;
let s3: S3Client;
let dynamo: DynamoDBClient;
let env: Record<string, string>;
let scratch: string;

async function upload(key: string, path: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: await readFile(path) }));
}

async function tableRows(): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(new ScanCommand({ TableName: TABLE, ExclusiveStartKey: start }));
    rows.push(...(page.Items ?? []).map(toRow));
    start = page.LastEvaluatedKey as typeof start;
  } while (start);
  return rows.sort((a, b) => `${a.identity}|${a.eventKey}`.localeCompare(`${b.identity}|${b.eventKey}`));
}


async function invoke(event: string, extraEnv: Record<string, string> = {}) {
  const r = await runCli(['invoke', join(ROOT, 'events', event)], { ...env, ...extraEnv });
  return { ...r, result: r.code === 0 ? JSON.parse(r.stdout) : undefined };
}

beforeAll(async () => {
  aws = await startLocalAws({ bucket: [BUCKET] });
  // No EventBridge here: alerts off (the alert path has its own tests against a mocked client).
  env = { ...aws.env, TABLE_NAME: TABLE, ALERT_SEVERITY: 'off', POWERTOOLS_METRICS_DISABLED: 'true', POWERTOOLS_LOG_LEVEL: 'CRITICAL' };
  s3 = makeS3Client(env);
  dynamo = makeDynamoClient(env);
  await ensureBucket(s3, BUCKET);
  for (const prefix of ['my trail/', 'my trail/team=mail/Zürich/']) {
    await upload(keyOf(prefix, FIRST), join(ROOT, LOGS, FIRST));
    await upload(keyOf(prefix, SECOND), join(ROOT, LOGS, SECOND));
  }
  scratch = await mkdtemp(join(tmpdir(), 'ses-audit-e2e-'));
});

afterAll(async () => {
  s3?.destroy();
  dynamo?.destroy();
  await aws?.stop();
  await rm(scratch, { recursive: true, force: true });
});

beforeEach(async () => {
  await dynamo.send(new DeleteTableCommand({ TableName: TABLE })).catch(() => undefined);
  await ensureTable(dynamo, TABLE, { note: () => undefined });
});

describe('ses-audit invoke on local servers', () => {
  it('an S3 notification with an encoded key fills the table with exactly the DESIGN.md rows; a replay adds nothing', async () => {
    const first = await invoke('s3-put.json');
    expect(first.stderr).not.toMatch(/error/i);
    expect(first.code).toBe(0);
    expect(first.result).toMatchObject({ trigger: 's3', objects: 1 });
    const key = keyOf('my trail/team=mail/Zürich/', FIRST);
    // The reviewed golden rows (test/golden/), not the pipeline's own output.
    const rows = await tableRows();
    expect(comparable(rows)).toEqual(goldenRows(FIRST, `s3://${BUCKET}/${key}`));
    expect(rows.length).toBe(12);

    const again = await invoke('s3-put.json');
    expect(again.code).toBe(0);
    const after = await tableRows();
    expect(after.length).toBe(rows.length);
    expect(comparable(after)).toEqual(comparable(rows));
  });

  it('EventBridge, SNS (S3 and CloudTrail notices) and SQS (S3, SNS-wrapped) events write the files they name', async () => {
    for (const event of ['eventbridge-object-created.json', 'sns-s3.json', 'sqs-s3.json', 'sqs-sns-s3.json']) {
      const r = await invoke(event);
      expect(r.code, `${event}: ${r.stderr}`).toBe(0);
    }
    expect((await tableRows()).length).toBe(12);
    const notice = await invoke('sns-cloudtrail.json');
    expect(notice.code).toBe(0);
    expect(notice.result).toMatchObject({ trigger: 'sns', objects: 2 });
    expect((await tableRows()).length).toBe(12 + 6); // the second file: 7 events, one repeating the first file's
  });

  it('an SQS batch reports exactly the failed messages; the test event is no failure', async () => {
    const r = await invoke('sqs-mixed.json');
    expect(r.code).toBe(0);
    // The unprefixed key was never uploaded (missing object) and one body is not JSON.
    expect(r.result).toEqual({
      batchItemFailures: [{ itemIdentifier: '3b6c1c6e-8f1c-4d2a-9a53-1e7f0c9d2b41' }, { itemIdentifier: '9a1f6d3e-2c4b-4f8a-b7e6-5d4c3b2a1f09' }],
    });
    expect((await tableRows()).length).toBe(7); // the SNS-wrapped notice named the second file
    expect((await invoke('sqs-test-event.json')).result).toEqual({ batchItemFailures: [] });
  });

  it('S3 Batch Operations get their result per task, for schema 1.0 and 2.0', async () => {
    for (const event of ['batch-ops-1.0.json', 'batch-ops-2.0.json']) {
      const r = await invoke(event);
      expect(r.code, r.stderr).toBe(0);
      expect(r.result.results).toEqual([expect.objectContaining({ resultCode: 'Succeeded' })]);
      expect(r.result.invocationSchemaVersion).toBe(event.includes('1.0') ? '1.0' : '2.0');
    }
    expect((await tableRows()).length).toBe(12);
  });

  it('a missing object fails an S3-event invocation with a clear one-line error (Lambda retries it)', async () => {
    const eventPath = join(scratch, 'missing.json');
    const event = JSON.parse(await readFile(join(ROOT, 'events', 's3-put.json'), 'utf8'));
    event.Records[0].s3.object.key = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/21/111122223333_CloudTrail_us-east-1_20261121T0000Z_00000000.json.gz';
    await writeFile(eventPath, JSON.stringify(event));
    const missing = await runCli(['invoke', eventPath], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: .*missing\.json: handler failed: .*object not found/m);
  });

  it('refuses to start with bad configuration, naming the problem', async () => {
    const r = await runCli(['invoke', join(ROOT, 'events', 's3-put.json')], { ...env, TABLE_NAME: '', WRITE_CONCURRENCY: '0' });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/TABLE_NAME is required.*WRITE_CONCURRENCY="0" must be a whole number from 1 to 256/);
  });

  it('a trail file of tens of MB goes through with every row kept', async () => {
    const path = join(scratch, 'big.json.gz');
    const bytes = await writeTrailFile(path, { bytes: 30 * 1024 * 1024, sesShare: 0.01, seed: 42 });
    expect(bytes).toBeGreaterThan(30 * 1024 * 1024);
    const key = keyOf('', '111122223333_CloudTrail_us-east-1_20261120T1100Z_big00000.json.gz');
    await upload(key, path);
    const eventPath = join(scratch, 'big-event.json');
    const event = JSON.parse(await readFile(join(ROOT, 'events', 's3-put.json'), 'utf8'));
    event.Records[0].s3.object.key = key;
    await writeFile(eventPath, JSON.stringify(event));
    const r = await runCli(['invoke', eventPath], env);
    expect(r.code, r.stderr).toBe(0);
    // Every SES event a whole-file JSON.parse finds has its rows (their content is the golden tests' job).
    const doc: { Records: { eventSource?: string; eventID?: string }[] } = JSON.parse(gunzipSync(await readFile(path)).toString('utf8'));
    const sesIds = doc.Records.filter((r) => r.eventSource === 'ses.amazonaws.com').map((r) => r.eventID);
    const rows = await tableRows();
    expect(sesIds.length).toBeGreaterThan(200);
    expect(new Set(rows.map((r) => r.eventID))).toEqual(new Set(sesIds));
    expect(rows.every((r) => r.sourceObject === `s3://${BUCKET}/${key}`)).toBe(true);
  }, 120_000);
});
