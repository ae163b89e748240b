/**
 * Deployment settings: one typed shape for the stack, read from CDK context (`-c key=value`, cdk.json) or
 * passed as props. Every setting is checked up front so a typo fails the synth with one clear message
 * instead of deploying something else (a misspelt bucket name would silently create a second trail).
 */
import { DEFAULT_ALERT_EVENT_BUS, DEFAULT_ALERT_SEVERITY } from '../src/config.js';
import { SEVERITIES, type Severity } from '../src/ses/row.js';
import { DEFAULT_LEDGER_TABLE_NAME, DEFAULT_TABLE_NAME } from '../src/store/schema.js';

/** How new log files reach the function. */
export type Trigger = 'direct' | 'sqs' | 'eventbridge';
export const TRIGGERS: readonly Trigger[] = ['direct', 'sqs', 'eventbridge'];

/** The lowest finding severity published as an alert, or `off`. */
export type AlertSeverity = Severity | 'off';
export const ALERT_SEVERITIES: readonly AlertSeverity[] = [...SEVERITIES, 'off'];

/**
 * Everything ses-audit can be configured with: the props of the `SesAudit` construct and, by the same names,
 * the CDK context settings of the app. Everything is optional: no settings is the complete default.
 */
export interface SesAuditSettings {
  /** Name of the audit table (`TABLE_NAME`). @default 'ses-identity-audit' */
  tableName?: string;
  /** Name of the ingestion ledger table (`LEDGER_TABLE_NAME`): log files and digests seen. @default 'ses-audit-ledger' */
  ledgerTableName?: string;
  /**
   * Attach to this existing trail bucket: no trail and no bucket are created, the function reads the bucket's
   * `[keyPrefix/]AWSLogs/` and a notification (or rule) is added. @default none: a trail and its bucket are created
   */
  trailBucketName?: string;
  /** The KMS key the existing trail encrypts its files with (SSE-KMS), as a key ARN; needs `trailBucketName`. */
  trailBucketKmsKeyArn?: string;
  /** The trail's S3 key prefix: the part before `AWSLogs/`. May contain spaces; not `*`, `?` or `${`. @default none */
  keyPrefix?: string;
  /** Days until a row expires (DynamoDB TTL, `RETENTION_DAYS`), 1 to 36500. @default rows are kept forever */
  retentionDays?: number;
  /**
   * Days until the row of a read-only call (Get/List polling) expires (`READ_ONLY_RETENTION_DAYS`), 1 to 36500;
   * at most `retentionDays`. @default as `retentionDays`
   */
  readOnlyRetentionDays?: number;
  /**
   * `direct`: S3 invokes the function. `sqs`: S3 notifies a queue the function reads. `eventbridge`: the bucket's
   * EventBridge notifications feed a rule that invokes the function (for a bucket whose `AWSLogs/` notification
   * is already taken, which makes another S3 notification fail as "overlapping"). @default 'direct'
   */
  trigger?: Trigger;
  /** `sqs` only: messages per invocation, 1 to 10. @default 1 */
  sqsBatchSize?: number;
  /** `sqs` only: receives before a message moves to the dead-letter queue, 1 to 1000. @default 5 */
  maxReceiveCount?: number;
  /** Also log SES data events (sends) on the trail that is created; not with `trailBucketName`. @default false */
  sesDataEvents?: boolean;
  /** Email address subscribed to the alarm topic (alarms and alerts). @default none */
  alarmEmail?: string;
  /** Function memory in MB, 128 to 10240; the Node.js heap limits are derived from it. @default 256 */
  memoryMb?: number;
  /** Function timeout in seconds, 30 to 900. @default 300 */
  timeoutSeconds?: number;
  /** Reserved concurrency for the function. @default none reserved */
  reservedConcurrency?: number;
  /** Retention of the function's log group, in days (a CloudWatch Logs retention value). @default 90 */
  logRetentionDays?: number;
  /** Hours without any processed file before the "no file processed" alarm fires, 1 to 24. @default 1 */
  idleAlarmHours?: number;
  /** Passed to the function as `KEEP_READ_ONLY`. @default the function's default (true) */
  keepReadOnly?: boolean;
  /** Passed to the function as `KEEP_DATA_EVENTS`. @default the function's default (true) */
  keepDataEvents?: boolean;
  /**
   * Hours between two reconciliations of the ledger against the trail's digests (a scheduled invocation), 1 to
   * 24; 0 schedules none. @default 1
   */
  reconcileEveryHours?: number;
  /** Findings of this severity or higher are published to EventBridge (`ALERT_SEVERITY`). @default 'high' */
  alertSeverity?: AlertSeverity;
  /**
   * The EventBridge bus (a name, in this account and region) alerts are published to (`ALERT_EVENT_BUS`);
   * the example alert rule is created on it. @default 'default'
   */
  alertEventBusName?: string;
}

