import { describe, expect, it } from 'vitest';
import { contextFromArgs } from '../../infra/app.js';
import {
  DEFAULTS,
  logKeyPrefix,
  notificationFilterPrefix,
  resolveSettings,
  SettingsError,
  settingsFromContext,
  type AlertSeverity,
  type SettingsInput,
  type Trigger,
} from '../../infra/settings.js';
import { DEFAULT_LEDGER_TABLE_NAME, DEFAULT_TABLE_NAME } from '../../src/store/schema.js';

describe('resolveSettings', () => {
  it('gives the complete default with no settings', () => {
    expect(resolveSettings()).toEqual({
      stackName: 'SesAudit',
      tableName: DEFAULT_TABLE_NAME,
      ledgerTableName: DEFAULT_LEDGER_TABLE_NAME,
      trailBucketName: undefined,
      trailBucketKmsKeyArn: undefined,
      keyPrefix: '',
      retentionDays: undefined,
      readOnlyRetentionDays: undefined,
      trigger: 'direct',
      sqsBatchSize: 1,
      maxReceiveCount: 5,
      sesDataEvents: false,
      alarmEmail: undefined,
      memoryMb: 256,
      timeoutSeconds: 300,
      reservedConcurrency: undefined,
      logRetentionDays: 90,
      idleAlarmHours: 1,
      keepReadOnly: undefined,
      keepDataEvents: undefined,
      reconcileEveryHours: 1,
      alertSeverity: 'high',
      alertEventBusName: 'default',
    });
  });

  it('takes the new settings', () => {
    expect(
      resolveSettings({
        trigger: 'eventbridge',
        ledgerTableName: 'my-ledger',
        reconcileEveryHours: 0,
        alertSeverity: 'MEDIUM' as AlertSeverity,
        alertEventBusName: 'security/alerts',
        retentionDays: 400,
        readOnlyRetentionDays: 30,
        timeoutSeconds: 30,
      }),
    ).toMatchObject({
      trigger: 'eventbridge',
      ledgerTableName: 'my-ledger',
      reconcileEveryHours: 0,
      alertSeverity: 'medium',
      alertEventBusName: 'security/alerts',
      retentionDays: 400,
      readOnlyRetentionDays: 30,
      timeoutSeconds: 30,
    });
    expect(resolveSettings({ alertSeverity: 'off' }).alertSeverity).toBe('off');
    expect(resolveSettings({ readOnlyRetentionDays: 7 }).readOnlyRetentionDays).toBe(7);
  });

  it('says why the timeout must be at least 30 s', () => {
    expect(() => resolveSettings({ timeoutSeconds: 29 })).toThrow(
      'timeoutSeconds=29 must be a whole number from 30 to 900: the function starts a file only with 10 s left and keeps 3 s to finish its writes',
    );
  });

  it('strips slashes around the key prefix', () => {
    expect(resolveSettings({ keyPrefix: '/audit/logs/' }).keyPrefix).toBe('audit/logs');
  });

  it.each<[SettingsInput, RegExp]>([
    [{ trailBucketKmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab' }, /needs trailBucketName/],
    [{ trailBucketName: 'b-1', trailBucketKmsKeyArn: 'alias/aws/s3' }, /must be a KMS key ARN/],
    [{ trailBucketName: 'Not_A_Bucket' }, /not a valid S3 bucket name/],
    [{ trailBucketName: 'my-bucket', sesDataEvents: true }, /sesDataEvents applies only to the trail this stack creates/],
    [{ sqsBatchSize: 5 }, /sqsBatchSize applies only with trigger=sqs/],
    [{ trigger: 'sqs', sqsBatchSize: 11 }, /sqsBatchSize=11 must be a whole number from 1 to 10/],
    [{ trigger: 'lambda' as Trigger }, /trigger="lambda" must be direct, sqs, eventbridge/],
    [{ trigger: 'eventbridge', maxReceiveCount: 3 }, /maxReceiveCount applies only with trigger=sqs/],
    [{ timeoutSeconds: 10 }, /timeoutSeconds=10 must be a whole number from 30 to 900/],
    [{ ledgerTableName: 'x' }, /ledgerTableName="x" is not a valid DynamoDB table name/],
    [{ tableName: 'audit', ledgerTableName: 'audit' }, /ledgerTableName="audit" must differ from tableName/],
    [{ reconcileEveryHours: 25 }, /reconcileEveryHours=25 must be a whole number from 0 to 24/],
    [{ reconcileEveryHours: 1.5 }, /reconcileEveryHours=1.5 /],
    [{ alertSeverity: 'critical' as AlertSeverity }, /alertSeverity="critical" must be high, medium, low, off/],
    [{ alertEventBusName: 'arn:aws:events:us-east-1:111122223333:event-bus/x' }, /must be the name of an event bus in this account and region/],
    [{ alertEventBusName: '' }, /alertEventBusName="" must be the name/],
    [{ alertSeverity: 'off', alertEventBusName: 'sec' }, /alertEventBusName has no effect with alertSeverity=off/],
    [{ readOnlyRetentionDays: 0 }, /readOnlyRetentionDays=0 must be a whole number from 1 to 36500/],
    [{ retentionDays: 30, readOnlyRetentionDays: 90 }, /readOnlyRetentionDays=90 must not exceed retentionDays=30/],
    [{ keepReadOnly: false, readOnlyRetentionDays: 7 }, /readOnlyRetentionDays has no effect with keepReadOnly=false/],
    [{ keyPrefix: 'logs/*' }, /must not contain/],
    [{ keyPrefix: 'a/${aws:username}' }, /must not contain/],
    [{ keyPrefix: 'team/AWSLogs' }, /without AWSLogs itself/],
    [{ timeoutSeconds: 901 }, /timeoutSeconds=901/],
    [{ memoryMb: 64 }, /memoryMb=64/],
    [{ retentionDays: 0 }, /retentionDays=0/],
    [{ logRetentionDays: 42 }, /logRetentionDays=42 must be one of/],
    [{ alarmEmail: 'ops' }, /not an email address/],
    [{ tableName: 'a b' }, /not a valid DynamoDB table name/],
    [{ idleAlarmHours: 25 }, /idleAlarmHours=25/],
  ])('refuses %j', (input, message) => {
    expect(() => resolveSettings(input)).toThrow(SettingsError);
    expect(() => resolveSettings(input)).toThrow(message);
  });

  it('names every problem at once', () => {
    const run = () => resolveSettings({ memoryMb: 1, timeoutSeconds: 0 });
    expect(run).toThrow(/memoryMb=1 /);
    expect(run).toThrow(/timeoutSeconds=0 /);
  });
});

describe('settingsFromContext', () => {
  it('reads -c strings into typed settings', () => {
    expect(
      settingsFromContext({
        trailBucketName: ' my-trail-bucket ',
        retentionDays: '30',
        sesDataEvents: 'true',
        keepReadOnly: 'no',
        trigger: 'sqs',
      }),
    ).toEqual({ trailBucketName: 'my-trail-bucket', retentionDays: 30, sesDataEvents: true, keepReadOnly: false, trigger: 'sqs' });
  });

  it('reads the new settings from -c strings', () => {
    expect(
      settingsFromContext({
        ledgerTableName: 'ledger',
        reconcileEveryHours: '0',
        readOnlyRetentionDays: '14',
        alertSeverity: 'low',
        alertEventBusName: 'sec',
        trigger: 'eventbridge',
      }),
    ).toEqual({
      ledgerTableName: 'ledger',
      reconcileEveryHours: 0,
      readOnlyRetentionDays: 14,
      alertSeverity: 'low',
      alertEventBusName: 'sec',
      trigger: 'eventbridge',
    });
    expect(() => settingsFromContext({ reconcileEveryHours: 'hourly' })).toThrow(/reconcileEveryHours="hourly" must be a whole number/);
  });

  it('accepts real numbers and booleans from cdk.json', () => {
    expect(settingsFromContext({ memoryMb: 512, sesDataEvents: false })).toEqual({ memoryMb: 512, sesDataEvents: false });
  });

  it("ignores CDK's own context keys and refuses unknown setting-like keys", () => {
    expect(settingsFromContext({ '@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy': true, 'aws:cdk:version-reporting': false })).toEqual({});
    expect(() => settingsFromContext({ bucketName: 'x' })).toThrow(/unknown setting "bucketName"/);
  });

  it('refuses values of the wrong type', () => {
    expect(() => settingsFromContext({ retentionDays: '30d' })).toThrow(/retentionDays="30d" must be a whole number/);
    expect(() => settingsFromContext({ sesDataEvents: 'maybe' })).toThrow(/must be true or false/);
    expect(() => settingsFromContext({ alarmEmail: 42 })).toThrow(/alarmEmail must be a string/);
  });
});

describe('key prefixes', () => {
  it('is AWSLogs/ without a prefix', () => {
    expect(logKeyPrefix({ keyPrefix: '' })).toBe('AWSLogs/');
    expect(notificationFilterPrefix({ keyPrefix: '' })).toBe('AWSLogs/');
  });

  it('writes a space as + and percent-encodes other special characters in the notification filter', () => {
    expect(logKeyPrefix({ keyPrefix: 'my logs/a&b' })).toBe('my logs/a&b/AWSLogs/');
    expect(notificationFilterPrefix({ keyPrefix: 'my logs/a&b' })).toBe('my+logs/a%26b/AWSLogs/');
    expect(notificationFilterPrefix({ keyPrefix: 'x+y=z~(1)' })).toBe('x%2By%3Dz%7E(1)/AWSLogs/');
  });
});

describe('contextFromArgs', () => {
  it('parses -c and --context pairs, keeping = in values', () => {
    expect(contextFromArgs(['-c', 'trigger=sqs', '--context', 'keyPrefix=a=b', '--context=memoryMb=512'])).toEqual({
      trigger: 'sqs',
      keyPrefix: 'a=b',
      memoryMb: '512',
    });
  });

  it('refuses anything else', () => {
    expect(() => contextFromArgs(['trigger=sqs'])).toThrow(/-c key=value/);
    expect(() => contextFromArgs(['-c'])).toThrow(/needs key=value/);
    expect(() => contextFromArgs(['-c', '=x'])).toThrow(/needs key=value/);
  });
});

it('keeps the defaults the README documents', () => {
  expect(DEFAULTS).toMatchObject({ memoryMb: 256, timeoutSeconds: 300, maxReceiveCount: 5, sqsBatchSize: 1 });
});
