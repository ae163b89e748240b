/**
 * The cost suites (issue 16; docs/cost.md explains the model, docs/performance.md shows a run):
 *
 *   wru     write units per SES event on the public samples and per generated trail file, schema before and
 *           chosen, and the variants weighed (bench/wru.ts); the ledger's items
 *   writer  the BatchWriter's CPU per row on Node 24: the SDK client as it comes (with its logger middleware),
 *           as the product now makes it (without), and a lean BatchWriteItem prototype (bench/lean-send.ts),
 *           against a 10 ms latency stand-in and dynalite
 *   lambda  the shipped handler (dist/handler.mjs) on Node 24 as Lambda runs it: peak RSS on a 50 MB file at
 *           50% SES with the stack's NODE_OPTIONS for 256 MB and without; CPU per file and per GB; the same for
 *           a whole-file JSON.parse design
 *   cost    all three, then the cost model: $ per million SES events, per GB of trail, per day for a stated
 *           organization, beside the JSON.parse design at 1024 MB
 *
 * Child processes run on Node 24 (harness.node24: BENCH_NODE24, or the npm `node@24` package in .bench). S3 is
 * s3rver and DynamoDB and EventBridge a 10 ms latency stand-in (harness.startStandIn), in this process; each
 * measurement is a fresh child process, runs are interleaved so that machine noise hits every variant alike,
 * and tables give medians with ratios to a baseline measured in the same run.
 */
import { totalmem } from 'node:os';
import { join } from 'node:path';
import { heapOptions } from '../infra/sizing.js';
import type { HandlerResult, HandlerSpec } from './handler-worker.js';
import type { WorkerResult, WorkerSpec } from './e2e-worker.js';
import {
  BENCH_BUCKET,
  benchKey,
  load,
  median,
  node24,
  nodeVersion,
  runWorker,
  startLocalBench,
  startStandIn,
  table,
  trailFile,
  type LocalBench,
  type StandIn,
} from './harness.js';
import { int, mib, ms } from './fmt.js';
import { SAMPLES_DIR, SCENARIOS, ledgerUnits, orgTrailUri, sampleRecords, scenarioTable, tallyFile, tallySamples, type LedgerUnits, type Tally } from './wru.js';

const HANDLER = join(import.meta.dirname, '..', 'dist', 'handler.mjs');
const LATENCY_MS = 10;
const CONCURRENCY = 8;
/** The stack's default memory (infra/settings.ts) and the share of it a warm invocation may peak at. */
const MEMORY_MB = 256;
const MEMORY_TARGET = 0.9;

// ---------------------------------------------------------------------------------------------------------
// Prices: us-east-1, on demand, as published on the AWS pricing pages (checked 2026-11; DynamoDB's on-demand
// prices are those of the November 2024 reduction). Lambda arm64, first pricing tier.

export const PRICES = {
  /** DynamoDB Standard table class, on-demand: per million write request units. */
  wruPerMillion: 0.625,
  /** Per million read request units. */
  rruPerMillion: 0.125,
  /** Storage, per GB-month (the first 25 GB of an account are free: not counted). */
  storageGbMonth: 0.25,
  /** Lambda arm64, per GB-second. */
  lambdaGbSecond: 0.0000133334,
  /** Lambda, per million requests. */
  lambdaPerMillionRequests: 0.2,
  /** S3 Standard GET, per 1,000 requests. */
  s3GetPerThousand: 0.0004,
};
/** Lambda gives a function one vCPU at 1,769 MB and CPU in proportion to memory. */
const MB_PER_VCPU = 1769;

// ---------------------------------------------------------------------------------------------------------
// Write units

export interface WruData {
  /** All SES samples: before (all ALL) and chosen. */
  samples?: { before: Tally; chosen: Tally };
  /** Per generated trail file (chosen and before). */
  files: { label: string; mb: number; pct: number; records: number; sesEvents: number; before: Tally; chosen: Tally }[];
  ledger: LedgerUnits;
}