/** What the app accepts: the construct's settings and the stack's name. */
export interface SettingsInput extends SesAuditSettings {
  /** CloudFormation stack name (app only). @default 'SesAudit' */
  stackName?: string;
}

/** The settings after defaults and checks. */
export interface Settings {
  stackName: string;
  tableName: string;
  ledgerTableName: string;
  /** Undefined: the stack creates the trail and its bucket. */
  trailBucketName?: string;
  trailBucketKmsKeyArn?: string;
  /** Without leading or trailing slashes; '' when the trail has no prefix. */
  keyPrefix: string;
  retentionDays?: number;
  readOnlyRetentionDays?: number;
  trigger: Trigger;
  sqsBatchSize: number;
  maxReceiveCount: number;
  sesDataEvents: boolean;
  alarmEmail?: string;
  memoryMb: number;
  timeoutSeconds: number;
  reservedConcurrency?: number;
  logRetentionDays: number;
  idleAlarmHours: number;
  keepReadOnly?: boolean;
  keepDataEvents?: boolean;
  /** 0: no scheduled reconciliation. */
  reconcileEveryHours: number;
  alertSeverity: AlertSeverity;
  alertEventBusName: string;
}

export const DEFAULTS = {
  stackName: 'SesAudit',
  tableName: DEFAULT_TABLE_NAME,
  ledgerTableName: DEFAULT_LEDGER_TABLE_NAME,
  trigger: 'direct',
  // One file per invocation: a 50 MB file can take a good part of the timeout, so one file keeps each
  // message inside its own time budget and a failure redelivers only that file.
  sqsBatchSize: 1,
  // AWS's advice for Lambda consumers: at least 5, so throttled receives do not push good messages to the DLQ.
  maxReceiveCount: 5,
  // Enough to stream a 50 MB file with room; 128 MB also gets the least CPU.
  memoryMb: 256,
  timeoutSeconds: 300,
  logRetentionDays: 90,
  // CloudTrail delivers about every 5 minutes while there is activity; an hour of nothing means something broke.
  idleAlarmHours: 1,
  // CloudTrail delivers a digest about every hour: reconciling as often finds a gap within the hour after the grace.
  reconcileEveryHours: 1,
  alertSeverity: DEFAULT_ALERT_SEVERITY,
  alertEventBusName: DEFAULT_ALERT_EVENT_BUS,
} as const satisfies Partial<Settings>;

/**
 * The function refuses to start a file with less than 10 s left and keeps 3 s to finish its writes
 * (src/app.ts, src/store/writer.ts): below 30 s little time would be left to read a file at all.
 */
export const MIN_TIMEOUT_SECONDS = 30;

/** Values CloudWatch Logs accepts for a log group's retention. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The context keys (and prop names) understood; anything else that looks like one is a typo. */
export const SETTING_KEYS = [
  'stackName',
  'tableName',
  'ledgerTableName',
  'trailBucketName',
  'trailBucketKmsKeyArn',
  'keyPrefix',
  'retentionDays',
  'readOnlyRetentionDays',
  'trigger',
  'sqsBatchSize',
  'maxReceiveCount',
  'sesDataEvents',
  'alarmEmail',
  'memoryMb',
  'timeoutSeconds',
  'reservedConcurrency',
  'logRetentionDays',
  'idleAlarmHours',
  'keepReadOnly',
  'keepDataEvents',
  'reconcileEveryHours',
  'alertSeverity',
  'alertEventBusName',
] as const satisfies readonly (keyof SettingsInput)[];

