import { describe, expect, it } from 'vitest';
import { contextFromArgs } from '../../infra/app.js';
import {
  DEFAULTS,
  logKeyPrefix,
  notificationFilterPrefix,
  resolveSettings,
  SettingsError,
  settingsFromContext,
  type SettingsInput,
  type Trigger,
} from '../../infra/settings.js';
import { DEFAULT_TABLE_NAME } from '../../src/store/schema.js';

describe('resolveSettings', () => {
  it('gives the complete default with no settings', () => {
    expect(resolveSettings()).toEqual({
      stackName: 'SesAudit',
      tableName: DEFAULT_TABLE_NAME,
      trailBucketName: undefined,
      trailBucketKmsKeyArn: undefined,
      keyPrefix: '',
      retentionDays: undefined,
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
    });
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
    [{ trigger: 'eventbridge' as Trigger }, /trigger="eventbridge" must be direct or sqs/],
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
