/**
 * The cold-start suite: how big dist/handler.mjs is, how long a fresh `node` takes to import it (what Lambda's
 * init phase does), and what that import loads: bundle composition by package (esbuild metafile), init CPU by
 * package (a V8 CPU profile of the import mapped through the bundle's source map), and the Node built-ins
 * loaded. Anything heavy that is not needed on every invocation shows up here.
 */
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { gzipSync } from 'node:zlib';
import { build, type BuildOptions } from 'esbuild';
import { common } from '../esbuild.config.mjs';
import { BENCH_DIR, median, runNode, table } from './harness.js';
import { int, kib, mib, ms } from './fmt.js';

const ROOT = resolve(import.meta.dirname, '..');
const HANDLER = join(ROOT, 'dist', 'handler.mjs');

/** What Lambda sets in the init environment (credentials are dummies: nothing is called at init). */
const LAMBDA_ENV = {
  TABLE_NAME: 'ses-identity-audit',
  AWS_REGION: 'us-east-1',
  AWS_DEFAULT_REGION: 'us-east-1',
  AWS_ACCESS_KEY_ID: 'ASIAEXAMPLEEXAMPLE00',
  AWS_SECRET_ACCESS_KEY: 'example-secret',
  AWS_SESSION_TOKEN: 'example-token',
  AWS_LAMBDA_FUNCTION_NAME: 'ses-audit',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '256',
  AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
  AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand',
  AWS_EXECUTION_ENV: 'AWS_Lambda_nodejs24.x',
  NODE_NO_WARNINGS: '1',
};

// The options `npm run build` uses, so the composition measured is the bundle shipped.
const HANDLER_BUILD: BuildOptions = { ...common, sourcemap: false, logLevel: 'error' };

/** Imports argv[2] and reports how long it took, the memory after, and the built-ins it loaded. */
const INIT_SCRIPT = `
const before = new Set(process.moduleLoadList);
const t0 = performance.now();
const c0 = process.cpuUsage();
const mod = await import(process.argv[2]);
const importMs = performance.now() - t0;
const c = process.cpuUsage(c0);
const m = process.memoryUsage();
const builtins = process.moduleLoadList.filter((x) => !before.has(x) && x.startsWith('NativeModule ')).map((x) => x.slice(13));
process.stdout.write(JSON.stringify({ importMs, sinceStartMs: performance.now(), cpuMs: (c.user + c.system) / 1000, rssMiB: m.rss / 1048576, heapMiB: m.heapUsed / 1048576, builtins, exports: Object.keys(mod) }) + '\\n');
`;

interface InitRun {
  importMs: number;
  sinceStartMs: number;
  cpuMs: number;
  rssMiB: number;
  heapMiB: number;
  builtins: string[];
  exports: string[];
  wallMs: number;
}

function initScript(): string {
  mkdirSync(BENCH_DIR, { recursive: true });
  const path = join(BENCH_DIR, 'cold-init.mjs');
  writeFileSync(path, INIT_SCRIPT);
  return path;
}

async function initRun(target: string, extraArgs: string[] = []): Promise<InitRun> {
  const r = await runNode([...extraArgs, initScript(), target], { env: LAMBDA_ENV });
  if (r.code !== 0) throw new Error(`import of ${target} failed: ${r.stderr.slice(-400)}`);
  // The child's one JSON line.
  return { ...(JSON.parse(r.stdout.trim().split('\n').pop()!) as Omit<InitRun, 'wallMs'>), wallMs: r.wallMs };
}

/** Small bundles of single dependencies, built like the handler, to see what each costs on its own. */
const PARTS: { name: string; label: string; code: string }[] = [
  { name: 's3', label: '@aws-sdk/client-s3 (new S3Client)', code: "import { S3Client } from '@aws-sdk/client-s3'; export const c = new S3Client({});" },
  { name: 'dynamodb', label: '@aws-sdk/client-dynamodb (new DynamoDBClient)', code: "import { DynamoDBClient } from '@aws-sdk/client-dynamodb'; export const c = new DynamoDBClient({});" },
  {
    name: 'powertools',
    label: 'Powertools Logger + Metrics',
    code: "import { Logger } from '@aws-lambda-powertools/logger'; import { Metrics } from '@aws-lambda-powertools/metrics'; export const l = new Logger({ serviceName: 'x' }); export const m = new Metrics({ namespace: 'x', serviceName: 'x' });",
  },
  { name: 'pipeline', label: 'src/pipeline.ts (reader, scanner, rows; no SDK)', code: "export { processTrail } from './src/pipeline.js';" },
];

async function buildPart(p: (typeof PARTS)[number]): Promise<{ path: string; bytes: number }> {
  const outfile = join(BENCH_DIR, `cold-${p.name}.mjs`);
  await build({ ...HANDLER_BUILD, stdin: { contents: p.code, resolveDir: ROOT, loader: 'ts', sourcefile: `${p.name}.ts` }, outfile });
  return { path: outfile, bytes: statSync(outfile).size };
}

