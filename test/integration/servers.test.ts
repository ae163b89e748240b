import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import { startLocalAws, type LocalAws, type S3Event } from '../../src/local/servers.js';
import { ensureLedgerTable, ensureTable } from '../../src/store/table.js';
import { ensureBucket } from '../../src/local/bucket.js';

const credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

describe('startLocalAws', () => {
  let aws: LocalAws;
  let s3: S3Client;
  let dynamo: DynamoDBClient;

  beforeAll(async () => {
    aws = await startLocalAws({ bucket: ['trail-bucket'] });
    s3 = new S3Client({
      endpoint: aws.s3Endpoint,
      region: 'us-east-1',
      credentials,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    });
    dynamo = new DynamoDBClient({ endpoint: aws.dynamodbEndpoint, region: 'us-east-1', credentials });
  });

  afterAll(async () => {
    s3?.destroy();
    dynamo?.destroy();
    await aws?.stop();
  });

  it('exposes endpoints and the SDK environment', () => {
    expect(aws.s3Endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.dynamodbEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(aws.s3Endpoint).not.toBe(aws.dynamodbEndpoint);
    expect(aws.env).toEqual({
      AWS_ENDPOINT_URL_S3: aws.s3Endpoint,
      AWS_ENDPOINT_URL_DYNAMODB: aws.dynamodbEndpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
    });
  });

  it('stores and returns objects through the real SDK (pre-created bucket)', async () => {
    const body = Buffer.from('{"Records":[]}');
    await s3.send(new PutObjectCommand({ Bucket: 'trail-bucket', Key: 'a/b.json', Body: body }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'trail-bucket', Key: 'a/b.json' }));
    expect(Buffer.from(await got.Body!.transformToByteArray())).toEqual(body);
  });

  it('notifies object creation with the bucket and the key URL-encoded as S3 does', async () => {
    const events: S3Event[] = [];
    const unsubscribe = aws.onObjectCreated((e) => {
      events.push(e);
    });
    const key = 'my trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/x+y=z.json.gz';
    await s3.send(new PutObjectCommand({ Bucket: 'trail-bucket', Key: key, Body: Buffer.from([1, 2, 3]) }));
    await aws.drainNotifications();
    unsubscribe();
    await s3.send(new PutObjectCommand({ Bucket: 'trail-bucket', Key: 'after', Body: Buffer.from('x') }));
    await aws.drainNotifications();

    expect(events).toHaveLength(1);
    const [record] = events[0].Records;
    expect(record.eventSource).toBe('aws:s3');
    expect(record.eventName).toBe('ObjectCreated:Put');
    expect(record.s3.bucket.name).toBe('trail-bucket');
    expect(record.s3.bucket.arn).toBe('arn:aws:s3:::trail-bucket');
    expect(record.s3.object.key).toBe(
      'my+trail/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/x%2By%3Dz.json.gz',
    );
    expect(record.s3.object.size).toBe(3);
    // What a Lambda does with it: `+` -> space, then percent-decoding.
    expect(decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '))).toBe(key);
  });

  it('delivers after the upload answered and reports listener failures on drain, not to the uploader', async () => {
    const unsubscribe = aws.onObjectCreated(async () => {
      throw new Error('handler broke');
    });
    await s3.send(new PutObjectCommand({ Bucket: 'trail-bucket', Key: 'boom', Body: Buffer.from('x') }));
    await expect(aws.drainNotifications()).rejects.toThrow(/1 object-created listener/);
    await aws.drainNotifications(); // failures are reported once
    unsubscribe();
  });

  it('ensureBucket creates a missing bucket once', async () => {
    expect(await ensureBucket(s3, 'new-bucket')).toBe('created');
    expect(await ensureBucket(s3, 'new-bucket')).toBe('exists');
    expect(await ensureBucket(s3, 'trail-bucket')).toBe('exists');
  });

  it('ensureTable creates the table with its three GSIs and leaves TTL described', async () => {
    const notes: string[] = [];
    expect(await ensureTable(dynamo, 'audit', { note: (m) => notes.push(m) })).toBe('created');
    expect(await ensureTable(dynamo, 'audit', { note: (m) => notes.push(m) })).toBe('exists');

    const table = (await dynamo.send(new DescribeTableCommand({ TableName: 'audit' }))).Table!;
    expect(table.TableStatus).toBe('ACTIVE');
    expect(table.KeySchema).toEqual([
      { AttributeName: 'identity', KeyType: 'HASH' },
      { AttributeName: 'eventKey', KeyType: 'RANGE' },
    ]);
    const indexes = Object.fromEntries((table.GlobalSecondaryIndexes ?? []).map((i) => [i.IndexName, i]));
    expect(Object.keys(indexes).sort()).toEqual(['byActor', 'byEventName', 'bySeverity']);
    expect(indexes.byActor.KeySchema).toEqual([
      { AttributeName: 'actor', KeyType: 'HASH' },
      { AttributeName: 'eventKey', KeyType: 'RANGE' },
    ]);
    expect(indexes.byEventName.KeySchema).toEqual([
      { AttributeName: 'eventName', KeyType: 'HASH' },
      { AttributeName: 'eventKey', KeyType: 'RANGE' },
    ]);
    expect(indexes.bySeverity.KeySchema).toEqual([
      { AttributeName: 'severity', KeyType: 'HASH' },
      { AttributeName: 'eventKey', KeyType: 'RANGE' },
    ]);
    expect(indexes.byActor.IndexStatus).toBe('ACTIVE');

    const ttl = await dynamo.send(new DescribeTimeToLiveCommand({ TableName: 'audit' }));
    expect(ttl.TimeToLiveDescription?.TimeToLiveStatus).toBeDefined();
    // dynalite has no UpdateTimeToLive: ensureTable says so instead of failing.
    if (ttl.TimeToLiveDescription?.TimeToLiveStatus === 'DISABLED') {
      expect(notes.join('\n')).toMatch(/does not support TTL/);
    } else {
      expect(ttl.TimeToLiveDescription?.AttributeName).toBe('expiresAt');
    }
  });

  it('ensureLedgerTable creates the ledger table (pk, sk; no indexes) once', async () => {
    expect(await ensureLedgerTable(dynamo, 'ledger')).toBe('created');
    expect(await ensureLedgerTable(dynamo, 'ledger')).toBe('exists');
    const table = (await dynamo.send(new DescribeTableCommand({ TableName: 'ledger' }))).Table!;
    expect(table.KeySchema).toEqual([
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ]);
    expect(table.GlobalSecondaryIndexes).toBeUndefined();  });
});

describe('stop()', () => {
  it('is idempotent, closes both ports and removes only its own temp directory', async () => {
    const given = await mkdtemp(join(tmpdir(), 'ses-audit-given-'));
    try {
      const own = await startLocalAws();
      const kept = await startLocalAws({ s3Dir: given, bucket: ['b-1'] });
      // A client left open (keep-alive sockets) must not hold stop() up.
      const s3 = new S3Client({
        endpoint: kept.s3Endpoint,
        region: 'us-east-1',
        credentials,
        forcePathStyle: true,
      });
      await s3.send(new PutObjectCommand({ Bucket: 'b-1', Key: 'k', Body: Buffer.from('v') }));

      await Promise.all([own.stop(), own.stop(), kept.stop()]);
      await kept.stop();

      expect(existsSync(own.s3Dir)).toBe(false);
      expect(kept.s3Dir).toBe(given);
      expect(existsSync(given)).toBe(true);
      expect(existsSync(join(given, 'b-1'))).toBe(true);
      for (const endpoint of [own.s3Endpoint, own.dynamodbEndpoint, kept.s3Endpoint]) {
        await expect(fetch(endpoint)).rejects.toThrow();
      }
      s3.destroy();
    } finally {
      await rm(given, { recursive: true, force: true });
    }
  });
});
