/**
 * The function publishes alerts for the rows it writes, counts them, and fails the file when an alert
 * cannot be published, so that Lambda's retry publishes it (DESIGN.md, Findings).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { gzipSync } from 'node:zlib';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import type { InvocationFailedError } from '../../src/triggers/index.js';
import { makeApp, lambdaContext, rejectionOf, type AppUnderTest } from '../helpers/app.js';
import { FakeS3, FakeTable } from '../helpers/aws-mocks.js';
import { BUCKET, logKey, s3Event, sesRecord } from '../helpers/trail.js';

const s3 = new FakeS3();
const table = new FakeTable();
const eb = mockClient(EventBridgeClient);
const events = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
let t: AppUnderTest | undefined;

const KEY = logKey('alerts01');
const file = gzipSync(
  JSON.stringify({
    Records: [
      sesRecord('DeleteIdentity', { identity: 'example.com' }, { eventID: 'del-1' }),
      sesRecord('GetSendQuota', null, { eventID: 'quota-1', readOnly: true }),
      sesRecord('VerifyEmailIdentity', { emailAddress: 'x@example.org' }, { eventID: 'verify-1' }),
    ],
  }),
);

beforeEach(() => {
  s3.reset();
  table.reset();
  eb.reset();
  s3.put(BUCKET, KEY, file);
  // Full-jitter backoff sleeps for real: keep the delays a few milliseconds.
  vi.spyOn(Math, 'random').mockReturnValue(0.01);
});
afterEach(() => {
  t?.out.restore();
  t = undefined;
  vi.restoreAllMocks();
});
afterAll(() => {
  s3.restore();
  table.restore();
  eb.restore();
});

describe('alerts from the function', () => {
  it('publishes the rows at or above ALERT_SEVERITY and counts them', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    t = makeApp(s3, table, { events });
    await t.app.handle(s3Event([KEY]), lambdaContext());
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0].args[0].input.Entries?.map((e) => JSON.parse(e.Detail!).eventKey)).toEqual(['2026-11-20T10:12:00Z#del-1']);
    expect(t.out.metric('AlertsPublished')).toEqual([1]);
    // All three rows are in the table; GetSendQuota (medium) and VerifyEmailIdentity (low) are below 'high'.
    expect(table.items.size).toBe(3);
  });

  it('ALERT_SEVERITY=low publishes every finding; off publishes none', async () => {
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'x' })) }));
    t = makeApp(s3, table, { events, env: { ALERT_SEVERITY: 'low' } });
    await t.app.handle(s3Event([KEY]), lambdaContext());
    expect(t.out.metric('AlertsPublished')).toEqual([3]);
    t.out.restore();
    eb.resetHistory();
    t = makeApp(s3, table, { events, env: { ALERT_SEVERITY: 'off' } });
    await t.app.handle(s3Event([KEY]), lambdaContext());
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(0);
  });

  it('an alert that cannot be published fails the file, retryable, after the rows are written', async () => {
    eb.on(PutEventsCommand).rejects(new EventBridgeServiceException({ name: 'InternalException', $fault: 'server', message: 'boom', $metadata: { httpStatusCode: 500 } }));
    t = makeApp(s3, table, { events });
    const err = await rejectionOf(t.app.handle(s3Event([KEY]), lambdaContext()));
    expect(err.message).toMatch(/1 alert not published to EventBridge after 10 attempts: InternalException/);
    expect((err as InvocationFailedError).retryable).toBe(true);
    expect(table.items.size).toBe(3);
    expect(t.out.metric('Failures')).toEqual([1]);
  });
});
