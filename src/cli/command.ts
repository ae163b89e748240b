/**
 * What every command is made of. A command is one file in src/cli/commands/ exporting a `CommandFactory`
 * (a commander Command: arguments, options, help, and an action that sets the exit status), plus one line
 * in the list in src/cli/main.ts. Parsing, usage errors (exit 2, with a pointer to the command's help),
 * failures (exit 1, one line) and SES_AUDIT_DEBUG are handled once, in main.ts.
 */
import { Command, type CommandUnknownOpts } from '@commander-js/extra-typings';
import type { CliIO } from './io.js';

export { Command };

export interface CommandContext {
  io: CliIO;
  /** The exit status the command ends with (0 unless it says otherwise). */
  setExitCode(code: number): void;
}

export type CommandFactory = (ctx: CommandContext) => CommandUnknownOpts;

type Env = Record<string, string | undefined>;

export interface AwsFlags {
  region?: string;
  profile?: string;
}

/** Help for `--region <region>` and `--profile <name>`, which every command that talks to AWS has. */
export const REGION_HELP = "AWS region (default: AWS_REGION, then the profile's region)";
export const PROFILE_HELP = 'AWS profile from ~/.aws/config (default: AWS_PROFILE)';

/**
 * The environment as the SDK should see it with --region/--profile: AWS_REGION, and AWS_PROFILE. As with
 * the AWS CLI, an explicit --profile wins over access keys in the environment (which would otherwise be
 * used first); without it, the environment is left as it is.
 */
export function awsEnv(env: Env, flags: AwsFlags): Env {
  const out = { ...env };
  if (flags.region !== undefined) out.AWS_REGION = flags.region;
  if (flags.profile !== undefined) {
    out.AWS_PROFILE = flags.profile;
    delete out.AWS_ACCESS_KEY_ID;
    delete out.AWS_SECRET_ACCESS_KEY;
    delete out.AWS_SESSION_TOKEN;
  }
  return out;
}