export async function wruSection(quick: boolean): Promise<{ text: string; data: WruData }> {
  const parts: string[] = [];
  const samples = sampleRecords();
  let sampleData: WruData['samples'];
  if (!samples) {
    parts.push(`_The public samples (${SAMPLES_DIR}) are absent: the per-event table is skipped._`);
  } else {
    const files = [...samples.keys()].filter((f) => tallySamples(samples.get(f) ?? [], SCENARIOS[0]).events > 0);
    const all = files.flatMap((f) => samples.get(f) ?? []);
    const rows = SCENARIOS.map((s) => ({ s, all: tallySamples(all, s), byFile: new Map(files.map((f) => [f, tallySamples(samples.get(f) ?? [], s)])) }));
    sampleData = { before: rows[0].all, chosen: rows[1].all };
    const c = rows[1].all;
    parts.push(
      `**Write units per SES event, public samples** (${c.events} SES records of ${files.join(', ')}: ${c.rows} rows, ` +
        `${c.rows - c.events} from events naming several identities; ${c.readOnlyRows} rows of read-only calls; ${c.findingRows} ` +
        `rows with findings; rows' \`sourceObject\` an organization trail's ${orgTrailUri().length}-character URI). Every record through ` +
        `recordToRows and encodeRow, priced by src/store/capacity.ts: ceil(bytes / 1 KB) in the table plus one write per index the item ` +
        `is in, sized by the index entry (docs/cost.md). Rows over 1 KB in the table: ${c.over1k} of ${c.rows}.\n\n` +
        scenarioTable(rows, files),
    );
  }

  // Generated trail files: per file.
  const specs: [number, number][] = quick ? [[1, 1], [1, 50]] : [[1, 1], [1, 10], [1, 50], [50, 1], [50, 50]];
  const fileData: WruData['files'] = [];
  for (const [mb, pct] of specs) {
    const path = await trailFile(mb, pct);
    const r = await tallyFile(path, [SCENARIOS[0], SCENARIOS[1]]);
    fileData.push({ label: `${mb} MB, ${pct}% SES`, mb, pct, records: r.records, sesEvents: r.sesEvents, before: r.tallies[0], chosen: r.tallies[1] });
  }
  parts.push(
    `**Write units per generated trail file** (test/fixtures/trailgen.ts; its SES mix is synthetic: a tenth SendEmail data events, ` +
      `the rest spread over ten management calls, 5% denied)\n\n` +
      table(
        ['file', 'records', 'SES events', 'rows', 'WRU before', 'WRU chosen', 'chosen / before', 'WRU / SES event before → chosen'],
        fileData.map((f) => [
          f.label,
          int(f.records),
          int(f.sesEvents),
          int(f.chosen.rows),
          int(f.before.total),
          `**${int(f.chosen.total)}**`,
          `${(f.chosen.total / Math.max(1, f.before.total)).toFixed(2)}x`,
          `${(f.before.total / Math.max(1, f.chosen.events)).toFixed(2)} → **${(f.chosen.total / Math.max(1, f.chosen.events)).toFixed(2)}**`,
        ]),
      ),
  );
  const ledger = await ledgerUnits();
  parts.push(
    `**The ledger** (src/store/ledger.ts's items, as written for an organization trail): a log file's entry is ${int(ledger.logFileBytes)} bytes, ` +
      `${ledger.logFile} WRU; an hourly digest attesting ${ledger.digestFiles} files is ${int(ledger.digestBytes)} bytes, ${ledger.digest} WRU (no indexes).`,
  );
  return { text: `### Write units\n\n${parts.join('\n\n')}`, data: { samples: sampleData, files: fileData, ledger } };
}

// ---------------------------------------------------------------------------------------------------------
// Writer CPU per row

export interface WriterData {
  /** Median µs of writer CPU per row, by store and variant. */
  usPerRow: Record<string, Record<string, number>>;
  rows: number;
}

const WRITER_VARIANTS: { id: string; label: string; spec: Partial<WorkerSpec> }[] = [
  { id: 'before', label: 'SDK client with its logger middleware (before)', spec: { sdkLogger: true } },
  { id: 'after', label: '**SDK client without it (the writer now)**', spec: {} },
  { id: 'lean', label: 'lean BatchWriteItem prototype (not built)', spec: { lean: true } },
];