type SettingKey = (typeof SETTING_KEYS)[number];
const NUMBER_KEYS = new Set<SettingKey>([
  'retentionDays',
  'readOnlyRetentionDays',
  'sqsBatchSize',
  'maxReceiveCount',
  'memoryMb',
  'timeoutSeconds',
  'reservedConcurrency',
  'logRetentionDays',
  'idleAlarmHours',
  'reconcileEveryHours',
]);
const BOOLEAN_KEYS = new Set<SettingKey>(['sesDataEvents', 'keepReadOnly', 'keepDataEvents']);

export class SettingsError extends Error {
  constructor(problems: string[]) {
    super(`invalid ses-audit settings: ${problems.join('; ')}`);
    this.name = 'SettingsError';
  }
}

/**
 * Settings from CDK context values. `-c key=value` arrives as a string, cdk.json may hold real numbers and
 * booleans: both are accepted. Keys that look like settings (plain camelCase, as CDK's own keys all contain
 * ':' or '@') but are not known are refused.
 */
export function settingsFromContext(context: Record<string, unknown>): SettingsInput {
  const problems: string[] = [];
  const input: Record<string, unknown> = {};
  for (const [key, raw] of Object.entries(context)) {
    if (!(SETTING_KEYS as readonly string[]).includes(key)) {
      if (/^[a-z][A-Za-z0-9]*$/.test(key)) problems.push(`unknown setting "${key}" (known: ${SETTING_KEYS.join(', ')})`);
      continue;
    }
    const k = key as SettingKey;
    if (raw === undefined || raw === null || raw === '') continue;
    if (NUMBER_KEYS.has(k)) {
      const n = typeof raw === 'number' ? raw : typeof raw === 'string' && /^\s*\d+\s*$/.test(raw) ? Number(raw) : NaN;
      if (Number.isNaN(n)) problems.push(`${k}=${JSON.stringify(raw)} must be a whole number`);
      else input[k] = n;
    } else if (BOOLEAN_KEYS.has(k)) {
      const s = String(raw).trim().toLowerCase();
      if (raw === true || ['true', '1', 'yes'].includes(s)) input[k] = true;
      else if (raw === false || ['false', '0', 'no'].includes(s)) input[k] = false;
      else problems.push(`${k}=${JSON.stringify(raw)} must be true or false`);
    } else if (typeof raw === 'string') {
      input[k] = raw.trim();
    } else {
      problems.push(`${k} must be a string, got ${JSON.stringify(raw)}`);
    }
  }
  if (problems.length) throw new SettingsError(problems);
  return input as SettingsInput;
}

