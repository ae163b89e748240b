/**
 * Settings from the environment, read and checked once (at cold start for the Lambda): one clear error
 * that names every variable that is missing or wrong.
 */
import { ConfigError } from './errors.js';
import { SEVERITIES, type Severity } from './ses/row.js';

export const MiB = 1024 * 1024;

export interface ReaderLimits {
  /** Cap on decompressed bytes per file: a gzip bomb ends with an error instead of running on. */
  maxUncompressedBytes: number;
  /** Cap on the bytes of one record (AWS: at most 256 KB). */
  maxRecordBytes: number;
}

export interface Config extends ReaderLimits {
  tableName: string;
  /** The ingestion ledger (DESIGN.md, Trust); undefined records nothing. */
  ledgerTableName?: string;
  /** Days until a row expires (DynamoDB TTL on `expiresAt`); undefined keeps rows forever. */
  retentionDays?: number;
  /** Days until a read-only call's row expires (the Get/List polling noise); undefined: as retentionDays. */
  readOnlyRetentionDays?: number;
  /** BatchWriteItem calls in flight at once. */
  writeConcurrency: number;
  /** When set, S3 refuses objects from buckets another account owns. */
  expectedBucketOwner?: string;
  keepReadOnly: boolean;
  keepDataEvents: boolean;
  /** Rows with findings of this severity or higher are published to EventBridge; 'off' publishes none. */
  alertSeverity: Severity | 'off';
  /** The EventBridge bus alerts go to (a name or an ARN). */
  alertEventBus: string;
  /** Hours each scheduled reconciliation covers (the schedule's rate). */
  reconcileEveryHours: number;
  /** A JSON file of CloudTrail public keys (`[{Fingerprint, Value}]`) used instead of ListPublicKeys. */
  publicKeysFile?: string;
}

export const DEFAULT_LIMITS: ReaderLimits = {
  // CloudTrail files are at most 50 MB uncompressed; 10x that is a guard, not a limit anyone meets.
  maxUncompressedBytes: 512 * MiB,
  // One event is at most 256 KB as CloudTrail writes it; a tool that re-serializes it with \u escapes can make
  // it up to 6x larger (every character as \uXXXX), and such a file is still valid: 4 MiB holds that.
  maxRecordBytes: 4 * MiB,
};

export const DEFAULT_WRITE_CONCURRENCY = 8;
export const DEFAULT_ALERT_SEVERITY: Severity = 'high';
export const DEFAULT_ALERT_EVENT_BUS = 'default';

/** The variables, in one place for the handler, the CLI, the CDK stack and the README. */
export const ENV = {
  tableName: 'TABLE_NAME',
  ledgerTableName: 'LEDGER_TABLE_NAME',
  retentionDays: 'RETENTION_DAYS',
  readOnlyRetentionDays: 'READ_ONLY_RETENTION_DAYS',
  writeConcurrency: 'WRITE_CONCURRENCY',
  maxUncompressedBytes: 'MAX_UNCOMPRESSED_BYTES',
  maxRecordBytes: 'MAX_RECORD_BYTES',
  expectedBucketOwner: 'EXPECTED_BUCKET_OWNER',
  keepReadOnly: 'KEEP_READ_ONLY',
  keepDataEvents: 'KEEP_DATA_EVENTS',
  alertSeverity: 'ALERT_SEVERITY',
  alertEventBus: 'ALERT_EVENT_BUS',
  publicKeysFile: 'CLOUDTRAIL_PUBLIC_KEYS',
  reconcileEveryHours: 'RECONCILE_EVERY_HOURS',
} as const;

type Env = Record<string, string | undefined>;

export function loadConfig(env: Env = process.env, options: { requireTable?: boolean } = {}): Config {
  const problems: string[] = [];
  const str = (name: string): string | undefined => {
    const v = env[name]?.trim();
    return v === '' ? undefined : v;
  };
  const int = (name: string, fallback: number | undefined, min: number, max: number): number | undefined => {
    const raw = str(name);
    if (raw === undefined) return fallback;
    if (!/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
      problems.push(`${name}=${JSON.stringify(raw)} must be a whole number from ${min} to ${max}`);
      return fallback;
    }
    return Number(raw);
  };
  const bool = (name: string, fallback: boolean): boolean => {
    const raw = str(name)?.toLowerCase();
    if (raw === undefined) return fallback;
    if (['true', '1', 'yes'].includes(raw)) return true;
    if (['false', '0', 'no'].includes(raw)) return false;
    problems.push(`${name}=${JSON.stringify(env[name])} must be true or false`);
    return fallback;
  };

  const tableName = str(ENV.tableName);
  if (options.requireTable !== false) {
    if (tableName === undefined) problems.push(`${ENV.tableName} is required (the DynamoDB table to write to)`);
    else if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
      problems.push(`${ENV.tableName}=${JSON.stringify(tableName)} is not a valid DynamoDB table name`);
    }
  }
  const owner = str(ENV.expectedBucketOwner);
  if (owner !== undefined && !/^\d{12}$/.test(owner)) {
    problems.push(`${ENV.expectedBucketOwner}=${JSON.stringify(owner)} must be a 12-digit AWS account ID`);
  }
  const retention = int(ENV.retentionDays, undefined, 0, 36_500);
  const readOnlyRetention = int(ENV.readOnlyRetentionDays, undefined, 0, 36_500);
  const ledgerTableName = str(ENV.ledgerTableName);
  if (ledgerTableName !== undefined && !/^[A-Za-z0-9_.-]{3,255}$/.test(ledgerTableName)) {
    problems.push(`${ENV.ledgerTableName}=${JSON.stringify(ledgerTableName)} is not a valid DynamoDB table name`);
  }
  const alertSeverity = str(ENV.alertSeverity)?.toLowerCase() ?? DEFAULT_ALERT_SEVERITY;
  const severity = SEVERITIES.find((v) => v === alertSeverity);
  if (alertSeverity !== 'off' && severity === undefined) {
    problems.push(`${ENV.alertSeverity}=${JSON.stringify(env[ENV.alertSeverity])} must be ${SEVERITIES.join(', ')} or off`);
  }
  const config: Config = {
    tableName: tableName ?? '',
    ledgerTableName,
    retentionDays: retention === 0 ? undefined : retention,
    readOnlyRetentionDays: readOnlyRetention === 0 ? undefined : readOnlyRetention,
    writeConcurrency: int(ENV.writeConcurrency, DEFAULT_WRITE_CONCURRENCY, 1, 256)!,
    maxUncompressedBytes: int(ENV.maxUncompressedBytes, DEFAULT_LIMITS.maxUncompressedBytes, 1024, 2 ** 40)!,
    maxRecordBytes: int(ENV.maxRecordBytes, DEFAULT_LIMITS.maxRecordBytes, 1024, 2 ** 31)!,
    expectedBucketOwner: owner,
    keepReadOnly: bool(ENV.keepReadOnly, true),
    keepDataEvents: bool(ENV.keepDataEvents, true),
    alertSeverity: alertSeverity === 'off' ? 'off' : (severity ?? DEFAULT_ALERT_SEVERITY),
    alertEventBus: str(ENV.alertEventBus) ?? DEFAULT_ALERT_EVENT_BUS,
    publicKeysFile: str(ENV.publicKeysFile),
    reconcileEveryHours: int(ENV.reconcileEveryHours, 1, 1, 24)!,
  };
  if (problems.length) throw new ConfigError(`invalid configuration: ${problems.join('; ')}`);
  return config;
}
