/** `ses-audit`: the command-line entry point. Errors reach the user as one line, never a stack trace. */
import { reasonOf } from '../errors.js';
import { UsageError, processIO, usageFailure, type CliIO, type Command } from './io.js';

const HELP = `Usage: ses-audit COMMAND [options]

Audit trail for Amazon SES identities, from CloudTrail log files into DynamoDB.

Commands:
  process INPUT... [--dry-run]   read trail files (local or s3://) and write their SES audit rows
  invoke EVENT.json              run the bundled Lambda handler on an event file, as Lambda would
  history IDENTITY               an identity's audit history, newest first
  backfill s3://bucket/prefix    process a trail bucket's existing log files
  local                          the whole pipeline on embedded local S3 and DynamoDB (npm start)

Run "ses-audit COMMAND --help" for a command's options.`;

// Commands load on demand: a history query need not load the local servers.
const COMMANDS: Record<string, () => Promise<Command>> = {
  process: async () => (await import('./process.js')).processCommand,
  invoke: async () => (await import('./invoke.js')).invokeCommand,
  history: async () => (await import('./history.js')).historyCommand,
  backfill: async () => (await import('./backfill.js')).backfillCommand,
  local: async () => (await import('./local.js')).localCommand,
};

export async function main(argv: string[], io: CliIO = processIO()): Promise<number> {
  const [name, ...args] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(HELP + '\n');
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    io.stderr.write(`error: unknown command "${name}" (ses-audit --help)\n`);
    return 2;
  }
  try {
    return await (await load())(args, io);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, name, err);
    io.stderr.write(`error: ${reasonOf(err)}\n`);
    if (io.env.SES_AUDIT_DEBUG) io.stderr.write(`${(err as Error)?.stack ?? err}\n`);
    return 1;
  }
}

/**
 * The SDK warns on every client that its releases after January 2027 need Node 22. The Lambda runs on
 * nodejs22.x; for the CLI on Node 20 the warning says nothing the user can act on now, so only it is dropped.
 */
function quietSdkNodeWarning(): void {
  const emit = process.emitWarning.bind(process) as (...args: unknown[]) => void;
  process.emitWarning = ((warning: unknown, ...rest: unknown[]) => {
    const text = typeof warning === 'string' ? warning : (warning as Error | undefined)?.name;
    const type = typeof rest[0] === 'string' ? rest[0] : (rest[0] as { type?: string } | undefined)?.type;
    if (type === 'NodeVersionSupportWarning' || text?.startsWith('NodeVersionSupportWarning')) return;
    emit(warning, ...rest);
  }) as typeof process.emitWarning;
}

// Run when executed (the bundle, or tsx), not when imported by tests.
const entry = process.argv[1] ?? '';
if (/(?:^|[/\\])(?:cli\.mjs|main\.ts)$/.test(entry)) {
  quietSdkNodeWarning();
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`error: ${reasonOf(err)}\n`);
      process.exitCode = 1;
    },
  );
}
