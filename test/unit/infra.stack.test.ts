/**
 * The synthesized CloudFormation of the stack: the default and each setting. Each describe synthesizes once
 * (synthesis takes seconds) and its tests share the template.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { FEATURE_FLAGS } from '../../infra/feature-flags.js';
import type { SettingsInput } from '../../infra/settings.js';
import { SesAuditStack } from '../../infra/stack.js';
import { ENV } from '../../src/config.js';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../../src/observability.js';
import { DEFAULT_TABLE_NAME, INDEX_LIST, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../../src/store/schema.js';

const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// any: raw CloudFormation JSON, whose shape the assertions themselves check.
type Json = Record<string, any>;

/** A stand-in for dist/: the handler bundle plus what must stay out of the deployment package. */
function fakeDist(): string {
  const dir = tempDir('ses-audit-dist-');
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async () => ({});\n');
  writeFileSync(join(dir, 'handler.mjs.map'), '{}');
  writeFileSync(join(dir, 'cli.mjs'), '#!/usr/bin/env node\n');
  writeFileSync(join(dir, 'cli.mjs.map'), '{}');
  return dir;
}

interface Synth {
  template: Template;
  stack: SesAuditStack;
  outdir: string;
  json: Json;
}

function synth(context: Record<string, unknown> = {}): Synth {
  const outdir = tempDir('ses-audit-cdk-');
  const { stack } = buildApp({ context, outdir, codeDirectory: fakeDist() });
  const template = Template.fromStack(stack);
  return { template, stack, outdir, json: template.toJSON() };
}

function resourcesOf(json: Json, type: string): [string, Json][] {
  return Object.entries(json.Resources as Json).filter(([, r]) => r.Type === type) as [string, Json][];
}

const asArray = <T>(v: T | T[]): T[] => (Array.isArray(v) ? v : [v]);

/** Every Allow statement of every IAM policy (managed, inline, role inline) in the template. */
function iamStatements(json: Json): Json[] {
  const docs: Json[] = [
    ...resourcesOf(json, 'AWS::IAM::Policy').map(([, r]) => r.Properties.PolicyDocument),
    ...resourcesOf(json, 'AWS::IAM::ManagedPolicy').map(([, r]) => r.Properties.PolicyDocument),
    ...resourcesOf(json, 'AWS::IAM::Role').flatMap(([, r]) => (r.Properties.Policies ?? []).map((p: Json) => p.PolicyDocument)),
  ];
  return docs.flatMap((d) => asArray(d.Statement)).filter((s) => s.Effect === 'Allow');
}

function logicalId(json: Json, type: string, predicate: (r: Json) => boolean = () => true): string {
  const found = resourcesOf(json, type).filter(([, r]) => predicate(r));
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0][0];
}

/** The statements of the function's own role. */
function functionStatements(s: Synth): Json[] {
  const roleId = s.stack.getLogicalId(s.stack.function.role!.node.defaultChild as never);
  return resourcesOf(s.json, 'AWS::IAM::Policy')
    .filter(([, r]) => asArray(r.Properties.Roles).some((ref: Json) => ref.Ref === roleId))
    .flatMap(([, r]) => asArray(r.Properties.PolicyDocument.Statement));
}

function alarm(json: Json, id: string): Json {
  const found = Object.entries(json.Resources as Json).filter(
    ([k, r]) => r.Type === 'AWS::CloudWatch::Alarm' && k.startsWith(id),
  );
  expect(found, `alarm ${id}`).toHaveLength(1);
  return found[0][1].Properties;
}

