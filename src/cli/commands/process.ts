/** `ses-audit process INPUT... [--dry-run]`: local files or s3:// objects to rows (stdout) or the table. */
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { S3Client } from '@aws-sdk/client-s3';
import { cloudTrailClients, makeDynamoClient, makeS3Client } from '../../aws.js';
import { DEFAULT_WRITE_CONCURRENCY, ENV, loadConfig, type Config } from '../../config.js';
import { ingest } from '../../ingest.js';
import { jsonText } from '../../json-text.js';
import { processTrail, type TrailSummary } from '../../pipeline.js';
import type { AuditRow } from '../../ses/row.js';
import { parseS3Uri } from '../../trail/object.js';
import { reasonOf } from '../../errors.js';
import { Ledger } from '../../store/ledger.js';
import { verifyDigest } from '../../trail/digest.js';
import { classifyKey } from '../../trail/keys.js';
import { cloudTrailKeySource, fileKeySource, type PublicKeySource } from '../../trail/public-keys.js';
import { readWhole } from '../../trail/reader.js';
import { MAX_DIGEST_BYTES, failedLogFileEntry, ingestDigest, logFileEntry, readS3Digest, type DigestSource } from '../../trust.js';
import type { ByteSource } from '../../trail/reader.js';
import { openFile, openS3Object } from '../../trail/source.js';
import { Command, PROFILE_HELP, REGION_HELP, awsEnv, type CommandFactory } from '../command.js';
import { UsageError, printError } from '../explain.js';
import { badRecordWarnings, formatBytes, formatSummary } from '../format.js';
import { write, type CliIO } from '../io.js';
import { integer } from '../parse.js';

const HELP_AFTER = `
INPUT is a local file (gzipped or plain JSON) or s3://bucket/key. A summary per input goes to stderr.
Exit status 0 when every input was processed; otherwise 1, with one line "error: INPUT: REASON" per
failed input, after the other inputs ran.
A CloudTrail digest file (under CloudTrail-Digest/, or named ..._CloudTrail-Digest_...) is verified, not
read for rows: an s3:// digest with its signature metadata and CloudTrail's public key; a local copy has no
metadata, so it can only be unverifiable. With LEDGER_TABLE_NAME set (and without --dry-run), every log file
and digest is recorded in the ledger, as the function records them.
Environment: TABLE_NAME (required unless --dry-run), LEDGER_TABLE_NAME, CLOUDTRAIL_PUBLIC_KEYS,
RETENTION_DAYS, AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's usual credentials and
region settings.`;

export const processCommand: CommandFactory = ({ io, setExitCode }) =>
  new Command('process')
    .summary('read trail files (local or s3://) and write their SES audit rows')
    .description('Reads CloudTrail log files and turns their Amazon SES events into audit rows.')
    .usage('INPUT... [options]')
    .argument('<input...>', 'trail files: local paths or s3://bucket/key')
    .option('--dry-run', 'write nothing; print each row as one JSON object per line on stdout')
    .option('--max-bytes <n>', `refuse a file that inflates past N bytes (default 512 MiB; env ${ENV.maxUncompressedBytes})`, integer(1024, 2 ** 40))
    .option('--max-record-bytes <n>', `refuse a record larger than N bytes (default 4 MiB; env ${ENV.maxRecordBytes})`, integer(1024, 2 ** 31))
    .option('--concurrency <n>', `BatchWriteItem calls in flight (default ${DEFAULT_WRITE_CONCURRENCY}; env ${ENV.writeConcurrency})`, integer(1, 256))
    .option('--region <region>', REGION_HELP)
    .option('--profile <name>', PROFILE_HELP)
    .addHelpText('after', HELP_AFTER)
    .action(async (inputs, opts) => {
      const env = awsEnv(io.env, opts);
      if (opts.maxBytes !== undefined) env[ENV.maxUncompressedBytes] = String(opts.maxBytes);
      if (opts.maxRecordBytes !== undefined) env[ENV.maxRecordBytes] = String(opts.maxRecordBytes);
      if (opts.concurrency !== undefined) env[ENV.writeConcurrency] = String(opts.concurrency);
      for (const input of inputs) {
        const uri = parseS3Uri(input);
        if (uri && !uri.key) throw new UsageError(`${input}: an s3:// input needs a key (s3://bucket/key)`);
      }
      setExitCode(await processInputs(inputs, Boolean(opts.dryRun), env, io));
    });

