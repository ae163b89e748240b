/**
 * `ses-audit show IDENTITY [--json]`: the identity's life and state as its history tells it (DESIGN.md):
 * created, verified, deleted, DKIM, MAIL FROM, feedback and notification settings as last changed, each
 * sending authorization policy by name with its versions and principals, and the denied attempts. It reads
 * the identity's rows (one Query, paged), never scans; docs/show.md documents the JSON.
 */
import { makeDynamoClient } from '../../aws.js';
import { ENV } from '../../config.js';
import { InputError } from '../../errors.js';
import { identityLifecycle } from '../../ses/lifecycle.js';
import type { AuditRow } from '../../ses/row.js';
import { queryHistory } from '../../store/history.js';
import { Ledger } from '../../store/ledger.js';
import { DEFAULT_TABLE_NAME } from '../../store/schema.js';
import { isVerified } from '../../trust.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, explain } from '../explain.js';
import { write, type CliIO } from '../io.js';
import { formatLifecycle } from '../show-text.js';
import { TrustCheck, normalizeIdentity } from './history.js';

const HELP_AFTER = `
IDENTITY as for history: a domain (any case), an email address (exact case), an identity ARN.
--json prints one object; its fields are documented in docs/show.md (a stable contract). With
LEDGER_TABLE_NAME set, rows whose source log file no valid CloudTrail digest vouches for are counted and
the text view says so.

Environment: TABLE_NAME (default ${DEFAULT_TABLE_NAME}), LEDGER_TABLE_NAME, AWS_ENDPOINT_URL_DYNAMODB, and
the AWS SDK's usual credentials and region settings.`;

export const showCommand: CommandFactory = ({ io }) =>
  new Command('show')
    .summary("an identity's life and state: created, DKIM, policies and their principals, denied attempts")
    .description("What is true of an identity now, and who made it so, from its audit history.")
    .usage('IDENTITY [options]')
    .argument('<identity>', 'a domain, an email address or an identity ARN')
    .option('--json', 'one JSON object (docs/show.md) instead of text')
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (identityArg, opts) => {
      const identity = normalizeIdentity(identityArg);
      if (identity === '') throw new UsageError('IDENTITY is empty');
      await runShow(io, awsEnv(io.env, opts), { identity, json: Boolean(opts.json) });
    });

export async function runShow(io: CliIO, env: CliIO['env'], o: { identity: string; json: boolean }): Promise<void> {
  const tableName = env[ENV.tableName] || DEFAULT_TABLE_NAME;
  const client = makeDynamoClient(env);
  try {
    await client.config.region();
    const rows: AuditRow[] = [];
    for await (const row of queryHistory(client, tableName, { identity: o.identity })) rows.push(row);
    if (rows.length === 0) {
      io.stderr.write(`no audit rows for ${o.identity} (try ses-audit history ${o.identity}, which suggests other spellings)\n`);
      return;
    }
    const model = identityLifecycle(o.identity, rows);
    const ledgerTable = env[ENV.ledgerTableName];
    const trust = ledgerTable ? new TrustCheck(new Ledger(client, ledgerTable), new Date()) : undefined;
    const marks = trust ? await trust.of(rows.map((r) => r.sourceObject)) : undefined;
    const unverified = marks ? rows.filter((r) => !isVerified(marks.get(r.sourceObject) ?? 'unknown')).length : undefined;
    if (o.json) {
      await write(io.stdout, `${JSON.stringify({ ...model, ...(unverified === undefined ? {} : { unverifiedRows: unverified }) })}\n`);
      return;
    }
    await write(io.stdout, formatLifecycle(model, io.columns ?? 80));
    if (unverified) {
      io.stderr.write(`(${unverified} of ${rows.length} rows came from log files no valid CloudTrail digest vouches for; see ses-audit history ${o.identity} and ses-audit verify)\n`);
    }
  } catch (err) {
    throw new InputError(explain(err, env, { tableName }), err);
  } finally {
    client.destroy();
  }
}
