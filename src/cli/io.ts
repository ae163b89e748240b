import { parseArgs, type ParseArgsConfig } from 'node:util';
import { InputError, reasonOf } from '../errors.js';

/** What a CLI command gets, so tests can run commands in-process and read what they printed. */
export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** True when stderr is a terminal (progress bars redraw in place). */
  isTTY?: boolean;
}

export function processIO(): CliIO {
  return { stdout: process.stdout, stderr: process.stderr, env: process.env, isTTY: Boolean(process.stderr.isTTY) };
}

/** A command returns its exit code; `error: INPUT: REASON` lines are its own to print. */
export type Command = (args: string[], io: CliIO) => Promise<number>;

/** The command line itself is wrong: exit status 2, with a pointer to the command's help. */
export class UsageError extends InputError {}

/** parseArgs, its errors as UsageErrors (their first sentence: the rest explains '-'-prefixed positionals). */
export function parseCommandArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (err) {
    throw new UsageError(reasonOf(err).replace(/\. .*$/, ''));
  }
}

/** Prints `error: REASON (ses-audit COMMAND --help)` and returns the usage exit status. */
export function usageFailure(io: CliIO, command: string, err: UsageError): number {
  io.stderr.write(`error: ${err.reason} (ses-audit ${command} --help)\n`);
  return 2;
}
