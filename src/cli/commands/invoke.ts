/**
 * `ses-audit invoke EVENT.json`: runs the bundled handler on an event file the way Lambda does (see
 * src/local/lambda.ts) and prints its result as one JSON line on stdout; the handler's logs go to stderr.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { defaultHandlerPath, runHandler } from '../../local/lambda.js';
import { InputError } from '../../errors.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { explain, printError } from '../explain.js';
import { write } from '../io.js';
import { duration } from '../parse.js';

/** The stack's function timeout. */
const DEFAULT_TIMEOUT_MS = 300_000;

const HELP_AFTER = `
Exit status 1 when the handler throws. The handler reads TABLE_NAME and its other settings, and
AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL_DYNAMODB, from the environment. Sample events for every trigger
are in events/.`;

export const invokeCommand: CommandFactory = ({ io, setExitCode }) =>
  new Command('invoke')
    .summary('run the bundled Lambda handler on an event file, as Lambda would')
    .description(
      "Runs the bundled Lambda handler (dist/handler.mjs) on a Lambda event file, as Lambda would (a cold start, a context with a deadline), and prints the handler's result as one line of JSON on stdout.",
    )
    .usage('EVENT.json [options]')
    .argument('<event>', 'a Lambda event as a JSON file')
    .option('--timeout <duration>', "the function's timeout: the context's deadline (seconds, or 90s, 5m; default 300, at most 15m)", duration({ minMs: 1000, maxMs: 900_000 }))
    .option('--handler <path>', 'the bundle to run (default: handler.mjs beside this CLI, else dist/handler.mjs)')
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (file, opts) => {
      let text: string;
      try {
        text = await readFile(file, 'utf8');
      } catch (err) {
        throw new InputError(`${file}: ${codeOf(err) === 'ENOENT' ? 'no such file' : `cannot read: ${codeOf(err) ?? 'unknown error'}`}`, err);
      }
      let event: unknown;
      try {
        event = JSON.parse(text);
      } catch (err) {
        throw new InputError(`${file}: not a JSON event (${err instanceof Error ? err.message : String(err)})`, err);
      }
      const bundle = opts.handler ?? defaultHandlerPath();
      if (!existsSync(bundle)) throw new InputError(`${bundle}: no handler bundle (run npm run build)`);
      try {
        const result = await runHandler(bundle, event, { env: awsEnv(io.env, opts), timeoutMs: opts.timeout ?? DEFAULT_TIMEOUT_MS });
        await write(io.stdout, `${JSON.stringify(result ?? null)}\n`);
      } catch (err) {
        printError(io, err, { input: file, reason: `handler failed: ${explain(err, io.env)}` });
        setExitCode(1);
      }
    });

function codeOf(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
