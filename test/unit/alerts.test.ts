/**
 * Alerts to EventBridge against a mocked client (aws-sdk-client-mock): which rows, what each PutEvents
 * call carries, batching by 10, retries of throttling and of the entries a partial failure names, and the
 * failures that must fail the file.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgeClient, EventBridgeServiceException, PutEventsCommand, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { AlertPublisher, atOrAbove } from '../../src/alerts/publisher.js';
import { WriteError } from '../../src/errors.js';
import type { AuditRow, Severity } from '../../src/ses/row.js';

const eb = mockClient(EventBridgeClient);
const client = new EventBridgeClient({ region: 'us-east-1', credentials: { accessKeyId: 'a', secretAccessKey: 'b' } });
afterAll(() => eb.restore());
beforeEach(() => eb.reset());

function row(i: number, severity?: Severity, findings?: string[]): AuditRow {
  return {
    identity: `d${i}.example.com`,
    eventKey: `2026-11-20T10:15:30Z#e${i}`,
    actor: 'arn:aws:iam::111122223333:user/mallory',
    eventName: 'DeleteIdentity',
    identityKind: 'domain',
    identities: [`d${i}.example.com`],
    eventTime: '2026-11-20T10:15:30Z',
    eventID: `e${i}`,
    eventSource: 'ses.amazonaws.com',
    accountId: '111122223333',
    awsRegion: 'us-east-1',
    userName: 'mallory',
    sourceIPAddress: '198.51.100.9',
    sourceObject: 's3://trail/AWSLogs/x.json.gz',
    ingestedAt: '2026-11-20T11:00:00Z',
    ...(severity ? { severity, findings: findings ?? ['identity-deleted'] } : {}),
  };
}

function publisher(o: Partial<ConstructorParameters<typeof AlertPublisher>[0]> = {}): AlertPublisher {
  return new AlertPublisher({ client, eventBus: 'security', threshold: 'high', sleep: async () => undefined, random: () => 0.5, ...o });
}

const sentEntries = (): PutEventsRequestEntry[][] => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);

describe('which rows are alerts', () => {
  it('severity at or above the threshold', () => {
    expect(['high', 'medium', 'low'].map((s) => atOrAbove(s as Severity, 'medium'))).toEqual([true, true, false]);
    expect(atOrAbove(undefined, 'low')).toBe(false);
    expect(atOrAbove('low', 'low')).toBe(true);
    expect(atOrAbove('medium', 'high')).toBe(false);
  });
});

describe('AlertPublisher', () => {
  it('publishes one event per alert row, as DESIGN.md says, and nothing for the others', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: '1' }] });
    const p = publisher();
    await p.publish([row(1), row(2, 'medium', ['access-denied']), row(3, 'high')]);
    expect(await p.flush()).toEqual({ published: 1, calls: 1, retries: 0 });
    const [[entry]] = sentEntries();
    expect(entry).toMatchObject({ Source: 'ses-audit', DetailType: 'SES audit finding', EventBusName: 'security' });
    expect(entry.Time).toEqual(new Date('2026-11-20T10:15:30Z'));
    expect(JSON.parse(entry.Detail!)).toEqual({
      identity: 'd3.example.com',
      eventKey: '2026-11-20T10:15:30Z#e3',
      eventName: 'DeleteIdentity',
      eventTime: '2026-11-20T10:15:30Z',
      actor: 'arn:aws:iam::111122223333:user/mallory',
      findings: ['identity-deleted'],
      severity: 'high',
      sourceObject: 's3://trail/AWSLogs/x.json.gz',
      accountId: '111122223333',
      awsRegion: 'us-east-1',
      userName: 'mallory',
      sourceIPAddress: '198.51.100.9',
    });
  });

  it('sends full batches of 10 as they fill, the rest on flush', async () => {
    eb.on(PutEventsCommand).callsFake(async (input: { Entries: unknown[] }) => ({ FailedEntryCount: 0, Entries: input.Entries.map((_, i) => ({ EventId: `${i}` })) }));
    const p = publisher();
    await p.publish(Array.from({ length: 23 }, (_, i) => row(i, 'high')));
    expect(sentEntries().map((b) => b.length)).toEqual([10, 10]);
    expect((await p.flush()).published).toBe(23);
    expect(sentEntries().map((b) => b.length)).toEqual([10, 10, 3]);
  });

  it('retries a throttled call with backoff, then succeeds', async () => {
    const throttled = new EventBridgeServiceException({ name: 'ThrottlingException', $fault: 'client', message: 'Rate exceeded', $metadata: { httpStatusCode: 400 } });
    eb.on(PutEventsCommand).rejectsOnce(throttled).resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'a' }] });
    const sleeps: number[] = [];
    const p = publisher({ sleep: async (ms) => void sleeps.push(ms) });
    await p.publish([row(1, 'high')]);
    expect(await p.flush()).toEqual({ published: 1, calls: 2, retries: 1 });
    expect(sleeps).toEqual([25]); // random 0.5 * min(5000, 50 * 2^0)
  });

  it('a partial failure (FailedEntryCount) retries exactly the failed entries', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({
        FailedEntryCount: 2,
        Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'slow down' }, { EventId: 'c' }, { ErrorCode: 'InternalFailure' }],
      })
      .resolves({ FailedEntryCount: 0, Entries: [{ EventId: 'b' }, { EventId: 'd' }] });
    const p = publisher();
    await p.publish([1, 2, 3, 4].map((i) => row(i, 'high')));
    expect(await p.flush()).toEqual({ published: 4, calls: 2, retries: 1 });
    const retried = sentEntries()[1].map((e) => JSON.parse(e.Detail!).identity);
    expect(retried).toEqual(['d2.example.com', 'd4.example.com']);
  });

  it('an entry refused for good fails at once, not retryable, naming the reason', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'AccessDeniedException', ErrorMessage: 'not authorized to put events on bus security' }] });
    const p = publisher();
    await p.publish([row(1, 'high')]);
    const err = await p.flush().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WriteError);
    expect((err as WriteError).retryable).toBe(false);
    expect((err as WriteError).reason).toBe('1 alert not published to EventBridge: AccessDeniedException: not authorized to put events on bus security (not retryable)');
    expect(sentEntries()).toHaveLength(1);
  });

  it('gives up after the last attempt with a retryable WriteError, so the file is retried', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    const p = publisher({ retry: { maxAttempts: 3 } });
    await p.publish([row(1, 'high')]);
    const err = await p.flush().catch((e: unknown) => e);
    expect((err as WriteError).reason).toBe('1 alert not published to EventBridge after 3 attempts: ThrottlingException');
    expect((err as WriteError).retryable).toBe(true);
    expect(sentEntries()).toHaveLength(3);
  });

  it('does not sleep past the Lambda deadline margin', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'ThrottlingException' }] });
    const p = publisher({ remainingTimeMs: () => 2_000 });
    await p.publish([row(1, 'high')]);
    const err = await p.flush().catch((e: unknown) => e);
    expect((err as WriteError).reason).toMatch(/^1 alert not published to EventBridge: Lambda time running out \(2000 ms left\) after 1 attempts/);
  });
});
