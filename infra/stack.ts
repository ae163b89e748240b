/**
 * The ses-audit stack: CloudTrail log files in S3 -> the function -> SES audit rows in DynamoDB, with failure
 * handling and alarms. With no settings it creates the trail and its bucket too; with trailBucketName it
 * attaches to an existing trail's bucket instead.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Aws, CfnOutput, Duration, RemovalPolicy, Stack, Validations, type StackProps } from 'aws-cdk-lib';
import * as cloudtrail from 'aws-cdk-lib/aws-cloudtrail';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as lambdaDestinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as lambdaEventSources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as snsSubscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct, IConstruct } from 'constructs';
// cdk-nag's own flattening of policy resources, so the finding IDs acknowledged below match what it reports.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { ENV } from '../src/config.js';
import { METRIC_NAMESPACE, METRICS, SERVICE_NAME } from '../src/observability.js';
import { INDEX_LIST, PARTITION_KEY, SORT_KEY, TTL_ATTRIBUTE } from '../src/store/schema.js';
import {
  LOG_FILE_SUFFIX,
  logKeyPrefix,
  notificationFilterPrefix,
  resolveSettings,
  type Settings,
  type SettingsInput,
} from './settings.js';

/** The bundle `npm run build` writes; the function's code. */
export const DEFAULT_CODE_DIRECTORY = join(import.meta.dirname, '..', 'dist');
export const HANDLER_FILE = 'handler.mjs';

/** SES resource types CloudTrail can log data events for (SES developer guide, "SES data events in CloudTrail"). */
export const SES_DATA_EVENT_RESOURCE_TYPES = [
  'AWS::SES::EmailIdentity',
  'AWS::SES::ConfigurationSet',
  'AWS::SES::Template',
] as const;

/**
 * Acknowledge one cdk-nag finding, with its reason. cdk-nag itself reads the plain rule ID. CDK records IDs
 * with spaces turned into dashes, which cdk-nag 3.0.2 then no longer matches (a key prefix may contain
 * spaces), so such an ID is also recorded under the plugin's namespace, which CDK's own report filtering
 * matches after the same normalization.
 */
export function acknowledgeNag(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
  if (id.includes(' ')) Validations.of(scope).acknowledge({ id: `AwsSolutions::${id}`, reason });
}

export interface SesAuditStackProps extends StackProps {
  settings?: SettingsInput;
  /** Directory holding handler.mjs (default: dist/). Tests point this at a stub. */
  codeDirectory?: string;
}

export class SesAuditStack extends Stack {
  readonly settings: Settings;
  readonly table: dynamodb.Table;
  readonly function: lambda.Function;
  readonly trailBucket: s3.IBucket;
  /** Only when the stack creates the trail. */
  readonly trail?: cloudtrail.Trail;
  /** Direct wiring: the async on-failure destination. SQS wiring: the dead-letter queue. */
  readonly failureQueue: sqs.Queue;
  /** SQS wiring only: the queue S3 notifies and the function reads. */
  readonly queue?: sqs.Queue;
  readonly alarmTopic: sns.Topic;
  readonly alarms: Record<string, cloudwatch.Alarm> = {};

  constructor(scope: Construct, id: string, props: SesAuditStackProps = {}) {
    super(scope, id, props);
    const s = (this.settings = resolveSettings(props.settings));

    this.table = this.createTable(s);
    const { bucket, trail } = s.trailBucketName === undefined ? this.createTrail(s) : this.importBucket(s);
    this.trailBucket = bucket;
    this.trail = trail;

    const codeDirectory = props.codeDirectory ?? DEFAULT_CODE_DIRECTORY;
    if (!existsSync(join(codeDirectory, HANDLER_FILE))) {
      throw new Error(`${join(codeDirectory, HANDLER_FILE)} not found: run \`npm run build\` before synthesizing`);
    }

    // Created before the function: the direct wiring names it as the function's on-failure destination.
    this.failureQueue = new sqs.Queue(this, s.trigger === 'sqs' ? 'DeadLetterQueue' : 'FailureQueue', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // The longest SQS allows: failed files wait here until someone replays them.
      retentionPeriod: Duration.days(14),
    });

