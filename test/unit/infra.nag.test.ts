/**
 * cdk-nag (AwsSolutions) through the same path as `npm run synth`: the app's validation plugin runs during
 * synthesis, which throws on any unacknowledged error; warnings and acknowledged findings land in the report.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack, Validations, type CfnResource } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { AwsSolutionsChecks } from 'cdk-nag';
// cdk-nag's own flattening, the reference for the construct's nagResourceName.
import { flattenCfnReference } from 'cdk-nag/lib/utils/flatten-cfn-reference.js';
import { buildApp } from '../../infra/app.js';
import { SesAudit } from '../../infra/construct.js';
import { nagResourceName } from '../../infra/nag.js';
import type { SesAuditStack } from '../../infra/stack.js';


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

interface Violation {
  ruleName: string;
  severity: string;
  reason?: string;
  violatingConstructs: { constructPath: string }[];
}
interface Report {
  pluginReports: { pluginName: string; conclusion: string; violations: Violation[]; suppressedViolations?: Violation[] }[];
}

function fakeDist(): string {
  const dir = tempDir('ses-audit-dist-');
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async () => ({});\n');
  return dir;
}

function build(context: Record<string, unknown>, tamper?: (stack: SesAuditStack) => void) {
  const outdir = tempDir('ses-audit-nag-');
  const { app, stack, nag } = buildApp({ context, outdir, codeDirectory: fakeDist() });
  tamper?.(stack);
  return { app, stack, outdir, nag };
}

function synthReport(context: Record<string, unknown>) {
  const { app, stack, outdir, nag } = build(context);
  app.synth(); // throws ValidationFailed on any unacknowledged AwsSolutions error
  return { report: JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report, stack, app, nag };
}

/** Every acknowledgement recorded in the tree: rule ID -> reason. */
function acknowledgements(root: IConstruct): Map<string, string> {
  const found = new Map<string, string>();
  const visit = (c: IConstruct): void => {
    for (const entry of c.node.metadata) {
      if (entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY) {
        for (const [id, reason] of Object.entries(entry.data as Record<string, string>)) found.set(id, reason);
      }
    }
    c.node.children.forEach(visit);
  };
  visit(root);
  return found;
}

/** No errors and no warnings left in any plugin's report (a plugin with nothing to say is left out of it). */
function expectClean(report: Report): void {
  for (const plugin of report.pluginReports) {
    const left = plugin.violations.map((v) => `${v.severity} ${v.ruleName} at ${v.violatingConstructs.map((c) => c.constructPath)}`);
    expect(left, plugin.pluginName).toEqual([]);
    expect(plugin.conclusion, plugin.pluginName).toBe('success');
  }
}

