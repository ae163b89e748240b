/**
 * One end-to-end measurement in a fresh process (bundled by bench/suites.ts into .bench/e2e-worker.mjs, like
 * bench/worker.ts), so that its peak RSS and CPU are its own. The spec is argv[2] as JSON; the result is one
 * JSON line on stdout.
 *
 * Stages, each including the ones before (the suite reports the increments):
 *   s3      GetObject from S3 (s3rver), body drained and counted
 *   gunzip  + Node's streaming gunzip
 *   rows    + scan, SES filter, rows (processTrail, rows counted and dropped)
 *   write   + rows written (ingest(): processTrail feeding the BatchWriter), to `store`:
 *             'dynalite'  the local DynamoDB server
 *             'standin'   aws-sdk-client-mock: each BatchWriteItem resolves after `latencyMs`, nothing unprocessed
 * Other modes:
 *   writer       the BatchWriter alone: rows built first (from the local file, chunk by chunk as the pipeline
 *                hands them on), then only the writes timed
 *   backpressure ingest() itself against a slow stand-in, with RSS and the backlog sampled over time;
 *                `awaitWrites: false` is the counterfactual of a pipeline that does not wait for the writer
 *                (processTrail and a BatchWriter wired without the await: no product code does that)
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { BatchWriteItemCommand, DynamoDBClient, type BatchWriteItemCommandInput } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient, makeS3Client } from '../src/aws.js';
import { loadConfig } from '../src/config.js';
import { ingest } from '../src/ingest.js';
import { processTrail } from '../src/pipeline.js';
import type { AuditRow } from '../src/ses/row.js';
import { BatchWriter } from '../src/store/writer.js';
import { openS3Object } from '../src/trail/source.js';
import type { ByteSource } from '../src/trail/reader.js';
// What DynamoDBClient registers (from the SDK's own @aws-sdk/core, not a dependency of this package).
import { getLoggerPlugin } from '@aws-sdk/core/client';
import { peakRssMiB } from './fmt.js';
import { leanBatchWrite } from './lean-send.js';

export interface WorkerSpec {
  mode: 's3' | 'gunzip' | 'rows' | 'write' | 'writer' | 'backpressure';
  /** dynalite or the HTTP stand-in: whatever AWS_ENDPOINT_URL_DYNAMODB names; 'standin': aws-sdk-client-mock. */
  store?: 'dynalite' | 'standin' | 'http';
  bucket?: string;
  key?: string;
  /** Local file (writer and backpressure modes). */
  file?: string;
  /** Files processed one after the other in this process (small files: steady state, like a warm Lambda). */
  repeat?: number;
  /** Untimed runs first (JIT, connections). */
  warmup?: number;
  latencyMs?: number;
  concurrency?: number;
  /** Writer mode: put the SDK's logger middleware back on the writer's client (the SDK default: "before"). */
  sdkLogger?: boolean;
  /** Writer mode: BatchWriteItem through the lean prototype (bench/lean-send.ts) instead of the SDK's command. */
  lean?: boolean;
  awaitWrites?: boolean;
  sampleMs?: number;
}

export interface WorkerResult {
  mode: string;
  ms: number;
  cpuMs: number;
  peakRssMiB: number;
  files: number;
  /** Decompressed bytes per file (compressed for the s3 stage). */
  bytes: number;
  /** Rows per file. */
  rows: number;
  /** BatchWriteItem calls, most at once, time of the first call and of the end of reading (ms from start, last file). */
  calls?: number;
  maxInFlight?: number;
  firstWriteMs?: number;
  readDoneMs?: number;
  samples?: Sample[];
  maxBacklog?: number;
}

interface Sample {
  t: number;
  rssMiB: number;
  heapMiB: number;
  pulledMiB: number;
  produced: number;
  confirmed: number;
}

// The spec bench/suites.ts passes, as JSON.
const spec = JSON.parse(process.argv[2] ?? '{}') as WorkerSpec;

const MiB = 1024 * 1024;
const env = process.env;

/** Counts BatchWriteItem calls in flight around any client (real or mocked). */
function instrument(client: DynamoDBClient, t0: () => number) {
  const stats = { calls: 0, inFlight: 0, maxInFlight: 0, confirmed: 0, firstWriteMs: undefined as number | undefined };
  const send = client.send.bind(client) as (c: unknown, o?: unknown) => Promise<unknown>;
  // Instrumenting, not typing: send's overloads cannot be assigned one wrapper without this.
  (client as unknown as { send: typeof send }).send = (command: unknown, options?: unknown) => {
    if (command instanceof BatchWriteItemCommand) {
      stats.calls++;
      stats.firstWriteMs ??= t0();
      stats.maxInFlight = Math.max(stats.maxInFlight, ++stats.inFlight);
      const n = Object.values(command.input.RequestItems ?? {}).reduce((a, r) => a + r.length, 0);
      return send(command, options).then(
        (out) => {
          stats.inFlight--;
          stats.confirmed += n;
          return out;
        },
        (err: unknown) => {
          stats.inFlight--;
          throw err;
        },
      );
    }
    return send(command, options);
  };
  return stats;
}