async function processInputs(inputs: string[], dryRun: boolean, env: CliIO['env'], io: CliIO): Promise<number> {
  const config = loadConfig(env, { requireTable: !dryRun });
  const needsS3 = inputs.some((input) => parseS3Uri(input) !== undefined);
  const s3: S3Client | undefined = needsS3 ? makeS3Client(env) : undefined;
  const dynamo: DynamoDBClient | undefined = dryRun ? undefined : makeDynamoClient(env, { forWriter: true });
  // The ledger (DESIGN.md, Trust) when LEDGER_TABLE_NAME is set and something is written.
  const ledgerClient = !dryRun && config.ledgerTableName ? makeDynamoClient(env) : undefined;
  const ledger = ledgerClient && config.ledgerTableName ? new Ledger(ledgerClient, config.ledgerTableName) : undefined;
  let keys: PublicKeySource | undefined;
  const keySource = async () =>
    (keys ??= config.publicKeysFile ? await fileKeySource(config.publicKeysFile) : cloudTrailKeySource(cloudTrailClients(env)));
  if (!dryRun && !ledger) io.stderr.write(`note: ${ENV.ledgerTableName} is not set: no ledger entry is recorded for these files\n`);
  try {
    // Without a region no input can be written: say so once, before reading anything. (s3:// inputs of a
    // dry run fail one by one, after the local files ran.)
    await dynamo?.config.region();
    const out = new LineWriter(io.stdout);
    let failed = 0;
    for (const input of inputs) {
      const started = performance.now();
      try {
        const uri = parseS3Uri(input);
        if (isDigestInput(uri?.key ?? input)) {
          await processDigest(input, uri, { s3, config, ledger, keys: keySource, io });
          continue;
        }
        const source: ByteSource =
          uri && s3 ? (await openS3Object(s3, uri, { expectedBucketOwner: config.expectedBucketOwner })).body : await openFile(input);
        let summary: TrailSummary;
        let written: number | undefined;
        if (dynamo) {
          const result = await ingest(source, input, { dynamo, config }).catch(async (err: unknown) => {
            await ledger?.putLogFile(failedLogFileEntry(input, reasonOf(err), 0, new Date().toISOString())).catch(() => undefined);
            throw err;
          });
          await ledger?.putLogFile(logFileEntry(input, result, result.writer.rowsWritten, new Date().toISOString()));
          summary = result;
          written = result.writer.rowsWritten;
        } else {
          summary = await processTrail(source, {
            config,
            sourceObject: input,
            sink: (rows) => out.rows(rows),
          });
          await out.flush();
        }
        reportSummary(io, input, summary, performance.now() - started, written);
      } catch (err) {
        await out.flush();
        failed++;
        printError(io, err, { input });
      }
    }
    return failed ? 1 : 0;
  } finally {
    dynamo?.destroy();
    ledgerClient?.destroy();
    s3?.destroy();
  }
}

/** A CloudTrail digest file, by where it lives (`CloudTrail-Digest/`) or by its name. */
function isDigestInput(keyOrPath: string): boolean {
  return classifyKey(keyOrPath).kind === 'digest' || /_CloudTrail-Digest_[^/]*\.json(\.gz)?$/.test(keyOrPath);
}

/**
 * A digest given to process: verified (an s3:// digest with its signature metadata; a local file has none,
 * so it is unverifiable), recorded in the ledger when there is one, and its verdict printed on stderr.
 */
async function processDigest(
  input: string,
  uri: { bucket: string; key: string } | undefined,
  o: { s3?: S3Client; config: Config; ledger?: Ledger; keys: () => Promise<PublicKeySource>; io: CliIO },
): Promise<void> {
  const source: DigestSource =
    uri && o.s3 ? await readS3Digest(o.s3, uri, o.config.expectedBucketOwner) : { body: await readWhole(await openFile(input), MAX_DIGEST_BYTES) };
  const keys = await o.keys();
  let line: string;
  if (o.ledger) {
    const out = await ingestDigest(input, source, { ledger: o.ledger, keys, now: () => new Date() });
    const e = out.entry;
    line = `digest ${e.verdict}${e.reason ? ` (${e.reason})` : ''}, chain ${e.chain}, ${Object.keys(e.files).length} files attested, ${out.tampered.length} tampered, ${out.notYetIngested.length} not ingested yet`;
  } else {
    const v = await verifyDigest({ body: source.body, where: source.where, metadata: source.metadata, keys });
    line = `digest ${v.verdict}${v.verdict === 'valid' ? '' : ` (${v.reason})`}, ${v.digest?.logFiles.length ?? 0} files listed (not recorded: no ledger)`;
  }
  o.io.stderr.write(`${input}: ${line}\n`);
}

function reportSummary(io: CliIO, input: string, s: TrailSummary, ms: number, written?: number): void {
  for (const line of badRecordWarnings(input, s)) io.stderr.write(line + '\n');
  const size = s.gzip ? `${formatBytes(s.sourceBytes)} gzip, ${formatBytes(s.bytes)} JSON` : formatBytes(s.bytes);
  const wrote = written === undefined ? '' : `, ${written} written`;
  io.stderr.write(`${input}: ${formatSummary(s)}${wrote} (${size} in ${(ms / 1000).toFixed(2)} s)\n`);
}

/** JSON Lines to a stream, in large writes, honouring backpressure. */
class LineWriter {
  private buf: string[] = [];
  private size = 0;
  constructor(private readonly stream: NodeJS.WritableStream) {}
  async rows(rows: AuditRow[]): Promise<void> {
    for (const row of rows) {
      // jsonText: a valid record may nest deeper than JSON.stringify can recurse.
      const line = `${jsonText(row)}\n`;
      this.buf.push(line);
      this.size += line.length;
    }
    if (this.size >= 64 * 1024) await this.flush();
  }
  async flush(): Promise<void> {
    if (this.buf.length === 0) return;
    const text = this.buf.join('');
    this.buf = [];
    this.size = 0;
    await write(this.stream, text);
  }
}
