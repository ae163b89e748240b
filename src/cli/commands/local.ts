/**
 * `ses-audit local` (what `npm start` runs): the whole pipeline on this machine with no AWS account.
 * Local S3 (s3rver) and DynamoDB (dynalite) start in-process; the sample trail files are uploaded, S3's
 * notifications reach the bundled handler as they would in AWS, and the busiest identities' audit
 * history is printed from the table.
 */
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ScanCommand, type AttributeValue, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { makeDynamoClient, makeS3Client } from '../../aws.js';
import { ENV, loadConfig } from '../../config.js';
import { InputError } from '../../errors.js';
import { ensureBucket } from '../../local/bucket.js';
import { defaultHandlerPath, loadHandler, makeContext } from '../../local/lambda.js';
import { startLocalAws } from '../../local/servers.js';
import { DEFAULT_LEDGER_TABLE_NAME, DEFAULT_TABLE_NAME, PARTITION_KEY } from '../../store/schema.js';
import { ensureLedgerTable, ensureTable } from '../../store/table.js';
import { decodeS3EventKey } from '../../trail/keys.js';
import { Command, type CommandFactory } from '../command.js';
import { printError } from '../explain.js';
import { shellQuote } from '../format.js';
import { type CliIO } from '../io.js';
import { integer } from '../parse.js';
import { runHistory } from './history.js';
import { runFindings } from './findings.js';
import { runShow } from './show.js';
import { runVerify } from './verify.js';
import { sampleDigests } from '../../local/sample-digests.js';
import { deliveryTimeOf } from '../../store/ledger.js';
import { classifyKey } from '../../trail/keys.js';

export const LOCAL_BUCKET = 'ses-audit-trail-local';
/** The first log file is delivered again under a trail prefix that needs URL-encoding: same rows, same keys. */
const REPLAY_PREFIX = 'my trail/team=mail/Zürich/';

const HELP_AFTER = `
Uploads the sample trail files from events/trail/ (or --samples DIR, keyed by their path below it; an empty
DIR uploads none), lets the S3 notifications invoke the bundled handler (dist/handler.mjs), then prints the
audit history of the busiest identities. With --keep-running the servers stay up, both tables and the trail
bucket created, and one "export NAME=VALUE" line is printed per setting the other commands need.`;

export const localCommand: CommandFactory = ({ io, setExitCode }) =>
  new Command('local')
    .summary('the whole pipeline on embedded local S3 and DynamoDB (npm start)')
    .description('Runs the whole pipeline on embedded local S3 (s3rver) and DynamoDB (dynalite) servers, with no AWS account.')
    .option('--samples <dir>', 'trail files to upload, keyed by their path below DIR (default: events/trail)')
    .option('--top <n>', 'identities to show (default 4)', integer(1, 100))
    .option('--keep-running', 'keep the servers up and print the settings for the other commands; Ctrl-C stops')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts) => {
      const samples = opts.samples ?? findUp('events/trail');
      if (!samples || !existsSync(samples)) {
        throw new InputError(`${samples ?? 'events/trail'}: no sample trail files (run from the repository, or pass --samples DIR)`);
      }
      const bundle = defaultHandlerPath();
      if (!existsSync(bundle)) throw new InputError(`${bundle}: no handler bundle (run npm run build)`);
      const keysDir = findUp('events/keys');
      // The bundled samples get digests signed with the test key; trail files of your own are uploaded as they are.
      const signDigests = opts.samples === undefined && keysDir !== undefined;
      setExitCode(await runLocal(io, { samples, top: opts.top ?? 4, keepRunning: Boolean(opts.keepRunning), bundle, keysDir, signDigests }));
    });

interface LocalOptions {
  samples: string;
  top: number;
  keepRunning: boolean;
  bundle: string;
  /** events/keys: the TEST key pair that signs the sample digests, and its public-keys.json. */
  keysDir?: string;
  signDigests: boolean;
}