function packageOf(source: string): string {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(source);
  if (m) return m[1];
  const s = /(?:^|\/)(src\/[^/]+)/.exec(source);
  return s ? `ses-audit ${s[1].replace(/\.ts$/, '')}` : source;
}

/** Bytes in dist/handler.mjs by package (a rebuild with the same options, into memory). */
async function composition(): Promise<{ total: number; byPackage: [string, number][] }> {
  const r = await build({ ...HANDLER_BUILD, entryPoints: [join(ROOT, 'src', 'handler.ts')], outfile: join(BENCH_DIR, 'handler-meta.mjs'), write: false, metafile: true });
  const out = Object.values(r.metafile!.outputs).find((o) => o.entryPoint)!;
  const by = new Map<string, number>();
  for (const [path, v] of Object.entries(out.inputs)) by.set(packageOf(path), (by.get(packageOf(path)) ?? 0) + v.bytesInOutput);
  return { total: out.bytes, byPackage: [...by].sort((a, b) => b[1] - a[1]) };
}

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number }; children?: number[] }[];
  samples: number[];
  timeDeltas: number[];
}

/** Self time of a CPU profile of the import, by package, through the bundle's source map. */
async function initProfile(runs: number): Promise<{ total: number; groups: [string, number][] } | undefined> {
  const mapPath = `${HANDLER}.map`;
  if (!existsSync(mapPath)) return undefined;
  const map = new SourceMap(JSON.parse(readFileSync(mapPath, 'utf8')));
  const bundleUrl = pathToFileURL(HANDLER).href;
  const dir = join(BENCH_DIR, 'cold-prof');
  const totals = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < runs; i++) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    await initRun(HANDLER, ['--cpu-prof', '--cpu-prof-dir', dir, '--cpu-prof-interval', '100']);
    const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
    if (!file) return undefined;
    // V8's .cpuprofile JSON.
    const prof = JSON.parse(readFileSync(join(dir, file), 'utf8')) as CpuProfile;
    const groupOf = new Map<number, string>();
    const byId = new Map(prof.nodes.map((n) => [n.id, n]));
    const sourceOf = (n: CpuProfile['nodes'][number]): string | undefined =>
      // Node types findEntry's miss as {}: a hit has originalSource.
      n.callFrame.url === bundleUrl ? (map.findEntry(n.callFrame.lineNumber, n.callFrame.columnNumber) as { originalSource?: string }).originalSource : undefined;
    for (const n of prof.nodes) {
      const { url, functionName, lineNumber, columnNumber } = n.callFrame;
      let g: string;
      if (url === bundleUrl) {
        const source = sourceOf(n);
        if (source) g = packageOf(source);
        // esbuild hoists every ESM module's body into the bundle's own top-level function (at 1:1).
        else if (lineNumber === 0 && columnNumber === 0) g = 'bundle top level (module bodies flattened by esbuild)';
        else {
          // esbuild's runtime helpers (__esm/__commonJS wrappers, ...): V8 charges them the lazy compilation of the
          // module body they start, so name the module they call.
          const callee = (n.children ?? []).map((id) => byId.get(id)).map((c) => (c ? sourceOf(c) : undefined)).find(Boolean);
          g = callee ? `${packageOf(callee)} (compiled on first use, via esbuild wrapper)` : 'esbuild helpers';
        }
      } else if (url.startsWith('node:')) {
        g =
          functionName === 'compileSourceTextModule'
            ? 'Node: parsing/compiling the bundle (compileSourceTextModule)'
            : functionName === 'compileForInternalLoader'
              ? 'Node: loading built-in modules (compileForInternalLoader)'
              : 'Node: other internals (module loader, bootstrap)';
      } else if (functionName === '(garbage collector)') g = 'garbage collector';
      else if (functionName === '(idle)' || functionName === '(root)') g = '';
      else if (functionName === '(program)') g = 'V8 (compile, parse, runtime)';
      else if (url.includes('cold-init')) g = 'bench script';
      else g = url ? url : 'V8 / native';
      groupOf.set(n.id, g);
    }
    for (let k = 0; k < prof.samples.length; k++) {
      const g = groupOf.get(prof.samples[k]) ?? '';
      if (!g) continue;
      const us = prof.timeDeltas[k] ?? 0;
      totals.set(g, (totals.get(g) ?? 0) + us / 1000 / runs);
      total += us / 1000 / runs;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  return { total, groups: [...totals].sort((a, b) => b[1] - a[1]) };
}

/** Built-ins that an invocation of this function never needs (it speaks HTTP/1.1 over TLS to S3 and DynamoDB). */
const NOT_PER_INVOCATION = new Set(['http2', 'assert', 'worker_threads', 'child_process', 'readline', 'inspector', 'vm', 'v8', 'cluster', 'repl']);

