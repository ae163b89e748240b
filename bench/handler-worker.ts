/**
 * The function as Lambda runs it, in a fresh process (bundled by bench/cost.ts into .bench/handler-worker.mjs):
 * imports the shipped bundle dist/handler.mjs (its init, cold) and invokes `handler` with an S3 event for one
 * trail object, `warmup` times unmeasured and then `invocations` times, as a warm execution environment sees
 * them. S3, DynamoDB and EventBridge are whatever the environment's endpoints name (s3rver and the latency
 * stand-in in the bench process). The result is one JSON line, the last line of stdout (the function's own
 * logs and metrics go to stdout before it, as in Lambda).
 *
 * Mode `json-parse` is the counterfactual design the cost model compares with: the whole object read into
 * memory, gunzipped and JSON.parse'd, its records turned into rows by the same row builder and written with
 * the same BatchWriter on a DynamoDB client as the SDK makes it by default.
 */
import { PerformanceObserver, constants } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { makeDynamoClient, makeS3Client } from '../src/aws.js';
import { loadConfig } from '../src/config.js';
import { recordToRows } from '../src/ses/rows.js';
import { BatchWriter } from '../src/store/writer.js';
import { peakRssMiB } from './fmt.js';

export interface HandlerSpec {
  mode: 'handler' | 'json-parse';
  /** dist/handler.mjs. */
  handler: string;
  bucket: string;
  key: string;
  warmup: number;
  invocations: number;
}

export interface HandlerResult {
  /** Importing the bundle (Lambda's init). */
  initMs: number;
  initCpuMs: number;
  /** Per measured invocation. */
  ms: number[];
  cpuMs: number[];
  /** RSS after each measured invocation. */
  rssMiB: number[];
  /** Garbage collections during the measured invocations (PerformanceObserver 'gc'), and their total time. */
  gcMajor: number;
  gcMinor: number;
  gcMs: number;
  /** The process's peak RSS (VmHWM): what Lambda reports as Max Memory Used. */
  peakRssMiB: number;
  rows: number;
  node: string;
  nodeOptions: string;
}

// The spec bench/cost.ts passes, as JSON.
const spec = JSON.parse(process.argv[2] ?? '{}') as HandlerSpec;

function s3Event(bucket: string, key: string): unknown {
  return {
    Records: [
      {
        eventVersion: '2.1',
        eventSource: 'aws:s3',
        awsRegion: 'us-east-1',
        eventTime: new Date().toISOString(),
        eventName: 'ObjectCreated:Put',
        s3: { s3SchemaVersion: '1.0', bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` }, object: { key: encodeURIComponent(key).replace(/%2F/g, '/'), size: 0 } },
      },
    ],
  };
}

function context(n: number) {
  const deadline = Date.now() + 300_000;
  return {
    functionName: 'ses-audit',
    functionVersion: '$LATEST',
    invokedFunctionArn: 'arn:aws:lambda:us-east-1:111122223333:function:ses-audit',
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE ?? '256',
    awsRequestId: `bench-${n}`,
    logGroupName: '/aws/lambda/ses-audit',
    logStreamName: 'bench',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => deadline - Date.now(),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

type Invoke = (n: number) => Promise<number>;

async function handlerPath(): Promise<{ invoke: Invoke; initMs: number; initCpuMs: number }> {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  // The shipped bundle's export.
  const mod = (await import(pathToFileURL(spec.handler).href)) as { handler: (event: unknown, ctx: unknown) => Promise<unknown> };
  const c = process.cpuUsage(c0);
  const initMs = performance.now() - t0;
  const event = s3Event(spec.bucket, spec.key);
  const invoke: Invoke = async (n) => {
    const result = await mod.handler(event, context(n));
    // An S3 invocation's summary: `"summaries":["N rows from M records"]` (src/triggers/respond.ts).
    const text = JSON.stringify(result);
    const rows = /"(\d+) rows from \d+ records"/.exec(text);
    if (!rows) throw new Error(`unexpected result ${text.slice(0, 300)}`);
    return Number(rows[1]);
  };
  return { invoke, initMs, initCpuMs: (c.user + c.system) / 1000 };
}

async function jsonParsePath(): Promise<{ invoke: Invoke; initMs: number; initCpuMs: number }> {
  const s3 = makeS3Client(process.env);
  const dynamo = makeDynamoClient(process.env);
  const config = loadConfig(process.env);
  const invoke: Invoke = async () => {
    const out = await s3.send(new GetObjectCommand({ Bucket: spec.bucket, Key: spec.key }));
    const gz = await out.Body?.transformToByteArray();
    if (!gz) throw new Error('empty body');
    // A trail file's document.
    const doc = JSON.parse(gunzipSync(gz).toString('utf8')) as { Records: unknown[] };
    const writer = new BatchWriter({ client: dynamo, tableName: config.tableName, concurrency: config.writeConcurrency });
    const ctx = { sourceObject: `s3://${spec.bucket}/${spec.key}`, ingestedAt: new Date().toISOString() };
    for (const record of doc.Records) {
      const r = recordToRows(record, ctx);
      if (r.kind === 'rows') await writer.write(r.rows);
    }
    return (await writer.flush()).rowsWritten;
  };
  return { invoke, initMs: 0, initCpuMs: 0 };
}

const { invoke, initMs, initCpuMs } = spec.mode === 'json-parse' ? await jsonParsePath() : await handlerPath();
let rows = 0;
for (let i = 0; i < spec.warmup; i++) rows = await invoke(i);
const result: HandlerResult = {
  initMs,
  initCpuMs,
  ms: [],
  cpuMs: [],
  rssMiB: [],
  gcMajor: 0,
  gcMinor: 0,
  gcMs: 0,
  peakRssMiB: 0,
  rows,
  node: process.version,
  nodeOptions: process.env.NODE_OPTIONS ?? '',
};
const gc = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    // A 'gc' entry's detail names its kind (Node's perf_hooks constants); @types/node 20 does not declare detail.
    const kind = (entry as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind;
    if (kind === constants.NODE_PERFORMANCE_GC_MAJOR) result.gcMajor++;
    else if (kind === constants.NODE_PERFORMANCE_GC_MINOR) result.gcMinor++;
    result.gcMs += entry.duration;
  }
});
gc.observe({ entryTypes: ['gc'] });
for (let i = 0; i < spec.invocations; i++) {
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  result.rows = await invoke(spec.warmup + i);
  const c = process.cpuUsage(c0);
  result.ms.push(performance.now() - t0);
  result.cpuMs.push((c.user + c.system) / 1000);
  result.rssMiB.push(process.memoryUsage.rss() / 1024 / 1024);
}
// Entries are delivered asynchronously: let the last ones arrive.
await new Promise((r) => setImmediate(r));
gc.disconnect();
result.peakRssMiB = peakRssMiB();
process.stdout.write(`${JSON.stringify(result)}\n`);
