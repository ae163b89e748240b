/**
 * What `ses-audit verify` does beyond the ledger: find the rows that came from files that cannot be trusted
 * (and those among them that replaced a row an attested file had written), and repair: ingest the files a
 * digest lists but nobody ingested, re-ingest the attested version of a tampered file, and re-ingest the
 * attested files whose rows an untrusted file overwrote (DESIGN.md: unattested data must not silently
 * replace attested history). Rows have deterministic keys, so re-ingesting overwrites, never duplicates.
 */
import { GetItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ListObjectVersionsCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Config } from './config.js';
import { reasonOf } from './errors.js';
import { ingest } from './ingest.js';
import { processTrail } from './pipeline.js';
import type { AuditRow } from './ses/row.js';
import type { Ledger, LogFileEntry } from './store/ledger.js';
import type { Problem, VerifyReport } from './store/reconcile.js';
import { PARTITION_KEY, SORT_KEY } from './store/schema.js';
import { toRow } from './store/history.js';
import { parseS3Uri, type S3ObjectRef } from './trail/object.js';
import { openS3Object } from './trail/source.js';
import { logFileEntry } from './trust.js';

export interface RepairDeps {
  s3: S3Client;
  /** Reads rows (GetItem). */
  dynamo: DynamoDBClient;
  /** Writes rows (the batch writer's client); only for repair. */
  writer?: DynamoDBClient;
  ledger: Ledger;
  config: Config;
  now: () => Date;
}

export interface RowRef {
  identity: string;
  eventKey: string;
  sourceObject: string;
}

export interface RowsCheck {
  /** Rows whose current version came from a file that is unattested, tampered or failed. */
  untrusted: RowRef[];
  /** Those of them whose key an attested file also writes: it overwrote attested history. */
  overwritten: (RowRef & { attestedSource: string })[];
  /** Files that could not be read to check (gone from the bucket, access denied). */
  unreadable: Problem[];
}

export interface RepairResult {
  /** Files ingested now: missing ones, and attested files whose rows were overwritten. */
  reingested: string[];
  /** Tampered files whose attested version was found among the object's versions and ingested. */
  restoredVersions: { uri: string; versionId: string }[];
  notRepairable: Problem[];
}

/** The rows a file makes, as the pipeline makes them (nothing written). */
async function rowsOf(deps: RepairDeps, ref: S3ObjectRef): Promise<{ rows: AuditRow[]; sha256: string }> {
  const { body } = await openS3Object(deps.s3, ref, { expectedBucketOwner: deps.config.expectedBucketOwner });
  const rows: AuditRow[] = [];
  const summary = await processTrail(body, { config: deps.config, sourceObject: uriOf(ref), sink: (r) => void rows.push(...r) });
  return { rows, sha256: summary.sha256 };
}

function uriOf(ref: Pick<S3ObjectRef, 'bucket' | 'key'>): string {
  return `s3://${ref.bucket}/${ref.key}`;
}

async function currentRow(deps: RepairDeps, identity: string, eventKey: string): Promise<AuditRow | undefined> {
  const out = await deps.dynamo.send(
    new GetItemCommand({ TableName: deps.config.tableName, Key: { [PARTITION_KEY]: { S: identity }, [SORT_KEY]: { S: eventKey } } }),
  );
  return out.Item ? toRow(out.Item) : undefined;
}

/**
 * The rows that came from files no valid digest vouches for. Reads each such file (and each attested file
 * whose SES events' time range could hold the same keys) from S3, nothing else; the table by GetItem.
 */
export async function checkRows(deps: RepairDeps, report: VerifyReport, logFiles: LogFileEntry[]): Promise<RowsCheck> {
  const check: RowsCheck = { untrusted: [], overwritten: [], unreadable: [] };
  const suspects = [...report.failed, ...report.tampered, ...report.unattested];
  const byKey = new Map<string, RowRef & { eventTime: string }>();
  for (const uri of suspects) {
    const ref = parseS3Uri(uri);
    if (!ref) continue;
    let rows: AuditRow[];
    try {
      ({ rows } = await rowsOf(deps, ref));
    } catch (err) {
      // A failed file may not read to the end either: what was read still counts, but here it is one line.
      check.unreadable.push({ uri, reason: reasonOf(err) });
      continue;
    }
    for (const r of rows) {
      const now = await currentRow(deps, r.identity, r.eventKey);
      if (now?.sourceObject !== uri) continue;
      const ref2 = { identity: r.identity, eventKey: r.eventKey, sourceObject: uri };
      check.untrusted.push(ref2);
      byKey.set(`${r.identity}\u0000${r.eventKey}`, { ...ref2, eventTime: r.eventTime });
    }
  }
  if (byKey.size === 0) return check;
  // Attested files that could have written the same keys: their event time range covers an untrusted row's.
  const times = [...byKey.values()].map((r) => r.eventTime);
  const untrustedFiles = new Set(suspects);
  const candidates = logFiles.filter(
    (f) =>
      f.outcome === 'ingested' &&
      !untrustedFiles.has(f.uri) &&
      (f.rows ?? 0) > 0 &&
      f.oldestEventTime !== undefined &&
      f.newestEventTime !== undefined &&
      times.some((t) => t >= f.oldestEventTime! && t <= f.newestEventTime!),
  );
  const found = new Set<string>();
  for (const f of candidates.sort((a, b) => a.uri.localeCompare(b.uri))) {
    const ref = parseS3Uri(f.uri);
    if (!ref) continue;
    try {
      const { rows } = await rowsOf(deps, ref);
      for (const r of rows) {
        const key = `${r.identity}\u0000${r.eventKey}`;
        const hit = byKey.get(key);
        // A row is listed once, with the first attested file that writes it (CloudTrail may deliver an event twice).
        if (!hit || found.has(key)) continue;
        found.add(key);
        check.overwritten.push({ identity: hit.identity, eventKey: hit.eventKey, sourceObject: hit.sourceObject, attestedSource: f.uri });
      }
    } catch (err) {
      check.unreadable.push({ uri: f.uri, reason: reasonOf(err) });
    }
  }
  const order = (a: RowRef, b: RowRef) => a.identity.localeCompare(b.identity) || a.eventKey.localeCompare(b.eventKey);
  check.untrusted.sort(order);
  check.overwritten.sort(order);
  return check;
}

