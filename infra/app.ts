/**
 * The CDK app. `npm run synth` (tsx infra/app.ts) writes the cloud assembly to cdk.out/ offline: the stack is
 * environment-agnostic (account and region come from wherever it is deployed) and makes no lookups.
 *
 * Settings come from CDK context: `npm run synth -- -c trailBucketName=my-trail-bucket -c trigger=sqs`, or the
 * same -c flags on the CDK CLI (`cdk synth --app "npx tsx infra/app.ts" -c ...`), or a cdk.json "context".
 */
import { pathToFileURL } from 'node:url';
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { FEATURE_FLAGS } from './feature-flags.js';
import { resolveSettings, settingsFromContext } from './settings.js';
import { SesAuditStack, type SesAuditStackProps } from './stack.js';

/** `-c key=value` / `--context key=value` pairs from a command line, as CDK context. */
export function contextFromArgs(args: string[]): Record<string, string> {
  const context: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    let pair: string | undefined;
    if (arg === '-c' || arg === '--context') pair = args[++i];
    else if (arg.startsWith('--context=')) pair = arg.slice('--context='.length);
    else throw new Error(`unexpected argument ${JSON.stringify(arg)}: settings are given as -c key=value`);
    const eq = pair?.indexOf('=') ?? -1;
    if (pair === undefined || eq <= 0) throw new Error(`${arg} needs key=value, got ${JSON.stringify(pair)}`);
    context[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  return context;
}

export interface BuildAppOptions {
  /** Extra context (settings), on top of what the CDK CLI passes in the environment. */
  context?: Record<string, unknown>;
  outdir?: string;
  codeDirectory?: SesAuditStackProps['codeDirectory'];
}

/**
 * The app with its stack and the cdk-nag AwsSolutions checks. Tests build it the same way, so what they check
 * is what `npm run synth` produces.
 */
export function buildApp(options: BuildAppOptions = {}): { app: App; stack: SesAuditStack; nag: AwsSolutionsChecks } {
  const app = new App({
    // The CDK CLI sets CDK_OUTDIR when it runs the app; on its own the app writes to cdk.out/.
    outdir: options.outdir ?? process.env.CDK_OUTDIR ?? 'cdk.out',
    context: { ...FEATURE_FLAGS, ...options.context },
  });
  const ctx = app.node.getAllContext() as Record<string, unknown>;
  const input = settingsFromContext(ctx);
  // Resolved here first for the stack name; the stack resolves (and checks) the same input again.
  const { stackName } = resolveSettings(input);
  const stack = new SesAuditStack(app, stackName, {
    settings: input,
    codeDirectory: options.codeDirectory,
    description: 'ses-audit: Amazon SES audit history from CloudTrail, in DynamoDB',
  });
  // Synthesis fails on any AwsSolutions finding that is not acknowledged (with its reason) in the stack.
  const nag = new AwsSolutionsChecks(app);
  Validations.of(app).addPlugins(nag);
  return { app, stack, nag };
}

function main(): void {
  const { app, stack } = buildApp({ context: contextFromArgs(process.argv.slice(2)) });
  const assembly = app.synth();
  process.stderr.write(`synthesized ${stack.stackName} to ${assembly.directory}\n`);
}

// Run only as the entry point, so tests can import buildApp.
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
