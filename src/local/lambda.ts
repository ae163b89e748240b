/**
 * A Lambda emulator for the bundled handler (dist/handler.mjs), for `ses-audit invoke` and `ses-audit local`:
 * a fresh module instance (a cold start: configuration read from the environment, Powertools told it is an
 * on-demand start as Lambda tells it), a context with a deadline, and the handler's stdout (its logs and
 * metrics) sent to stderr so it never mixes with a command's output.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import type { FunctionResult } from '../app.js';

export type LambdaHandler = (event: unknown, context: Context) => Promise<FunctionResult>;

type Env = Record<string, string | undefined>;

/** What Lambda sets for an on-demand start; Powertools reads it to log `cold_start: true` on the first call. */
const LAMBDA_ENV = { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand' };

export function makeContext(timeoutMs: number, name = 'ses-audit'): Context {
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
  const beside = join(dirname(fileURLToPath(import.meta.url)), 'handler.mjs');
  return existsSync(beside) ? beside : resolve('dist/handler.mjs');
}

async function importHandler(bundle: string): Promise<LambdaHandler> {
  // A query string makes a fresh module instance, so configuration is read again as at a cold start.
  const mod: { handler?: unknown } = await import(`${pathToFileURL(bundle).href}?cold=${randomUUID()}`);
  const handler = mod.handler;
  if (typeof handler !== 'function') throw new Error(`${bundle} has no exported handler`);
  // A module boundary: the bundle is src/handler.ts, whose handler has exactly this signature.
  return handler as LambdaHandler;
}

/** process.stdout.write, sent to stderr instead. */
const toStderr: typeof process.stdout.write = (
  chunk: string | Uint8Array,
  encodingOrCallback?: BufferEncoding | ((err?: Error | null) => void),
  callback?: (err?: Error | null) => void,
) =>
  typeof encodingOrCallback === 'function'
    ? process.stderr.write(chunk, encodingOrCallback)
    : process.stderr.write(chunk, encodingOrCallback, callback);

async function withStdoutOnStderr<T>(run: () => Promise<T>): Promise<T> {
  const stdoutWrite = process.stdout.write;
  process.stdout.write = toStderr;
  try {
    return await run();
  } finally {
    process.stdout.write = stdoutWrite;
  }
}

/**
 * Loads the bundle once (a cold start) for a process that owns its environment (`ses-audit local`): `env`
 * goes into process.env, where the handler reads its configuration, and stays. Each call is an invocation of
 * that one instance, as on a warm Lambda.
 */
export async function loadHandler(bundle: string, env: Env): Promise<LambdaHandler> {
  Object.assign(process.env, LAMBDA_ENV, env);
  const handler = await importHandler(bundle);
  return (event, context) => withStdoutOnStderr(() => handler(event, context));
}

/**
 * Loads the bundle as a new module instance (a cold start) with `env` as its environment, runs it once with
 * the function's timeout, and restores the environment.
 */
export async function runHandler(
  bundle: string,
  event: unknown,
  options: { env: Env; timeoutMs: number },
): Promise<FunctionResult> {
  const saved = { ...process.env };
  Object.assign(process.env, LAMBDA_ENV, options.env);
  let timer: NodeJS.Timeout | undefined;
  try {
    return await withStdoutOnStderr(async () => {
      const handler = await importHandler(bundle);
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`Task timed out after ${(options.timeoutMs / 1000).toFixed(2)} seconds`)),
          options.timeoutMs,
        );
      });
      return await Promise.race([handler(event, makeContext(options.timeoutMs)), timeout]);
    });
  } finally {
    clearTimeout(timer);
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}