/** Apply defaults and check every setting; throws one SettingsError listing all problems. */
export function resolveSettings(input: SettingsInput = {}): Settings {
  const problems: string[] = [];
  const int = (name: SettingKey, value: number | undefined, min: number, max: number): number | undefined => {
    if (value === undefined) return undefined;
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name}=${value} must be a whole number from ${min} to ${max}`);
      return undefined;
    }
    return value;
  };

  const stackName = input.stackName ?? DEFAULTS.stackName;
  if (!/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    problems.push(`stackName=${JSON.stringify(stackName)} is not a valid CloudFormation stack name`);
  }
  const tableName = input.tableName ?? DEFAULTS.tableName;
  const ledgerTableName = input.ledgerTableName ?? DEFAULTS.ledgerTableName;
  for (const [name, value] of [['tableName', tableName], ['ledgerTableName', ledgerTableName]] as const) {
    if (!/^[A-Za-z0-9_.-]{3,255}$/.test(value)) problems.push(`${name}=${JSON.stringify(value)} is not a valid DynamoDB table name`);
  }
  if (ledgerTableName === tableName) {
    problems.push(`ledgerTableName=${JSON.stringify(ledgerTableName)} must differ from tableName: the ledger is a table of its own`);
  }

  const bucket = input.trailBucketName;
  if (bucket !== undefined && !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    problems.push(`trailBucketName=${JSON.stringify(bucket)} is not a valid S3 bucket name`);
  }
  const keyArn = input.trailBucketKmsKeyArn;
  if (keyArn !== undefined) {
    // A key ARN, not an alias: IAM evaluates kms:Decrypt against the key's ARN.
    if (!/^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]+$/.test(keyArn)) {
      problems.push(`trailBucketKmsKeyArn=${JSON.stringify(keyArn)} must be a KMS key ARN (arn:aws:kms:REGION:ACCOUNT:key/ID)`);
    }
    if (bucket === undefined) {
      problems.push('trailBucketKmsKeyArn needs trailBucketName (for the trail this stack creates, it makes and grants its own KMS key)');
    }
  }

  const keyPrefix = (input.keyPrefix ?? '').replace(/^\/+|\/+$/g, '');
  if (keyPrefix.length > 200) problems.push('keyPrefix is longer than the 200 characters CloudTrail allows');
  // '*' and '?' are wildcards in IAM resource ARNs, '${' starts a policy variable, and S3 notification filters
  // cannot hold '*': such a prefix cannot be scoped exactly, so refuse it rather than widen access.
  if (/[*?]|\$\{/.test(keyPrefix)) problems.push(`keyPrefix=${JSON.stringify(keyPrefix)} must not contain '*', '?' or '\${'`);
  if (/\/AWSLogs(\/|$)|^AWSLogs(\/|$)/.test(keyPrefix)) {
    problems.push(`keyPrefix=${JSON.stringify(keyPrefix)} is the part before AWSLogs/, without AWSLogs itself`);
  }

  const trigger = input.trigger ?? DEFAULTS.trigger;
  if (!TRIGGERS.includes(trigger)) problems.push(`trigger=${JSON.stringify(trigger)} must be ${TRIGGERS.join(', ')}`);
  if (trigger !== 'sqs') {
    for (const k of ['sqsBatchSize', 'maxReceiveCount'] as const) {
      if (input[k] !== undefined) problems.push(`${k} applies only with trigger=sqs`);
    }
  }

  const sesDataEvents = input.sesDataEvents ?? false;
  if (sesDataEvents && bucket !== undefined) {
    problems.push(
      'sesDataEvents applies only to the trail this stack creates; with trailBucketName, add the SES data event selectors to your own trail (see the README)',
    );
  }

  const alarmEmail = input.alarmEmail;
  if (alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(alarmEmail)) {
    problems.push(`alarmEmail=${JSON.stringify(alarmEmail)} is not an email address`);
  }

  let timeoutSeconds: number = DEFAULTS.timeoutSeconds;
  if (input.timeoutSeconds !== undefined) {
    const t = input.timeoutSeconds;
    if (!Number.isInteger(t) || t < MIN_TIMEOUT_SECONDS || t > 900) {
      problems.push(
        `timeoutSeconds=${t} must be a whole number from ${MIN_TIMEOUT_SECONDS} to 900: the function starts a file only with 10 s left and keeps 3 s to finish its writes, so a shorter timeout leaves too little time to read one`,
      );
    } else timeoutSeconds = t;
  }
  const logRetentionDays = input.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    problems.push(`logRetentionDays=${logRetentionDays} must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }

  const retentionDays = int('retentionDays', input.retentionDays, 1, 36_500);
  const readOnlyRetentionDays = int('readOnlyRetentionDays', input.readOnlyRetentionDays, 1, 36_500);
  if (readOnlyRetentionDays !== undefined) {
    if (retentionDays !== undefined && readOnlyRetentionDays > retentionDays) {
      problems.push(`readOnlyRetentionDays=${readOnlyRetentionDays} must not exceed retentionDays=${retentionDays}: it lets read-only calls expire sooner`);
    }
    if (input.keepReadOnly === false) problems.push('readOnlyRetentionDays has no effect with keepReadOnly=false (read-only calls are not kept at all)');
  }

  const alertSeverity = ALERT_SEVERITIES.find((v) => v === String(input.alertSeverity ?? DEFAULTS.alertSeverity).toLowerCase());
  if (alertSeverity === undefined) {
    problems.push(`alertSeverity=${JSON.stringify(input.alertSeverity)} must be ${ALERT_SEVERITIES.join(', ')}`);
  }
  const alertEventBusName = input.alertEventBusName ?? DEFAULTS.alertEventBusName;
  // EventBridge's own rule for bus names. An ARN is refused: the function publishes to, and the example rule
  // listens on, a bus of this account and region.
  if (!/^[/.\-_A-Za-z0-9]{1,256}$/.test(alertEventBusName)) {
    problems.push(`alertEventBusName=${JSON.stringify(alertEventBusName)} must be the name of an event bus in this account and region (letters, digits, . - _ /)`);
  }
  if (alertSeverity === 'off' && input.alertEventBusName !== undefined) {
    problems.push('alertEventBusName has no effect with alertSeverity=off');
  }

  const settings: Settings = {
    stackName,
    tableName,
    ledgerTableName,
    trailBucketName: bucket,
    trailBucketKmsKeyArn: keyArn,
    keyPrefix,
    // Same bounds as the function's own RETENTION_DAYS check (src/config.ts); 0 there means "forever", here unset does.
    retentionDays,
    readOnlyRetentionDays,
    trigger,
    sqsBatchSize: int('sqsBatchSize', input.sqsBatchSize, 1, 10) ?? DEFAULTS.sqsBatchSize,
    maxReceiveCount: int('maxReceiveCount', input.maxReceiveCount, 1, 1000) ?? DEFAULTS.maxReceiveCount,
    sesDataEvents,
    alarmEmail,
    memoryMb: int('memoryMb', input.memoryMb, 128, 10_240) ?? DEFAULTS.memoryMb,
    timeoutSeconds,
    reservedConcurrency: int('reservedConcurrency', input.reservedConcurrency, 1, 10_000),
    logRetentionDays,
    idleAlarmHours: int('idleAlarmHours', input.idleAlarmHours, 1, 24) ?? DEFAULTS.idleAlarmHours,
    keepReadOnly: input.keepReadOnly,
    keepDataEvents: input.keepDataEvents,
    // At most a day: the trust alarms' period follows it, and CloudWatch evaluates at most a day at a time.
    reconcileEveryHours: int('reconcileEveryHours', input.reconcileEveryHours, 0, 24) ?? DEFAULTS.reconcileEveryHours,
    alertSeverity: alertSeverity ?? DEFAULTS.alertSeverity,
    alertEventBusName,
  };
  if (problems.length) throw new SettingsError(problems);
  return settings;
}

/** `PREFIX/AWSLogs/` or `AWSLogs/`: where CloudTrail writes, as a raw S3 key prefix. */
export function logKeyPrefix(settings: Pick<Settings, 'keyPrefix'>): string {
  return `${settings.keyPrefix ? `${settings.keyPrefix}/` : ''}AWSLogs/`;
}

/**
 * The same prefix as an S3 notification filter value. S3 wants a space as '+' and any other special character
 * percent-encoded in filter values; its safe characters (letters, digits, ! - _ . * ' ( )) and the '/'
 * separators stay as they are.
 */
export function notificationFilterPrefix(settings: Pick<Settings, 'keyPrefix'>): string {
  return encodeURIComponent(logKeyPrefix(settings))
    .replace(/%20/g, '+')
    .replace(/%2F/g, '/')
    // encodeURIComponent leaves '~' alone, but it is not among S3's safe characters.
    .replace(/~/g, '%7E');
}

export const LOG_FILE_SUFFIX = '.json.gz';
