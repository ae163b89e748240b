/**
 * The package as a user gets it: `npm pack` the repository (after `npm run build`, which `npm test` runs
 * first), install the tarball into a fresh app folder without a registry (extracted into node_modules, with
 * aws-cdk-lib and constructs linked from this repository as the user's own copies), and synthesize
 * `ses-audit/cdk` there offline, in a plain App; then type-check a TypeScript user of it.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '..', '..');
const SLOW = 240_000;

// biome-ignore lint/suspicious/noExplicitAny: raw CloudFormation JSON (a boundary); the assertions check its shape.
type Json = Record<string, any>;

let work: string;
let tarball: string;
let files: string[];
let appDir: string;

beforeAll(async () => {
  for (const built of ['dist/handler.mjs', 'dist/cli.mjs', 'dist/cdk.mjs', 'dist/types/infra/index.d.ts']) {
    if (!existsSync(join(ROOT, built))) throw new Error(`${built} is missing: run \`npm run build\` first (npm test does)`);
  }
  work = mkdtempSync(join(tmpdir(), 'ses-audit-pack-'));
  // --ignore-scripts: the build already ran (prepack would run it again).
  const { stdout } = await run('npm', ['pack', '--json', '--ignore-scripts', '--offline', '--pack-destination', work], {
    cwd: ROOT,
    maxBuffer: 16 * 1024 * 1024,
    timeout: SLOW,
  });
  const [packed] = JSON.parse(stdout) as { filename: string; files: { path: string }[] }[];
  tarball = join(work, packed.filename);
  files = packed.files.map((f) => f.path).sort();

  // A fresh app that depends on ses-audit, aws-cdk-lib and constructs: installed by hand, offline.
  appDir = join(work, 'app');
  const modules = join(appDir, 'node_modules');
  mkdirSync(modules, { recursive: true });
  await run('tar', ['-xzf', tarball, '-C', modules], { timeout: SLOW });
  renameSync(join(modules, 'package'), join(modules, 'ses-audit'));
  for (const peer of ['aws-cdk-lib', 'constructs']) symlinkSync(join(ROOT, 'node_modules', peer), join(modules, peer), 'dir');
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'user-app', private: true, type: 'module' }));
}, SLOW);

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('npm pack', () => {
  it('holds what a user needs: the bundles, the construct and its types, the sample events, README and LICENSE', () => {
    for (const needed of [
      'package.json',
      'README.md',
      'LICENSE',
      'dist/handler.mjs',
      'dist/cli.mjs',
      'dist/cdk.mjs',
      'dist/types/infra/index.d.ts',
      'dist/types/infra/construct.d.ts',
      'events/s3-put.json',
      'events/eventbridge-object-created.json',
    ]) {
      expect(files).toContain(needed);
    }
    expect(files.some((f) => f.startsWith('events/trail/') && f.endsWith('.json.gz'))).toBe(true);
  });

  it('holds no tests, bench, sources, scripts, source maps or build configuration', () => {
    const allowed = /^(package\.json|README\.md|LICENSE|dist\/[^/]+\.mjs|dist\/types\/.+\.d\.ts|events\/.+|docs\/.+)$/;
    expect(files.filter((f) => !allowed.test(f))).toEqual([]);
    expect(files.filter((f) => /^(test|bench|src|scripts|infra|\.ci)\//.test(f) || /\.test\.|\.map$|tsconfig|vitest/.test(f))).toEqual([]);
  });

  it('ships a construct bundle that imports nothing but Node built-ins, aws-cdk-lib and constructs (no cdk-nag)', () => {
    const bundle = readFileSync(join(appDir, 'node_modules', 'ses-audit', 'dist', 'cdk.mjs'), 'utf8');
    const specifiers = [...bundle.matchAll(/^\s*import\s[^'"]*["']([^'"]+)["']/gm)].map((m) => m[1]);
    expect(specifiers.length).toBeGreaterThan(0);
    expect(specifiers.filter((s) => !/^(node:|aws-cdk-lib(\/|$)|constructs$)/.test(s))).toEqual([]);
    expect(bundle).not.toMatch(/cdk-nag|require\(/);
  });

  it('declares the exports map, the peer dependencies (optional) and the license', () => {
    const pkg = JSON.parse(readFileSync(join(appDir, 'node_modules', 'ses-audit', 'package.json'), 'utf8')) as Json;
    expect(pkg.exports['./cdk']).toEqual({ types: './dist/types/infra/index.d.ts', import: './dist/cdk.mjs' });
    expect(Object.keys(pkg.peerDependencies).sort()).toEqual(['aws-cdk-lib', 'constructs']);
    expect(pkg.peerDependenciesMeta).toEqual({ 'aws-cdk-lib': { optional: true }, constructs: { optional: true } });
    expect(pkg.license).toBe('MIT');
    expect(pkg.bin).toEqual({ 'ses-audit': 'dist/cli.mjs' });
    expect(pkg.private).toBeUndefined();
  });
});

describe('the installed package in a fresh app', () => {
  it(
    'synthesizes `ses-audit/cdk` offline in a plain App: the function, both tables and the handler asset',
    async () => {
      writeFileSync(
        join(appDir, 'app.mjs'),
        [
          "import { App, Stack } from 'aws-cdk-lib';",
          "import { SesAudit } from 'ses-audit/cdk';",
          'const app = new App({ outdir: process.argv[2] });',
          "const stack = new Stack(app, 'Host');",
          "new SesAudit(stack, 'Audit', {});",
          "process.stdout.write(JSON.stringify(app.synth().getStackByName('Host').template));",
        ].join('\n'),
      );
      const outdir = join(work, 'cdk.out');
      // No CDK_* variables from the outside: the app runs as a user's would, offline.
      const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('CDK_')));
      const { stdout } = await run(process.execPath, ['app.mjs', outdir], { cwd: appDir, env, maxBuffer: 64 * 1024 * 1024, timeout: SLOW });
      const template = JSON.parse(stdout) as Json;
      const resources = Object.values(template.Resources as Json) as Json[];

      const functions = resources.filter((r) => r.Type === 'AWS::Lambda::Function' && r.Properties.Handler === 'handler.handler');
      expect(functions).toHaveLength(1);
      expect(functions[0].Properties.Runtime).toBe('nodejs24.x');
      const tables = resources.filter((r) => r.Type === 'AWS::DynamoDB::Table').map((r) => r.Properties.TableName);
      expect(tables.sort()).toEqual(['ses-audit-ledger', 'ses-identity-audit']);

      // The function's code is the handler bundle shipped in the package, found beside dist/cdk.mjs.
      const assetHash = (functions[0].Properties.Code.S3Key as string).replace(/\.zip$/, '');
      const assetDir = join(outdir, `asset.${assetHash}`);
      expect(readdirSync(assetDir)).toEqual(['handler.mjs']);
      expect(readFileSync(join(assetDir, 'handler.mjs')).equals(readFileSync(join(ROOT, 'dist', 'handler.mjs')))).toBe(true);
    },
    SLOW,
  );

  it(
    'type-checks a TypeScript user of its exports, and rejects a wrong prop',
    async () => {
      writeFileSync(
        join(appDir, 'app.ts'),
        [
          "import { App, Stack } from 'aws-cdk-lib';",
          "import { SesAudit, type SesAuditProps } from 'ses-audit/cdk';",
          "const props: SesAuditProps = { trigger: 'eventbridge', alertSeverity: 'medium', reconcileEveryHours: 6 };",
          "const audit = new SesAudit(new Stack(new App(), 'Host'), 'Audit', props);",
          'const names: string[] = [audit.table.tableName, audit.ledgerTable.tableName, audit.readOnlyPolicy.managedPolicyArn];',
          "// @ts-expect-error: 'ftp' is no trigger",
          "const wrong: SesAuditProps = { trigger: 'ftp' };",
          'export { names, wrong };',
        ].join('\n'),
      );
      writeFileSync(
        join(appDir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: { strict: true, module: 'NodeNext', moduleResolution: 'NodeNext', target: 'ES2022', noEmit: true, skipLibCheck: true, types: [] },
          files: ['app.ts'],
        }),
      );
      const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
      const result = await run(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: appDir, timeout: SLOW }).catch((err: { stdout?: string }) => err);
      expect('stdout' in result ? result.stdout : '').toBe('');
    },
    SLOW,
  );
});
