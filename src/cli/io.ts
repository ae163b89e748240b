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