export async function coldSuite(quick: boolean): Promise<string> {
  if (!existsSync(HANDLER)) throw new Error(`${HANDLER} missing: run npm run build`);
  const runs = quick ? 3 : 10;
  const sections: string[] = [];

  // Size.
  const bytes = statSync(HANDLER).size;
  const gz = gzipSync(readFileSync(HANDLER), { level: 9 }).length;
  const comp = await composition();
  const top = comp.byPackage.slice(0, 12);
  const rest = comp.byPackage.slice(12).reduce((a, [, b]) => a + b, 0);
  const aws = comp.byPackage.filter(([p]) => /^@(aws-sdk|smithy|aws)\//.test(p) || p === 'bowser' || p === 'mnemonist' || p === 'obliterator' || p === 'tslib' || p === 'fast-xml-parser').reduce((a, [, b]) => a + b, 0);
  const own = comp.byPackage.filter(([p]) => p.startsWith('ses-audit')).reduce((a, [, b]) => a + b, 0);
  sections.push(
    `### Cold start\n\n` +
      `**dist/handler.mjs**: ${int(bytes)} bytes (${kib(bytes)}), ${int(gz)} bytes gzipped (-9)` +
      `${existsSync(`${HANDLER}.map`) ? `; source map ${kib(statSync(`${HANDLER}.map`).size)} (not loaded at run time)` : ''}. ` +
      `Of the bundle, the AWS SDK and its helpers are ${((aws / comp.total) * 100).toFixed(0)}%, this project's own code ${((own / comp.total) * 100).toFixed(0)}% (${kib(own)})` +
      `${Math.abs(comp.total - bytes) > bytes * 0.02 ? ` (the composition rebuild is ${int(comp.total)} bytes: esbuild.config.mjs may have changed)` : ''}.\n\n` +
      table(
        ['package', 'bytes in bundle', 'share'],
        [...top.map(([p, b]) => [p, int(b), `${((b / comp.total) * 100).toFixed(1)}%`]), [`${comp.byPackage.length - top.length} others`, int(rest), `${((rest / comp.total) * 100).toFixed(1)}%`]],
      ),
  );

  // Init time: the handler, a bare node, and single dependencies, interleaved.
  const parts = await Promise.all(PARTS.map(async (p) => ({ ...p, ...(await buildPart(p)) })));
  const targets = [
    { label: 'Node alone (`import("node:os")`)', path: 'node:os', bytes: 0 },
    { label: '**dist/handler.mjs** (with TABLE_NAME set)', path: HANDLER, bytes },
    ...parts.map((p) => ({ label: `${p.label}, bundled alone`, path: p.path, bytes: p.bytes })),
  ];
  const samples = new Map<string, InitRun[]>(targets.map((t) => [t.path, []]));
  for (let i = 0; i < runs; i++) {
    for (const t of targets) samples.get(t.path)!.push(await initRun(t.path));
    process.stderr.write('.');
  }
  process.stderr.write('\n');
  const initRows = targets.map((t) => {
    const rs = samples.get(t.path)!;
    return [
      t.label,
      t.bytes ? kib(t.bytes) : '-',
      ms(median(rs.map((r) => r.importMs))),
      ms(median(rs.map((r) => r.cpuMs))),
      ms(median(rs.map((r) => r.wallMs))),
      mib(median(rs.map((r) => r.rssMiB))),
      `${median(rs.map((r) => r.heapMiB)).toFixed(1)} MiB`,
      String(rs[0].builtins.length),
    ];
  });
  const handlerRuns = samples.get(HANDLER)!;
  if (!handlerRuns[0].exports.includes('handler')) throw new Error('dist/handler.mjs exports no handler');
  sections.push(
    `**Init: importing the bundle in a fresh \`node\`** (median of ${runs}; Lambda-like environment: region, dummy credentials, TABLE_NAME; ` +
      `"import" is timed inside the process around \`await import()\`, "process" is spawn to exit, Node's own start-up included)\n\n` +
      table(['module', 'size', 'import', 'import CPU', 'process', 'RSS after', 'heap used after', 'built-ins loaded'], initRows),
  );

  // What runs at init, by package.
  const prof = await initProfile(quick ? 1 : 3);
  if (prof) {
    const shown = prof.groups.slice(0, 12);
    sections.push(
      `**Init CPU by package** (V8 CPU profile of the import, 0.1 ms sampling, self time mapped through dist/handler.mjs.map; ` +
        `mean of ${quick ? 1 : 3} runs, ${ms(prof.total)} sampled in all)\n\n` +
        table(['package', 'self time', 'share'], shown.map(([g, t]) => [g, ms(t), `${((t / prof.total) * 100).toFixed(0)}%`])),
    );
  } else {
    sections.push('_No init profile: dist/handler.mjs.map missing._');
  }

  // Built-ins.
  const builtins = handlerRuns[0].builtins.filter((b) => !b.startsWith('internal/'));
  const unneeded = builtins.filter((b) => NOT_PER_INVOCATION.has(b));
  sections.push(
    `**Node built-ins the import loads** (${handlerRuns[0].builtins.length} modules, internal ones included): ${builtins.map((b) => `\`${b}\``).join(', ')}.` +
      (unneeded.length
        ? ` Not needed by an invocation of this function (HTTP/1.1 over TLS to S3 and DynamoDB): ${unneeded.map((b) => `\`${b}\``).join(', ')}.`
        : ''),
  );
  return sections.join('\n\n');
}