export async function writerSection(quick: boolean, node: string, local: LocalBench, standIn: StandIn): Promise<{ text: string; data: WriterData }> {
  const file = await trailFile(quick ? 1 : 50, 50);
  const runs = quick ? 1 : 3;
  const stores = [
    { id: 'standin', label: `stand-in, ${LATENCY_MS} ms per call`, store: 'http' as const, env: { ...local.env, AWS_ENDPOINT_URL_DYNAMODB: standIn.url } },
    { id: 'dynalite', label: 'dynalite', store: 'dynalite' as const, env: local.env },
  ];
  const samples = new Map<string, (WorkerResult & { parentCpuMs: number })[]>();
  const loads: string[] = [load()];
  for (let run = 0; run < runs; run++) {
    for (const st of stores) {
      for (const v of WRITER_VARIANTS) {
        const spec: WorkerSpec = { mode: 'writer', store: st.store, file, concurrency: CONCURRENCY, ...v.spec };
        const key = `${st.id}/${v.id}`;
        samples.set(key, [...(samples.get(key) ?? []), await runWorker<WorkerResult>('e2e-worker', spec, st.env, { node })]);
        process.stderr.write('.');
      }
    }
    loads.push(load());
  }
  process.stderr.write('\n');
  const usPerRow: WriterData['usPerRow'] = {};
  const out: string[][] = [];
  let rows = 0;
  for (const st of stores) {
    usPerRow[st.id] = {};
    for (const v of WRITER_VARIANTS) {
      const rs = samples.get(`${st.id}/${v.id}`) ?? [];
      rows = rs[0]?.rows ?? 0;
      const us = rs.map((r) => (r.cpuMs * 1000) / Math.max(1, r.rows));
      usPerRow[st.id][v.id] = median(us);
    }
    for (const v of WRITER_VARIANTS) {
      const rs = samples.get(`${st.id}/${v.id}`) ?? [];
      const us = usPerRow[st.id][v.id];
      out.push([
        st.label,
        v.label,
        `**${us.toFixed(0)} µs**`,
        `${Math.min(...rs.map((r) => (r.cpuMs * 1000) / r.rows)).toFixed(0)}–${Math.max(...rs.map((r) => (r.cpuMs * 1000) / r.rows)).toFixed(0)}`,
        `${(us / usPerRow[st.id].before).toFixed(2)}x`,
        ms(median(rs.map((r) => r.cpuMs / Math.max(1, r.calls ?? 1)))),
        ms(median(rs.map((r) => r.ms))),
        ms(median(rs.map((r) => r.parentCpuMs))),
        String(rs.length),
      ]);
    }
  }
  const text =
    `### The write path: writer CPU per row on ${nodeVersion(node)}\n\n` +
    `The BatchWriter alone on the ${int(rows)} rows of the ${quick ? '1' : '50'} MB, 50% SES file (built beforehand, not timed), ${CONCURRENCY} calls ` +
    `in flight; CPU of the worker process (user + system) from the first write to the last answer, over rows written. The stand-in ` +
    `is an HTTP server answering every BatchWriteItem after ${LATENCY_MS} ms, so the client's whole path runs (serialization, ` +
    `signing, middleware, HTTP, parsing); dynalite also checks and stores every item. Server CPU is the bench process's (the ` +
    `stand-in or dynalite, and s3rver idle). Machine ${loads.join(' → ')} over the runs.\n\n` +
    table(['DynamoDB', 'client', 'writer CPU / row (median)', 'range', 'vs before', 'CPU / call', 'time', 'server CPU', 'runs'], out);
  return { text, data: { usPerRow, rows } };
}

// ---------------------------------------------------------------------------------------------------------
// The handler on Node 24: memory, and CPU per file and per GB

export interface LambdaCase {
  label: string;
  mb: number;
  pct: number;
  mode: HandlerSpec['mode'];
  flags: boolean;
  /** The function memory the flags are for. */
  memoryMb: number;
  /** Major and minor collections and GC time per measured invocation (median). */
  gcMajor: number;
  gcMinor: number;
  gcMs: number;
  /** Median CPU and wall time per measured invocation; worst and median peak RSS over runs. */
  cpuMs: number;
  ms: number;
  rss: number;
  rssWorst: number;
  rssAfter: number;
  initCpuMs: number;
  rows: number;
  runs: number;
}

export interface LambdaData {
  cases: LambdaCase[];
  node: string;
}

const lambdaEnv = (local: LocalBench, standIn: StandIn, flags: boolean, memoryMb: number): Record<string, string> => ({
  ...local.env,
  AWS_ENDPOINT_URL_DYNAMODB: standIn.url,
  AWS_ENDPOINT_URL_EVENTBRIDGE: standIn.url,
  TABLE_NAME: 'ses-audit-bench',
  LEDGER_TABLE_NAME: 'ses-audit-bench-ledger',
  AWS_LAMBDA_FUNCTION_NAME: 'ses-audit',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(memoryMb),
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  // The function's log level (INFO: one line per file) and its metrics, as deployed.
  POWERTOOLS_LOG_LEVEL: 'INFO',
  NODE_OPTIONS: flags ? heapOptions(memoryMb) : '',
});

