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
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ScanCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { makeDynamoClient, makeS3Client } from '../aws.js';
import { reasonOf } from '../errors.js';
import { startLocalAws } from '../local/servers.js';
import { decodeS3EventKey } from '../trail/keys.js';
import { DEFAULT_TABLE_NAME } from '../store/schema.js';
import { ensureBucket, ensureTable } from '../store/table.js';
import { historyCommand } from './history.js';
import { defaultHandlerPath, loadHandler, makeContext } from './invoke.js';
import { parseCommandArgs, type CliIO } from './io.js';

export const LOCAL_HELP = `Usage: ses-audit local [options]

Runs the whole pipeline on embedded local S3 (s3rver) and DynamoDB (dynalite) servers, with no AWS
account: uploads the sample trail files from events/trail/, lets the S3 notifications invoke the bundled
handler (dist/handler.mjs), then prints the audit history of the busiest identities.

Options:
  --samples DIR     trail files to upload, keyed by their path below DIR (default: events/trail)
  --top N           identities to show (default 4)
  --keep-running    keep the servers up and print the settings for the other commands; Ctrl-C stops
  -h, --help        show this help`;

export const LOCAL_BUCKET = 'ses-audit-trail-local';
/** The first log file is delivered again under a trail prefix that needs URL-encoding: same rows, same keys. */
const REPLAY_PREFIX = 'my trail/team=mail/Zürich/';

export async function localCommand(args: string[], io: CliIO): Promise<number> {
  const { values } = parseCommandArgs({
    args,
    options: {
      samples: { type: 'string' },
      top: { type: 'string' },
      'keep-running': { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(LOCAL_HELP + '\n');
    return 0;
  }
  const top = values.top === undefined ? 4 : Number(values.top);
  if (!Number.isInteger(top) || top < 1) {
    io.stderr.write(`error: --top ${values.top}: must be a whole number from 1\n`);
    return 2;
  }
  const samples = values.samples ?? findUp('events/trail');
  if (!samples || !existsSync(samples)) {
    io.stderr.write(`error: ${samples ?? 'events/trail'}: no sample trail files (run from the repository, or pass --samples DIR)\n`);
    return 1;
  }
  const bundle = defaultHandlerPath();
  if (!existsSync(bundle)) {
    io.stderr.write(`error: ${bundle}: no handler bundle (run npm run build)\n`);
    return 1;
  }

  const say = (line: string) => io.stdout.write(line + '\n');
  const aws = await startLocalAws({ bucket: [LOCAL_BUCKET] });
  let dynamo: DynamoDBClient | undefined;
  try {
    const tableName = io.env.TABLE_NAME || DEFAULT_TABLE_NAME;
    const env: Record<string, string | undefined> = {
      ...io.env,
      ...aws.env,
      TABLE_NAME: tableName,
      // The handler's per-file INFO lines and EMF blobs would drown the story; warnings still show.
      POWERTOOLS_LOG_LEVEL: io.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: io.env.POWERTOOLS_METRICS_DISABLED ?? 'true',
    };
    say(`Local S3 ${aws.s3Endpoint} and DynamoDB ${aws.dynamodbEndpoint} (in-process, no AWS account)`);
    dynamo = makeDynamoClient(env);
    const s3 = makeS3Client(env);
    await ensureTable(dynamo, tableName, { note: (n) => io.stderr.write(`note: ${n}\n`) });
    await ensureBucket(s3, LOCAL_BUCKET);
    say(`Table ${tableName} and bucket ${LOCAL_BUCKET} ready`);

    // The bundle runs in this process, as a warm Lambda would: loaded once, invoked per notification.
    const handler = await loadHandler(bundle, env);
    let failed = 0;
    aws.onObjectCreated(async (event) => {
      const key = decodeS3EventKey(event.Records[0].s3.object.key);
      try {
        const result = (await handler(event, makeContext(300_000))) as { summaries?: string[] };
        say(`  s3://${LOCAL_BUCKET}/${key}\n      -> ${result.summaries?.join('; ') || 'nothing to read'}`);
      } catch (err) {
        failed++;
        io.stderr.write(`error: s3://${LOCAL_BUCKET}/${key}: ${reasonOf(err)}\n`);
      }
    });

    const files = (await listFiles(samples)).sort();
    say(`\nUploading ${files.length} sample files from ${relative(process.cwd(), samples) || samples}; S3 notifies the handler:`);
    const uploads = files.map((f) => ({ file: f, key: relative(samples, f).split(sep).join('/') }));
    const firstLog = uploads.find((u) => u.key.includes('/CloudTrail/'));
    if (firstLog) uploads.push({ file: firstLog.file, key: REPLAY_PREFIX + firstLog.key });
    for (const u of uploads) {
      await s3.send(new PutObjectCommand({ Bucket: LOCAL_BUCKET, Key: u.key, Body: await readFile(u.file) }));
      await aws.drainNotifications();
    }
    s3.destroy();

    const counts = await countByIdentity(dynamo, tableName);
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    say(`\n${total} audit rows for ${counts.size} identities in ${tableName} (the replayed file added none)`);
    const busiest = [...counts.entries()].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, top);
    for (const [identity, n] of busiest) {
      say(`\n== ses-audit history ${identity}   (${n} rows)`);
      const code = await historyCommand([identity, '--limit', '15'], { ...io, env });
      if (code !== 0) failed++;
    }

    if (values['keep-running']) {
      say('\nServers are up. In another shell:');
      for (const [k, v] of Object.entries({ ...aws.env, TABLE_NAME: tableName })) say(`  export ${k}=${v}`);
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

async function countByIdentity(dynamo: DynamoDBClient, tableName: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  let start: Record<string, never> | undefined;
  do {
    const page = await dynamo.send(
      new ScanCommand({ TableName: tableName, ProjectionExpression: '#i', ExpressionAttributeNames: { '#i': 'identity' }, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) {
      const id = item.identity?.S;
      if (id) counts.set(id, (counts.get(id) ?? 0) + 1);
    }
    start = page.LastEvaluatedKey as typeof start;
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
