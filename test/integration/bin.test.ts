/**
 * The built CLI (dist/cli.mjs, made by `npm run build`, which `npm test` runs first) as a user starts it:
 * through a symlink as npm link and global installs do, with its output piped into `head`; and the bundled
 * handler run by the Lambda emulator as a cold start.
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runHandler } from '../../src/local/lambda.js';
import { captureOutput } from '../helpers/capture.js';
import { SAMPLE_1015 } from '../helpers/trail.js';
import pkg from '../../package.json' with { type: 'json' };

const ROOT = join(import.meta.dirname, '../..');
const CLI = join(ROOT, 'dist/cli.mjs');
const HANDLER = join(ROOT, 'dist/handler.mjs');
const built = existsSync(CLI) && existsSync(HANDLER);
if (!built) console.warn('note: dist/ is not built (npm run build): the tests of the built CLI are skipped');

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ses-audit-bin-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a command; with `firstLine` it closes its stdout after the first line, as `| head -1` does. */
function run(command: string, args: string[], o: { firstLine?: boolean } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, SES_AUDIT_DEBUG: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      stdout += chunk.toString();
      if (o.firstLine && stdout.includes('\n')) {
        stdout = stdout.slice(0, stdout.indexOf('\n') + 1);
        child.stdout.destroy();
      }
    });
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('the built CLI', () => {
  it.skipIf(!built)('is executable and runs through a symlink (npm link, global installs)', async () => {
    expect(statSync(CLI).mode & 0o111).toBe(0o111);
    const link = join(dir, 'ses-audit');
    await symlink(CLI, link);
    expect(await run(link, ['--version'])).toEqual({ code: 0, stdout: `${pkg.version}\n`, stderr: '' });
    const unknown = await run(link, ['nosuchcmd']);
    expect(unknown).toEqual({ code: 2, stdout: '', stderr: "error: unknown command 'nosuchcmd' (ses-audit --help)\n" });
  });

  it.skipIf(!built)('ends quietly with status 0 when the reader of its stdout goes away (| head -1)', async () => {
    // 300 inputs of 12 rows each: far more than a pipe holds, so the writes meet the closed pipe.
    const file = join(ROOT, 'events/trail', SAMPLE_1015);
    const r = await run(CLI, ['process', '--dry-run', ...Array.from({ length: 300 }, () => file)], { firstLine: true });
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ identity: 'example.com' });
    expect(r.stderr).not.toMatch(/EPIPE|error/);
  });
});

describe('the Lambda emulator', () => {
  it.skipIf(!built)('runs the bundle as a cold start: Powertools logs cold_start true', async () => {
    const out = captureOutput();
    try {
      const result = await runHandler(
        HANDLER,
        { Records: [{ eventSource: 'aws:s3', eventName: 'ObjectRemoved:Delete', s3: { bucket: { name: 'b' }, object: { key: 'k' } } }] },
        { env: { TABLE_NAME: 'audit', AWS_REGION: 'us-east-1', POWERTOOLS_LOG_LEVEL: 'DEBUG', POWERTOOLS_METRICS_DISABLED: 'true' }, timeoutMs: 10_000 },
      );
      expect(result).toMatchObject({ trigger: 's3', units: 1, ignored: 1 });
      // The lines logged inside the invocation (the init may log before any context exists).
      const logs = out.logs().filter((l) => 'function_request_id' in l);
      expect(logs.length).toBeGreaterThan(0);
      expect(logs.every((l) => l.cold_start === true)).toBe(true);
    } finally {
      out.restore();
    }
    expect(process.env.AWS_LAMBDA_INITIALIZATION_TYPE).toBeUndefined();
  });
});