/** One file (or one version of it) into the table and the ledger, as the function does. */
async function ingestObject(deps: RepairDeps, ref: S3ObjectRef): Promise<void> {
  if (!deps.writer) throw new Error('repair needs a writer client');
  const { body } = await openS3Object(deps.s3, ref, { expectedBucketOwner: deps.config.expectedBucketOwner });
  const uri = uriOf(ref);
  const result = await ingest(body, uri, { dynamo: deps.writer, config: deps.config, now: deps.now });
  await deps.ledger.putLogFile(logFileEntry(uri, result, result.writer.rowsWritten, deps.now().toISOString(), ref.versionId));
}

/** The version of an object whose content has the hash a digest gives, newest first; undefined if none has. */
async function attestedVersion(deps: RepairDeps, ref: S3ObjectRef, sha256: string): Promise<string | undefined> {
  let keyMarker: string | undefined;
  let versionMarker: string | undefined;
  do {
    const page = await deps.s3.send(
      new ListObjectVersionsCommand({
        Bucket: ref.bucket,
        Prefix: ref.key,
        KeyMarker: keyMarker,
        VersionIdMarker: versionMarker,
        ExpectedBucketOwner: deps.config.expectedBucketOwner,
      }),
    );
    for (const v of page.Versions ?? []) {
      if (v.Key !== ref.key || !v.VersionId || v.VersionId === 'null') continue;
      const { sha256: got } = await rowsOf(deps, { ...ref, versionId: v.VersionId }).catch(() => ({ sha256: '' }));
      if (got === sha256) return v.VersionId;
    }
    keyMarker = page.IsTruncated ? page.NextKeyMarker : undefined;
    versionMarker = page.IsTruncated ? page.NextVersionIdMarker : undefined;
  } while (keyMarker !== undefined);
  return undefined;
}

/**
 * Repairs what can be repaired from attested sources: missing files ingested, tampered files' attested
 * versions ingested, and attested files re-ingested over rows an untrusted file overwrote. What stays
 * unattested (a forged file) is left for a person to remove: its rows keep being marked.
 */
export async function repair(
  deps: RepairDeps,
  report: VerifyReport,
  rows: RowsCheck,
  attestedHash: (uri: string) => string | undefined,
): Promise<RepairResult> {
  const result: RepairResult = { reingested: [], restoredVersions: [], notRepairable: [] };
  const attempt = async (uri: string, run: () => Promise<void>) => {
    try {
      await run();
    } catch (err) {
      result.notRepairable.push({ uri, reason: reasonOf(err) });
    }
  };
  for (const uri of report.missing) {
    const ref = parseS3Uri(uri);
    if (!ref) continue;
    await attempt(uri, async () => {
      await ingestObject(deps, ref);
      result.reingested.push(uri);
    });
  }
  for (const uri of report.tampered) {
    const ref = parseS3Uri(uri);
    const sha = attestedHash(uri);
    if (!ref || !sha) continue;
    await attempt(uri, async () => {
      const versionId = await attestedVersion(deps, ref, sha);
      if (!versionId) throw new Error('no version of the object has the content its digest attests (is the bucket versioned?)');
      await ingestObject(deps, { ...ref, versionId });
      result.restoredVersions.push({ uri, versionId });
    });
  }
  for (const uri of [...new Set(rows.overwritten.map((r) => r.attestedSource))].sort()) {
    const ref = parseS3Uri(uri);
    if (!ref) continue;
    await attempt(uri, async () => {
      await ingestObject(deps, ref);
      result.reingested.push(uri);
    });
  }
  return result;
}
