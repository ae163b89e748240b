/**
 * The writer and the reader against real local servers behind a fault-injecting HTTP proxy: a DynamoDB call
 * that never answers must fail in seconds and be retried (not hold the invocation until Lambda's deadline),
 * and an S3 body whose connection goes silent must fail the file rather than hang.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { QueryCommand } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient, makeS3Client } from '../../src/aws.js';
import { startLocalAws, type LocalAws } from '../../src/local/servers.js';
import { BatchWriter } from '../../src/store/writer.js';
import { ensureTable } from '../../src/store/table.js';
import { readTrail } from '../../src/trail/reader.js';
import { openS3Object } from '../../src/trail/source.js';
import { SourceError } from '../../src/errors.js';
import type { AuditRow } from '../../src/ses/row.js';

/** Forwards to `target`, except requests `hold(req)` picks: those are read and never answered. */
async function faultyProxy(target: string, hold: (req: IncomingMessage, body: Buffer) => boolean): Promise<{ url: string; held: () => number; server: Server }> {
  let held = 0;
  const upstream = new URL(target);
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts);
      if (hold(req, body)) {
        held++;
        return; // the socket stays open, silent
      }
      const out = request(
        { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers },
        (up) => {
          res.writeHead(up.statusCode ?? 502, up.headers);
          up.pipe(res);
        },
      );
      out.on('error', () => res.destroy());
      out.end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, held: () => held, server };
}

function row(i: number): AuditRow {
  return {
    identity: 'example.com',
    eventKey: `2026-11-20T10:15:${String(i % 60).padStart(2, '0')}Z#e${i}`,
    actor: 'arn:aws:iam::111122223333:user/carol',
    eventName: 'PutIdentityPolicy',
    identityKind: 'domain',
    identities: ['example.com'],
    eventTime: '2026-11-20T10:15:00Z',
    eventID: `e${i}`,
    eventSource: 'ses.amazonaws.com',
    sourceObject: 'test',
    ingestedAt: '2026-11-20T11:00:00Z',
  };
}

describe('faults on the wire', () => {
  let aws: LocalAws;
  const servers: Server[] = [];

  beforeAll(async () => {
    aws = await startLocalAws({ bucket: ['trail'] });
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      s.close();
    }
    await aws?.stop();
  });

  it('a BatchWriteItem call that never answers times out and is retried; every row lands', async () => {
    const setup = makeDynamoClient(aws.env);
    await ensureTable(setup, 'faults', { note: () => undefined });
    let writes = 0;
    const proxy = await faultyProxy(aws.dynamodbEndpoint, (req) => {
      if (req.headers['x-amz-target'] !== 'DynamoDB_20120810.BatchWriteItem') return false;
      return ++writes === 1; // the first call hangs
    });
    servers.push(proxy.server);
    const client = makeDynamoClient({ ...aws.env, AWS_ENDPOINT_URL_DYNAMODB: proxy.url }, { forWriter: true, requestTimeoutMs: 500 });
    const retries: string[] = [];
    const writer = new BatchWriter({ client, tableName: 'faults', concurrency: 1, onRetry: (r) => retries.push(r.reason) });
    await writer.write(Array.from({ length: 30 }, (_, i) => row(i)));
    const stats = await writer.flush();
    expect(proxy.held()).toBe(1);
    // The hung call is retried after a timeout; on a busy machine a slow answer may time out too.
    expect(retries.length).toBeGreaterThanOrEqual(1);
    expect(new Set(retries)).toEqual(new Set(['TimeoutError']));
    expect(stats.rowsWritten).toBe(30);
    const stored = await setup.send(new QueryCommand({ TableName: 'faults', KeyConditionExpression: '#i = :i', ExpressionAttributeNames: { '#i': 'identity' }, ExpressionAttributeValues: { ':i': { S: 'example.com' } } }));
    expect(stored.Count).toBe(30);
    client.destroy();
    setup.destroy();
  });

  it('an S3 body that goes silent fails the read instead of hanging', async () => {
    const s3 = makeS3Client(aws.env);
    const doc = Buffer.from(JSON.stringify({ Records: Array.from({ length: 2000 }, (_, i) => ({ eventSource: 'x', i, pad: 'p'.repeat(100) })) }));
    await s3.send(new PutObjectCommand({ Bucket: 'trail', Key: 'silent.json', Body: doc }));
    // A proxy that sends the headers and the first bytes of the body, then nothing.
    const upstream = new URL(aws.s3Endpoint);
    const proxy = createServer((req, res) => {
      const out = request({ host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: req.headers }, (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.once('data', (first: Buffer) => res.write(first.subarray(0, 100)));
      });
      req.pipe(out);
    });
    servers.push(proxy);
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const silent = makeS3Client({ ...aws.env, AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}` }, { socketTimeoutMs: 500 });
    const { body } = await openS3Object(silent, { bucket: 'trail', key: 'silent.json' });
    const err = await readTrail(body, { maxUncompressedBytes: 1 << 30, maxRecordBytes: 1 << 20 }, { candidate() {}, notObject() {} }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).retryable).toBe(true);
    silent.destroy();
    s3.destroy();
  });
});
