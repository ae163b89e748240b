/**
 * The synthesized CloudFormation of the stack (the SesAudit construct in the app's stack): the default and
 * each setting. Each describe synthesizes once (synthesis takes seconds) and its tests share the template.
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { FEATURE_FLAGS } from '../../infra/feature-flags.js';
import type { SettingsInput } from '../../infra/settings.js';
import { SesAuditStack } from '../../infra/stack.js';
import { ENV } from '../../src/config.js';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../../src/observability.js';
import {
  DEFAULT_LEDGER_TABLE_NAME,
  DEFAULT_TABLE_NAME,
  INDEX_LIST,
  LEDGER_PARTITION_KEY,
  LEDGER_SORT_KEY,
  PARTITION_KEY,
  projectionInput,
  SORT_KEY,
  TTL_ATTRIBUTE,
} from '../../src/store/schema.js';


// Synthesis loads much of aws-cdk-lib: tens of seconds on a busy two-core machine, more than the default allows.
vi.setConfig({ testTimeout: 180_000, hookTimeout: 180_000 });
const tempDirs: string[] = [];
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
});

// biome-ignore lint/suspicious/noExplicitAny: raw CloudFormation JSON (a boundary); the assertions check its shape.
type Json = Record<string, any>;

/** A stand-in for dist/: the handler bundle plus what must stay out of the deployment package. */
function fakeDist(): string {
  const dir = tempDir('ses-audit-dist-');
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async () => ({});\n');
  writeFileSync(join(dir, 'handler.mjs.map'), '{}');
  writeFileSync(join(dir, 'cli.mjs'), '#!/usr/bin/env node\n');
  writeFileSync(join(dir, 'cli.mjs.map'), '{}');
  writeFileSync(join(dir, 'cdk.mjs'), 'export {};\n');
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

/** The logical ID of an L2 construct's resource. */
function idOf(s: Synth, construct: { node: { defaultChild?: unknown } }): string {
  return s.stack.getLogicalId(construct.node.defaultChild as never);
}

/** The statements of the function's own role. */
function functionStatements(s: Synth): Json[] {
  const roleId = idOf(s, s.stack.audit.function.role!);
  return resourcesOf(s.json, 'AWS::IAM::Policy')
    .filter(([, r]) => asArray(r.Properties.Roles).some((ref: Json) => ref.Ref === roleId))
    .flatMap(([, r]) => asArray(r.Properties.PolicyDocument.Statement));
}

function bySid(statements: Json[], sid: string): Json {
  const found = statements.filter((st) => st.Sid === sid);
  expect(found, `statement ${sid}`).toHaveLength(1);
  return found[0];
}

function alarm(json: Json, id: string): Json {
  const found = Object.entries(json.Resources as Json).filter(
    ([k, r]) => r.Type === 'AWS::CloudWatch::Alarm' && k.startsWith(id),
  );
  expect(found, `alarm ${id}`).toHaveLength(1);
  return found[0][1].Properties;
}

/** The notification configurations of the stack's one Custom::S3BucketNotifications, with sorted filter rules. */
function notifications(json: Json): { lambda: Json[]; queue: Json[]; eventBridge: unknown; props: Json } {
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
    eventBridge: config.EventBridgeConfiguration,
    props: custom.Properties,
  };
}

