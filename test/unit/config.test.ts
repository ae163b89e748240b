/** loadConfig: defaults, parsing, and one error that names every wrong setting. */
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_LIMITS, DEFAULT_WRITE_CONCURRENCY, ENV, loadConfig } from '../../src/config.js';

function configError(env: Record<string, string | undefined>, options?: { requireTable?: boolean }): ConfigError {
  try {
    loadConfig(env, options);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('defaults: only TABLE_NAME needed', () => {
    expect(loadConfig({ TABLE_NAME: 'ses-identity-audit' })).toEqual({
      tableName: 'ses-identity-audit',
      retentionDays: undefined,
      writeConcurrency: DEFAULT_WRITE_CONCURRENCY,
      maxUncompressedBytes: DEFAULT_LIMITS.maxUncompressedBytes,
      maxRecordBytes: DEFAULT_LIMITS.maxRecordBytes,
      expectedBucketOwner: undefined,
      keepReadOnly: true,
      keepDataEvents: true,
      ledgerTableName: undefined,
      readOnlyRetentionDays: undefined,
      alertSeverity: 'high',
      alertEventBus: 'default',
      publicKeysFile: undefined,
      reconcileEveryHours: 1,
    });
  });

  it('reads every setting, trimming whitespace', () => {
    const config = loadConfig({
      TABLE_NAME: ' audit.table_1 ',
      RETENTION_DAYS: '400',
      WRITE_CONCURRENCY: ' 3 ',
      MAX_UNCOMPRESSED_BYTES: '104857600',
      MAX_RECORD_BYTES: '524288',
      EXPECTED_BUCKET_OWNER: '111122223333',
      KEEP_READ_ONLY: 'false',
      KEEP_DATA_EVENTS: 'No',
      LEDGER_TABLE_NAME: 'audit-ledger',
      READ_ONLY_RETENTION_DAYS: '30',
      ALERT_SEVERITY: ' Medium ',
      ALERT_EVENT_BUS: 'arn:aws:events:us-east-1:111122223333:event-bus/security',
      CLOUDTRAIL_PUBLIC_KEYS: '/etc/keys.json',
      RECONCILE_EVERY_HOURS: '3',
    });
    expect(config).toEqual({
      tableName: 'audit.table_1',
      retentionDays: 400,
      writeConcurrency: 3,
      maxUncompressedBytes: 104_857_600,
      maxRecordBytes: 524_288,
      expectedBucketOwner: '111122223333',
      keepReadOnly: false,
      keepDataEvents: false,
      ledgerTableName: 'audit-ledger',
      readOnlyRetentionDays: 30,
      alertSeverity: 'medium',
      alertEventBus: 'arn:aws:events:us-east-1:111122223333:event-bus/security',
      publicKeysFile: '/etc/keys.json',
      reconcileEveryHours: 3,
    });
  });

  it('ALERT_SEVERITY: off turns alerts off; anything but a severity is refused', () => {
    expect(loadConfig({ TABLE_NAME: 't12', ALERT_SEVERITY: 'OFF' }).alertSeverity).toBe('off');
    expect(() => loadConfig({ TABLE_NAME: 't12', ALERT_SEVERITY: 'critical' })).toThrow(/ALERT_SEVERITY="critical" must be high, medium, low or off/);
  });

  it.each([
    ['true', true],
    ['1', true],
    ['YES', true],
    ['false', false],
    ['0', false],
    ['no', false],
  ])('boolean %j -> %s', (raw, value) => {
    expect(loadConfig({ TABLE_NAME: 'tbl', KEEP_READ_ONLY: raw }).keepReadOnly).toBe(value);
  });

  it('RETENTION_DAYS=0 means keep forever; empty values mean the default', () => {
    expect(loadConfig({ TABLE_NAME: 'tbl', RETENTION_DAYS: '0' }).retentionDays).toBeUndefined();
    expect(loadConfig({ TABLE_NAME: 'tbl', RETENTION_DAYS: '', WRITE_CONCURRENCY: '  ', EXPECTED_BUCKET_OWNER: '' })).toMatchObject({
      retentionDays: undefined,
      writeConcurrency: DEFAULT_WRITE_CONCURRENCY,
      expectedBucketOwner: undefined,
    });
  });

  it('missing TABLE_NAME is an error that says what it is for', () => {
    const err = configError({});
    expect(err.message).toBe('invalid configuration: TABLE_NAME is required (the DynamoDB table to write to)');
    expect(err.retryable).toBe(false);
  });

  it('TABLE_NAME may be left out when not required (CLI dry runs)', () => {
    expect(loadConfig({}, { requireTable: false }).tableName).toBe('');
    // ...but every other problem is still reported.
    expect(configError({ WRITE_CONCURRENCY: '0' }, { requireTable: false }).message).toMatch(/WRITE_CONCURRENCY="0"/);
  });

  it('one message names every problem', () => {
    const err = configError({
      TABLE_NAME: 'no spaces allowed',
      RETENTION_DAYS: '-5',
      WRITE_CONCURRENCY: 'eight',
      MAX_UNCOMPRESSED_BYTES: '1e9',
      MAX_RECORD_BYTES: '12',
      EXPECTED_BUCKET_OWNER: 'arn:aws:iam::111122223333:root',
      KEEP_READ_ONLY: 'maybe',
      KEEP_DATA_EVENTS: 'y',
    });
    const parts = err.message.replace(/^invalid configuration: /, '').split('; ');
    expect(parts).toHaveLength(8);
    expect(err.message).toContain('TABLE_NAME="no spaces allowed" is not a valid DynamoDB table name');
    expect(err.message).toContain('EXPECTED_BUCKET_OWNER="arn:aws:iam::111122223333:root" must be a 12-digit AWS account ID');
    expect(err.message).toContain('RETENTION_DAYS="-5" must be a whole number from 0 to 36500');
    expect(err.message).toContain('WRITE_CONCURRENCY="eight" must be a whole number from 1 to 256');
    expect(err.message).toContain('MAX_UNCOMPRESSED_BYTES="1e9" must be a whole number');
    expect(err.message).toContain('MAX_RECORD_BYTES="12" must be a whole number from 1024');
    expect(err.message).toContain('KEEP_READ_ONLY="maybe" must be true or false');
    expect(err.message).toContain('KEEP_DATA_EVENTS="y" must be true or false');
    expect(err.message).not.toMatch(/\n/);
  });

  it('missing TABLE_NAME and bad numbers and a bad owner together', () => {
    const err = configError({ WRITE_CONCURRENCY: '300', RETENTION_DAYS: '3.5', EXPECTED_BUCKET_OWNER: '11112222333' });
    for (const name of ['TABLE_NAME is required', 'WRITE_CONCURRENCY="300"', 'RETENTION_DAYS="3.5"', 'EXPECTED_BUCKET_OWNER="11112222333"']) {
      expect(err.message).toContain(name);
    }
  });

  it.each([
    ['WRITE_CONCURRENCY', '0'],
    ['WRITE_CONCURRENCY', '257'],
    ['WRITE_CONCURRENCY', '+4'],
    ['WRITE_CONCURRENCY', '0x10'],
    ['RETENTION_DAYS', '36501'],
    ['MAX_RECORD_BYTES', '1023'],
    ['MAX_UNCOMPRESSED_BYTES', '1023'],
  ])('%s=%j is out of range or not a whole number', (name, raw) => {
    expect(configError({ TABLE_NAME: 'tbl', [name]: raw }).message).toContain(`${name}=${JSON.stringify(raw)} must be a whole number`);
  });

  it.each(['ab', 'a'.repeat(256), 'tbl/name', 'tábla'])('TABLE_NAME=%j is refused', (name) => {
    expect(configError({ TABLE_NAME: name }).message).toContain('is not a valid DynamoDB table name');
  });

  it('ENV lists the variables loadConfig reads', () => {
    expect(Object.values(ENV).sort()).toEqual(
      [
        'ALERT_EVENT_BUS',
        'ALERT_SEVERITY',
        'CLOUDTRAIL_PUBLIC_KEYS',
        'LEDGER_TABLE_NAME',
        'READ_ONLY_RETENTION_DAYS',
        'RECONCILE_EVERY_HOURS',
        'EXPECTED_BUCKET_OWNER',
        'KEEP_DATA_EVENTS',
        'KEEP_READ_ONLY',
        'MAX_RECORD_BYTES',
        'MAX_UNCOMPRESSED_BYTES',
        'RETENTION_DAYS',
        'TABLE_NAME',
        'WRITE_CONCURRENCY',
      ].sort(),
    );
  });
});
