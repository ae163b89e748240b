/**
 * `ses-audit invoke EVENT.json`: runs the bundled handler (dist/handler.mjs) on an event file the way Lambda
 * does: a fresh module (cold start, configuration read from the environment), a context with a deadline,
 * and the result as one JSON line on stdout. Everything the handler logs goes to stderr.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { reasonOf } from '../errors.js';
import { parseCommandArgs, type CliIO } from './io.js';

export const INVOKE_HELP = `Usage: ses-audit invoke EVENT.json [options]

Runs the bundled Lambda handler (dist/handler.mjs) on a Lambda event file, as Lambda would, and prints
the handler's result as one line of JSON on stdout (logs go to stderr). Exit 1 when the handler throws.

Options:
  --timeout SECONDS   the function's timeout: the context's deadline (default 300)
  --handler PATH      the bundle to run (default: handler.mjs beside this CLI, else dist/handler.mjs)
  -h, --help          show this help

The handler reads TABLE_NAME and its other settings, and AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB,
from the environment.`;

export type LambdaHandler = (event: unknown, context: LambdaContext) => Promise<unknown>;

export interface LambdaContext {
  functionName: string;
  functionVersion: string;
  invokedFunctionArn: string;
  memoryLimitInMB: string;
  awsRequestId: string;
  logGroupName: string;
  logStreamName: string;
  callbackWaitsForEmptyEventLoop: boolean;
  getRemainingTimeInMillis(): number;
  done(): void;
  fail(): void;
  succeed(): void;
}

export function makeContext(timeoutMs: number, name = 'ses-audit'): LambdaContext {
  const deadline = Date.now() + timeoutMs;
  return {
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:000000000000:function:${name}`,
    memoryLimitInMB: '256',
    awsRequestId: randomUUID(),
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

/** The bundle beside the running CLI (dist/cli.mjs), else dist/ under the current directory. */
export function defaultHandlerPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const beside = join(here, 'handler.mjs');
  return existsSync(beside) ? beside : resolve('dist/handler.mjs');
}

/**
 * Loads the bundle as a new module instance (a cold start) for a process that owns its environment
 * (`ses-audit local`): `env` goes into process.env, where the handler reads its configuration, and stays.
 * While the handler runs, process.stdout goes to stderr, so its logs never mix with the command's output.
 */
export async function loadHandler(bundle: string, env: Record<string, string | undefined>): Promise<LambdaHandler> {
  Object.assign(process.env, env);
  const handler = await importHandler(bundle);
  return async (event, context) => {
    const stdoutWrite = process.stdout.write;
    process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
    try {
      return await handler(event, context);
    } finally {
      process.stdout.write = stdoutWrite;
    }
  };
}

async function importHandler(bundle: string): Promise<LambdaHandler> {
  // A query string makes a fresh module instance, so configuration is read again as at a cold start.
  const mod = (await import(`${pathToFileURL(bundle).href}?cold=${randomUUID()}`)) as { handler?: LambdaHandler };
  if (typeof mod.handler !== 'function') throw new Error(`${bundle} has no exported handler`);
  return mod.handler;
}

/**
 * Loads the bundle as a new module instance (a cold start) with `env` as its environment, and runs it.
 * While it runs, process.stdout goes to stderr: the handler's logs and metrics must not mix with the result.
 */
export async function runHandler(
  bundle: string,
  event: unknown,
  options: { env: Record<string, string | undefined>; timeoutMs: number },
): Promise<unknown> {
  const saved = { ...process.env };
  Object.assign(process.env, options.env);
  const stdoutWrite = process.stdout.write;
  process.stdout.write = process.stderr.write.bind(process.stderr) as typeof process.stdout.write;
  let timer: NodeJS.Timeout | undefined;
  try {
    const handler = await importHandler(bundle);
    const context = makeContext(options.timeoutMs);
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`Task timed out after ${(options.timeoutMs / 1000).toFixed(2)} seconds`)), options.timeoutMs);
    });
    return await Promise.race([handler(event, context), timeout]);
  } finally {
    clearTimeout(timer);
    process.stdout.write = stdoutWrite;
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

export async function invokeCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: { timeout: { type: 'string' }, handler: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
  });
  if (values.help) {
    io.stdout.write(INVOKE_HELP + '\n');
    return 0;
  }
  if (positionals.length !== 1) {
    io.stderr.write('error: give one EVENT.json (ses-audit invoke --help)\n');
    return 2;
  }
  const file = positionals[0];
  const timeoutS = values.timeout === undefined ? 300 : Number(values.timeout);
  if (!Number.isFinite(timeoutS) || timeoutS <= 0 || timeoutS > 900) {
    io.stderr.write(`error: --timeout ${values.timeout}: must be a number of seconds from 1 to 900\n`);
    return 2;
  }
  let event: unknown;
  try {
    event = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    const code = (err as { code?: string }).code;
    io.stderr.write(`error: ${file}: ${code === 'ENOENT' ? 'no such file' : `not a JSON event: ${reasonOf(err)}`}\n`);
    return 1;
  }
  const bundle = values.handler ?? defaultHandlerPath();
  if (!existsSync(bundle)) {
    io.stderr.write(`error: ${bundle}: no handler bundle (run npm run build)\n`);
    return 1;
  }
  try {
    const result = await runHandler(bundle, event, { env: io.env, timeoutMs: timeoutS * 1000 });
    io.stdout.write(`${JSON.stringify(result ?? null)}\n`);
    return 0;
  } catch (err) {
    io.stderr.write(`error: ${file}: handler failed: ${reasonOf(err)}\n`);
    return 1;
  }
}