export async function lambdaSection(quick: boolean, node: string, local: LocalBench, standIn: StandIn): Promise<{ text: string; data: LambdaData }> {
  const runs = quick ? 1 : 3;
  const big = quick ? 10 : 50;
  interface Plan {
    label: string;
    mb: number;
    pct: number;
    mode: HandlerSpec['mode'];
    flags: boolean;
    warmup: number;
    invocations: number;
    memoryMb?: number;
  }
  const plans: Plan[] = [
    // Memory: the largest file CloudTrail writes, half SES, warm, with the stack's flags and without.
    { label: `${big} MB, 50% SES, NODE_OPTIONS for ${MEMORY_MB} MB`, mb: big, pct: 50, mode: 'handler', flags: true, warmup: 1, invocations: 2 },
    { label: `${big} MB, 50% SES, no flags`, mb: big, pct: 50, mode: 'handler', flags: false, warmup: 1, invocations: 2 },
    // The sizes either side of the default: does the next smaller one hold it, what does the next larger one buy.
    { label: `${big} MB, 50% SES, NODE_OPTIONS for 128 MB`, mb: big, pct: 50, mode: 'handler', flags: true, warmup: 1, invocations: 2, memoryMb: 128 },
    { label: `${big} MB, 50% SES, NODE_OPTIONS for 512 MB`, mb: big, pct: 50, mode: 'handler', flags: true, warmup: 1, invocations: 2, memoryMb: 512 },
    // CPU per file and per GB.
    { label: `${big} MB, 1% SES`, mb: big, pct: 1, mode: 'handler', flags: true, warmup: 1, invocations: 2 },
    { label: '1 MB, 1% SES', mb: 1, pct: 1, mode: 'handler', flags: true, warmup: 1, invocations: quick ? 5 : 10 },
    { label: '1 MB, 50% SES', mb: 1, pct: 50, mode: 'handler', flags: true, warmup: 1, invocations: quick ? 5 : 10 },
    // The counterfactual: whole-file JSON.parse (no heap flags: it needs the memory).
    { label: `JSON.parse design: ${big} MB, 50% SES`, mb: big, pct: 50, mode: 'json-parse', flags: false, warmup: 1, invocations: 2 },
    { label: `JSON.parse design: ${big} MB, 1% SES`, mb: big, pct: 1, mode: 'json-parse', flags: false, warmup: 1, invocations: 2 },
    { label: 'JSON.parse design: 1 MB, 1% SES', mb: 1, pct: 1, mode: 'json-parse', flags: false, warmup: 1, invocations: quick ? 5 : 10 },
  ];
  if (!quick) {
    const after = plans.findIndex((p) => p.mode === 'handler' && p.mb === 1 && p.pct === 1);
    plans.splice(after + 1, 0, { label: '1 MB, 10% SES', mb: 1, pct: 10, mode: 'handler', flags: true, warmup: 1, invocations: 10 });
  }
  const keys = new Map<string, string>();
  for (const p of plans) {
    const id = `${p.mb}/${p.pct}`;
    if (!keys.has(id)) keys.set(id, await local.upload(await trailFile(p.mb, p.pct), benchKey(p.mb, p.pct)));
  }
  const results = new Map<string, (HandlerResult & { parentCpuMs: number })[]>();
  const loads: string[] = [load()];
  for (let run = 0; run < runs; run++) {
    for (const p of plans) {
      const spec: HandlerSpec = { mode: p.mode, handler: HANDLER, bucket: BENCH_BUCKET, key: keys.get(`${p.mb}/${p.pct}`) ?? '', warmup: p.warmup, invocations: p.invocations };
      const r = await runWorker<HandlerResult>('handler-worker', spec, lambdaEnv(local, standIn, p.flags, p.memoryMb ?? MEMORY_MB), { node });
      results.set(p.label, [...(results.get(p.label) ?? []), r]);
      process.stderr.write('.');
    }
    loads.push(load());
  }
  process.stderr.write('\n');
  const cases: LambdaCase[] = plans.map((p) => {
    const rs = results.get(p.label) ?? [];
    return {
      label: p.label,
      mb: p.mb,
      pct: p.pct,
      mode: p.mode,
      flags: p.flags,
      memoryMb: p.memoryMb ?? MEMORY_MB,
      gcMajor: median(rs.map((r) => r.gcMajor / p.invocations)),
      gcMinor: median(rs.map((r) => r.gcMinor / p.invocations)),
      gcMs: median(rs.map((r) => r.gcMs / p.invocations)),
      cpuMs: median(rs.flatMap((r) => r.cpuMs)),
      ms: median(rs.flatMap((r) => r.ms)),
      rss: median(rs.map((r) => r.peakRssMiB)),
      rssWorst: Math.max(...rs.map((r) => r.peakRssMiB)),
      rssAfter: median(rs.flatMap((r) => r.rssMiB)),
      initCpuMs: median(rs.map((r) => r.initCpuMs)),
      rows: rs[0]?.rows ?? 0,
      runs: rs.length,
    };
  });
  const limit = MEMORY_MB * MEMORY_TARGET;
  const memRows = cases
    .filter((c) => c.mb === big && c.pct === 50)
    .map((c) => [
      c.mode === 'handler' ? c.label : `${c.label} (needs 1024 MB)`,
      c.flags ? `\`${heapOptions(c.memoryMb)}\`` : 'none',
      `**${mib(c.rss)}**`,
      mib(c.rssWorst),
      c.mode === 'handler' ? `${((c.rssWorst / c.memoryMb) * 100).toFixed(0)}% of ${c.memoryMb} MB` : '-',
      c.mode === 'handler' ? (c.rssWorst <= c.memoryMb * MEMORY_TARGET ? 'yes' : '**no**') : '-',
      ms(c.cpuMs),
      `${c.gcMajor.toFixed(0)} / ${c.gcMinor.toFixed(0)}`,
      ms(c.gcMs),
      ms(c.ms),
      String(c.runs),
    ]);
  const cpuRows = cases.map((c) => [
    c.label,
    int(c.rows),
    ms(c.cpuMs),
    `${((c.cpuMs / c.mb) * 1024 / 1000).toFixed(1)} s`,
    ms(c.ms),
    mib(c.rss),
    c.mode === 'handler' ? ms(c.initCpuMs) : '-',
    String(c.runs),
  ]);
  const text =
    `### The function on ${nodeVersion(node)}: memory and CPU\n\n` +
    `dist/handler.mjs imported in a fresh process (Lambda's init) and invoked with an S3 event for one object, once to warm up and then ` +
    `measured, as a warm execution environment sees files; S3 is s3rver, DynamoDB (table and ledger) and EventBridge the ${LATENCY_MS} ms ` +
    `stand-in; Lambda's environment variables for a ${MEMORY_MB} MB function. Peak RSS is the process's VmHWM over the whole run (init, ` +
    `warm-up and measured invocations): what Lambda reports as Max Memory Used. Machine ${loads.join(' → ')} over the runs.\n\n` +
    `**Peak RSS against the function's ${MEMORY_MB} MB** (target: under ${(MEMORY_TARGET * 100).toFixed(0)}%, ${limit.toFixed(0)} MiB, with the flags)\n\n` +
    table(['file', 'NODE_OPTIONS', 'peak RSS (median)', 'worst', 'of the memory', `≤ ${(MEMORY_TARGET * 100).toFixed(0)}%`, 'CPU / invocation', 'major / minor GCs', 'GC time', 'time', 'runs'], memRows) +
    `\n\nGCs and GC time are per measured invocation (PerformanceObserver 'gc'). Without flags V8 sizes its heap from this machine's ` +
    `${Math.round(totalmem() / 1024 ** 3)} GiB and lets the old generation grow fourfold between major collections; a heap limit far below ` +
    `that size caps the growth at 1.3 to 2 times (V8's heap-controller.cc), hence the extra major collections with the flags. In a ` +
    `${MEMORY_MB} MB function V8 sizes its defaults from about ${MEMORY_MB} MB, so most of that cost should not be there (unmeasured; docs/cost.md).` +
    `\n\n**CPU per warm invocation** (median; per GB is per file scaled by size, so it includes the per-file work once per file)\n\n` +
    table(['file', 'rows', 'CPU / file', 'CPU / GB', 'time / file', 'peak RSS', 'init CPU', 'runs'], cpuRows);
  return { text, data: { cases, node: nodeVersion(node) } };
}

