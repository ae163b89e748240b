/**
 * SesAudit as users embed it: in a stack of their own, in a plain `new App()` with no feature flags or other
 * context; and the construct's small helpers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  defaultCodeDirectory,
  escapeWildcard,
  indexProjectionProps,
  SesAudit,
  severitiesAtOrAbove,
} from '../../infra/construct.js';
import { SettingsError } from '../../infra/settings.js';


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

function fakeDist(): string {
  const dir = tempDir('ses-audit-dist-');
  writeFileSync(join(dir, 'handler.mjs'), 'export const handler = async () => ({});\n');
  return dir;
}

// biome-ignore lint/suspicious/noExplicitAny: raw CloudFormation JSON (a boundary); the assertions check its shape.
type Json = Record<string, any>;
const resourcesOf = (json: Json, type: string): [string, Json][] =>
  Object.entries(json.Resources as Json).filter(([, r]) => r.Type === type) as [string, Json][];

describe('in a plain App, inside a stack of the user', () => {
  let json: Json;
  let audit: SesAudit;
  beforeAll(() => {
    const app = new App();
    const stack = new Stack(app, 'Host');
    audit = new SesAudit(stack, 'Audit', { codeDirectory: fakeDist() });
    json = Template.fromStack(stack).toJSON();
  });

  it('synthesizes the complete default: trail, buckets, both tables, the function with its code asset', () => {
    expect(resourcesOf(json, 'AWS::CloudTrail::Trail')).toHaveLength(1);
    expect(resourcesOf(json, 'AWS::S3::Bucket')).toHaveLength(2);
    expect(resourcesOf(json, 'AWS::DynamoDB::Table').map(([, t]) => t.Properties.TableName).sort()).toEqual([
      'ses-audit-ledger',
      'ses-identity-audit',
    ]);
    const [[, fn], ...more] = resourcesOf(json, 'AWS::Lambda::Function').filter(([, f]) => f.Properties.Handler === 'handler.handler');
    expect(more).toHaveLength(0);
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Code: { S3Key: expect.stringMatching(/\.zip$/) } });
    expect(audit.trail).toBeDefined();
  });

  it('gives the access log bucket a bucket policy, not the ACL a plain App would otherwise fall back to', () => {
    const [[logsId, logs]] = resourcesOf(json, 'AWS::S3::Bucket').filter(([, b]) => b.Properties.LoggingConfiguration === undefined);
    expect(logs.Properties.AccessControl).toBeUndefined();
    expect(logs.Properties.OwnershipControls).toEqual({ Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] });
    const policy = resourcesOf(json, 'AWS::S3::BucketPolicy').find(([, p]) => p.Properties.Bucket.Ref === logsId)![1];
    expect(policy.Properties.PolicyDocument.Statement).toContainEqual(
      expect.objectContaining({ Sid: 'S3ServerAccessLogs', Principal: { Service: 'logging.s3.amazonaws.com' } }),
    );
  });

  it('names the trail after its place in the app, and scopes the CloudTrail statements to it', () => {
    const [[, trail]] = resourcesOf(json, 'AWS::CloudTrail::Trail');
    expect(trail.Properties.TrailName).toMatch(/^Host-Audit-[0-9A-F]{8}-trail$/);
    const statements = resourcesOf(json, 'AWS::S3::BucketPolicy').flatMap(([, p]) => p.Properties.PolicyDocument.Statement as Json[]);
    const cloudTrail = statements.filter((st) => st.Principal?.Service === 'cloudtrail.amazonaws.com');
    expect(cloudTrail).toHaveLength(2);
    for (const st of cloudTrail) {
      expect(JSON.stringify(st.Condition.StringEquals['aws:SourceArn'])).toContain(`:trail/${trail.Properties.TrailName}`);
      expect(st.Condition.StringEquals['aws:SourceAccount']).toEqual({ Ref: 'AWS::AccountId' });
    }
  });
});

describe('embedding', () => {
  it('attaches to an existing bucket in a plain App', () => {
    const stack = new Stack(new App(), 'Host');
    const audit = new SesAudit(stack, 'Audit', { trailBucketName: 'org-trail-logs', trigger: 'eventbridge', codeDirectory: fakeDist() });
    const json = Template.fromStack(stack).toJSON();
    expect(resourcesOf(json, 'AWS::CloudTrail::Trail')).toHaveLength(0);
    expect(resourcesOf(json, 'AWS::S3::Bucket')).toHaveLength(0);
    expect(audit.trail).toBeUndefined();
    expect(audit.trailBucket.bucketName).toBe('org-trail-logs');
    expect(audit.objectCreatedRule).toBeDefined();
  });

  it('takes two instances in one stack (different tables), with their own trails and one notifications handler', () => {
    const stack = new Stack(new App(), 'Host');
    new SesAudit(stack, 'Prod', { codeDirectory: fakeDist() });
    new SesAudit(stack, 'Test', { tableName: 'audit-test', ledgerTableName: 'ledger-test', codeDirectory: fakeDist() });
    const json = Template.fromStack(stack).toJSON();
    const names = resourcesOf(json, 'AWS::CloudTrail::Trail').map(([, t]) => t.Properties.TrailName);
    expect(names).toHaveLength(2);
    expect(new Set(names).size).toBe(2);
    expect(resourcesOf(json, 'AWS::DynamoDB::Table')).toHaveLength(4);
    // CDK's notifications handler is a stack singleton: both use it.
    expect(resourcesOf(json, 'AWS::Lambda::Function').filter(([id]) => id.startsWith('BucketNotificationsHandler'))).toHaveLength(1);
  });

  it('refuses bad props with one error naming each', () => {
    const make = () =>
      new SesAudit(new Stack(new App(), 'Host'), 'Audit', { timeoutSeconds: 5, trigger: 'sqs', sqsBatchSize: 20, codeDirectory: fakeDist() });
    expect(make).toThrow(SettingsError);
    expect(make).toThrow(/timeoutSeconds=5 .*; sqsBatchSize=20 /);
  });

  it('says where it looked for the handler bundle', () => {
    const stack = new Stack(new App(), 'Host');
    const empty = tempDir('ses-audit-empty-');
    expect(() => new SesAudit(stack, 'Audit', { codeDirectory: empty })).toThrow(`${join(empty, 'handler.mjs')} not found`);
  });
});

describe('helpers', () => {
  it('maps each index projection to CDK props', () => {
    expect(indexProjectionProps({ type: 'ALL' })).toEqual({ projectionType: 'ALL' });
    expect(indexProjectionProps({ type: 'KEYS_ONLY' })).toEqual({ projectionType: 'KEYS_ONLY' });
    expect(indexProjectionProps({ type: 'INCLUDE', attributes: ['actor', 'findings'] })).toEqual({
      projectionType: 'INCLUDE',
      nonKeyAttributes: ['actor', 'findings'],
    });
  });

  it('lets through the severities at or above the alert threshold', () => {
    expect(severitiesAtOrAbove('high')).toEqual(['high']);
    expect(severitiesAtOrAbove('medium')).toEqual(['high', 'medium']);
    expect(severitiesAtOrAbove('low')).toEqual(['high', 'medium', 'low']);
  });

  it('escapes the characters EventBridge wildcards treat specially', () => {
    expect(escapeWildcard('AWSLogs/')).toBe('AWSLogs/');
    expect(escapeWildcard('a b/AWSLogs/')).toBe('a b/AWSLogs/');
    expect(escapeWildcard('x\\y*z/')).toBe('x\\\\y\\*z/');
  });

  it("finds the handler bundle in the repository's dist/ when run from infra/", () => {
    expect(defaultCodeDirectory()).toBe(join(import.meta.dirname, '..', '..', 'dist'));
  });
});
