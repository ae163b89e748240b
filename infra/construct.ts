/**
 * `SesAudit`: CloudTrail log files in S3 -> the function -> SES audit rows in DynamoDB, with the ingestion
 * ledger, digest checks, alerts, failure handling and alarms. It goes inside any stack of any CDK app (no
 * feature flags needed). With no props it creates the trail and its bucket too; with `trailBucketName` it
 * attaches to an existing trail's bucket instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, CfnOutput, Duration, Names, RemovalPolicy, Stack } from 'aws-cdk-lib/core';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct, type IConstruct } from 'constructs';
import { ENV } from '../src/config.js';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../src/observability.js';
import { SEVERITIES } from '../src/ses/row.js';
import {
  createLedgerTableInput,
  INDEX_LIST,
  PARTITION_KEY,
  SORT_KEY,
  TTL_ATTRIBUTE,
  type IndexProjection,
} from '../src/store/schema.js';
import { acknowledgeNag, nagResourceName } from './nag.js';
import {
  LOG_FILE_SUFFIX,
  logKeyPrefix,
  notificationFilterPrefix,
  resolveSettings,
  type AlertSeverity,
  type SesAuditSettings,
  type Settings,
} from './settings.js';
import { heapOptions } from './sizing.js';

export const HANDLER_FILE = 'handler.mjs';

/**
 * Where `npm run build` puts the handler bundle, seen from this file: beside it in the package (dist/cdk.mjs
 * next to dist/handler.mjs), or in dist/ when this runs from the repository's infra/.
 */
export function defaultCodeDirectory(): string {
  const candidates = [import.meta.dirname, join(import.meta.dirname, '..', 'dist')];
  return candidates.find((dir) => existsSync(join(dir, HANDLER_FILE))) ?? candidates[candidates.length - 1];
}

/** SES resource types CloudTrail can log data events for (SES developer guide, "SES data events in CloudTrail"). */
export const SES_DATA_EVENT_RESOURCE_TYPES = [
  'AWS::SES::EmailIdentity',
  'AWS::SES::ConfigurationSet',
  'AWS::SES::Template',
] as const;

/** The alerts the function publishes (DESIGN.md, Findings): EventBridge `Source` and `DetailType`. */
export const ALERT_EVENT_SOURCE = 'ses-audit';
export const ALERT_DETAIL_TYPE = 'SES audit finding';

/** The severities an alert threshold lets through, highest first. */
export function severitiesAtOrAbove(threshold: Exclude<AlertSeverity, 'off'>): string[] {
  return SEVERITIES.slice(0, SEVERITIES.indexOf(threshold) + 1);
}

/** A DynamoDB index projection from src/store/schema.ts as CDK's GSI props. */
export function indexProjectionProps(p: IndexProjection): Pick<dynamodb.GlobalSecondaryIndexProps, 'projectionType' | 'nonKeyAttributes'> {
  switch (p.type) {
    case 'ALL':
      return { projectionType: dynamodb.ProjectionType.ALL };
    case 'KEYS_ONLY':
      return { projectionType: dynamodb.ProjectionType.KEYS_ONLY };
    case 'INCLUDE':
      return { projectionType: dynamodb.ProjectionType.INCLUDE, nonKeyAttributes: [...p.attributes] };
  }
}

export interface SesAuditProps extends SesAuditSettings {
  /**
   * Directory holding the function's bundle, `handler.mjs` (nothing else in it is deployed).
   * @default the bundle shipped with the package
   */
  codeDirectory?: string;
}

