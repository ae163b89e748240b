/**
 * `npm run bench`: generates realistic trail files (cached in .bench/), runs each reading method in a fresh
 * child process several times, interleaved so that machine noise hits every method alike, and prints
 * markdown tables of medians: time, MB/s (uncompressed), peak RSS, and the ratio to Node's own gunzip
 * measured in the same run.
 *
 *   npm run bench                 # the read suite on 200 MB files (1% and 50% SES)
 *   npm run bench -- --quick      # 20 MB files, fewer runs: a smoke test
 *   npm run bench -- --suite all  # every suite (see bench/suites.ts)
 *   npm run bench -- --suite cost # write units, writer CPU, the function on Node 24, the cost model (bench/cost.ts)
 */
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { common } from '../esbuild.config.mjs';
import { BENCH_DIR, machine, median, table, trailFile } from './harness.js';

const MiB = 1024 * 1024;

export interface Sample {
  method: string;
  ms: number;
  cpuMs: number;
  peakRssMiB: number;
  rows: number;
  bytes: number;
}

let workerPath: string | undefined;
async function worker(): Promise<string> {
  if (workerPath) return workerPath;
  workerPath = join(BENCH_DIR, 'worker.mjs');
  // The product's own bundle options (esbuild.config.mjs), so the code measured is built as it ships.
  await build({ ...common, sourcemap: false, entryPoints: [join(import.meta.dirname, 'worker.ts')], outfile: workerPath });
  return workerPath;
}

export async function runMethod(method: string, file: string): Promise<Sample> {
  const out = execFileSync(process.execPath, [await worker(), method, file], { encoding: 'utf8', maxBuffer: 1 << 20 });
  // The worker's one JSON line (bench/worker.ts writes a Sample).
  return JSON.parse(out) as Sample;
}

/** The read suite: this project against gunzip alone, whole-file JSON.parse and stream-json. */
export async function readSuite(opts: { mb: number; runs: number; slowRuns: number }): Promise<string> {
  const methods = ['gunzip', 'gunzip+sha256', 'ses-audit', 'JSON.parse', 'stream-json'];
  const sections: string[] = [];
  for (const pct of [1, 50]) {
    const file = await trailFile(opts.mb, pct);
    const samples = new Map<string, Sample[]>(methods.map((m) => [m, []]));
    for (let run = 0; run < opts.runs; run++) {
      for (const m of methods) {
        if ((m === 'JSON.parse' || m === 'stream-json') && run >= opts.slowRuns) continue;
        samples.get(m)!.push(await runMethod(m, file));
        process.stderr.write('.');
      }
    }
    process.stderr.write('\n');
    const base = median(samples.get('gunzip')!.map((s) => s.ms));
    const mbytes = samples.get('gunzip')![0].bytes / MiB;
    const rows = methods.map((m) => {
      const ss = samples.get(m)!;
      const ms = median(ss.map((s) => s.ms));
      return [
        m === 'ses-audit' ? '**ses-audit**' : m,
        `${ms.toFixed(0)} ms`,
        `${(mbytes / (ms / 1000)).toFixed(0)}`,
        `${median(ss.map((s) => s.cpuMs)).toFixed(0)} ms`,
        `${median(ss.map((s) => s.peakRssMiB)).toFixed(0)} MiB`,
        `${(ms / base).toFixed(2)}x`,
        m === 'gunzip' ? '-' : String(ss[0].rows),
        String(ss.length),
      ];
    });
    const size = `${(statSync(file).size / MiB).toFixed(1)} MiB gzip`;
    sections.push(
      `**${mbytes.toFixed(0)} MiB uncompressed (${size}), ${pct}% SES records**\n\n` +
        table(['method', 'time (median)', 'MB/s', 'CPU', 'peak RSS', 'vs gunzip', 'SES rows', 'runs'], rows),
    );
  }
  return sections.join('\n\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { quick: { type: 'boolean' }, suite: { type: 'string' } } });
  const quick = Boolean(values.quick);
  const suite = values.suite ?? 'read';
  const started = Date.now();
  const parts = [`Machine: ${machine()}; ${new Date().toISOString().slice(0, 10)}.`];
  if (suite === 'read' || suite === 'all') {
    parts.push('### Reading one trail file\n\n' + (await readSuite(quick ? { mb: 20, runs: 3, slowRuns: 1 } : { mb: 200, runs: 7, slowRuns: 3 })));
  }
  if (suite !== 'read') {
    const { extraSuites } = await import('./suites.js');
    parts.push(...(await extraSuites(suite, quick)));
  }
  parts.push(`(${((Date.now() - started) / 1000).toFixed(0)} s in all)`);
  process.stdout.write(parts.join('\n\n') + '\n');
}

if (process.argv[1] && /bench[/\\]run\.ts$/.test(process.argv[1])) await main();