/** The notification configurations of the stack's one Custom::S3BucketNotifications, with sorted filter rules. */
function notifications(json: Json): { lambda: Json[]; queue: Json[]; props: Json } {
  const [[, custom], ...rest] = resourcesOf(json, 'Custom::S3BucketNotifications');
  expect(rest).toHaveLength(0);
  const sortRules = (c: Json): Json => ({
    ...c,
    rules: [...c.Filter.Key.FilterRules].sort((a: Json, b: Json) => a.Name.localeCompare(b.Name)),
  });
  const config = custom.Properties.NotificationConfiguration;
  return {
    lambda: (config.LambdaFunctionConfigurations ?? []).map(sortRules),
    queue: (config.QueueConfigurations ?? []).map(sortRules),
    props: custom.Properties,
  };
}

function commonChecks(get: () => Synth): void {
  it('has the table: keys and indexes from the schema, on-demand, TTL, PITR, deletion protection, retained', () => {
    const { template } = get();
    template.resourceCountIs('AWS::DynamoDB::Table', 1);
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      UpdateReplacePolicy: 'Retain',
      Properties: {
        TableName: DEFAULT_TABLE_NAME,
        BillingMode: 'PAY_PER_REQUEST',
        KeySchema: [
          { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
          { AttributeName: SORT_KEY, KeyType: 'RANGE' },
        ],
        AttributeDefinitions: Match.arrayWith([{ AttributeName: PARTITION_KEY, AttributeType: 'S' }]),
        GlobalSecondaryIndexes: INDEX_LIST.map((i) => ({
          IndexName: i.name,
          KeySchema: [
            { AttributeName: i.partitionKey, KeyType: 'HASH' },
            { AttributeName: i.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
      },
    });
    // Every key attribute is declared as a string, and nothing else is.
    const [, table] = resourcesOf(get().json, 'AWS::DynamoDB::Table')[0];
    const declared = (table.Properties.AttributeDefinitions as Json[]).map((a) => `${a.AttributeName}:${a.AttributeType}`).sort();
    const keys = [...new Set([PARTITION_KEY, SORT_KEY, ...INDEX_LIST.flatMap((i) => [i.partitionKey, i.sortKey])])];
    expect(declared).toEqual(keys.map((k) => `${k}:S`).sort());
  });

  it('grants no wildcard action anywhere, and only writes on the table', () => {
    const s = get();
    for (const st of iamStatements(s.json)) {
      for (const action of asArray(st.Action as string | string[])) expect(action, JSON.stringify(st)).not.toContain('*');
    }
    const tableId = logicalId(s.json, 'AWS::DynamoDB::Table');
    const onTable = iamStatements(s.json).filter((st) => JSON.stringify(st.Resource).includes(tableId));
    expect(onTable).toHaveLength(1);
    expect([...asArray(onTable[0].Action)].sort()).toEqual(['dynamodb:BatchWriteItem', 'dynamodb:PutItem']);
    expect(onTable[0].Resource).toEqual({ 'Fn::GetAtt': [tableId, 'Arn'] });
    const allActions = iamStatements(s.json).flatMap((st) => asArray(st.Action as string | string[]));
    expect(allActions.filter((a) => /^dynamodb:(Delete|Scan|Update|Create|Query|Get)/.test(a))).toEqual([]);
  });

  it('gives the function its own role: no managed policies, logs only to its log group', () => {
    const s = get();
    const roleId = s.stack.getLogicalId(s.stack.function.role!.node.defaultChild as never);
    expect(s.json.Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const logGroupId = logicalId(s.json, 'AWS::Logs::LogGroup');
    const logs = functionStatements(s).filter((st) => asArray(st.Action).some((a: string) => a.startsWith('logs:')));
    expect(logs).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
    ]);
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 90 });
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'handler.handler',
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
  });

  it('runs the bundle from dist/ only, without the CLI or the source maps', () => {
    const s = get();
    const assetDirs = readdirSync(s.outdir).filter((f) => f.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    expect(readdirSync(join(s.outdir, assetDirs[0])).sort()).toEqual(['handler.mjs']);
  });

  it('sends every alarm and its recovery to the alarm topic', () => {
    const s = get();
    const topicId = logicalId(s.json, 'AWS::SNS::Topic');
    for (const [, a] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    // The topic refuses publishers without TLS.
    s.template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('watches the function: errors, throttles, duration near the timeout', () => {
    const s = get();
    const fnId = s.stack.getLogicalId(s.stack.function.node.defaultChild as never);
    const timeoutMs = s.stack.settings.timeoutSeconds * 1000;
    expect(alarm(s.json, 'ErrorsAlarm')).toMatchObject({
      Namespace: 'AWS/Lambda',
      MetricName: 'Errors',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId } }],
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(alarm(s.json, 'ThrottlesAlarm')).toMatchObject({ MetricName: 'Throttles', Statistic: 'Sum', Threshold: 1 });
    expect(alarm(s.json, 'DurationAlarm')).toMatchObject({
      MetricName: 'Duration',
      Statistic: 'Maximum',
      Threshold: timeoutMs * 0.8,
      ComparisonOperator: 'GreaterThanThreshold',
    });
  });

  it("alarms when no file was processed for an hour, on the function's own EMF metric, missing data breaching", () => {
    expect(alarm(get().json, 'NoFilesProcessedAlarm')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: METRICS.filesProcessed,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Statistic: 'Sum',
      Period: 3600,
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    expect(alarm(get().json, 'FileFailuresAlarm')).toMatchObject({
      Namespace: METRIC_NAMESPACE,
      MetricName: METRICS.failures,
      Dimensions: [{ Name: 'service', Value: SERVICE_NAME }],
      Threshold: 1,
      TreatMissingData: 'notBreaching',
    });
  });

  it('alarms on any message in the failure queue', () => {
    const s = get();
    const queueId = s.stack.getLogicalId(s.stack.failureQueue.node.defaultChild as never);
    expect(alarm(s.json, 'FailedFilesAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('encrypts every queue and refuses non-TLS access to it', () => {
    const s = get();
    const queues = resourcesOf(s.json, 'AWS::SQS::Queue');
    expect(queues.length).toBeGreaterThan(0);
    for (const [id, q] of queues) {
      expect(q.Properties.SqsManagedSseEnabled, id).toBe(true);
      const policies = resourcesOf(s.json, 'AWS::SQS::QueuePolicy').filter(([, p]) =>
        asArray(p.Properties.Queues).some((r: Json) => r.Ref === id),
      );
      const denies = policies.flatMap(([, p]) => asArray(p.Properties.PolicyDocument.Statement)).filter(
        (st: Json) => st.Effect === 'Deny' && st.Condition?.Bool?.['aws:SecureTransport'] === 'false',
      );
      expect(denies, id).toHaveLength(1);
    }
  });
}

describe('default stack (no settings)', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth();
  });
  commonChecks(() => s);

  it('creates a multi-region trail with management events and log file validation', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    const bucketId = s.stack.getLogicalId(s.stack.trailBucket.node.defaultChild as never);
    s.template.hasResourceProperties('AWS::CloudTrail::Trail', {
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }],
      AdvancedEventSelectors: Match.absent(),
      S3KeyPrefix: Match.absent(),
      S3BucketName: { Ref: bucketId },
    });
  });

  it('keeps the trail bucket encrypted, private, TLS-only, versioned, logged, tiered and retained', () => {
    const bucketId = s.stack.getLogicalId(s.stack.trailBucket.node.defaultChild as never);
    const bucket = s.json.Resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: expect.stringMatching(/^AccessLogsBucket/) } },
    });
    const rule = bucket.Properties.LifecycleConfiguration.Rules[0];
    expect(rule.Transitions).toEqual([
      { StorageClass: 'STANDARD_IA', TransitionInDays: 30 },
      { StorageClass: 'GLACIER_IR', TransitionInDays: 90 },
    ]);
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: bucketId },
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          Match.objectLike({ Effect: 'Allow', Action: 's3:PutObject', Principal: { Service: 'cloudtrail.amazonaws.com' } }),
        ]),
      },
    });
    // The access log bucket is private and encrypted too.
    s.template.resourceCountIs('AWS::S3::Bucket', 2);
    s.template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      LifecycleConfiguration: { Rules: [Match.objectLike({ ExpirationInDays: 365 })] },
    });
  });

  it('runs the function with the default size and its environment', () => {
    const tableId = logicalId(s.json, 'AWS::DynamoDB::Table');
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      Handler: 'handler.handler',
      MemorySize: 256,
      Timeout: 300,
      ReservedConcurrentExecutions: Match.absent(),
      Environment: {
        Variables: {
          [ENV.tableName]: { Ref: tableId },
          [ENV.expectedBucketOwner]: { Ref: 'AWS::AccountId' },
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        },
      },
    });
    const fnId = s.stack.getLogicalId(s.stack.function.node.defaultChild as never);
    const env = s.json.Resources[fnId].Properties.Environment.Variables;
    expect(env[ENV.retentionDays]).toBeUndefined();
  });

  it('lets the function read only log files under AWSLogs/ of the trail bucket', () => {
    const bucketId = s.stack.getLogicalId(s.stack.trailBucket.node.defaultChild as never);
    const reads = functionStatements(s).filter((st) => asArray(st.Action).some((a: string) => a.startsWith('s3:')));
    expect(reads).toEqual([
      {
        Sid: 'ReadTrailLogFiles',
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/AWSLogs/*']] },
      },
    ]);
    expect(functionStatements(s).filter((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual([]);
  });

  it('is triggered by S3 directly for .json.gz objects under AWSLogs/', () => {
    const bucketId = s.stack.getLogicalId(s.stack.trailBucket.node.defaultChild as never);
    const fnId = s.stack.getLogicalId(s.stack.function.node.defaultChild as never);
    const n = notifications(s.json);
    expect(n.props).toMatchObject({ BucketName: { Ref: bucketId }, Managed: true });
    expect(n.queue).toEqual([]);
    expect(n.lambda).toHaveLength(1);
    expect(n.lambda[0]).toMatchObject({
      Events: ['s3:ObjectCreated:*'],
      LambdaFunctionArn: { 'Fn::GetAtt': [fnId, 'Arn'] },
      rules: [
        { Name: 'prefix', Value: 'AWSLogs/' },
        { Name: 'suffix', Value: '.json.gz' },
      ],
    });
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 's3.amazonaws.com',
      SourceAccount: { Ref: 'AWS::AccountId' },
      SourceArn: { 'Fn::GetAtt': [bucketId, 'Arn'] },
    });
    s.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });

  it('retries a failed invocation twice, then sends it to the failure queue', () => {
    const queueId = s.stack.getLogicalId(s.stack.failureQueue.node.defaultChild as never);
    s.template.resourceCountIs('AWS::SQS::Queue', 1);
    s.template.hasResourceProperties('AWS::SQS::Queue', { MessageRetentionPeriod: 14 * 24 * 3600 });
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      MaximumEventAgeInSeconds: 6 * 3600,
      Qualifier: '$LATEST',
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    // The function may send to that queue (and only that one).
    const sends = functionStatements(s).filter((st) => asArray(st.Action).includes('sqs:SendMessage'));
    expect(sends).toHaveLength(1);
    expect(sends[0].Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
  });

  it('has six alarms, an alarm topic and no email subscription', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 6);
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('outputs what operators need', () => {
    for (const name of ['TableName', 'FunctionName', 'FunctionArn', 'TrailBucketName', 'FailureQueueUrl', 'FailureQueueArn', 'AlarmTopicArn']) {
      s.template.hasOutput(name, {});
    }
  });
});

describe('attached to an existing trail bucket, SQS-buffered, SSE-KMS, custom prefix', () => {
  const keyArn = 'arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-1111-2222-3333-444455556666';
  let s: Synth;
  beforeAll(() => {
    s = synth({
      trailBucketName: 'org-trail-logs',
      trailBucketKmsKeyArn: keyArn,
      keyPrefix: 'audit logs/',
      trigger: 'sqs',
    });
  });
  commonChecks(() => s);

  it('creates no trail and no bucket, and leaves the bucket’s other notifications alone', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    s.template.resourceCountIs('AWS::S3::Bucket', 0);
    s.template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    s.template.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: 'org-trail-logs', Managed: false });
  });

  it('notifies the queue for .json.gz objects under the encoded prefix', () => {
    const queueId = s.stack.getLogicalId(s.stack.queue!.node.defaultChild as never);
    const n = notifications(s.json);
    expect(n.lambda).toEqual([]);
    expect(n.queue).toHaveLength(1);
    expect(n.queue[0]).toMatchObject({
      Events: ['s3:ObjectCreated:*'],
      QueueArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      rules: [
        { Name: 'prefix', Value: 'audit+logs/AWSLogs/' },
        { Name: 'suffix', Value: '.json.gz' },
      ],
    });
    // S3 may send to the queue, only for this bucket.
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 's3.amazonaws.com' },
            Action: Match.arrayWith(['sqs:SendMessage']),
            Condition: { ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::org-trail-logs']] } } },
          }),
        ]),
      },
    });
  });

  it('buffers in a queue with a DLQ and reads it with partial batch failures', () => {
    const queueId = s.stack.getLogicalId(s.stack.queue!.node.defaultChild as never);
    const dlqId = s.stack.getLogicalId(s.stack.failureQueue.node.defaultChild as never);
    s.template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(s.json.Resources[queueId].Properties).toMatchObject({
      VisibilityTimeout: 6 * 300,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    expect(s.json.Resources[dlqId].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // Synchronous polling: no async retry settings or destinations.
    s.template.resourceCountIs('AWS::Lambda::EventInvokeConfig', 0);
    const consume = functionStatements(s).filter((st) => asArray(st.Action).includes('sqs:ReceiveMessage'));
    expect(consume).toHaveLength(1);
    expect(consume[0].Resource).toEqual({ 'Fn::GetAtt': [queueId, 'Arn'] });
  });

  it('reads only the prefix of that bucket and decrypts only with that key, through S3', () => {
    const statements = functionStatements(s);
    expect(statements.filter((st) => st.Sid === 'ReadTrailLogFiles')).toEqual([
      {
        Sid: 'ReadTrailLogFiles',
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::org-trail-logs/audit logs/AWSLogs/*']] },
      },
    ]);
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual([
      {
        Sid: 'DecryptTrailLogFiles',
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: keyArn,
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
    ]);
  });

  it('alarms on the dead-letter queue and on the queue backlog', () => {
    const dlqId = s.stack.getLogicalId(s.stack.failureQueue.node.defaultChild as never);
    const queueId = s.stack.getLogicalId(s.stack.queue!.node.defaultChild as never);
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 7);
    expect(alarm(s.json, 'FailedFilesAlarm').Dimensions).toEqual([
      { Name: 'QueueName', Value: { 'Fn::GetAtt': [dlqId, 'QueueName'] } },
    ]);
    expect(alarm(s.json, 'QueueBacklogAlarm')).toMatchObject({
      MetricName: 'ApproximateAgeOfOldestMessage',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      ComparisonOperator: 'GreaterThanThreshold',
    });
    s.template.hasOutput('QueueUrl', {});
  });
});

describe('created trail with SES data events, a prefix, retention, alarm email and sizing', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({
      sesDataEvents: 'true',
      keyPrefix: 'ses',
      retentionDays: '400',
      alarmEmail: 'ops@example.com',
      memoryMb: '512',
      timeoutSeconds: '120',
      reservedConcurrency: '5',
      keepReadOnly: 'false',
      keepDataEvents: 'true',
      logRetentionDays: '30',
      idleAlarmHours: '3',
      tableName: 'ses-audit-test',
    });
  });

  it('logs management events and SES data events with advanced selectors, one resource type each', () => {
    s.template.hasResourceProperties('AWS::CloudTrail::Trail', {
      EventSelectors: Match.absent(),
      S3KeyPrefix: 'ses',
      EnableLogFileValidation: true,
      IsMultiRegionTrail: true,
      AdvancedEventSelectors: [
        { Name: 'Management events', FieldSelectors: [{ Field: 'eventCategory', Equals: ['Management'] }] },
        ...['AWS::SES::EmailIdentity', 'AWS::SES::ConfigurationSet', 'AWS::SES::Template'].map((type) => ({
          Name: `SES data events: ${type}`,
          FieldSelectors: [
            { Field: 'eventCategory', Equals: ['Data'] },
            { Field: 'resources.type', Equals: [type] },
          ],
        })),
      ],
    });
  });

  it('uses the prefix for the trail, its bucket policy, the notification and the read grant', () => {
    const bucketId = s.stack.getLogicalId(s.stack.trailBucket.node.defaultChild as never);
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: 's3:PutObject',
            Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/ses/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*']] },
          }),
        ]),
      },
    });
    expect(notifications(s.json).lambda[0].rules).toEqual([
      { Name: 'prefix', Value: 'ses/AWSLogs/' },
      { Name: 'suffix', Value: '.json.gz' },
    ]);
    expect(functionStatements(s).find((st) => st.Sid === 'ReadTrailLogFiles')?.Resource).toEqual({
      'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/ses/AWSLogs/*']],
    });
  });

  it('passes the settings to the function', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Timeout: 120,
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: Match.objectLike({
          [ENV.retentionDays]: '400',
          [ENV.keepReadOnly]: 'false',
          [ENV.keepDataEvents]: 'true',
        }),
      },
    });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ses-audit-test' });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('scales the alarms with the settings and subscribes the email', () => {
    expect(alarm(s.json, 'DurationAlarm').Threshold).toBe(96_000);
    expect(alarm(s.json, 'NoFilesProcessedAlarm').Period).toBe(3 * 3600);
    const topicId = logicalId(s.json, 'AWS::SNS::Topic');
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
  });
});

describe('SQS wiring with its own sizes', () => {
  it('keeps the visibility timeout at six times the function timeout and uses the batch and receive settings', () => {
    const app = new App({ context: FEATURE_FLAGS, outdir: tempDir('ses-audit-cdk-') });
    const settings: SettingsInput = { trigger: 'sqs', timeoutSeconds: 60, sqsBatchSize: 10, maxReceiveCount: 8 };
    const stack = new SesAuditStack(app, 'Props', { settings, codeDirectory: fakeDist() });
    const template = Template.fromStack(stack);
    template.hasResourceProperties('AWS::SQS::Queue', {
      VisibilityTimeout: 360,
      RedrivePolicy: Match.objectLike({ maxReceiveCount: 8 }),
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
  });
});

describe('the app', () => {
  it('names the stack from the settings and stays environment-agnostic (synthesizes offline, no lookups)', () => {
    const { stack } = buildApp({ context: { stackName: 'SesAuditProd' }, codeDirectory: fakeDist() });
    expect(stack.stackName).toBe('SesAuditProd');
    expect(Token.isUnresolved(stack.account)).toBe(true);
    expect(Token.isUnresolved(stack.region)).toBe(true);
  });
});

describe('build errors', () => {
  it('refuses to synthesize without the handler bundle', () => {
    const app = new App({ context: FEATURE_FLAGS });
    const empty = tempDir('ses-audit-empty-');
    expect(() => new SesAuditStack(app, 'NoCode', { codeDirectory: empty })).toThrow(/handler\.mjs not found: run `npm run build`/);
  });

  it('refuses invalid settings before building anything', () => {
    expect(() => buildApp({ context: { trigger: 'sqs', keyPrefix: 'a*' }, codeDirectory: fakeDist() })).toThrow(/keyPrefix/);
  });
});