// ---------------------------------------------------------------------------------------------------------
// The cost model

/** The organization the $ per day is for. */
export const ORG = {
  accounts: 1000,
  regions: 17,
  /** CloudTrail delivers a log file about every 5 minutes per account and region. */
  filesPerDayEach: 288,
  /** Average uncompressed log file. */
  fileKb: 100,
  /** Share of records that are SES events. */
  sesShare: 0.01,
  /** Days read-only rows are kept (READ_ONLY_RETENTION_DAYS); other rows forever. */
  readOnlyRetentionDays: 90,
};

/** Seconds of billed duration per invocation spent waiting (S3's first byte, the last write, the ledger). */
const IO_WAIT_S = 0.03;

interface Design {
  label: string;
  memoryMb: number;
  /** CPU seconds per file of `fileKb` at the org's SES share. */
  cpuPerFile: number;
  wruPerEvent: number;
}

function costLines(d: Design, eventsPerDay: number, filesPerDay: number, digestsPerDay: number, ledger: LedgerUnits, digestCpu: number) {
  const share = d.memoryMb / MB_PER_VCPU;
  const gbs = (cpu: number) => (d.memoryMb / 1024) * (cpu / share + IO_WAIT_S);
  const lambda =
    (filesPerDay * gbs(d.cpuPerFile) + digestsPerDay * gbs(digestCpu)) * PRICES.lambdaGbSecond +
    ((filesPerDay + digestsPerDay) / 1e6) * PRICES.lambdaPerMillionRequests;
  const rows = (eventsPerDay * d.wruPerEvent * PRICES.wruPerMillion) / 1e6;
  const ledgerCost = ((filesPerDay * ledger.logFile + digestsPerDay * ledger.digest) * PRICES.wruPerMillion) / 1e6;
  const s3 = ((filesPerDay + digestsPerDay) / 1000) * PRICES.s3GetPerThousand;
  return { lambda, rows, ledger: ledgerCost, s3, total: lambda + rows + ledgerCost + s3, gbsPerFile: gbs(d.cpuPerFile) };
}

