/** What a command reads and writes, so tests can run commands in-process and read what they printed. */
import { once } from 'node:events';

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  env: Record<string, string | undefined>;
  /** stderr is a terminal: progress bars redraw in place. */
  isTTY?: boolean;
  /** stdout's width when it is a terminal; undefined when it is a pipe or a file (see cli/table.ts). */
  columns?: number;
}

export function processIO(): CliIO {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    isTTY: Boolean(process.stderr.isTTY),
    columns: process.stdout.isTTY ? process.stdout.columns : undefined,
  };
}

/** Writes and waits for the stream to take more when it asks to (a slow pipe must not fill memory). */
export async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

/**
 * A closed stdout (`ses-audit history x | head -1`) ends the program quietly: what the reader did not want
 * is not an error. Node reports it as an EPIPE 'error' on the stream; anything else on it is a real failure.
 */
export function endOnClosedPipe(stream: NodeJS.EventEmitter, end: (code: number) => void, stderr: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') return end(0);
    stderr.write(`error: cannot write output: ${err.code ?? err.message}\n`);
    end(1);
  });
}
