/** Runs a CLI command in-process and captures what it printed. */
import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { CliIO } from '../../src/cli/io.js';

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

export function captureIO(env: Record<string, string | undefined> = {}, isTTY = false): { io: CliIO; out: () => string; err: () => string } {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (c: Buffer) => (out += c.toString()));
  stderr.on('data', (c: Buffer) => (err += c.toString()));
  return { io: { stdout, stderr, env, isTTY }, out: () => out, err: () => err };
}

export async function runCli(args: string[], env: Record<string, string | undefined> = {}): Promise<CliRun> {
  const c = captureIO(env);
  const code = await main(args, c.io);
  await new Promise((r) => setImmediate(r));
  return { code, stdout: c.out(), stderr: c.err() };
}

export function jsonLines(text: string): Array<Record<string, unknown>> {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    // Each line is a JSON object (a row).
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