/** BatchWriteItem calls go through the lean prototype; anything else through the SDK. */
function useLean(client: DynamoDBClient): void {
  const lean = leanBatchWrite(client);
  const send = client.send.bind(client) as (c: unknown, o?: unknown) => Promise<unknown>;
  // Replacing, not typing: send's overloads cannot be assigned one wrapper without this (as instrument does).
  (client as unknown as { send: typeof send }).send = (command: unknown, options?: unknown) =>
    command instanceof BatchWriteItemCommand ? lean(command.input, (options as { abortSignal?: AbortSignal } | undefined)?.abortSignal) : send(command, options);
}

/** The DynamoDB stand-in: every BatchWriteItem resolves after a fixed latency with nothing unprocessed. */
async function standIn(latencyMs: number): Promise<void> {
  // Loaded only when used, so that the other stages' memory does not include it.
  const { mockClient } = await import('aws-sdk-client-mock');
  const mock = mockClient(DynamoDBClient);
  mock.on(BatchWriteItemCommand).callsFake(async (_input: BatchWriteItemCommandInput) => {
    await new Promise((r) => setTimeout(r, latencyMs));
    // sinon keeps every call's arguments (all the items): drop them, or the stand-in's memory is what we measure.
    mock.resetHistory();
    return { UnprocessedItems: {} };
  });
}

/**
 * ingest() calls writer.flush() once processTrail has returned, i.e. once the last byte has been scanned and
 * its rows handed to the writer: the moment reading is done. Noted here, and the rows handed to any writer
 * counted, without changing ingest.
 */
let onFlush: (() => void) | undefined;
let produced = 0;
const flush = BatchWriter.prototype.flush;
BatchWriter.prototype.flush = function (this: BatchWriter) {
  onFlush?.();
  onFlush = undefined;
  return flush.call(this);
};
const write = BatchWriter.prototype.write;
BatchWriter.prototype.write = function (this: BatchWriter, rows: readonly AuditRow[]) {
  produced += rows.length;
  return write.call(this, rows);
};

/** Wraps a byte source to note when it is exhausted and how much was pulled. */
function watch(source: ByteSource, onDone: () => void, counter?: { bytes: number }): ByteSource {
  return (async function* () {
    for await (const chunk of source) {
      if (counter) counter.bytes += chunk.length;
      yield chunk;
    }
    onDone();
  })();
}

async function drain(source: AsyncIterable<Uint8Array>): Promise<number> {
  let n = 0;
  for await (const c of source) n += c.length;
  return n;
}

const limits = { maxUncompressedBytes: 2 ** 40, maxRecordBytes: 1 << 20 };

