/**
 * Plumbing for the suites in bench/suites.ts: bundling a worker, running it in a fresh child process without
 * blocking this one (the local servers live here and must keep answering), and the local S3/DynamoDB servers
 * with the bench files uploaded once into a persistent s3rver directory.
 */
import { spawn } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
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
  options: { env?: Record<string, string | undefined>; stdoutToNull?: boolean; timeoutMs?: number } = {},
): Promise<ChildRun> {
  return new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const child = spawn(process.execPath, args, {
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

/** Runs a bundled worker with a JSON spec and parses its one-line JSON result. */
export async function runWorker<T>(name: string, spec: unknown, env: Record<string, string | undefined> = {}): Promise<T & { parentCpuMs: number }> {
  const r = await runNode([await bundle(name), JSON.stringify(spec)], { env, timeoutMs: 10 * 60_000 });
  if (r.code !== 0) throw new Error(`${name} ${JSON.stringify(spec)} exited ${r.code}: ${r.stderr.trim().split('\n').slice(-5).join(' | ')}`);
  const line = r.stdout.trim().split('\n').pop() ?? '';
  // The worker's one JSON line, of the type its caller names.
  return { ...(JSON.parse(line) as T), parentCpuMs: r.parentCpuMs };
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