    this.function = this.createFunction(s, codeDirectory);
    this.grantAccess(s);

    const filter: s3.NotificationKeyFilter = { prefix: notificationFilterPrefix(s), suffix: LOG_FILE_SUFFIX };
    if (s.trigger === 'sqs') {
      this.queue = new sqs.Queue(this, 'Queue', {
        encryption: sqs.QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
        // Lambda's advice: at least six times the function timeout, so a message still being worked on
        // (including Lambda's own retries) is not handed out again.
        visibilityTimeout: Duration.seconds(s.timeoutSeconds * 6),
        // Shorter than the DLQ's 14 days: a moved message keeps its first enqueue time, so the DLQ must outlive it.
        retentionPeriod: Duration.days(4),
        deadLetterQueue: { queue: this.failureQueue, maxReceiveCount: s.maxReceiveCount },
      });
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.SqsDestination(this.queue), filter);
      this.function.addEventSource(
        new lambdaEventSources.SqsEventSource(this.queue, {
          batchSize: s.sqsBatchSize,
          // The handler reports the files that failed; only those come back, the others are done.
          reportBatchItemFailures: true,
        }),
      );
    } else {
      bucket.addEventNotification(s3.EventType.OBJECT_CREATED, new s3n.LambdaDestination(this.function), filter);
      // cdk-nag recognizes a DLQ as the end of a failure path, but not an on-failure destination.
      acknowledgeNag(
        this.failureQueue,
        'AwsSolutions-SQS3',
        'This queue is the on-failure destination of the function; it is the last stop for failed invocations, and its messages are watched by an alarm and replayed by hand.',
      );
    }
    this.acknowledgeNotificationsHandler();

    this.alarmTopic = new sns.Topic(this, 'AlarmTopic', { displayName: 'ses-audit alarms', enforceSSL: true });
    if (s.alarmEmail) this.alarmTopic.addSubscription(new snsSubscriptions.EmailSubscription(s.alarmEmail));
    this.createAlarms(s);

    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'FunctionName', { value: this.function.functionName });
    new CfnOutput(this, 'FunctionArn', { value: this.function.functionArn, description: 'for S3 Batch Operations backfills' });
    new CfnOutput(this, 'TrailBucketName', { value: bucket.bucketName });
    new CfnOutput(this, 'FailureQueueUrl', { value: this.failureQueue.queueUrl });
    new CfnOutput(this, 'FailureQueueArn', { value: this.failureQueue.queueArn });
    if (this.queue) new CfnOutput(this, 'QueueUrl', { value: this.queue.queueUrl });
    new CfnOutput(this, 'AlarmTopicArn', { value: this.alarmTopic.topicArn });
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
    for (const index of INDEX_LIST) {
      table.addGlobalSecondaryIndex({
        indexName: index.name,
        partitionKey: attribute(index.partitionKey),
        sortKey: attribute(index.sortKey),
        projectionType: dynamodb.ProjectionType.ALL,
      });
    }
    return table;
  }

  private createTrail(s: Settings): { bucket: s3.IBucket; trail: cloudtrail.Trail } {
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
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'trail-bucket/',
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

    const trail = new cloudtrail.Trail(this, 'Trail', {
      bucket,
      s3KeyPrefix: s.keyPrefix || undefined,
      isMultiRegionTrail: true,
      includeGlobalServiceEvents: true,
      enableFileValidation: true,
      // With data events the selectors below (advanced) carry the management events instead.
      managementEvents: s.sesDataEvents ? undefined : cloudtrail.ReadWriteType.ALL,
    });
    if (s.sesDataEvents) {
      const cfnTrail = trail.node.defaultChild as cloudtrail.CfnTrail;
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
    return { bucket, trail };
  }

  private importBucket(s: Settings): { bucket: s3.IBucket; trail?: undefined } {
    // Attaching: the trail and its bucket belong to someone else; this stack only reads and adds a notification.
    return { bucket: s3.Bucket.fromBucketName(this, 'TrailBucket', s.trailBucketName!) };
  }

  private createFunction(s: Settings, codeDirectory: string): lambda.Function {
    const logGroup = new logs.LogGroup(this, 'FunctionLogs', {
      retention: s.logRetentionDays as logs.RetentionDays,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // An own role instead of the default one, which would attach the AWS managed AWSLambdaBasicExecutionRole
    // (log write on every log group in the account).
    const role = new iam.Role(this, 'FunctionRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'ses-audit function: read trail log files, write audit rows',
    });
    logGroup.grantWrite(role);

    const environment: Record<string, string> = {
      [ENV.tableName]: this.table.tableName,
      // S3 then refuses to hand over an object from a bucket another account owns (bucket sniping).
      [ENV.expectedBucketOwner]: Aws.ACCOUNT_ID,
      POWERTOOLS_SERVICE_NAME: SERVICE_NAME,
      POWERTOOLS_METRICS_NAMESPACE: METRIC_NAMESPACE,
    };
    if (s.retentionDays !== undefined) environment[ENV.retentionDays] = String(s.retentionDays);
    if (s.keepReadOnly !== undefined) environment[ENV.keepReadOnly] = String(s.keepReadOnly);
    if (s.keepDataEvents !== undefined) environment[ENV.keepDataEvents] = String(s.keepDataEvents);

    const direct = s.trigger === 'direct';
    return new lambda.Function(this, 'Function', {
      description: 'ses-audit: CloudTrail log files to SES audit rows in DynamoDB',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      handler: 'handler.handler',
      // The bundle only: the CLI and the source maps stay out of the deployment package.
      code: lambda.Code.fromAsset(codeDirectory, { exclude: ['cli.mjs', '*.map'] }),
      memorySize: s.memoryMb,
      timeout: Duration.seconds(s.timeoutSeconds),
      reservedConcurrentExecutions: s.reservedConcurrency,
      role,
      logGroup,
      environment,
      // Direct (asynchronous) invocations: two retries, then the event goes to the failure queue. Never forever.
      ...(direct
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
    const objects = this.trailBucket.arnForObjects(`${logKeyPrefix(s)}*`);
    this.function.addToRolePolicy(
      new iam.PolicyStatement({ sid: 'ReadTrailLogFiles', actions: ['s3:GetObject'], resources: [objects] }),
    );
    if (s.trailBucketKmsKeyArn) {
      this.function.addToRolePolicy(
        new iam.PolicyStatement({
          sid: 'DecryptTrailLogFiles',
          actions: ['kms:Decrypt'],
          resources: [s.trailBucketKmsKeyArn],
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

    acknowledgeNag(
      this.function.role!,
      `AwsSolutions-IAM5[Resource::${flattenCfnReference(this.resolve(objects))}]`,
      'CloudTrail names its files by account, region, date and a random suffix, so GetObject is granted on the trail prefix (PREFIX/AWSLogs/*) of the one trail bucket, the narrowest resource that covers them.',
    );
  }

  /**
   * S3 notifications are configured by a CDK-provided custom resource (a singleton function per stack, created
   * by addEventNotification). Its role is CDK's, not ours to shape: acknowledge its findings with the reason.
   */
  private acknowledgeNotificationsHandler(): void {
    const handlers = this.node.children.filter((c: IConstruct) => c.node.id.startsWith('BucketNotificationsHandler'));
    for (const handler of handlers) {
      acknowledgeNag(
        handler,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        'CDK-provided BucketNotificationsHandler (sets the bucket notification at deploy time); it only writes its own logs with this AWS managed policy and its role is not configurable.',
      );
    }
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
    const fiveMinutes = Duration.minutes(5);
    const timeoutMs = s.timeoutSeconds * 1000;

    add('ErrorsAlarm', {
      alarmDescription: 'The ses-audit function failed (threw) at least once: files may be waiting for a retry.',
      metric: this.function.metricErrors({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
    add('ThrottlesAlarm', {
      alarmDescription: 'The ses-audit function was throttled (concurrency limit reached).',
      metric: this.function.metricThrottles({ period: fiveMinutes, statistic: cloudwatch.Stats.SUM }),
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
      threshold: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
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
}