async function main(): Promise<WorkerResult> {
  const started = performance.now();
  const since = () => performance.now() - started;
  const cpu0 = process.cpuUsage();
  const result: WorkerResult = { mode: spec.mode, ms: 0, cpuMs: 0, peakRssMiB: 0, files: 0, bytes: 0, rows: 0 };

  if (spec.mode === 'writer') {
    // Rows first, grouped as the pipeline hands them on; then the writes alone.
    const chunks: AuditRow[][] = [];
    const s = await processTrail(createReadStream(spec.file!, { highWaterMark: MiB }), {
      config: limits,
      sourceObject: spec.file!,
      sink: (rows) => void chunks.push(rows),
    });
    if (spec.store === 'standin') await standIn(spec.latencyMs ?? 10);
    const dynamo = makeDynamoClient(env, { forWriter: true });
    // What DynamoDBClient's constructor registers, and makeDynamoClient removes for the writer.
    if (spec.sdkLogger) dynamo.middlewareStack.use(getLoggerPlugin(dynamo.config));
    if (spec.lean) useLean(dynamo);
    const t0 = performance.now();
    const stats = instrument(dynamo, () => performance.now() - t0);
    const c0 = process.cpuUsage();
    const writer = new BatchWriter({ client: dynamo, tableName: env.TABLE_NAME!, concurrency: spec.concurrency ?? 8 });
    for (const rows of chunks) await writer.write(rows);
    const w = await writer.flush();
    const c = process.cpuUsage(c0);
    dynamo.destroy();
    return {
      ...result,
      ms: performance.now() - t0,
      cpuMs: (c.user + c.system) / 1000,
      peakRssMiB: peakRssMiB(),
      files: 1,
      bytes: s.bytes,
      rows: w.rowsWritten,
      calls: stats.calls,
      maxInFlight: stats.maxInFlight,
    };
  }

  if (spec.mode === 'backpressure') {
    await standIn(spec.latencyMs ?? 50);
    const dynamo = makeDynamoClient(env, { forWriter: true });
    const stats = instrument(dynamo, since);
    const pulled = { bytes: 0 };
    let readDoneMs = 0;
    const samples: Sample[] = [];
    let maxBacklog = 0;
    const sample = (): void => {
      const m = process.memoryUsage();
      const backlog = produced - stats.confirmed;
      maxBacklog = Math.max(maxBacklog, backlog);
      samples.push({ t: since(), rssMiB: m.rss / MiB, heapMiB: m.heapUsed / MiB, pulledMiB: pulled.bytes / MiB, produced, confirmed: stats.confirmed });
    };
    const timer = setInterval(sample, spec.sampleMs ?? 100);
    const source = watch(createReadStream(spec.file!, { highWaterMark: MiB }), () => undefined, pulled);
    const concurrency = spec.concurrency ?? 2;
    let bytes: number;
    let rowsWritten: number;
    if (spec.awaitWrites !== false) {
      // The product's own path: ingest() (rows counted as they reach the writer, see `produced`).
      onFlush = () => void (readDoneMs = since());
      const config = { ...loadConfig({ ...env, TABLE_NAME: env.TABLE_NAME ?? 'bench' }), ...limits, writeConcurrency: concurrency };
      const r = await ingest(source, spec.file!, { dynamo, config });
      bytes = r.bytes;
      rowsWritten = r.writer.rowsWritten;
    } else {
      // The counterfactual no product code has: a pipeline that does not wait for the writer.
      const writer = new BatchWriter({ client: dynamo, tableName: env.TABLE_NAME ?? 'bench', concurrency });
      const writes: Promise<void>[] = [];
      const s = await processTrail(source, { config: limits, sourceObject: spec.file!, sink: (rows) => void writes.push(writer.write(rows)) });
      readDoneMs = since();
      await Promise.all(writes);
      bytes = s.bytes;
      rowsWritten = (await writer.flush()).rowsWritten;
    }
    sample();
    clearInterval(timer);
    const c = process.cpuUsage(cpu0);
    return {
      ...result,
      ms: since(),
      cpuMs: (c.user + c.system) / 1000,
      peakRssMiB: peakRssMiB(),
      files: 1,
      bytes,
      rows: rowsWritten,
      calls: stats.calls,
      maxInFlight: stats.maxInFlight,
      readDoneMs,
      samples,
      maxBacklog,
    };
  }

  // The staged S3 pipeline.
  const s3 = makeS3Client(env);
  const ref = { bucket: spec.bucket!, key: spec.key! };
  if (spec.mode === 'write' && spec.store === 'standin') await standIn(spec.latencyMs ?? 10);
  const dynamo = spec.mode === 'write' ? makeDynamoClient(env, { forWriter: true }) : undefined;
  const config = loadConfig(env);
  let fileStart = 0;
  const stats = dynamo ? instrument(dynamo, () => performance.now() - fileStart) : undefined;
  const one = async (): Promise<{ bytes: number; rows: number; readDoneMs: number; calls: number }> => {
    fileStart = performance.now();
    if (stats) {
      stats.firstWriteMs = undefined;
      stats.calls = 0;
    }
    let readDoneMs = 0;
    const { body } = await openS3Object(s3, ref);
    const done = (): void => void (readDoneMs = performance.now() - fileStart);
    // Reading is done when the source is drained (stages without the scanner) or when ingest flushes (writes).
    const source = spec.mode === 'write' ? body : watch(body, done);
    onFlush = done;
    switch (spec.mode) {
      case 's3':
        return { bytes: await drain(source), rows: 0, readDoneMs, calls: 0 };
      case 'gunzip': {
        const bytes = await drain(Readable.from(source).pipe(createGunzip({ chunkSize: 256 * 1024 })));
        return { bytes, rows: 0, readDoneMs: performance.now() - fileStart, calls: 0 };
      }
      case 'rows': {
        const s = await processTrail(source, { config: limits, sourceObject: `s3://${ref.bucket}/${ref.key}`, sink: () => undefined });
        return { bytes: s.bytes, rows: s.rows, readDoneMs: performance.now() - fileStart, calls: 0 };
      }
      case 'write': {
        const r = await ingest(source, `s3://${ref.bucket}/${ref.key}`, { dynamo: dynamo!, config: { ...config, ...limits } });
        return { bytes: r.bytes, rows: r.writer.rowsWritten, readDoneMs, calls: stats!.calls };
      }
      default:
        throw new Error(`unknown mode ${spec.mode}`);
    }
  };
  for (let i = 0; i < (spec.warmup ?? 0); i++) await one();
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const n = spec.repeat ?? 1;
  let last = { bytes: 0, rows: 0, readDoneMs: 0, calls: 0 };
  for (let i = 0; i < n; i++) last = await one();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  s3.destroy();
  dynamo?.destroy();
  return {
    ...result,
    ms,
    cpuMs: (c.user + c.system) / 1000,
    peakRssMiB: peakRssMiB(),
    files: n,
    bytes: last.bytes,
    rows: last.rows,
    calls: stats ? last.calls : undefined,
    maxInFlight: stats?.maxInFlight,
    firstWriteMs: stats?.firstWriteMs,
    readDoneMs: last.readDoneMs,
  };
}

const out = await main();
process.stdout.write(JSON.stringify(out) + '\n');
