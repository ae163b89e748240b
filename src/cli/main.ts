/**
 * `ses-audit`: the command-line entry point. One parser (commander) and one error path: usage errors exit 2
 * with a pointer to the command's help, failures exit 1 with one line (SES_AUDIT_DEBUG=1 adds the stack).
 * Adding a command: a file in ./commands/ and one line in COMMANDS.
 */
import { CommanderError } from '@commander-js/extra-typings';
import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import pkg from '../../package.json' with { type: 'json' };
import { Command, type CommandContext, type CommandFactory } from './command.js';
import { backfillCommand } from './commands/backfill.js';
import { findingsCommand } from './commands/findings.js';
import { showCommand } from './commands/show.js';
import { verifyCommand } from './commands/verify.js';
import { historyCommand } from './commands/history.js';
import { invokeCommand } from './commands/invoke.js';
import { localCommand } from './commands/local.js';
import { processCommand } from './commands/process.js';
import { UsageError, printError } from './explain.js';
import { endOnClosedPipe, processIO, type CliIO } from './io.js';

const COMMANDS: CommandFactory[] = [
  processCommand,
  invokeCommand,
  historyCommand,
  showCommand,
  findingsCommand,
  verifyCommand,
  backfillCommand,
  localCommand,
];

export const VERSION: string = pkg.version;

/** Runs one command line; returns the exit status. Never throws. `commands`: tests hand in instrumented ones. */
export async function main(argv: string[], io: CliIO = processIO(), commands: CommandFactory[] = COMMANDS): Promise<number> {
  let exitCode = 0;
  const ctx: CommandContext = { io, setExitCode: (code) => void (exitCode = code) };
  const program = new Command('ses-audit')
    .description('Audit trail for Amazon SES identities, from CloudTrail log files into DynamoDB.')
    .version(VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show this help')
    .helpCommand('help [command]', 'show the help of a command')
    .addHelpText('after', '\nRun "ses-audit COMMAND --help" for a command\'s options. Exit status: 0 ok, 1 failure, 2 usage error.');
  const all = [program, ...commands.map((make) => make(ctx))];
  for (const cmd of all) {
    // Errors are printed once, below; commander only reports them (help and --version still print).
    cmd.exitOverride().configureOutput({
      writeOut: (text) => io.stdout.write(text),
      writeErr: (text) => io.stderr.write(text),
      outputError: () => undefined,
    });
    cmd.showSuggestionAfterError(true).helpOption('-h, --help', 'show this help');
    if (cmd !== program) program.addCommand(cmd);
  }
  if (argv.length === 0) {
    io.stderr.write(program.helpInformation());
    return 2;
  }
  // The command being run, for the help pointer of a usage error (also one found while parsing its options).
  const command = all.find((c) => c !== program && c.name() === argv[0])?.name();
  try {
    await program.parseAsync(argv, { from: 'user' });
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // --help and --version end the same way, with status 0.
      if (err.exitCode === 0) return 0;
      return usageFailure(io, command, commanderReason(err));
    }
    if (err instanceof UsageError) return usageFailure(io, command, err.reason);
    printError(io, err);
    return 1;
  }
}

/**
 * commander's message as one line of ours: `unknown command 'x'; did you mean history?`,
 * `--limit "abc": expected a whole number from 1 to 1000000`.
 */
function commanderReason(err: CommanderError): string {
  return err.message
    .replace(/^error: /, '')
    .replace(/^option '(-[^ ',]+)[^']*' argument '(.*)' is invalid\. /s, (_, flag: string, value: string) => `${flag} ${JSON.stringify(value)}: `)
    .replace(/^command-argument value '(.*)' is invalid for argument '([^']*)'\. /s, (_, value: string, name: string) => `${name.toUpperCase()} ${JSON.stringify(value)}: `)
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => line.replace(/^\(Did you mean (.*)\)$/, 'did you mean $1'))
    .join('; ');
}

function usageFailure(io: CliIO, command: string | undefined, reason: string): number {
  io.stderr.write(`error: ${reason} (ses-audit ${command ? `${command} ` : ''}--help)\n`);
  return 2;
}

/** True when this module is the program Node was asked to run (the bin, however it was linked or installed). */
function isEntryPoint(): boolean {
  const script = process.argv[1];
  if (!script) return false;
  try {
    // npm link and global installs start the bin through a symlink: compare the real files.
    return realpathSync(script) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) {
  const exit = (code: number) => process.exit(code);
  endOnClosedPipe(process.stdout, exit, process.stderr);
  // A closed stderr leaves nowhere to report to: carry on (the exit status still tells).
  process.stderr.on('error', () => undefined);
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  });
}
