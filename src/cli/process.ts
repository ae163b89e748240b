/** `ses-audit process INPUT... [--dry-run]`: local files or s3:// objects to rows (stdout) or the table. */
import { once } from 'node:events';
import { loadConfig } from '../config.js';
import { ingest } from '../ingest.js';
import { reasonOf } from '../errors.js';
import { processTrail, type TrailSummary } from '../pipeline.js';
import { parseS3Uri } from '../trail/object.js';
import { openFile, openS3Object } from '../trail/source.js';
import type { ByteSource } from '../trail/reader.js';
import type { AuditRow } from '../ses/row.js';
import { makeDynamoClient, makeS3Client } from '../aws.js';
import type { S3Client } from '@aws-sdk/client-s3';
import { UsageError, parseCommandArgs, type CliIO } from './io.js';
import { badRecordWarnings, formatBytes, formatSummary } from './format.js';
import { jsonText } from '../json-text.js';

export const PROCESS_HELP = `Usage: ses-audit process INPUT... [options]

Reads CloudTrail log files and turns their Amazon SES events into audit rows.
INPUT is a local file (gzipped or plain JSON) or s3://bucket/key.

Options:
  --dry-run                 write nothing; print each row as one JSON object per line on stdout
  --max-bytes N             refuse a file that inflates past N bytes (default 512 MiB; env MAX_UNCOMPRESSED_BYTES)
  --max-record-bytes N      refuse a record larger than N bytes (default 4 MiB; env MAX_RECORD_BYTES)
  --concurrency N           BatchWriteItem calls in flight (default 8; env WRITE_CONCURRENCY)
  -h, --help                show this help

A summary per input goes to stderr. Exit status 0 when every input was processed; otherwise 1, with one
line "error: INPUT: REASON" per failed input, after the other inputs ran.
Environment: TABLE_NAME (required unless --dry-run), RETENTION_DAYS, AWS_ENDPOINT_URL_S3,
AWS_ENDPOINT_URL_DYNAMODB, and the AWS SDK's usual credentials and region settings.`;

export async function processCommand(args: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parseCommandArgs({
    args,
    allowPositionals: true,
    options: {
      'dry-run': { type: 'boolean' },
      'max-bytes': { type: 'string' },
      'max-record-bytes': { type: 'string' },
      concurrency: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout.write(PROCESS_HELP + '\n');
    return 0;
  }
  if (positionals.length === 0) throw new UsageError('no INPUT given');
  const dryRun = Boolean(values['dry-run']);
  const env = { ...io.env };
  if (values['max-bytes'] !== undefined) env.MAX_UNCOMPRESSED_BYTES = values['max-bytes'];
  if (values['max-record-bytes'] !== undefined) env.MAX_RECORD_BYTES = values['max-record-bytes'];
  if (values.concurrency !== undefined) env.WRITE_CONCURRENCY = values.concurrency;
  const config = loadConfig(env, { requireTable: !dryRun });

  let s3: S3Client | undefined;
  const dynamo = dryRun ? undefined : makeDynamoClient(env, { forWriter: true });
  const out = new LineWriter(io.stdout);
  let failed = 0;

  for (const input of positionals) {
    const started = performance.now();
    try {
      let source: ByteSource;
      let sourceObject: string;
      const uri = parseS3Uri(input);
      if (uri) {
        if (!uri.key) throw new Error('s3:// input needs a key (s3://bucket/key)');
        s3 ??= makeS3Client(env);
        source = (await openS3Object(s3, uri, { expectedBucketOwner: config.expectedBucketOwner })).body;
        sourceObject = input;
      } else {
        source = await openFile(input);
        sourceObject = input;
      }
      let summary: TrailSummary;
      let written: number | undefined;
      if (dynamo) {
        const result = await ingest(source, sourceObject, { dynamo, config });
        summary = result;
        written = result.writer.rowsWritten;
      } else {
        summary = await processTrail(source, {
          config,
          sourceObject,
          sink: (rows) => out.rows(rows),
        });
        await out.flush();
      }
      reportSummary(io, input, summary, performance.now() - started, written);
    } catch (err) {
      await out.flush();
      failed++;
      io.stderr.write(`error: ${input}: ${reasonOf(err)}\n`);
    }
  }
  dynamo?.destroy();
  s3?.destroy();
  return failed ? 1 : 0;
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
    if (!this.stream.write(text)) await once(this.stream, 'drain');
  }
}