export function modelSection(wru: WruData, lam: LambdaData, writer?: WriterData): string {
  const find = (mode: string, mb: number, pct: number) => lam.cases.find((c) => c.mode === mode && c.mb === mb && c.pct === pct && (mode !== 'handler' || c.flags));
  const big = Math.max(...lam.cases.map((c) => c.mb));
  // CPU per file of the org's size at 1% SES: a line through the 1 MB and the large file (fixed + per MB).
  const cpuLine = (mode: string) => {
    const small = find(mode, 1, 1);
    const large = find(mode, big, 1);
    if (!small || !large) return undefined;
    const perMb = (large.cpuMs - small.cpuMs) / (big - 1) / 1000;
    const fixed = small.cpuMs / 1000 - perMb;
    return { fixed, perMb };
  };
  const ours = cpuLine('handler');
  const naive = cpuLine('json-parse');
  if (!ours || !naive || !wru.samples) return '_The cost model needs the lambda and wru sections (and the samples)._';
  const files = ORG.accounts * ORG.regions * ORG.filesPerDayEach;
  const digests = ORG.accounts * ORG.regions * 24;
  const gen = wru.files.find((f) => f.mb === 1 && f.pct === 1) ?? wru.files[0];
  const recordsPerKb = gen.records / (gen.mb * 1024);
  const recordsPerFile = recordsPerKb * ORG.fileKb;
  const eventsPerDay = files * recordsPerFile * ORG.sesShare;
  const mbPerFile = ORG.fileKb / 1024;
  const wruBefore = wru.samples.before.total / wru.samples.before.events;
  const wruChosen = wru.samples.chosen.total / wru.samples.chosen.events;
  const designs: Design[] = [
    { label: '**ses-audit now**: streaming, 256 MB, chosen projections', memoryMb: MEMORY_MB, cpuPerFile: ours.fixed + ours.perMb * mbPerFile, wruPerEvent: wruChosen },
    { label: 'ses-audit before this change: streaming, 256 MB, every index ALL', memoryMb: MEMORY_MB, cpuPerFile: ours.fixed + ours.perMb * mbPerFile, wruPerEvent: wruBefore },
    { label: 'whole-file JSON.parse, 1024 MB, every index ALL', memoryMb: 1024, cpuPerFile: naive.fixed + naive.perMb * mbPerFile, wruPerEvent: wruBefore },
  ];
  const lines = designs.map((d) => ({ d, c: costLines(d, eventsPerDay, files, digests, wru.ledger, ours.fixed) }));
  const usd = (x: number) => (x >= 100 ? `$${x.toFixed(0)}` : `$${x.toFixed(2)}`);
  const base = lines[0].c.total;
  const readOnlyShare = wru.samples.chosen.readOnlyRows / wru.samples.chosen.rows;
  const storage = (t: Tally) => {
    const perEvent = t.storedBytes / t.events;
    const gbPerDay = (eventsPerDay * perEvent) / 1e9;
    return { perEvent, gbPerDay, monthly: gbPerDay * 30 * PRICES.storageGbMonth };
  };
  const stored = [
    { label: 'before: every index ALL', ...storage(wru.samples.before) },
    { label: '**chosen**', ...storage(wru.samples.chosen) },
  ];
  const rowsPerEvent = wru.samples.chosen.rows / wru.samples.chosen.events;
  const perMillion = (wru: number) => (wru * PRICES.wruPerMillion).toFixed(2);
  const cpuPerGb = (mode: string, pct: number) => {
    const c = find(mode, big, pct);
    return c ? (c.cpuMs / c.mb) * 1.024 : NaN;
  };
  // Rows' write units per GB of a generated file (the largest measured at that share).
  const dynamoPerGb = (pct: number): string => {
    const f = wru.files.filter((x) => x.pct === pct).sort((a, b) => b.mb - a.mb)[0];
    if (!f) return '-';
    const units = (f.chosen.total / f.mb) * 1024;
    return `$${((units * PRICES.wruPerMillion) / 1e6).toFixed(3)} (${int(units)} WRU of rows, generated files)`;
  };
  const lambdaPerGb = (cpuS: number, memoryMb: number) => (memoryMb / 1024) * (cpuS / (memoryMb / MB_PER_VCPU)) * PRICES.lambdaGbSecond;
  // Lambda $ per million rows for a writer CPU cost per row (CPU-bound at the function's memory).
  const perMillionRows = (us: number) => (us / 1e6) * (MB_PER_VCPU / 1024) * PRICES.lambdaGbSecond * 1e6;
  const writerNote = writer
    ? ` The writer's CPU per row (${writer.usPerRow.standin.before.toFixed(0)} µs before, ${writer.usPerRow.standin.after.toFixed(0)} µs now, ` +
      `${writer.usPerRow.standin.lean.toFixed(0)} µs for the lean prototype, stand-in) is $${perMillionRows(writer.usPerRow.standin.before).toFixed(4)}, ` +
      `$${perMillionRows(writer.usPerRow.standin.after).toFixed(4)} and $${perMillionRows(writer.usPerRow.standin.lean).toFixed(4)} of Lambda per million rows, ` +
      `against $${((wruChosen / rowsPerEvent) * PRICES.wruPerMillion).toFixed(2)} of DynamoDB writes.`
    : '';
  return [
    `### The cost model\n`,
    `Prices: us-east-1, on demand, Lambda arm64: DynamoDB $${PRICES.wruPerMillion} per million write request units, $${PRICES.rruPerMillion} per million read ` +
      `request units, $${PRICES.storageGbMonth} per GB-month; Lambda $${PRICES.lambdaGbSecond} per GB-second and $${PRICES.lambdaPerMillionRequests} per ` +
      `million requests; S3 GET $${PRICES.s3GetPerThousand} per 1,000. Lambda's CPU is ${MB_PER_VCPU} MB per vCPU, so a CPU-bound invocation bills ` +
      `CPU seconds × ${(MB_PER_VCPU / 1024).toFixed(3)} GB-seconds whatever the memory size; waiting (${IO_WAIT_S * 1000} ms per invocation assumed: ` +
      `S3's first byte, the last write, the ledger) bills the memory size. CPU times are this machine's (x86); Graviton's are assumed equal.\n`,
    table(
      ['per unit', 'DynamoDB', 'Lambda'],
      [
        ['per million SES events (public samples)', `$${perMillion(wruChosen)} (${wruChosen.toFixed(2)} WRU each; before: $${perMillion(wruBefore)})`, '-'],
        [`per GB of trail, 1% SES (${lam.node})`, dynamoPerGb(1), `$${lambdaPerGb(cpuPerGb('handler', 1), MEMORY_MB).toFixed(4)} (${cpuPerGb('handler', 1).toFixed(1)} CPU-s); JSON.parse: $${lambdaPerGb(cpuPerGb('json-parse', 1), 1024).toFixed(4)}`],
        [`per GB of trail, 50% SES`, dynamoPerGb(50), `$${lambdaPerGb(cpuPerGb('handler', 50), MEMORY_MB).toFixed(4)} (${cpuPerGb('handler', 50).toFixed(1)} CPU-s); JSON.parse: $${lambdaPerGb(cpuPerGb('json-parse', 50), 1024).toFixed(4)}`],
        ['per log file (ledger entry) / per digest', `${wru.ledger.logFile} / ${wru.ledger.digest} WRU`, `${(ours.fixed * 1000).toFixed(0)} ms CPU per invocation, fixed`],
      ],
    ),
    `\n**$ per day** for an organization of ${int(ORG.accounts)} accounts × ${ORG.regions} regions, one log file per 5 minutes each ` +
      `(${int(files)} files and ${int(digests)} digests a day), ${ORG.fileKb} KB per file uncompressed (${recordsPerFile.toFixed(0)} records, ` +
      `as the generated files' ${(1024 / recordsPerKb).toFixed(0)} bytes per record), ${(ORG.sesShare * 100).toFixed(0)}% of them SES: ` +
      `${int(eventsPerDay)} SES events a day at the samples' ${wruChosen.toFixed(2)} WRU each (before: ${wruBefore.toFixed(2)}). CPU per file: ` +
      `${(ours.fixed * 1000).toFixed(0)} ms fixed + ${(ours.perMb * 1000).toFixed(0)} ms per MB (a line through the measured 1 MB and ${big} MB ` +
      `files at 1%); JSON.parse design ${(naive.fixed * 1000).toFixed(0)} + ${(naive.perMb * 1000).toFixed(0)} ms per MB. Digests are priced as ` +
      `an invocation's fixed CPU.${writerNote}\n`,
    table(
      ['design', 'Lambda', 'DynamoDB rows', 'DynamoDB ledger', 'S3 GET', '**total / day**', 'vs now'],
      lines.map(({ d, c }) => [d.label, usd(c.lambda), usd(c.rows), usd(c.ledger), usd(c.s3), `**${usd(c.total)}**`, `${(c.total / base).toFixed(2)}x`]),
    ),
    `\n**Storage** accumulates instead: each month of history kept adds its GB-months to every later month. Bytes per SES event ` +
      `in the table and its indexes, DynamoDB's 100 bytes of overhead per item and per index entry included, for the samples' rows:\n`,
    table(
      ['schema', 'bytes per SES event', 'GB added per day', '$ per month, for each month of history kept', `with READ_ONLY_RETENTION_DAYS=${ORG.readOnlyRetentionDays}: kept for good`],
      stored.map((x) => [
        x.label,
        int(x.perEvent),
        x.gbPerDay.toFixed(2),
        usd(x.monthly),
        `${(x.gbPerDay * (1 - readOnlyShare)).toFixed(2)} GB a day, ${usd(x.monthly * (1 - readOnlyShare))} a month per month kept`,
      ]),
    ),
    `\nREAD_ONLY_RETENTION_DAYS lets the ${(readOnlyShare * 100).toFixed(0)}% of sample rows that come from read-only calls expire after ` +
      `${ORG.readOnlyRetentionDays} days (TTL deletes cost no write units), so they stop accumulating; real Get/List polling makes that share ` +
      `larger. Its \`expiresAt\` adds 12 to 15 bytes to a row, which moved no sample row across a kilobyte (the write-unit table).`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------------------------

export async function costSuites(name: 'wru' | 'writer' | 'lambda' | 'cost', quick: boolean): Promise<string> {
  const parts: string[] = [];
  let wru: WruData | undefined;
  if (name === 'wru' || name === 'cost') {
    const r = await wruSection(quick);
    parts.push(r.text);
    wru = r.data;
  }
  if (name === 'wru') return parts.join('\n\n');
  const node = node24();
  const local = await startLocalBench();
  const standIn = await startStandIn(LATENCY_MS);
  try {
    let writer: WriterData | undefined;
    if (name === 'writer' || name === 'cost') {
      const r = await writerSection(quick, node, local, standIn);
      parts.push(r.text);
      writer = r.data;
    }
    if (name === 'lambda' || name === 'cost') {
      const r = await lambdaSection(quick, node, local, standIn);
      parts.push(r.text);
      if (wru) parts.push(modelSection(wru, r.data, writer));
    }
  } finally {
    await standIn.stop();
    await local.stop();
  }
  return parts.join('\n\n');
}

/** For bench/suites.ts's list. */
export const COST_SUITES = ['wru', 'writer', 'lambda', 'cost'] as const;