describe('cdk-nag AwsSolutions', () => {
  it('passes the default stack with only the expected, reasoned acknowledgements', () => {
    const { report, stack, app, nag } = synthReport({});
    expectClean(report);
    // cdk-nag's own view agrees: it reports nothing, acknowledged findings included.
    expect(nag.validateScope(app).violations).toEqual([]);
    const acks = acknowledgements(stack);
    const id = (c: IConstruct): string => stack.resolve((c.node.defaultChild as CfnResource).logicalId) as string;
    expect([...acks.keys()].sort()).toEqual(
      [
        'Annotation::AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        `Annotation::AwsSolutions-IAM5[Resource::<${id(stack.audit.trailBucket)}.Arn>/AWSLogs/*]`,
        // cloudtrail:ListPublicKeys has no resource-level permissions.
        'Annotation::AwsSolutions-IAM5[Resource::*]',
        // The read-only policy's indexes.
        `Annotation::AwsSolutions-IAM5[Resource::<${id(stack.audit.table)}.Arn>/index/*]`,
        `Annotation::AwsSolutions-IAM5[Resource::<${id(stack.audit.ledgerTable)}.Arn>/index/*]`,
        'Annotation::AwsSolutions-SQS3',
      ].sort(),
    );
    for (const [id, reason] of acks) expect(reason.length, id).toBeGreaterThan(60);
  });

  it('passes the attach + SQS setting (with a key and a prefix with a space)', () => {
    const { report, stack } = synthReport({
      trailBucketName: 'org-trail-logs',
      trailBucketKmsKeyArn: 'arn:aws:kms:eu-west-1:111122223333:key/0f0e0d0c-1111-2222-3333-444455556666',
      keyPrefix: 'audit logs',
      trigger: 'sqs',
      alarmEmail: 'ops@example.com',
    });
    expectClean(report);
    // The DLQ needs no acknowledgement (cdk-nag sees it is one); the only finding left is the read grant.
    const suppressed = report.pluginReports.find((p) => p.pluginName === 'AwsSolutions')!.suppressedViolations ?? [];
    expect(suppressed.map((v) => v.ruleName)).toEqual([
      'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::org-trail-logs/audit logs/AWSLogs/*]',
    ]);
    expect(suppressed[0].reason).toMatch(/CloudTrail names its files/);
    expect([...acknowledgements(stack).keys()].some((id) => id.includes('SQS3'))).toBe(false);
  });

  it('passes the created trail with SES data events and reserved concurrency', () => {
    expectClean(synthReport({ sesDataEvents: true, reservedConcurrency: 2, retentionDays: 365 }).report);
  });

  it('passes the EventBridge wiring, on the created bucket and on an existing one', () => {
    expectClean(synthReport({ trigger: 'eventbridge', alertSeverity: 'low' }).report);
    expectClean(synthReport({ trigger: 'eventbridge', trailBucketName: 'shared-logs', alertSeverity: 'off', reconcileEveryHours: 0 }).report);
  });

  it('passes the construct in a plain App, without feature flags, the way a user embeds it', () => {
    for (const props of [{}, { trailBucketName: 'org-trail-logs', keyPrefix: 'audit logs', trigger: 'sqs' as const }]) {
      const outdir = tempDir('ses-audit-plain-nag-');
      const app = new App({ outdir });
      const nag = new AwsSolutionsChecks(app);
      Validations.of(app).addPlugins(nag);
      new SesAudit(new Stack(app, 'Host'), 'Audit', { ...props, codeDirectory: fakeDist() });
      app.synth(); // throws on any unacknowledged finding
      expectClean(JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as Report);
    }
  });

  it('fails the synth on a finding nobody acknowledged', () => {
    const { app } = build({}, (stack) => {
      stack.audit.function.addToRolePolicy(new iam.PolicyStatement({ actions: ['dynamodb:*'], resources: [stack.audit.table.tableArn] }));
    });
    expect(() => app.synth()).toThrow(/AwsSolutions-IAM5\[Action::dynamodb:\*\]/);
  });
});

describe('nagResourceName', () => {
  it.each<[string, unknown]>([
    ['a plain string', 'arn:aws:s3:::bucket/AWSLogs/*'],
    ['a Fn::Sub-style string', 'arn:${AWS::Partition}:s3:::b/*'],
    ['a GetAtt join', { 'Fn::Join': ['', [{ 'Fn::GetAtt': ['TrailBucketA831CE63', 'Arn'] }, '/AWSLogs/*']] }],
    ['a Ref join with a delimiter', { 'Fn::Join': [':', ['arn', { Ref: 'AWS::Partition' }, 's3', '', '', 'b/a b/*']] }],
    ['a nested Fn::Sub', { 'Fn::Sub': 'arn:${AWS::Partition}:logs:*' }],
    ['an import', { 'Fn::ImportValue': 'Other:Arn' }],
    ['something else', { 'Fn::Select': [0, ['a']] }],
    ['nothing', undefined],
  ])('names %s as cdk-nag does', (_what, value) => {
    expect(nagResourceName(value)).toBe(flattenCfnReference(value));
  });
});
