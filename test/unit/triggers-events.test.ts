/** The sample events in events/: each one plans as its shape says, to the objects it names. */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { SourceError } from '../../src/errors.js';
import { classifyKey } from '../../src/trail/keys.js';
import { planInvocation, type TriggerKind, type UnitResult } from '../../src/triggers/index.js';

const DIR = join(import.meta.dirname, '../../events');
const load = (name: string): unknown => JSON.parse(readFileSync(join(DIR, name), 'utf8'));

const BUCKET = 'ses-audit-trail-local';
const LOG = 'AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz';
const LOG_1030 = LOG.replace('T1015Z_a1b2c3d4', 'T1030Z_e5f6a7b8');

const expected: Record<string, { kind: TriggerKind; keys: string[][] }> = {
  's3-put.json': { kind: 's3', keys: [[`my trail/team=mail/Zürich/${LOG}`]] },
  'sqs-s3.json': { kind: 'sqs', keys: [[`my trail/${LOG}`]] },
  'sqs-sns-s3.json': { kind: 'sqs', keys: [[`my trail/${LOG}`]] },
  'sqs-test-event.json': { kind: 'sqs', keys: [[]] },
  'sqs-mixed.json': { kind: 'sqs', keys: [[LOG], [`my trail/${LOG_1030}`], [], []] },
  'sns-s3.json': { kind: 'sns', keys: [[`my trail/${LOG}`]] },
  'sns-cloudtrail.json': { kind: 'sns', keys: [[`my trail/${LOG}`, `my trail/${LOG_1030}`]] },
  'eventbridge-object-created.json': { kind: 'eventbridge', keys: [[`my trail/${LOG}`]] },
  'batch-ops-1.0.json': { kind: 'batch-operations', keys: [[`my trail/${LOG}`]] },
  'batch-ops-2.0.json': { kind: 'batch-operations', keys: [[`my trail/${LOG}`]] },
};

describe('sample events', () => {
  it('every file in events/ is covered here', () => {
    expect(readdirSync(DIR).filter((f) => f.endsWith('.json')).sort()).toEqual(Object.keys(expected).sort());
  });

  it.each(Object.entries(expected))('%s', (name, { kind, keys }) => {
    const plan = planInvocation(load(name));
    expect(plan.kind).toBe(kind);
    expect(plan.units.map((u) => u.objects.map((o) => o.key))).toEqual(keys);
    for (const unit of plan.units) {
      for (const o of unit.objects) {
        expect(o.bucket).toBe(BUCKET);
        expect(classifyKey(o.key)).toMatchObject({ kind: 'log', accountId: '111122223333', region: 'us-east-1', date: '2026-11-20' });
      }
    }
  });

  it('s3-put.json carries the encoded key and the version', () => {
    const raw = JSON.stringify(load('s3-put.json'));
    expect(raw).toContain('my+trail/team%3Dmail/Z%C3%BCrich/AWSLogs/');
    expect(planInvocation(load('s3-put.json')).units[0].objects[0]).toEqual({
      bucket: BUCKET,
      key: 'my trail/team=mail/Zürich/AWSLogs/111122223333/CloudTrail/us-east-1/2026/11/20/111122223333_CloudTrail_us-east-1_20261120T1015Z_a1b2c3d4.json.gz',
      versionId: '3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY',
    });
  });

  it('SQS samples have the md5OfBody SQS would compute', () => {
    for (const name of Object.keys(expected).filter((n) => n.startsWith('sqs-'))) {
      const event = load(name) as { Records: { body: string; md5OfBody: string }[] };
      for (const r of event.Records) expect(r.md5OfBody).toBe(createHash('md5').update(r.body).digest('hex'));
    }
  });

  it('sqs-mixed.json: the bad body and a failed read are the only batch item failures', () => {
    const plan = planInvocation(load('sqs-mixed.json'));
    expect(plan.units.map((u) => [u.id, u.note ?? null, u.error?.message ?? null])).toEqual([
      ['3b6c1c6e-8f1c-4d2a-9a53-1e7f0c9d2b41', null, null],
      ['7d0e2c1a-5b4f-4e8d-8c3a-2f1b0a9e8d77', null, null],
      ['c80e8021-a70a-42c7-a470-796e1186f753', 's3:TestEvent ignored', null],
      ['9a1f6d3e-2c4b-4f8a-b7e6-5d4c3b2a1f09', null, 'body is not JSON'],
    ]);
    const results = new Map<string, UnitResult>([
      ['3b6c1c6e-8f1c-4d2a-9a53-1e7f0c9d2b41', { ok: true }],
      ['7d0e2c1a-5b4f-4e8d-8c3a-2f1b0a9e8d77', { ok: false, error: new SourceError('missing object') }],
    ]);
    expect(plan.respond(results)).toEqual({
      batchItemFailures: [
        { itemIdentifier: '7d0e2c1a-5b4f-4e8d-8c3a-2f1b0a9e8d77' },
        { itemIdentifier: '9a1f6d3e-2c4b-4f8a-b7e6-5d4c3b2a1f09' },
      ],
    });
  });

  it('batch-ops-2.0.json passes its user arguments on', () => {
    const plan = planInvocation(load('batch-ops-2.0.json'));
    expect(plan.kind === 'batch-operations' && plan.userArguments).toEqual({ requestedBy: 'ops', reason: 'backfill 2026-11' });
  });
});