/** `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` as CDK renders it for the deploying account and region. */
function arnIn(service: string, resource: string): Json {
  return {
    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:${service}:`, { Ref: 'AWS::Region' }, ':', { Ref: 'AWS::AccountId' }, `:${resource}`]],
  };
}

/** The five alarms on what the digests and the ledger disagree on, and the metric each watches. */
const TRUST_ALARMS: [string, string][] = [
  ['FilesMissingAlarm', 'FilesMissing'],
  ['FilesUnattestedAlarm', 'FilesUnattested'],
  ['FilesTamperedAlarm', 'FilesTampered'],
  ['DigestsInvalidAlarm', 'DigestsInvalid'],
  ['DigestChainGapsAlarm', 'DigestChainGaps'],
];

function commonChecks(get: () => Synth): void {
  it('has the table: keys and indexes from the schema with their projections, on-demand, TTL, PITR, deletion protection, retained', () => {
    const s = get();
    const tableId = idOf(s, s.stack.audit.table);
    const table = s.json.Resources[tableId];
    expect(table).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: SORT_KEY, KeyType: 'RANGE' },
      ],
      // The SDK's CreateTable mapping of the same schema (projectionInput) is the independent reference.
      GlobalSecondaryIndexes: INDEX_LIST.map((i) => ({
        IndexName: i.name,
        KeySchema: [
          { AttributeName: i.partitionKey, KeyType: 'HASH' },
          { AttributeName: i.sortKey, KeyType: 'RANGE' },
        ],
        Projection: projectionInput(i.projection),
      })),
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
    // The sparse severity index, spelled out (DESIGN.md): only rows with findings carry `severity`.
    expect(table.Properties.GlobalSecondaryIndexes).toContainEqual(
      expect.objectContaining({
        IndexName: 'bySeverity',
        KeySchema: [
          { AttributeName: 'severity', KeyType: 'HASH' },
          { AttributeName: 'eventKey', KeyType: 'RANGE' },
        ],
      }),
    );
    // Every key attribute is declared as a string, and nothing else is.
    const declared = (table.Properties.AttributeDefinitions as Json[]).map((a) => `${a.AttributeName}:${a.AttributeType}`).sort();
    const keys = [...new Set([PARTITION_KEY, SORT_KEY, ...INDEX_LIST.flatMap((i) => [i.partitionKey, i.sortKey])])];
    expect(declared).toEqual(keys.map((k) => `${k}:S`).sort());
  });

  it('has the ledger table: string keys, on-demand, PITR, deletion protection, retained, no indexes', () => {
    const s = get();
    const ledger = s.json.Resources[idOf(s, s.stack.audit.ledgerTable)];
    expect(ledger).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(ledger.Properties).toEqual({
      TableName: s.stack.audit.settings.ledgerTableName,
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: LEDGER_PARTITION_KEY, KeyType: 'HASH' },
        { AttributeName: LEDGER_SORT_KEY, KeyType: 'RANGE' },
      ],
      AttributeDefinitions: [
        { AttributeName: LEDGER_PARTITION_KEY, AttributeType: 'S' },
        { AttributeName: LEDGER_SORT_KEY, AttributeType: 'S' },
      ],
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      DeletionProtectionEnabled: true,
    });
  });

  it('grants no wildcard action anywhere; the function only writes rows, and keeps the ledger with exactly what it needs', () => {
    const s = get();
    for (const st of iamStatements(s.json)) {
      for (const action of asArray(st.Action as string | string[])) expect(action, JSON.stringify(st)).not.toContain('*');
    }
    const tableId = idOf(s, s.stack.audit.table);
    const ledgerId = idOf(s, s.stack.audit.ledgerTable);
    const statements = functionStatements(s);
    const onTable = statements.filter((st) => JSON.stringify(st.Resource).includes(tableId));
    expect(onTable).toEqual([
      { Sid: 'WriteAuditRows', Effect: 'Allow', Action: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'], Resource: { 'Fn::GetAtt': [tableId, 'Arn'] } },
    ]);
    const onLedger = statements.filter((st) => JSON.stringify(st.Resource).includes(ledgerId));
    expect(onLedger).toEqual([
      {
        Sid: 'KeepLedger',
        Effect: 'Allow',
        Action: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        Resource: { 'Fn::GetAtt': [ledgerId, 'Arn'] },
      },
    ]);
    // Nobody here may delete, scan or change a table.
    const allActions = iamStatements(s.json).flatMap((st) => asArray(st.Action as string | string[]));
    expect(allActions.filter((a) => /^dynamodb:(Delete|Scan|Create|Describe|BatchWrite|Update)/.test(a)).sort()).toEqual([
      'dynamodb:BatchWriteItem',
      'dynamodb:UpdateItem',
    ]);
  });

  it('lets the function list CloudTrail public keys (resource * by AWS design)', () => {
    expect(bySid(functionStatements(get()), 'ListCloudTrailPublicKeys')).toEqual({
      Sid: 'ListCloudTrailPublicKeys',
      Effect: 'Allow',
      Action: 'cloudtrail:ListPublicKeys',
      Resource: '*',
    });
  });

  it('has a read-only managed policy: Query and GetItem on both tables and their indexes, nothing more, and outputs its ARN', () => {
    const s = get();
    const tableId = idOf(s, s.stack.audit.table);
    const ledgerId = idOf(s, s.stack.audit.ledgerTable);
    const policyId = idOf(s, s.stack.audit.readOnlyPolicy);
    const policy = s.json.Resources[policyId];
    expect(policy.Type).toBe('AWS::IAM::ManagedPolicy');
    const statements = policy.Properties.PolicyDocument.Statement as Json[];
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatchObject({ Sid: 'ReadAuditHistory', Effect: 'Allow', Action: ['dynamodb:GetItem', 'dynamodb:Query'] });
    expect(Object.keys(statements[0]).sort()).toEqual(['Action', 'Effect', 'Resource', 'Sid']);
    expect(statements[0].Resource).toHaveLength(4);
    expect(statements[0].Resource).toEqual(
      expect.arrayContaining([
        { 'Fn::GetAtt': [tableId, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [tableId, 'Arn'] }, '/index/*']] },
        { 'Fn::GetAtt': [ledgerId, 'Arn'] },
        { 'Fn::Join': ['', [{ 'Fn::GetAtt': [ledgerId, 'Arn'] }, '/index/*']] },
      ]),
    );
    // Attached to nobody: the people who read the history get it from their administrators.
    expect(policy.Properties.Roles ?? policy.Properties.Users ?? policy.Properties.Groups).toBeUndefined();
    s.template.hasOutput('ReadOnlyPolicyArn', { Value: { Ref: policyId } });
    s.template.hasOutput('LedgerTableName', { Value: { Ref: ledgerId } });
  });

  it('gives the function its own role: no managed policies, logs only to its log group', () => {
    const s = get();
    const roleId = idOf(s, s.stack.audit.function.role!);
    expect(s.json.Resources[roleId].Properties.ManagedPolicyArns).toBeUndefined();
    const logGroupId = logicalId(s.json, 'AWS::Logs::LogGroup');
    const logs = functionStatements(s).filter((st) => asArray(st.Action).some((a: string) => a.startsWith('logs:')));
    expect(logs).toEqual([
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [logGroupId, 'Arn'] } },
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'handler.handler',
      LoggingConfig: { LogGroup: { Ref: logGroupId } },
    });
  });

  it('deploys handler.mjs alone: not the CLI, the construct or the source maps', () => {
    const s = get();
    const assetDirs = readdirSync(s.outdir).filter((f) => f.startsWith('asset.'));
    expect(assetDirs).toHaveLength(1);
    expect(readdirSync(join(s.outdir, assetDirs[0])).sort()).toEqual(['handler.mjs']);
  });

  it('sends every alarm and its recovery to the alarm topic, which is encrypted with a rotated key CloudWatch may use', () => {
    const s = get();
    const topicId = idOf(s, s.stack.audit.alarmTopic);
    const keyId = idOf(s, s.stack.audit.alarmTopicKey);
    for (const [, a] of resourcesOf(s.json, 'AWS::CloudWatch::Alarm')) {
      expect(a.Properties.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(a.Properties.OKActions).toEqual([{ Ref: topicId }]);
    }
    expect(s.json.Resources[topicId].Properties.KmsMasterKeyId).toEqual({ 'Fn::GetAtt': [keyId, 'Arn'] });
    const key = s.json.Resources[keyId].Properties;
    expect(key.EnableKeyRotation).toBe(true);
    expect(key.KeyPolicy.Statement).toContainEqual({
      Sid: 'CloudWatchAlarms',
      Effect: 'Allow',
      Principal: { Service: 'cloudwatch.amazonaws.com' },
      Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
      Resource: '*',
      Condition: {
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        ArnLike: { 'aws:SourceArn': arnIn('cloudwatch', 'alarm:*') },
      },
    });
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
    const fnId = idOf(s, s.stack.audit.function);
    const timeoutMs = s.stack.audit.settings.timeoutSeconds * 1000;
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
      Period: get().stack.audit.settings.idleAlarmHours * 3600,
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

  it('alarms on any missing, unattested or tampered file, invalid digest or chain gap, with what to do', () => {
    const json = get().json;
    expect(TRUST_ALARMS.map(([, name]) => name)).toEqual([
      METRICS.filesMissing,
      METRICS.filesUnattested,
      METRICS.filesTampered,
      METRICS.digestsInvalid,
      METRICS.digestChainGaps,
    ]);
    for (const [id, metricName] of TRUST_ALARMS) {
      const a = alarm(json, id);
      expect(a, id).toMatchObject({
        Namespace: 'SesAudit',
        MetricName: metricName,
        Dimensions: [{ Name: 'service', Value: 'ses-audit' }],
        Statistic: 'Sum',
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
      });
      expect(a.AlarmDescription, id).toMatch(/ses-audit verify/);
    }
  });

  it('alarms on any message in the failure queue, which is retained like the table', () => {
    const s = get();
    const queueId = idOf(s, s.stack.audit.failureQueue);
    expect(alarm(s.json, 'FailedFilesAlarm')).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Dimensions: [{ Name: 'QueueName', Value: { 'Fn::GetAtt': [queueId, 'QueueName'] } }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(s.json.Resources[queueId]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(s.json.Resources[queueId].Properties.MessageRetentionPeriod).toBe(14 * 24 * 3600);
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

/** The schedule rule's target and the permission that lets EventBridge invoke the function for it. */
function expectReconcileSchedule(s: Synth, expression: string): void {
  const fnId = idOf(s, s.stack.audit.function);
  const ruleId = idOf(s, s.stack.audit.reconcileRule!);
  expect(s.json.Resources[ruleId].Properties).toEqual({
    Description: expect.stringContaining('reconcile'),
    ScheduleExpression: expression,
    State: 'ENABLED',
    // No Input: the function gets the standard Scheduled Event (source aws.events, detail-type Scheduled Event).
    Targets: [
      {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Id: 'Target0',
        RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 2 },
        // An event EventBridge cannot deliver is kept in the failure queue, like a failed file.
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [idOf(s, s.stack.audit.failureQueue), 'Arn'] } },
      },
    ],
  });
  s.template.hasResourceProperties('AWS::Lambda::Permission', {
    Action: 'lambda:InvokeFunction',
    Principal: 'events.amazonaws.com',
    FunctionName: { 'Fn::GetAtt': [fnId, 'Arn'] },
    SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
  });
}

describe('default stack (no settings)', () => {
  let s: Synth;
  /** The trail's ARN, built from its fixed name (the bucket and key policies must name it before it exists). */
  const trailArn = arnIn('cloudtrail', 'trail/SesAudit-trail');
  beforeAll(() => {
    s = synth();
  });
  commonChecks(() => s);

  it('creates a multi-region trail with management events, log file validation and its own KMS key', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 1);
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const keyId = idOf(s, s.stack.audit.trailKey!);
    s.template.hasResourceProperties('AWS::CloudTrail::Trail', {
      TrailName: 'SesAudit-trail',
      IsLogging: true,
      IsMultiRegionTrail: true,
      IncludeGlobalServiceEvents: true,
      EnableLogFileValidation: true,
      EventSelectors: [{ IncludeManagementEvents: true, ReadWriteType: 'All' }],
      AdvancedEventSelectors: Match.absent(),
      S3KeyPrefix: Match.absent(),
      S3BucketName: { Ref: bucketId },
      KMSKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] },
    });
    // The trail is created after the bucket policy that lets it write.
    const trailId = idOf(s, s.stack.audit.trail!);
    expect(s.json.Resources[trailId].DependsOn).toContain(logicalId(s.json, 'AWS::S3::BucketPolicy', (r) => r.Properties.Bucket.Ref === bucketId));
  });

  it("keys the trail (CloudTrail.2): rotated, retained, usable by this trail only", () => {
    const keyId = idOf(s, s.stack.audit.trailKey!);
    const key = s.json.Resources[keyId];
    expect(key).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    expect(key.Properties.EnableKeyRotation).toBe(true);
    const statements = key.Properties.KeyPolicy.Statement as Json[];
    expect(statements.filter((st) => JSON.stringify(st.Principal).includes('cloudtrail'))).toEqual([
      {
        Sid: 'CloudTrailEncrypt',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:GenerateDataKey*',
        Resource: '*',
        Condition: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: {
            'kms:EncryptionContext:aws:cloudtrail:arn': {
              'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudtrail:*:', { Ref: 'AWS::AccountId' }, ':trail/*']],
            },
          },
        },
      },
      {
        Sid: 'CloudTrailDescribeKey',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 'kms:DescribeKey',
        Resource: '*',
        Condition: { StringEquals: { 'aws:SourceArn': trailArn } },
      },
    ]);
    // Nobody else is named in the key policy but the account, whose IAM policies then decide.
    expect(statements.map((st) => st.Principal)).toEqual([
      { AWS: { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::', { Ref: 'AWS::AccountId' }, ':root']] } },
      { Service: 'cloudtrail.amazonaws.com' },
      { Service: 'cloudtrail.amazonaws.com' },
    ]);
  });

  it('lets CloudTrail write to the bucket only for this trail of this account (aws:SourceArn, aws:SourceAccount)', () => {
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const policy = resourcesOf(s.json, 'AWS::S3::BucketPolicy').find(([, r]) => r.Properties.Bucket.Ref === bucketId)![1];
    const cloudTrail = (policy.Properties.PolicyDocument.Statement as Json[]).filter((st) => st.Principal?.Service === 'cloudtrail.amazonaws.com');
    expect(cloudTrail).toEqual([
      {
        Sid: 'CloudTrailAclCheck',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:GetBucketAcl',
        Resource: { 'Fn::GetAtt': [bucketId, 'Arn'] },
        Condition: { StringEquals: { 'aws:SourceArn': trailArn, 'aws:SourceAccount': { Ref: 'AWS::AccountId' } } },
      },
      {
        Sid: 'CloudTrailWrite',
        Effect: 'Allow',
        Principal: { Service: 'cloudtrail.amazonaws.com' },
        Action: 's3:PutObject',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/AWSLogs/', { Ref: 'AWS::AccountId' }, '/*']] },
        Condition: {
          StringEquals: {
            's3:x-amz-acl': 'bucket-owner-full-control',
            'aws:SourceArn': trailArn,
            'aws:SourceAccount': { Ref: 'AWS::AccountId' },
          },
        },
      },
    ]);
  });

  it('keeps the trail bucket encrypted, private, TLS-only, versioned, logged, tiered and retained', () => {
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const bucket = s.json.Resources[bucketId];
    expect(bucket.DeletionPolicy).toBe('Retain');
    const accessLogsId = logicalId(s.json, 'AWS::S3::Bucket', (r) => r.Properties.LoggingConfiguration === undefined);
    expect(bucket.Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: { Ref: accessLogsId }, LogFilePrefix: 'trail-bucket/' },
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
        ]),
      },
    });
    // The access log bucket is private and encrypted too, without ACLs, and takes logs from the trail bucket only.
    s.template.resourceCountIs('AWS::S3::Bucket', 2);
    expect(s.json.Resources[accessLogsId].Properties).toMatchObject({
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      LifecycleConfiguration: { Rules: [expect.objectContaining({ ExpirationInDays: 365 })] },
    });
    expect(s.json.Resources[accessLogsId].Properties.AccessControl).toBeUndefined();
    const logPolicy = resourcesOf(s.json, 'AWS::S3::BucketPolicy').find(([, r]) => r.Properties.Bucket.Ref === accessLogsId)![1];
    expect(logPolicy.Properties.PolicyDocument.Statement).toContainEqual({
      Sid: 'S3ServerAccessLogs',
      Effect: 'Allow',
      Principal: { Service: 'logging.s3.amazonaws.com' },
      Action: 's3:PutObject',
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [accessLogsId, 'Arn'] }, '/trail-bucket/*']] },
      Condition: {
        ArnLike: { 'aws:SourceArn': { 'Fn::GetAtt': [bucketId, 'Arn'] } },
        StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
      },
    });
  });

  it('runs the function with the default size, heap limits and its environment', () => {
    const tableId = idOf(s, s.stack.audit.table);
    const ledgerId = idOf(s, s.stack.audit.ledgerTable);
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
          [ENV.ledgerTableName]: { Ref: ledgerId },
          [ENV.expectedBucketOwner]: { Ref: 'AWS::AccountId' },
          [ENV.alertSeverity]: 'high',
          [ENV.alertEventBus]: 'default',
          NODE_OPTIONS: '--max-semi-space-size=8 --max-old-space-size=160',
          POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
          POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
        },
      },
    });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: DEFAULT_TABLE_NAME });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: DEFAULT_LEDGER_TABLE_NAME });
  });

  it('lets the function read only files under AWSLogs/ (logs and digests) of the trail bucket, and decrypt them through S3', () => {
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const keyId = idOf(s, s.stack.audit.trailKey!);
    const statements = functionStatements(s);
    expect(statements.filter((st) => asArray(st.Action).some((a: string) => a.startsWith('s3:')))).toEqual([
      {
        Sid: 'ReadTrailLogFiles',
        Action: 's3:GetObject',
        Effect: 'Allow',
        Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/AWSLogs/*']] },
      },
    ]);
    expect(statements.filter((st) => JSON.stringify(st.Action).includes('kms:'))).toEqual([
      {
        Sid: 'DecryptTrailLogFiles',
        Action: 'kms:Decrypt',
        Effect: 'Allow',
        Resource: { 'Fn::GetAtt': [keyId, 'Arn'] },
        Condition: { StringEquals: { 'kms:ViaService': { 'Fn::Join': ['', ['s3.', { Ref: 'AWS::Region' }, '.amazonaws.com']] } } },
      },
    ]);
  });

  it('is triggered by S3 directly for .json.gz objects under AWSLogs/ (digests included)', () => {
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const fnId = idOf(s, s.stack.audit.function);
    const n = notifications(s.json);
    expect(n.props).toMatchObject({ BucketName: { Ref: bucketId }, Managed: true });
    expect(n.queue).toEqual([]);
    expect(n.eventBridge).toBeUndefined();
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
    const queueId = idOf(s, s.stack.audit.failureQueue);
    s.template.resourceCountIs('AWS::SQS::Queue', 1);
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

  it('reconciles the ledger every hour with a scheduled invocation, hourly trust alarms', () => {
    expectReconcileSchedule(s, 'rate(1 hour)');
    for (const [id] of TRUST_ALARMS) expect(alarm(s.json, id).Period, id).toBe(3600);
  });

  it('publishes alerts to the default bus only, and routes high findings to the alarm topic as a readable message', () => {
    expect(bySid(functionStatements(s), 'PublishAlerts')).toEqual({
      Sid: 'PublishAlerts',
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Resource: arnIn('events', 'event-bus/default'),
    });
    const topicId = idOf(s, s.stack.audit.alarmTopic);
    const ruleId = idOf(s, s.stack.audit.alertRule!);
    const rule = s.json.Resources[ruleId].Properties;
    expect(rule.EventBusName).toBe('default');
    expect(rule.EventPattern).toEqual({ source: ['ses-audit'], 'detail-type': ['SES audit finding'], detail: { severity: ['high'] } });
    expect(rule.Targets).toHaveLength(1);
    const target = rule.Targets[0];
    expect(target.Arn).toEqual({ Ref: topicId });
    expect(target.InputTransformer.InputPathsMap).toEqual({
      'detail-severity': '$.detail.severity',
      'detail-eventName': '$.detail.eventName',
      'detail-identity': '$.detail.identity',
      'detail-actor': '$.detail.actor',
      'detail-eventKey': '$.detail.eventKey',
      account: '$.account',
      region: '$.region',
      'detail-sourceObject': '$.detail.sourceObject',
    });
    // One JSON string per line: SNS delivers the lines as text.
    expect(target.InputTransformer.InputTemplate.split('\n')).toEqual([
      '"ses-audit finding, severity <detail-severity>: <detail-eventName> on <detail-identity>"',
      '"By: <detail-actor>"',
      '"Event: <detail-eventKey> (account <account>, region <region>)"',
      '"From: <detail-sourceObject>"',
      '"See: ses-audit history <detail-identity> / ses-audit findings --severity <detail-severity>"',
    ]);
    // Only this rule may publish to the topic, and EventBridge may use the topic's key.
    const topicPolicy = resourcesOf(s.json, 'AWS::SNS::TopicPolicy')[0][1].Properties.PolicyDocument.Statement as Json[];
    expect(topicPolicy.filter((st) => st.Effect === 'Allow')).toEqual([
      {
        Sid: 'AlertRulePublishes',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: 'sns:Publish',
        Resource: { Ref: topicId },
        Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
      },
    ]);
    const keyPolicy = s.json.Resources[idOf(s, s.stack.audit.alarmTopicKey)].Properties.KeyPolicy.Statement as Json[];
    expect(keyPolicy.filter((st) => st.Principal?.Service === 'events.amazonaws.com')).toEqual([
      {
        Sid: 'EventBridgeAlerts',
        Effect: 'Allow',
        Principal: { Service: 'events.amazonaws.com' },
        Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        Resource: '*',
      },
    ]);
  });

  it('has eleven alarms, an alarm topic and no email subscription', () => {
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 11);
    s.template.resourceCountIs('AWS::SNS::Topic', 1);
    s.template.resourceCountIs('AWS::SNS::Subscription', 0);
  });

  it('outputs what operators need', () => {
    for (const name of [
      'TableName',
      'LedgerTableName',
      'FunctionName',
      'FunctionArn',
      'TrailBucketName',
      'TrailKeyArn',
      'FailureQueueUrl',
      'FailureQueueArn',
      'AlarmTopicArn',
      'AlertRuleArn',
      'ReadOnlyPolicyArn',
    ]) {
      s.template.hasOutput(name, {});
    }
    s.template.hasOutput('AlertRuleArn', { Value: { 'Fn::GetAtt': [idOf(s, s.stack.audit.alertRule!), 'Arn'] } });
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

  it('creates no trail, no bucket and no trail key, and leaves the bucket’s other notifications alone', () => {
    s.template.resourceCountIs('AWS::CloudTrail::Trail', 0);
    s.template.resourceCountIs('AWS::S3::Bucket', 0);
    s.template.resourceCountIs('AWS::S3::BucketPolicy', 0);
    s.template.resourceCountIs('AWS::KMS::Key', 1); // the alarm topic's
    expect(s.stack.audit.trailKey).toBeUndefined();
    s.template.hasResourceProperties('Custom::S3BucketNotifications', { BucketName: 'org-trail-logs', Managed: false });
  });

  it('notifies the queue for .json.gz objects under the encoded prefix, for this bucket of this account only', () => {
    const queueId = idOf(s, s.stack.audit.queue!);
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
    const [[, queuePolicy]] = resourcesOf(s.json, 'AWS::SQS::QueuePolicy').filter(([, p]) => p.Properties.Queues[0].Ref === queueId);
    expect((queuePolicy.Properties.PolicyDocument.Statement as Json[]).filter((st) => st.Effect === 'Allow')).toEqual([
      {
        Effect: 'Allow',
        Principal: { Service: 's3.amazonaws.com' },
        Action: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl', 'sqs:SendMessage'],
        Resource: { 'Fn::GetAtt': [queueId, 'Arn'] },
        Condition: {
          ArnLike: { 'aws:SourceArn': { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':s3:::org-trail-logs']] } },
          StringEquals: { 'aws:SourceAccount': { Ref: 'AWS::AccountId' } },
        },
      },
    ]);
    // The notification is set only once the queue policy lets S3 send.
    const [[customId, custom]] = resourcesOf(s.json, 'Custom::S3BucketNotifications');
    expect(custom.DependsOn, customId).toEqual(expect.arrayContaining([expect.stringMatching(/^QueuePolicy/)]));
  });

  it('buffers in a queue with a retained DLQ and reads it with partial batch failures', () => {
    const queueId = idOf(s, s.stack.audit.queue!);
    const dlqId = idOf(s, s.stack.audit.failureQueue);
    s.template.resourceCountIs('AWS::SQS::Queue', 2);
    expect(s.json.Resources[queueId].Properties).toMatchObject({
      VisibilityTimeout: 6 * 300,
      RedrivePolicy: { deadLetterTargetArn: { 'Fn::GetAtt': [dlqId, 'Arn'] }, maxReceiveCount: 5 },
    });
    // The buffer itself is not retained (what is in it is also in the bucket); the DLQ is.
    expect(s.json.Resources[queueId].DeletionPolicy).toBe('Delete');
    expect(s.json.Resources[dlqId].DeletionPolicy).toBe('Retain');
    s.template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [queueId, 'Arn'] },
      BatchSize: 1,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
    });
    // The files come by synchronous polling; only the reconciliation schedule invokes asynchronously, and a
    // run that keeps failing goes to the same DLQ as a file (its hours are then left for ses-audit verify).
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [dlqId, 'Arn'] } } },
    });
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
    const dlqId = idOf(s, s.stack.audit.failureQueue);
    const queueId = idOf(s, s.stack.audit.queue!);
    s.template.resourceCountIs('AWS::CloudWatch::Alarm', 12);
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

describe('created trail with SES data events, a prefix, retention, alarm email, sizing, a 6-hour reconciliation and medium alerts', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({
      sesDataEvents: 'true',
      keyPrefix: 'ses',
      retentionDays: '400',
      readOnlyRetentionDays: '30',
      alarmEmail: 'ops@example.com',
      memoryMb: '512',
      timeoutSeconds: '120',
      reservedConcurrency: '5',
      keepReadOnly: 'true',
      keepDataEvents: 'true',
      logRetentionDays: '30',
      idleAlarmHours: '3',
      tableName: 'ses-audit-test',
      ledgerTableName: 'ses-audit-test-ledger',
      reconcileEveryHours: '6',
      alertSeverity: 'medium',
      alertEventBusName: 'security-alerts',
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
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    s.template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'CloudTrailWrite',
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

  it('passes the settings to the function, with heap limits for 512 MB', () => {
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs24.x',
      MemorySize: 512,
      Timeout: 120,
      ReservedConcurrentExecutions: 5,
      Environment: {
        Variables: Match.objectLike({
          [ENV.retentionDays]: '400',
          [ENV.readOnlyRetentionDays]: '30',
          [ENV.keepReadOnly]: 'true',
          [ENV.keepDataEvents]: 'true',
          [ENV.alertSeverity]: 'medium',
          [ENV.alertEventBus]: 'security-alerts',
          // Each scheduled run reconciles the 6 hours since the previous one.
          [ENV.reconcileEveryHours]: '6',
          NODE_OPTIONS: '--max-semi-space-size=16 --max-old-space-size=352',
        }),
      },
    });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ses-audit-test' });
    s.template.hasResourceProperties('AWS::DynamoDB::Table', { TableName: 'ses-audit-test-ledger' });
    s.template.hasResourceProperties('AWS::Logs::LogGroup', { RetentionInDays: 30 });
  });

  it('scales the alarms with the settings and subscribes the email', () => {
    expect(alarm(s.json, 'DurationAlarm').Threshold).toBe(96_000);
    expect(alarm(s.json, 'NoFilesProcessedAlarm').Period).toBe(3 * 3600);
    const topicId = idOf(s, s.stack.audit.alarmTopic);
    s.template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@example.com',
      TopicArn: { Ref: topicId },
    });
  });

  it('reconciles every 6 hours; the file alarms sum over that interval, the digest alarms hourly', () => {
    expectReconcileSchedule(s, 'rate(6 hours)');
    for (const id of ['FilesMissingAlarm', 'FilesUnattestedAlarm', 'FilesTamperedAlarm']) expect(alarm(s.json, id).Period, id).toBe(6 * 3600);
    for (const id of ['DigestsInvalidAlarm', 'DigestChainGapsAlarm']) expect(alarm(s.json, id).Period, id).toBe(3600);
  });

  it('publishes to the named bus, and routes medium and high findings from it', () => {
    expect(bySid(functionStatements(s), 'PublishAlerts').Resource).toEqual(arnIn('events', 'event-bus/security-alerts'));
    const rule = s.json.Resources[idOf(s, s.stack.audit.alertRule!)].Properties;
    expect(rule.EventBusName).toBe('security-alerts');
    expect(rule.EventPattern.detail).toEqual({ severity: ['high', 'medium'] });
  });
});

describe('EventBridge wiring on the created bucket', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({ trigger: 'eventbridge' });
  });
  commonChecks(() => s);

  it("turns on the bucket's EventBridge notifications, and adds no S3 notification of its own", () => {
    const n = notifications(s.json);
    expect(n.eventBridge).toEqual({});
    expect(n.lambda).toEqual([]);
    expect(n.queue).toEqual([]);
    expect(n.props).toMatchObject({ BucketName: { Ref: idOf(s, s.stack.audit.trailBucket) }, Managed: true });
  });

  it('invokes the function for Object Created .json.gz files under AWSLogs/ of this bucket, failed deliveries to the failure queue', () => {
    const fnId = idOf(s, s.stack.audit.function);
    const queueId = idOf(s, s.stack.audit.failureQueue);
    const bucketId = idOf(s, s.stack.audit.trailBucket);
    const ruleId = idOf(s, s.stack.audit.objectCreatedRule!);
    const rule = s.json.Resources[ruleId].Properties;
    expect(rule.EventBusName).toBeUndefined(); // the default bus, where S3 sends
    expect(rule.EventPattern).toEqual({
      source: ['aws.s3'],
      'detail-type': ['Object Created'],
      detail: { bucket: { name: [{ Ref: bucketId }] }, object: { key: [{ wildcard: 'AWSLogs/*.json.gz' }] } },
    });
    expect(rule.Targets).toEqual([
      {
        Arn: { 'Fn::GetAtt': [fnId, 'Arn'] },
        Id: 'Target0',
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
        RetryPolicy: { MaximumEventAgeInSeconds: 24 * 3600, MaximumRetryAttempts: 185 },
      },
    ]);
    s.template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunction',
      Principal: 'events.amazonaws.com',
      SourceArn: { 'Fn::GetAtt': [ruleId, 'Arn'] },
    });
    // EventBridge may put undeliverable events in the failure queue, for this rule only.
    s.template.hasResourceProperties('AWS::SQS::QueuePolicy', {
      Queues: [{ Ref: queueId }],
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Effect: 'Allow',
            Principal: { Service: 'events.amazonaws.com' },
            Action: 'sqs:SendMessage',
            Condition: { ArnEquals: { 'aws:SourceArn': { 'Fn::GetAtt': [ruleId, 'Arn'] } } },
          }),
        ]),
      },
    });
    // The invocation is asynchronous: the function's own retries and on-failure destination still apply.
    s.template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      MaximumRetryAttempts: 2,
      DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [queueId, 'Arn'] } } },
    });
    s.template.resourceCountIs('AWS::Lambda::EventSourceMapping', 0);
  });
});

describe('EventBridge wiring on an existing bucket (prefix with a space), no schedule, no alerts', () => {
  let s: Synth;
  beforeAll(() => {
    s = synth({ trigger: 'eventbridge', trailBucketName: 'shared-logs', keyPrefix: 'org trail', reconcileEveryHours: 0, alertSeverity: 'off' });
  });

  it("turns on the existing bucket's EventBridge notifications without replacing its other notifications", () => {
    const n = notifications(s.json);
    expect(n.props).toMatchObject({ BucketName: 'shared-logs', Managed: false });
    expect(n.eventBridge).toEqual({});
    expect(n.lambda).toEqual([]);
  });

  it('matches the plain (not URL-encoded) key under the prefix', () => {
    const rule = s.json.Resources[idOf(s, s.stack.audit.objectCreatedRule!)].Properties;
    expect(rule.EventPattern.detail).toEqual({
      bucket: { name: ['shared-logs'] },
      object: { key: [{ wildcard: 'org trail/AWSLogs/*.json.gz' }] },
    });
  });

  it('schedules no reconciliation and publishes no alerts: no rule, no PutEvents, no EventBridge use of the topic key', () => {
    expect(s.stack.audit.reconcileRule).toBeUndefined();
    expect(s.stack.audit.alertRule).toBeUndefined();
    s.template.resourceCountIs('AWS::Events::Rule', 1); // the Object Created rule
    expect(functionStatements(s).filter((st) => JSON.stringify(st.Action).includes('events:'))).toEqual([]);
    s.template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ [ENV.alertSeverity]: 'off' }) },
    });
    const keyPolicy = s.json.Resources[idOf(s, s.stack.audit.alarmTopicKey)].Properties.KeyPolicy.Statement as Json[];
    expect(keyPolicy.map((st) => st.Sid ?? 'account')).toEqual(['account', 'CloudWatchAlarms']);
    expect(() => s.template.hasOutput('AlertRuleArn', {})).toThrow();
    // The trust alarms stay (digests can be checked as they arrive), summed hourly.
    expect(alarm(s.json, 'FilesMissingAlarm').Period).toBe(3600);
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
    expect(() => buildApp({ context: { timeoutSeconds: '10' }, codeDirectory: fakeDist() })).toThrow(/timeoutSeconds=10 must be a whole number from 30/);
  });
});