async function runLocal(io: CliIO, o: LocalOptions): Promise<number> {
  const say = (line: string) => io.stdout.write(line + '\n');
  const aws = await startLocalAws({ bucket: [LOCAL_BUCKET] });
  let dynamo: DynamoDBClient | undefined;
  try {
    const tableName = io.env[ENV.tableName] || DEFAULT_TABLE_NAME;
    const ledgerTableName = io.env[ENV.ledgerTableName] || DEFAULT_LEDGER_TABLE_NAME;
    /** What the other commands need to use these servers (printed by --keep-running). */
    const settings: Record<string, string> = {
      ...aws.env,
      [ENV.tableName]: tableName,
      [ENV.ledgerTableName]: ledgerTableName,
      TRAIL_BUCKET: LOCAL_BUCKET,
    };
    if (o.keysDir) settings[ENV.publicKeysFile] = join(o.keysDir, 'public-keys.json');
    // Alerts go to an EventBridge endpoint when one is configured; without one they are printed at the end.
    const publishAlerts = Boolean(io.env.AWS_ENDPOINT_URL_EVENTBRIDGE);
    // The threshold the function would publish at, read as the function reads it (before the handler's
    // environment, with alerts off, goes into process.env).
    const { alertSeverity } = loadConfig({ ...io.env, [ENV.tableName]: tableName });
    const env: Record<string, string | undefined> = {
      ...io.env,
      ...settings,
      ...(publishAlerts ? {} : { [ENV.alertSeverity]: 'off' }),
      // The handler's per-file INFO lines and EMF blobs would drown the story; warnings still show.
      POWERTOOLS_LOG_LEVEL: io.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: io.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    say(`Local S3 ${aws.s3Endpoint} and DynamoDB ${aws.dynamodbEndpoint} (in-process, no AWS account)`);
    dynamo = makeDynamoClient(env);
    const s3 = makeS3Client(env);
    const note = (n: string) => io.stderr.write(`note: ${n}\n`);
    await ensureTable(dynamo, tableName, { note });
    await ensureLedgerTable(dynamo, ledgerTableName, { note });
    await ensureBucket(s3, LOCAL_BUCKET);
    say(`Tables ${tableName} and ${ledgerTableName}, bucket ${LOCAL_BUCKET} ready`);

    // The bundle runs in this process, as a warm Lambda would: loaded once, invoked per notification.
    const handler = await loadHandler(o.bundle, env);
    let failed = 0;
    aws.onObjectCreated(async (event) => {
      const { bucket, object } = event.Records[0].s3;
      const uri = `s3://${bucket.name}/${decodeS3EventKey(object.key)}`;
      try {
        const result = await handler(event, makeContext(300_000));
        const summaries = 'summaries' in result ? result.summaries : [];
        say(`  ${uri}\n      -> ${summaries.join('; ') || 'nothing to read'}`);
      } catch (err) {
        failed++;
        printError(io, err, { input: uri });
      }
    });

    const files = (await listFiles(o.samples)).sort();
    say(`\nUploading ${files.length} sample files from ${relative(process.cwd(), o.samples) || o.samples}; S3 notifies the handler:`);
    const uploads = await Promise.all(files.map(async (f) => ({ key: relative(o.samples, f).split(sep).join('/'), body: await readFile(f) })));
    const upload = async (key: string, body: Buffer, metadata?: Record<string, string>) => {
      await s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: key, Body: body, ...(metadata ? { Metadata: metadata } : {}) }));
      await aws.drainNotifications();
    };
    for (const u of uploads) await upload(u.key, u.body);
    if (o.signDigests && o.keysDir) {
      const digests = await sampleDigests(LOCAL_BUCKET, uploads, o.keysDir);
      say(`\nCloudTrail delivers a signed digest each hour per region; here ${digests.length} are signed with the TEST key in events/keys:`);
      for (const d of digests) await upload(d.key, d.signed.body, d.signed.metadata);
    }
    // The earliest log file (by the delivery time in its key): events/s3-put.json names its copy.
    const firstLog = uploads
      .filter((u) => classifyKey(u.key).kind === 'log')
      .sort((a, b) => (deliveryTimeOf(a.key) ?? '').localeCompare(deliveryTimeOf(b.key) ?? '') || a.key.localeCompare(b.key))[0];
    if (firstLog) {
      say('\nThe first log file again, copied under another prefix: the same rows (written again, not duplicated), but no digest lists the copy:');
      await upload(REPLAY_PREFIX + firstLog.key, firstLog.body);
    }
    s3.destroy();

    const counts = await countByIdentity(dynamo, tableName);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    say(`\n${total} audit rows for ${counts.size} identities in ${tableName}${firstLog ? ' (the copied file added none)' : ''}`);
    const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, o.top);
    for (const [identity, n] of busiest) {
      say(`\n== ses-audit history ${identity}   (${n} rows)`);
      try {
        await runHistory(io, env, { identity, limit: 15, json: false, flags: [] });
      } catch (err) {
        failed++;
        printError(io, err);
      }
    }

    // The life of the sample domain, as its history tells it.
    if (counts.has('example.com')) {
      say('\n== ses-audit show example.com');
      await runShow(io, env, { identity: 'example.com', json: false });
    }

    // What deserves a look, then what an operator would be paged for.
    say('\n== ses-audit findings');
    await runFindings(io, env, { threshold: 'low', limit: 50, json: false });
    if (!publishAlerts && alertSeverity !== 'off') {
      say(`\n== Alerts (ALERT_SEVERITY=${alertSeverity}): no EventBridge endpoint here (AWS_ENDPOINT_URL_EVENTBRIDGE), so printed instead of published`);
      await runFindings(io, env, { threshold: alertSeverity, limit: 50, json: false });
    }

    // Every file accounted for by the digests? The copy under another prefix is not, and its rows replaced attested ones.
    const delivered = uploads.map((u) => deliveryTimeOf(u.key)).filter((t): t is string => t !== undefined).sort();
    if (o.signDigests && delivered.length > 0) {
      const since = `${delivered[0].slice(0, 13)}:00:00Z`;
      const until = `${delivered[delivered.length - 1].slice(0, 13)}:59:59Z`;
      const verify = { since, until, graceMs: 0, json: false, rows: true, repair: false, now: new Date() };
      say(`\n== ses-audit verify --since ${since} --until ${until} --grace 0 --rows`);
      await runVerify(io, env, verify);
      say(`\n== ses-audit verify --since ${since} --until ${until} --grace 0 --repair   (the attested file is read again over the copy's rows)`);
      await runVerify(io, env, { ...verify, repair: true });
      say('(its rows are attested again; the copy stays in the report for its window: it was ingested and nothing attests it, which is the finding. Remove it from the bucket.)');
    }

    if (o.keepRunning) {
      say('\nServers are up. In another shell:');
      for (const [k, v] of Object.entries(settings)) say(`  export ${k}=${shellQuote(v)}`);
      say(`  ses-audit history example.com\n  ses-audit invoke events/s3-put.json\nCtrl-C stops.`);
      await new Promise<void>((resolve) => {
        process.once('SIGINT', resolve);
        process.once('SIGTERM', resolve);
      });
    }
    return failed ? 1 : 0;
  } finally {
    dynamo?.destroy();
    await aws.stop();
  }
}

async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...(await listFiles(path)));
    else if (entry.isFile()) out.push(path);
  }
  return out;
}

/** Rows per identity: a Scan, which only a local demo table can afford. */
async function countByIdentity(dynamo: DynamoDBClient, tableName: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({
        TableName: tableName,
        ProjectionExpression: '#i',
        ExpressionAttributeNames: { '#i': PARTITION_KEY },
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) {
      const id = item[PARTITION_KEY]?.S;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return counts;
}

/** `rel` in the directory of this module or the nearest parent that has it (dist/ and src/cli/ alike), else cwd. */
function findUp(rel: string): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, rel);
    if (existsSync(candidate)) return candidate;
    const parent = dirname(dir);
    if (parent === dir) break;
    dir = parent;
  }
  const cwd = join(process.cwd(), rel);
  return existsSync(cwd) ? cwd : undefined;
}
