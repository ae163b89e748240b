/**
 * Plumbing for the suites in bench/suites.ts: bundling a worker, running it in a fresh child process without
 * blocking this one (the local servers live here and must keep answering), and the local S3/DynamoDB servers
 * with the bench files uploaded once into a persistent s3rver directory.
 */
import { execFileSync, spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { cpus, loadavg, totalmem } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { common } from '../esbuild.config.mjs';
import { HeadObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { writeTrailFile } from '../test/fixtures/trailgen.js';
import { makeDynamoClient, makeS3Client } from '../src/aws.js';
import { startLocalAws, type LocalAws } from '../src/local/servers.js';
import { ensureTable } from '../src/store/table.js';

const MiB = 1024 * 1024;

// ---------------------------------------------------------------------------------------------------------
// Helpers of every suite, bench/run.ts's included (it imports them from here). suites.ts must not import
// run.ts: run.ts awaits its main() at top level and loads suites.ts from inside it, so that import would wait
// on run.ts's evaluation forever (an ESM cycle through top-level await).

export const BENCH_DIR = join(import.meta.dirname, '..', '.bench');

export const median = (xs: number[]): number => {
  const s = [...xs].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** A cached generated trail file: `.bench/trail-<MB>mb-<pct>pct.json.gz`. */
export async function trailFile(mb: number, sesPct: number): Promise<string> {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, `trail-${mb}mb-${sesPct}pct.json.gz`);
  if (!existsSync(path)) {
    process.stderr.write(`generating ${path} ...\n`);
    await writeTrailFile(path, { bytes: mb * MiB, sesShare: sesPct / 100, seed: 1000 + mb + sesPct });
  }
  return path;
}

export function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} × ${cpu.trim()}, ${(totalmem() / 1024 ** 3).toFixed(0)} GiB, Node ${process.version}`;
}

/** The 1-minute load average against the core count, for saying when the machine was busy. */
export function load(): string {
  return `load ${loadavg()[0].toFixed(1)} on ${cpus().length} cores`;
}

export function table(head: string[], rows: string[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------------------
export const BENCH_BUCKET = 'ses-audit-bench';
export const BENCH_TABLE = 'ses-audit-bench';

const built = new Map<string, Promise<string>>();

/** Bundles `bench/NAME.ts` into `.bench/NAME.mjs` (once per run) with the product's bundle options. */
export function bundle(name: string): Promise<string> {
  let p = built.get(name);
  if (!p) {
    const outfile = join(BENCH_DIR, `${name}.mjs`);
    mkdirSync(BENCH_DIR, { recursive: true });
    // The product's own bundle options (esbuild.config.mjs), so the code measured is built as it ships.
    p = build({ ...common, sourcemap: false, logLevel: 'error', entryPoints: [join(import.meta.dirname, `${name}.ts`)], outfile }).then(() => outfile);
    built.set(name, p);
  }
  return p;
}

export interface ChildRun {
  stdout: string;
  stderr: string;
  code: number | null;
  /** Wall time of the whole child process, start to exit. */
  wallMs: number;
  /** CPU this (parent) process used meanwhile: the local servers' share when they are busy. */
  parentCpuMs: number;
}

/** Runs `node ARGS` asynchronously (so this process's servers keep serving). stdout may go to /dev/null. */
export function runNode(
  args: string[],
  options: { env?: Record<string, string | undefined>; stdoutToNull?: boolean; timeoutMs?: number; node?: string } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const child = spawn(options.node ?? process.execPath, args, {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', options.stdoutToNull ? 'ignore' : 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 1 << 20) stderr = stderr.slice(-(1 << 19));
    });
    const timer = options.timeoutMs ? setTimeout(() => child.kill('SIGKILL'), options.timeoutMs) : undefined;
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const c = process.cpuUsage(cpu0);
      resolve({ stdout, stderr, code, wallMs: performance.now() - t0, parentCpuMs: (c.user + c.system) / 1000 });
    });
  });
}

/** Runs a bundled worker with a JSON spec and parses its one-line JSON result (its last line of stdout). */
export async function runWorker<T>(
  name: string,
  spec: unknown,
  env: Record<string, string | undefined> = {},
  options: { node?: string; nodeArgs?: string[] } = {},
): Promise<T & { parentCpuMs: number }> {
  const r = await runNode([...(options.nodeArgs ?? []), await bundle(name), JSON.stringify(spec)], { env, timeoutMs: 10 * 60_000, node: options.node });
  if (r.code !== 0) throw new Error(`${name} ${JSON.stringify(spec)} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  // The worker's one JSON line, of the type its caller names.
  return { ...(JSON.parse(line) as T), parentCpuMs: r.parentCpuMs };
}