export class SesAudit extends Construct {
  /** The props after defaults and checks. */
  readonly settings: Settings;
  /** The audit table: one row per SES event and identity. */
  readonly table: dynamodb.Table;
  /** The ingestion ledger: every log file and digest seen, and what the digests attest. */
  readonly ledgerTable: dynamodb.Table;
  readonly function: lambda.Function;
  readonly trailBucket: s3.IBucket;
  /** Only when the construct creates the trail. */
  readonly trail?: cloudtrail.Trail;
  /** Only when the construct creates the trail: the key its log and digest files are encrypted with. */
  readonly trailKey?: kms.Key;
  /** Direct and EventBridge wiring: where failed events end. SQS wiring: the dead-letter queue. */
  readonly failureQueue: sqs.Queue;
  /** SQS wiring only: the queue S3 notifies and the function reads. */
  readonly queue?: sqs.Queue;
  /** EventBridge wiring only: the rule that hands the bucket's Object Created events to the function. */
  readonly objectCreatedRule?: events.Rule;
  /** The schedule that invokes the function to reconcile the ledger; none when reconcileEveryHours is 0. */
  readonly reconcileRule?: events.Rule;
  /** Alarms, and (from the alert rule) findings. Encrypted with alarmTopicKey. */
  readonly alarmTopic: sns.Topic;
  readonly alarmTopicKey: kms.Key;
  /** The example rule that sends alerts to the alarm topic; none when alertSeverity is off. */
  readonly alertRule?: events.Rule;
  /** Query and GetItem on both tables and their indexes: attach it to the people who read the history. */
  readonly readOnlyPolicy: iam.ManagedPolicy;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};
  /** The bus the function publishes alerts to (in this account and region); none when alertSeverity is off. */
  private readonly alertBus?: events.IEventBus;

  constructor(scope: Construct, id: string, props: SesAuditProps = {}) {
    super(scope, id);
    const s = (this.settings = resolveSettings(props));

    const codeDirectory = props.codeDirectory ?? defaultCodeDirectory();
    if (!existsSync(join(codeDirectory, HANDLER_FILE))) {
      throw new Error(`${join(codeDirectory, HANDLER_FILE)} not found: run \`npm run build\` before synthesizing`);
    }

    this.table = this.createTable(s);
    this.ledgerTable = this.createLedgerTable(s);
    if (s.trailBucketName === undefined) {
      const created = this.createTrail(s);
      this.trailBucket = created.bucket;
      this.trail = created.trail;
      this.trailKey = created.key;
    } else {
      // Attaching: the trail and its bucket belong to someone else; only read access and a notification are added.
      this.trailBucket = s3.Bucket.fromBucketName(this, 'TrailBucket', s.trailBucketName);
    }

    // Created before the function: the direct wiring names it as the function's on-failure destination.
    this.failureQueue = new sqs.Queue(this, s.trigger === 'sqs' ? 'DeadLetterQueue' : 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: failed files wait here until someone replays them.
      retentionPeriod: Duration.days(14),
      // Like the table: what is waiting here to be replayed outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });

    if (s.alertSeverity !== 'off') this.alertBus = events.EventBus.fromEventBusName(this, 'AlertBus', s.alertEventBusName);
    this.function = this.createFunction(s, codeDirectory);
    this.grantAccess(s);
    const wired = this.wireTrigger(s);
    this.queue = wired.queue;
    this.objectCreatedRule = wired.rule;
    this.acknowledgeNotificationsHandler();

    if (s.reconcileEveryHours > 0) {
      this.reconcileRule = new events.Rule(this, 'ReconcileSchedule', {
        description: `ses-audit: reconcile the ingestion ledger with the trail's digests every ${s.reconcileEveryHours} hour(s)`,
        schedule: events.Schedule.rate(Duration.hours(s.reconcileEveryHours)),
        // No input: the function gets the standard Scheduled Event (source aws.events).
        // An event EventBridge cannot deliver goes to the failure queue too: its hours are then left for verify.
        targets: [new targets.LambdaFunction(this.function, { retryAttempts: 2, maxEventAge: Duration.hours(1), deadLetterQueue: this.failureQueue })],
      });
    }

    this.alarmTopicKey = this.createAlarmTopicKey();
    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', {
      displayName: 'ses-audit alarms',
      enforceSSL: true,
      masterKey: this.alarmTopicKey,
    });
    if (s.alarmEmail) this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(s.alarmEmail));
    this.createAlarms(s);
    if (this.alertBus && s.alertSeverity !== 'off') this.alertRule = this.createAlertRule(this.alertBus, s.alertSeverity);
    this.readOnlyPolicy = this.createReadOnlyPolicy();

    this.createOutputs();
  }

  private createTable(s: Settings): dynamodb.Table {
    // Keys and indexes come from src/store/schema.ts, the same constants the local setup builds from.
    const attribute = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });
    const table = new dynamodb.Table(this, 'AuditTable', {
      tableName: s.tableName,
      partitionKey: attribute(PARTITION_KEY),
      sortKey: attribute(SORT_KEY),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      // Always on: rows only carry expiresAt when a retention is set, so turning retention on later needs no table change.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Audit history outlives the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // A sparse index (bySeverity) needs nothing of its own: DynamoDB leaves out rows without the key attribute.
    for (const index of INDEX_LIST) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        ...indexProjectionProps(index.projection),
      });
    }
    return table;
  }

  private createLedgerTable(s: Settings): dynamodb.Table {
    // The keys of src/store/schema.ts's CreateTable input, so the stack and `ses-audit local` build the same table.
    const input = createLedgerTableInput(s.ledgerTableName);
    const key = (keyType: 'HASH' | 'RANGE'): dynamodb.Attribute => {
      const name = input.KeySchema?.find((k) => k.KeyType === keyType)?.AttributeName;
      const type = input.AttributeDefinitions?.find((a) => a.AttributeName === name)?.AttributeType;
      const types = { S: dynamodb.AttributeType.STRING, N: dynamodb.AttributeType.NUMBER, B: dynamodb.AttributeType.BINARY };
      if (name === undefined || type === undefined) throw new Error(`createLedgerTableInput has no ${keyType} key with a type`);
      return { name, type: types[type] };
    };
    return new dynamodb.Table(this, 'LedgerTable', {
      tableName: s.ledgerTableName,
      partitionKey: key('HASH'),
      sortKey: key('RANGE'),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // The record of what was ingested and attested is audit evidence too.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }

  private createTrail(s: Settings): { bucket: s3.Bucket; trail: cloudtrail.Trail; key: kms.Key } {
    const stack = Stack.of(this);
    const accessLogs = new s3.Bucket(this, 'AccessLogsBucket', {
      // Server access log delivery supports SSE-S3 only.
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(365) }],
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // No access logging of its own: cdk-nag accepts a bucket that is another bucket's access log target.

    const bucket = new s3.Bucket(this, 'TrailBucket', {
      encryption: s3.BucketEncryption.S3_MANAGED,
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      enforceSSL: true,
      minimumTLSVersion: 1.2,
      // An overwritten or deleted log file can be recovered for a while; log file validation shows it happened.
      versioned: true,
      lifecycleRules: [
        {
          id: 'cheaper-storage-for-older-logs',
          // Glacier Instant Retrieval, not Flexible: backfills (S3 Batch Operations) must be able to GetObject
          // old files without a restore. S3 skips objects under 128 KB by default, where a transition costs more.
          transitions: [
            { storageClass: s3.StorageClass.INFREQUENT_ACCESS, transitionAfter: Duration.days(30) },
            { storageClass: s3.StorageClass.GLACIER_INSTANT_RETRIEVAL, transitionAfter: Duration.days(90) },
          ],
          noncurrentVersionExpiration: Duration.days(90),
          abortIncompleteMultipartUploadAfter: Duration.days(7),
        },
      ],
      // The logs are audit evidence: they outlive the stack.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Access logging wired by hand, with a bucket policy grant: CDK's serverAccessLogsBucket falls back to a
    // LogDeliveryWrite ACL in apps without the @aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy flag, and an
    // ACL is refused on a bucket whose ACLs are off (BucketOwnerEnforced), so a plain `new App()` threw.
    const accessLogsPrefix = 'trail-bucket/';
    cfnChild(bucket, s3.CfnBucket).loggingConfiguration = {
      destinationBucketName: accessLogs.bucketName,
      logFilePrefix: accessLogsPrefix,
    };
    accessLogs.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'S3ServerAccessLogs',
        principals: [new iam.ServicePrincipal('logging.s3.amazonaws.com')],
        actions: ['s3:PutObject'],
        resources: [accessLogs.arnForObjects(`${accessLogsPrefix}*`)],
        conditions: { ArnLike: { 'aws:SourceArn': bucket.bucketArn }, StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID } },
      }),
    );

    // A fixed name, so the trail's ARN is known before the trail exists: the bucket policy and the key policy
    // name it, and the trail depends on both (its ARN attribute would make a cycle).
    const trailName = Names.uniqueResourceName(this, { maxLength: 120, separator: '-' }) + '-trail';
    const trailArn = stack.formatArn({ service: 'cloudtrail', resource: 'trail', resourceName: trailName });
    const cloudTrailPrincipal = new iam.ServicePrincipal('cloudtrail.amazonaws.com');
    // aws:SourceArn and aws:SourceAccount: only this trail may write, not another account's trail that names
    // this bucket (the confused-deputy path).
    const fromThisTrail = { 'aws:SourceArn': trailArn, 'aws:SourceAccount': Aws.ACCOUNT_ID };
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailAclCheck',
        principals: [cloudTrailPrincipal],
        actions: ['s3:GetBucketAcl'],
        resources: [bucket.bucketArn],
        conditions: { StringEquals: fromThisTrail },
      }),
    );
    bucket.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailWrite',
        principals: [cloudTrailPrincipal],
        actions: ['s3:PutObject'],
        resources: [bucket.arnForObjects(`${logKeyPrefix(s)}${Aws.ACCOUNT_ID}/*`)],
        conditions: { StringEquals: { 's3:x-amz-acl': 'bucket-owner-full-control', ...fromThisTrail } },
      }),
    );

    // CloudTrail.2: log and digest files encrypted with a key of this stack, rotated yearly.
    const key = new kms.Key(this, 'TrailKey', {
      description: 'ses-audit: encrypts the CloudTrail log and digest files of the trail',
      enableKeyRotation: true,
      // Without the key the log files cannot be read: it stays as long as they do.
      removalPolicy: RemovalPolicy.RETAIN,
    });
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailEncrypt',
        principals: [cloudTrailPrincipal],
        actions: ['kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceArn': trailArn },
          StringLike: { 'kms:EncryptionContext:aws:cloudtrail:arn': `arn:${Aws.PARTITION}:cloudtrail:*:${Aws.ACCOUNT_ID}:trail/*` },
        },
      }),
    );
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudTrailDescribeKey',
        principals: [cloudTrailPrincipal],
        actions: ['kms:DescribeKey'],
        resources: ['*'],
        conditions: { StringEquals: { 'aws:SourceArn': trailArn } },
      }),
    );

    const trail = new cloudtrail.Trail(this, 'Trail', {
      trailName,
      // A reference rather than the bucket itself: given the Bucket, Trail adds its own bucket policy statements,
      // which lack aws:SourceArn and aws:SourceAccount; given a reference it adds none, and those above apply.
      bucket: s3.Bucket.fromBucketAttributes(this, 'TrailBucketRef', { bucketArn: bucket.bucketArn, bucketName: bucket.bucketName }),
      encryptionKey: key,
      s3KeyPrefix: s.keyPrefix || undefined,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      // With data events the selectors below (advanced) carry the management events instead.
      managementEvents: s.sesDataEvents ? undefined : cloudtrail.ReadWriteType.ALL,
    });
    // CloudTrail checks the bucket policy when the trail is created.
    if (bucket.policy) trail.node.addDependency(bucket.policy);
    if (s.sesDataEvents) {
      const cfnTrail = cfnChild(trail, cloudtrail.CfnTrail);
      // SES data events need advanced event selectors (basic ones know only S3, Lambda and DynamoDB), and a
      // trail cannot have both kinds, so management events move into an advanced selector too. One selector
      // per resource type: CloudTrail allows a single resources.type value per selector.
      cfnTrail.advancedEventSelectors = [
        { name: 'Management events', fieldSelectors: [{ field: 'eventCategory', equalTo: ['Management'] }] },
        ...SES_DATA_EVENT_RESOURCE_TYPES.map((type) => ({
          name: `SES data events: ${type}`,
          fieldSelectors: [
            { field: 'eventCategory', equalTo: ['Data'] },
            { field: 'resources.type', equalTo: [type] },
          ],
        })),
      ];
      cfnTrail.addPropertyDeletionOverride('EventSelectors');
    }
    return { bucket, trail, key };
  }

  private createFunction(s: Settings, codeDirectory: string): lambda.Function {
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: s.logRetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of the default one, which would attach the AWS managed AWSLambdaBasicExecutionRole
    // (log write on every log group in the account).
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ses-audit function: read trail log and digest files, write audit rows and the ledger',
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      [ENV.tableName]: this.table.tableName,
      [ENV.ledgerTableName]: this.ledgerTable.tableName,
      // S3 then refuses to hand over an object from a bucket another account owns (bucket sniping).
      [ENV.expectedBucketOwner]: Aws.ACCOUNT_ID,
      [ENV.alertSeverity]: s.alertSeverity,
      [ENV.alertEventBus]: s.alertEventBusName,
      // Both limits, so Lambda's runtime keeps its own (memory-sized, far larger) ones out: see infra/sizing.ts.
      NODE_OPTIONS: heapOptions(s.memoryMb),
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
    };
    if (s.retentionDays !== undefined) environment[ENV.retentionDays] = String(s.retentionDays);
    if (s.readOnlyRetentionDays !== undefined) environment[ENV.readOnlyRetentionDays] = String(s.readOnlyRetentionDays);
    if (s.keepReadOnly !== undefined) environment[ENV.keepReadOnly] = String(s.keepReadOnly);
    if (s.keepDataEvents !== undefined) environment[ENV.keepDataEvents] = String(s.keepDataEvents);
    // Each scheduled run reconciles the hours since the previous one.
    if (s.reconcileEveryHours > 1) environment[ENV.reconcileEveryHours] = String(s.reconcileEveryHours);

    // S3 and EventBridge invoke asynchronously; SQS is polled, and its failures go through the queue's DLQ.
    const asynchronous = s.trigger !== 'sqs';
    return new lambda.Function(this, 'Function', {
      description: 'ses-audit: CloudTrail log files to SES audit rows in DynamoDB',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'handler.handler',
      // The bundle only: whatever else is in the directory (CLI, construct, source maps, types) stays out.
      code: lambda.Code.fromAsset(codeDirectory, { exclude: ['*', `!${HANDLER_FILE}`] }),
      memorySize: s.memoryMb,
      timeout: Duration.seconds(s.timeoutSeconds),
      reservedConcurrentExecutions: s.reservedConcurrency,
      role,
      logGroup,
      environment,
      // Asynchronous invocations (S3 and EventBridge notifications; the reconciliation schedule with every
      // trigger): two retries, then the event goes to the failure queue. Never forever.
      ...(asynchronous || s.reconcileEveryHours > 0
        ? {
            retryAttempts: 2,
            maxEventAge: Duration.hours(6),
            onFailure: new lambdaDestinations.SqsDestination(this.failureQueue),
          }
        : {}),
    });
  }

  /** Exactly what the function does, on exactly what it touches. */
  private grantAccess(s: Settings): void {
    const stack = Stack.of(this);
    const role = this.node.findChild('FunctionRole');
    // Log files and digests (CloudTrail-Digest/) both live under PREFIX/AWSLogs/.
    const objects = this.trailBucket.arnForObjects(`${logKeyPrefix(s)}*`);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadTrailLogFiles', actions: ['s3:GetObject'], resources: [objects] }),
    );
    const trailKeyArn = s.trailBucketKmsKeyArn ?? this.trailKey?.keyArn;
    if (trailKeyArn) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DecryptTrailLogFiles',
          actions: ['kms:Decrypt'],
          resources: [trailKeyArn],
          // Only when S3 asks on the function's behalf while serving a GetObject.
          conditions: { StringEquals: { 'kms:ViaService': `s3.${Aws.REGION}.amazonaws.com` } },
        }),
      );
    }
    // Writes only: no reads, deletes, scans or table changes, and none on the indexes (DynamoDB maintains them).
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'WriteAuditRows',
        actions: ['dynamodb:BatchWriteItem', 'dynamodb:PutItem'],
        resources: [this.table.tableArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({
        sid: 'KeepLedger',
        actions: ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
        resources: [this.ledgerTable.tableArn],
      }),
    );
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ListCloudTrailPublicKeys', actions: ['cloudtrail:ListPublicKeys'], resources: ['*'] }),
    );
    if (this.alertBus) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({ sid: 'PublishAlerts', actions: ['events:PutEvents'], resources: [this.alertBus.eventBusArn] }),
      );
    }

    acknowledgeNag(
      role,
      `AwsSolutions-IAM5[Resource::${nagResourceName(stack.resolve(objects))}]`,
      'CloudTrail names its files by account, region, date and a random suffix, so GetObject is granted on the trail prefix (PREFIX/AWSLogs/*) of the one trail bucket, the narrowest resource that covers them.',
    );
    acknowledgeNag(
      role,
      'AwsSolutions-IAM5[Resource::*]',
      'cloudtrail:ListPublicKeys supports no resource-level permissions (its resource is "*" by AWS design); it only lists the public keys CloudTrail signs digests with.',
    );
  }

  /** S3 notification, SQS queue, or EventBridge rule: how new log files reach the function. */
  private wireTrigger(s: Settings): { queue?: sqs.Queue; rule?: events.Rule } {
    const bucket = this.trailBucket;
    const filter: s3.NotificationKeyFilter = { prefix: notificationFilterPrefix(s), suffix: LOG_FILE_SUFFIX };
    if (s.trigger === 'sqs') {
      const queue = new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Lambda's advice: at least six times the function timeout, so a message still being worked on
        // (including Lambda's own retries) is not handed out again.
        visibilityTimeout: Duration.seconds(s.timeoutSeconds * 6),
        // Shorter than the DLQ's 14 days: a moved message keeps its first enqueue time, so the DLQ must outlive it.
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: this.failureQueue, maxReceiveCount: s.maxReceiveCount },
      });
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, accountScopedQueue(queue), filter);
      this.function.addEventSource(
        new lambdaEventSources.SqsEventSource(queue, {
          batchSize: s.sqsBatchSize,
          // The handler reports the files that failed; only those come back, the others are done.
          reportBatchItemFailures: true,
        }),
      );
      return { queue };
    }

    // cdk-nag recognizes a DLQ of another queue as the end of a failure path, but not these.
    acknowledgeNag(
      this.failureQueue,
      'AwsSolutions-SQS3',
      s.trigger === 'eventbridge'
        ? "This queue is the function's on-failure destination and the EventBridge target's dead-letter queue: the last stop for failed invocations, watched by an alarm and replayed by hand."
        : 'This queue is the on-failure destination of the function; it is the last stop for failed invocations, and its messages are watched by an alarm and replayed by hand.',
    );
    if (s.trigger === 'direct') {
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), filter);
      return {};
    }

    // EventBridge: the bucket sends every event to the account's default bus (this takes no notification
    // filter, so it never overlaps another notification on AWSLogs/), and the rule picks the log files.
    bucket.enableEventBridgeNotification();
    const rule = new events.Rule(this, 'ObjectCreatedRule', {
      description: `ses-audit: new CloudTrail files in ${bucket.bucketName} to the function`,
      eventPattern: {
        source: ['aws.s3'],
        detailType: ['Object Created'],
        detail: {
          bucket: { name: [bucket.bucketName] },
          // Keys in EventBridge events are plain (not URL-encoded). One wildcard gives prefix and suffix at once.
          object: { key: events.Match.wildcard(`${escapeWildcard(logKeyPrefix(s))}*${LOG_FILE_SUFFIX}`) },
        },
      },
      targets: [
        new targets.LambdaFunction(this.function, {
          // Lambda queues the event (an asynchronous invocation), so these cover only failures to hand it over;
          // the function's own retries and on-failure destination cover failures to process it.
          retryAttempts: 185,
          maxEventAge: Duration.hours(24),
          deadLetterQueue: this.failureQueue,
        }),
      ],
    });
    return { rule };
  }

  /**
   * S3 notifications are configured by a CDK-provided custom resource (a singleton function per stack, created
   * by addEventNotification). Its role is CDK's, not ours to shape: acknowledge its findings with the reason.
   */
  private acknowledgeNotificationsHandler(): void {
    const handlers = Stack.of(this).node.children.filter((c: IConstruct) => c.node.id.startsWith('BucketNotificationsHandler'));
    for (const handler of handlers) {
      acknowledgeNag(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-provided BucketNotificationsHandler (sets the bucket notification at deploy time); it only writes its own logs with this AWS managed policy and its role is not configurable.',
      );
    }
  }

  private createAlarmTopicKey(): kms.Key {
    const key = new kms.Key(this, 'AlarmTopicKey', {
      description: 'ses-audit: encrypts the alarm topic',
      enableKeyRotation: true,
      // It protects messages in transit through SNS only; nothing stored needs it after the stack is gone.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // CloudWatch publishes alarm state changes through SNS, which needs the key on CloudWatch's behalf; only
    // for alarms of this account.
    key.addToResourcePolicy(
      new iam.PolicyStatement({
        sid: 'CloudWatchAlarms',
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
        conditions: {
          StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          ArnLike: { 'aws:SourceArn': `arn:${Aws.PARTITION}:cloudwatch:${Aws.REGION}:${Aws.ACCOUNT_ID}:alarm:*` },
        },
      }),
    );
    return key;
  }

  private createAlarms(s: Settings): void {
    const action = new cwActions.SnsAction(this.alarmTopic);
    const add = (id: string, props: cloudwatch.AlarmProps): void => {
      const alarm = new cloudwatch.Alarm(this, id, props);
      // Alarm and recovery both reach the topic, so whoever is paged also hears when it is over.
      alarm.addAlarmAction(action);
      alarm.addOkAction(action);
      this.alarms[id] = alarm;
    };
    const anyAtAll = {
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    };
    const fiveMinutes = Duration.minutes(5);
    const timeoutMs = s.timeoutSeconds * 1000;

    add('ErrorsAlarm', {
      alarmDescription: 'The ses-audit function failed (threw) at least once: files may be waiting for a retry.',
      metric: this.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      ...anyAtAll,
    });
    add('ThrottlesAlarm', {
      alarmDescription: 'The ses-audit function was throttled (concurrency limit reached).',
      metric: this.function.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      ...anyAtAll,
    });
    add('DurationAlarm', {
      alarmDescription: `An invocation took more than 80% of the ${s.timeoutSeconds}s timeout: raise timeoutSeconds or memoryMb before files start timing out.`,
      metric: this.function.metricDuration({ period: fiveMinutes, statistic: cloudwatch.Stats.MAXIMUM }),
      threshold: Math.round(timeoutMs * 0.8),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    add('FailedFilesAlarm', {
      alarmDescription:
        s.trigger === 'sqs'
          ? 'Messages are in the dead-letter queue: these log files were not processed after every retry.'
          : 'Events are in the failure queue: these log files were not processed after every retry.',
      metric: this.failureQueue.metricApproximateNumberOfMessagesVisible({
        period: fiveMinutes,
        statistic: cloudwatch.Stats.MAXIMUM,
      }),
      ...anyAtAll,
    });
    // Metrics the function emits itself (EMF, Powertools: namespace + the default `service` dimension).
    const appMetric = (metricName: string, period: Duration): cloudwatch.Metric =>
      new cloudwatch.Metric({
        namespace: METRIC_NAMESPACE,
        metricName,
        dimensionsMap: { service: SERVICE_NAME },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    add('FileFailuresAlarm', {
      alarmDescription:
        'The function reported log files it could not process (they are retried; see the failure queue if they keep failing).',
      metric: appMetric(METRICS.failures, fiveMinutes),
      ...anyAtAll,
    });
    add('NoFilesProcessedAlarm', {
      alarmDescription: `No CloudTrail log file was processed in ${s.idleAlarmHours} hour(s). CloudTrail delivers about every 5 minutes: check the trail, the bucket notification and the function.`,
      metric: appMetric(METRICS.filesProcessed, Duration.hours(s.idleAlarmHours)),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      evaluationPeriods: 1,
      // No data at all is exactly the failure this alarm is for.
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });

    // Trust (DESIGN.md): what the digests and the ledger disagree on. The file counts come from the scheduled
    // reconciliation, so they are summed over its interval; digest verdicts come as digests arrive, hourly.
    const reconcilePeriod = Duration.hours(Math.max(1, s.reconcileEveryHours));
    const verify = '`ses-audit verify --json` lists the files';
    const trust: [string, string, Duration, string][] = [
      [
        'FilesMissingAlarm',
        METRICS.filesMissing,
        reconcilePeriod,
        `A valid CloudTrail digest lists log files ses-audit never ingested: their SES events are missing from the audit table. ${verify}; ingest them with \`ses-audit verify --repair\` (or \`ses-audit backfill\` over their hours, with LEDGER_TABLE_NAME set). If they are gone from the bucket, treat it as deleted evidence and look at the bucket's object versions and S3 access logs.`,
      ],
      [
        'FilesUnattestedAlarm',
        METRICS.filesUnattested,
        reconcilePeriod,
        `Log files were ingested that no valid CloudTrail digest lists: they may not come from CloudTrail (someone may have written into the trail bucket). ${verify}; find who wrote them (S3 access logs, object versions) and run \`ses-audit verify --repair\` to restore history they overwrote.`,
      ],
      [
        'FilesTamperedAlarm',
        METRICS.filesTampered,
        reconcilePeriod,
        `A log file's content differs from the SHA-256 its CloudTrail digest lists: it was changed after delivery. Treat it as a security incident: ${verify}, compare with the object's earlier versions, and run \`ses-audit verify --repair\`.`,
      ],
      [
        'DigestsInvalidAlarm',
        METRICS.digestsInvalid,
        Duration.hours(1),
        'A CloudTrail digest file failed verification (bad signature, unknown key or malformed): the log files it covers cannot be trusted. `ses-audit verify --json` names it; check whether the digest object was rewritten (object versions, S3 access logs).',
      ],
      [
        'DigestChainGapsAlarm',
        METRICS.digestChainGaps,
        Duration.hours(1),
        "A CloudTrail digest's previous digest is missing, invalid or does not match: a digest was deleted or replaced, or log file validation was stopped. Run `ses-audit verify`; check the trail's StopLogging/UpdateTrail events and the digest objects' versions.",
      ],
    ];
    for (const [id, metricName, period, alarmDescription] of trust) {
      add(id, { alarmDescription, metric: appMetric(metricName, period), ...anyAtAll });
    }

    if (this.queue) {
      add('QueueBacklogAlarm', {
        alarmDescription: 'The oldest message in the ses-audit queue is over an hour old: the function is not keeping up.',
        metric: this.queue.metricApproximateAgeOfOldestMessage({
          period: fiveMinutes,
          statistic: cloudwatch.Stats.MAXIMUM,
        }),
        threshold: 3600,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    }
  }

  /**
   * An example alert route: the function's findings at or above the alert severity, as a readable message to
   * the alarm topic (and so to its email subscription). Add rules of your own on the same bus for chat or
   * ticketing; de-duplicate on identity + eventKey (a replay publishes again).
   */
  private createAlertRule(bus: events.IEventBus, threshold: Exclude<AlertSeverity, 'off'>): events.Rule {
    const field = (path: string): string => events.EventField.fromPath(path);
    return new events.Rule(this, 'AlertRule', {
      description: `ses-audit: findings of severity ${threshold} or higher to the alarm topic`,
      eventBus: bus,
      eventPattern: {
        source: [ALERT_EVENT_SOURCE],
        detailType: [ALERT_DETAIL_TYPE],
        detail: { severity: severitiesAtOrAbove(threshold) },
      },
      targets: [
        ruleScopedTopic(this.alarmTopic, this.alarmTopicKey, {
          input: events.RuleTargetInput.fromMultilineText(
            [
              `ses-audit finding, severity ${field('$.detail.severity')}: ${field('$.detail.eventName')} on ${field('$.detail.identity')}`,
              `By: ${field('$.detail.actor')}`,
              `Event: ${field('$.detail.eventKey')} (account ${field('$.account')}, region ${field('$.region')})`,
              `From: ${field('$.detail.sourceObject')}`,
              `See: ses-audit history ${field('$.detail.identity')} / ses-audit findings --severity ${field('$.detail.severity')}`,
            ].join('\n'),
          ),
        }),
      ],
    });
  }

  private createReadOnlyPolicy(): iam.ManagedPolicy {
    const stack = Stack.of(this);
    const indexes = [this.table, this.ledgerTable].map((t) => `${t.tableArn}/index/*`);
    const policy = new iam.ManagedPolicy(this, 'ReadOnlyPolicy', {
      description: 'ses-audit: read the audit history (Query and GetItem on the audit and ledger tables and their indexes)',
      statements: [
        new iam.PolicyStatement({
          sid: 'ReadAuditHistory',
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [this.table.tableArn, indexes[0], this.ledgerTable.tableArn, indexes[1]],
        }),
      ],
    });
    for (const index of indexes) {
      acknowledgeNag(
        policy,
        `AwsSolutions-IAM5[Resource::${nagResourceName(stack.resolve(index))}]`,
        "Query and GetItem on the table's indexes (TABLE/index/*): the indexes are the ways of reading the history (by actor, event name, severity); the table is named exactly and the actions are read-only.",
      );
    }
    return policy;
  }

  private createOutputs(): void {
    const out = (id: string, value: string, description?: string): void => {
      new CfnOutput(this, id, { value, ...(description ? { description } : {}) });
    };
    out('TableName', this.table.tableName);
    out('LedgerTableName', this.ledgerTable.tableName);
    out('FunctionName', this.function.functionName);
    out('FunctionArn', this.function.functionArn, 'for S3 Batch Operations backfills');
    out('TrailBucketName', this.trailBucket.bucketName);
    if (this.trailKey) out('TrailKeyArn', this.trailKey.keyArn, 'readers of the log files (process, backfill) need kms:Decrypt on it');
    out('FailureQueueUrl', this.failureQueue.queueUrl);
    out('FailureQueueArn', this.failureQueue.queueArn);
    if (this.queue) out('QueueUrl', this.queue.queueUrl);
    out('AlarmTopicArn', this.alarmTopic.topicArn);
    if (this.alertRule) out('AlertRuleArn', this.alertRule.ruleArn, 'the example rule that sends alerts to the alarm topic');
    out('ReadOnlyPolicyArn', this.readOnlyPolicy.managedPolicyArn, 'attach to the people who read the audit history');
  }
}

/**
 * An S3 -> SQS notification destination whose queue policy names both the bucket (aws:SourceArn) and the
 * account (aws:SourceAccount). CDK's SqsDestination names only the bucket, and a bucket ARN carries no
 * account: a bucket of that name in another account would do.
 */
function accountScopedQueue(queue: sqs.IQueue): s3.IBucketNotificationDestination {
  return {
    bind: (_scope, bucket) => {
      queue.grantSendMessages(
        new iam.ServicePrincipal('s3.amazonaws.com', {
          conditions: {
            ArnLike: { 'aws:SourceArn': bucket.bucketRef.bucketArn },
            StringEquals: { 'aws:SourceAccount': Aws.ACCOUNT_ID },
          },
        }),
      );
      return { arn: queue.queueArn, type: s3.BucketNotificationDestinationType.QUEUE, dependencies: [queue] };
    },
  };
}

/**
 * An EventBridge -> SNS target whose topic policy admits this rule only (aws:SourceArn): CDK's SnsTopic target
 * admits any EventBridge rule. The topic's key must let EventBridge use it too; KMS sees no source condition
 * for EventBridge's deliveries, so that statement names the service alone, and the topic policy does the scoping.
 */
function ruleScopedTopic(topic: sns.ITopic, key: kms.IKey, options: { input: events.RuleTargetInput }): events.IRuleTarget {
  return {
    bind: (rule) => {
      const events = new iam.ServicePrincipal('events.amazonaws.com');
      topic.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'AlertRulePublishes',
          principals: [events],
          actions: ['sns:Publish'],
          resources: [topic.topicArn],
          conditions: { ArnEquals: { 'aws:SourceArn': rule.ruleRef.ruleArn } },
        }),
      );
      key.addToResourcePolicy(
        new iam.PolicyStatement({
          sid: 'EventBridgeAlerts',
          principals: [events],
          actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          resources: ['*'],
        }),
      );
      return { arn: topic.topicArn, input: options.input, targetResource: topic };
    },
  };
}

/** An EventBridge wildcard pattern matching `text` literally: `*` and `\` escaped. */
export function escapeWildcard(text: string): string {
  return text.replace(/[\\*]/g, (c) => `\\${c}`);
}

/** The L1 resource of an L2 construct, checked rather than cast. */
function cfnChild<T>(construct: IConstruct, type: abstract new (...args: never[]) => T): T {
  const child = construct.node.defaultChild;
  if (!(child instanceof type)) throw new Error(`${construct.node.path} has no ${type.name}`);
  return child;
}
