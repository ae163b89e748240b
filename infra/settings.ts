/**
 * Deployment settings: one typed shape for the stack, read from CDK context (`-c key=value`, cdk.json) or
 * passed as props. Every setting is checked up front so a typo fails the synth with one clear message
 * instead of deploying something else (a misspelt bucket name would silently create a second trail).
 */
import { DEFAULT_TABLE_NAME } from '../src/store/schema.js';

export type Trigger = 'direct' | 'sqs';

/** What a caller may set. Everything is optional: no settings is the complete default stack. */
export interface SettingsInput {
  /** CloudFormation stack name (app only). */
  stackName?: string;
  /** DynamoDB table name. */
  tableName?: string;
  /** Attach to this existing trail bucket: no trail and no bucket are created. */
  trailBucketName?: string;
  /** KMS key the existing trail encrypts its log files with (SSE-KMS); needs trailBucketName. */
  trailBucketKmsKeyArn?: string;
  /** The trail's S3 key prefix (the part before `AWSLogs/`). */
  keyPrefix?: string;
  /** Days to keep each row (DynamoDB TTL); unset keeps rows forever. */
  retentionDays?: number;
  /** `direct`: S3 invokes the function. `sqs`: S3 -> SQS queue -> function. */
  trigger?: Trigger;
  /** SQS wiring: messages per invocation. */
  sqsBatchSize?: number;
  /** SQS wiring: receives before a message moves to the dead-letter queue. */
  maxReceiveCount?: number;
  /** Also log SES data events (sends) on the trail this stack creates. */
  sesDataEvents?: boolean;
  /** Email address subscribed to the alarm topic. */
  alarmEmail?: string;
  memoryMb?: number;
  timeoutSeconds?: number;
  /** Reserved concurrency for the function; unset reserves none. */
  reservedConcurrency?: number;
  /** Retention of the function's log group, in days (a CloudWatch Logs retention value). */
  logRetentionDays?: number;
  /** Hours without any processed file before the "no file processed" alarm fires. */
  idleAlarmHours?: number;
  /** Passed to the function as KEEP_READ_ONLY; unset leaves the function's default. */
  keepReadOnly?: boolean;
  /** Passed to the function as KEEP_DATA_EVENTS; unset leaves the function's default. */
  keepDataEvents?: boolean;
}

/** The settings after defaults and checks. */
export interface Settings {
  stackName: string;
  tableName: string;
  /** Undefined: the stack creates the trail and its bucket. */
  trailBucketName?: string;
  trailBucketKmsKeyArn?: string;
  /** Without leading or trailing slashes; '' when the trail has no prefix. */
  keyPrefix: string;
  retentionDays?: number;
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
}

export const DEFAULTS = {
  stackName: 'SesAudit',
  tableName: DEFAULT_TABLE_NAME,
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
} as const satisfies Partial<Settings>;

/** Values CloudWatch Logs accepts for a log group's retention. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

/** The context keys (and prop names) understood; anything else that looks like one is a typo. */
export const SETTING_KEYS = [
  'stackName',
  'tableName',
  'trailBucketName',
  'trailBucketKmsKeyArn',
  'keyPrefix',
  'retentionDays',
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
] as const satisfies readonly (keyof SettingsInput)[];

type SettingKey = (typeof SETTING_KEYS)[number];
const NUMBER_KEYS = new Set<SettingKey>([
  'retentionDays',
  'sqsBatchSize',
  'maxReceiveCount',
  'memoryMb',
  'timeoutSeconds',
  'reservedConcurrency',
  'logRetentionDays',
  'idleAlarmHours',
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
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(tableName)) {
    problems.push(`tableName=${JSON.stringify(tableName)} is not a valid DynamoDB table name`);
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
      problems.push('trailBucketKmsKeyArn needs trailBucketName (the bucket this stack creates uses SSE-S3)');
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
  if (trigger !== 'direct' && trigger !== 'sqs') problems.push(`trigger=${JSON.stringify(trigger)} must be direct or sqs`);
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

  const timeoutSeconds = int('timeoutSeconds', input.timeoutSeconds, 10, 900) ?? DEFAULTS.timeoutSeconds;
  const logRetentionDays = input.logRetentionDays ?? DEFAULTS.logRetentionDays;
  if (!(LOG_RETENTION_DAYS as readonly number[]).includes(logRetentionDays)) {
    problems.push(`logRetentionDays=${logRetentionDays} must be one of ${LOG_RETENTION_DAYS.join(', ')}`);
  }

  const settings: Settings = {
    stackName,
    tableName,
    trailBucketName: bucket,
    trailBucketKmsKeyArn: keyArn,
    keyPrefix,
    // Same bounds as the function's own RETENTION_DAYS check (src/config.ts); 0 there means "forever", here unset does.
    retentionDays: int('retentionDays', input.retentionDays, 1, 36_500),
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