/**
 * A Node 24 binary (the Lambda runs nodejs24.x): BENCH_NODE24 when set, else the npm registry's `node`
 * package installed once into .bench/node24 (`npm i --prefix .bench/node24 node@24`, as CI would).
 */
export function node24(): string {
  const given = process.env.BENCH_NODE24;
  const path = given || join(BENCH_DIR, 'node24', 'node_modules', '.bin', 'node');
  if (!given && !existsSync(path)) {
    process.stderr.write('installing Node 24 into .bench/node24 (npm i node@24) ...\n');
    execFileSync('npm', ['i', '--prefix', join(BENCH_DIR, 'node24'), '--no-save', '--no-audit', '--no-fund', 'node@24'], { stdio: ['ignore', 'ignore', 'inherit'] });
  }
  const version = execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
  if (!version.startsWith('v24.')) throw new Error(`${path} is Node ${version}, not 24 (set BENCH_NODE24 to a Node 24 binary)`);
  return path;
}

/** `node --version` of a binary. */
export function nodeVersion(path: string): string {
  return execFileSync(path, ['--version'], { encoding: 'utf8' }).trim();
}

// ---------------------------------------------------------------------------------------------------------
// A latency stand-in for DynamoDB and EventBridge over HTTP, in this process: the client's whole path runs
// (serialization, signing, the SDK's middleware, HTTP, parsing the answer), only the service is missing. Every
// BatchWriteItem is written in full after `latencyMs`, PutItem succeeds, PutEvents accepts every entry; any
// other call is refused. It stands in for DynamoDB's latency, not its behaviour (no throttling, no checks).

export interface StandIn {
  url: string;
  /** Calls answered, by X-Amz-Target. */
  calls: Map<string, number>;
  stop(): Promise<void>;
}

export async function startStandIn(latencyMs: number): Promise<StandIn> {
  const calls = new Map<string, number>();
  const server = createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '');
      calls.set(target, (calls.get(target) ?? 0) + 1);
      let status = 200;
      let body: string;
      if (target === 'DynamoDB_20120810.BatchWriteItem') body = '{"UnprocessedItems":{}}';
      else if (target === 'DynamoDB_20120810.PutItem') body = '{}';
      else if (target === 'AWSEvents.PutEvents') {
        // The request's JSON body, as the SDK sent it.
        const n = (JSON.parse(Buffer.concat(parts).toString('utf8')) as { Entries?: unknown[] }).Entries?.length ?? 0;
        body = JSON.stringify({ FailedEntryCount: 0, Entries: Array.from({ length: n }, (_, i) => ({ EventId: `e${i}` })) });
      } else {
        status = 400;
        body = JSON.stringify({ __type: 'com.amazon.coral.validate#ValidationException', message: `${target} is not in the bench stand-in` });
      }
      setTimeout(() => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, latencyMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  // A TCP server: address() is an AddressInfo.
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export interface LocalBench {
  aws: LocalAws;
  /** What a worker needs: endpoints, credentials, TABLE_NAME. */
  env: Record<string, string>;
  /** Uploads a local file (once: kept in .bench/s3rver across runs) and returns its key. */
  upload(file: string, key: string): Promise<string>;
  stop(): Promise<void>;
}

/** s3rver and dynalite in this process, the bench bucket and table made. */
export async function startLocalBench(): Promise<LocalBench> {
  const s3Dir = join(BENCH_DIR, 's3rver');
  mkdirSync(s3Dir, { recursive: true });
  const aws = await startLocalAws({ s3Dir, bucket: [BENCH_BUCKET] });
  const env = { ...aws.env, TABLE_NAME: BENCH_TABLE, POWERTOOLS_LOG_LEVEL: 'ERROR' };
  const dynamo = makeDynamoClient(env);
  await ensureTable(dynamo, BENCH_TABLE, { note: () => undefined });
  dynamo.destroy();
  const s3 = makeS3Client(env);
  return {
    aws,
    env,
    async upload(file, key) {
      const size = statSync(file).size;
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: BENCH_BUCKET, Key: key }));
        if (head.ContentLength === size) return key;
      } catch {
        // not there yet
      }
      process.stderr.write(`uploading ${(size / MiB).toFixed(1)} MiB to s3rver as ${key} ...\n`);
      await s3.send(new PutObjectCommand({ Bucket: BENCH_BUCKET, Key: key, Body: createReadStream(file), ContentLength: size }));
      return key;
    },
    async stop() {
      s3.destroy();
      await aws.stop();
    },
  };
}

/** A realistic CloudTrail key for a bench file. */
export function benchKey(mb: number, pct: number): string {
  return `AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1015Z_bench${mb}mb${pct}pct.json.gz`;
}
