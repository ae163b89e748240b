/**
 * The public SES records in ../shared/samples (published by AWS and security vendors) give the identities
 * DESIGN.md prescribes, through the whole reader and pipeline.
 */
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { processTrail } from '../../src/pipeline.js';
import type { AuditRow } from '../../src/ses/row.js';
import { SAMPLES_DIR } from '../helpers/samples.js';

// Beside the repository in the project's workspace, not in a clone of it: skipped, with a note, when absent.
const SAMPLES = join(SAMPLES_DIR, 'public-ses-records.json');
const present = existsSync(SAMPLES);
if (!present) console.warn(`note: ${SAMPLES} is absent: the public SES record tests are skipped`);
// A boundary: the samples file is a JSON list of {source, record}.
const samples: Array<{ source: string; record: Record<string, unknown> }> = present ? JSON.parse(readFileSync(SAMPLES, 'utf8')) : [];

async function rowsOf(records: unknown[]): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  const doc = gzipSync(JSON.stringify({ Records: records }));
  await processTrail((async function* () { yield doc; })(), {
    config: { maxUncompressedBytes: 1 << 26, maxRecordBytes: 1 << 20 },
    sourceObject: 'samples',
    sink: (r) => void rows.push(...r),
  });
  return rows;
}

// eventName -> the partition keys DESIGN.md gives for each sample, in file order.
const EXPECTED: Array<[string, string[]]> = [
  ['DeleteIdentity', ['amazon.com']],
  ['DeleteVerifiedEmailAddress', ['user@example.com']],
  ['GetIdentityDkimAttributes', ['example.com']],
  ['GetIdentityNotificationAttributes', ['example.com']],
  ['GetIdentityVerificationAttributes', ['example.com']],
  ['GetSendQuota', ['account/111122223333']],
  ['GetSendStatistics', ['account/111122223333']],
  ['ListIdentities', ['account/111122223333']],
  ['ListVerifiedEmailAddresses', ['account/111122223333']],
  ['SetIdentityDkimEnabled', ['example.com']],
  ['SetIdentityFeedbackForwardingEnabled', ['example.com']],
  ['SetIdentityHeadersInNotificationsEnabled', ['example.com']],
  ['SetIdentityNotificationTopic', ['example.com']],
  ['VerifyDomainDkim', ['example.com']],
  ['VerifyDomainIdentity', ['example.com']],
  ['VerifyEmailAddress', ['user@example.com']],
  ['VerifyEmailIdentity', ['user@example.com']],
  ['DeleteIdentity', ['amazon.com']],
  ['VerifyEmailIdentity', ['sender@example.com']],
  ['DeleteIdentity', ['sender@example.com']],
  ['VerifyEmailIdentity', ['sender@example.com']],
  ['SendEmail', ['sender@example.com']],
  ['SendEmail', ['sender@example.com']],
  ['GetIdentityMailFromDomainAttributes', ['pwilson@sumologic.com', 'amoore1@sumologic.com']],
  ['GetIdentityVerificationAttributes', ['acme.com', 'bobson.dugnutt@acme.com', 'sleve.mcdichael@yahoo.com']],
  ['GetSendQuota', ['account/111122223333']],
  ['GetSendQuota', ['account/187901811700']],
  ['GetAccountSendingEnabled', ['account/111122223333']],
  ['ListIdentities', ['account/111122223333']],
];

describe.skipIf(!present)('public SES records (../shared/samples)', () => {
  it('are all here', () => {
    expect(samples).toHaveLength(29);
    expect(samples.map((s) => s.record.eventName)).toEqual(EXPECTED.map((e) => e[0]));
  });

  it('give the identities DESIGN.md prescribes, one row per identity', async () => {
    const rows = await rowsOf(samples.map((s) => s.record));
    const byEvent = new Map<string, string[]>();
    for (const r of rows) byEvent.set(r.eventKey, [...(byEvent.get(r.eventKey) ?? []), r.identity]);
    const expectedRows = EXPECTED.flatMap(([, ids]) => ids);
    expect(rows).toHaveLength(expectedRows.length);
    expect(rows.map((r) => r.identity)).toEqual(expectedRows);
    expect(rows.map((r) => r.eventName)).toEqual(EXPECTED.flatMap(([name, ids]) => ids.map(() => name)));
  });

  it('name the actor by the DESIGN.md rules', async () => {
    const rows = await rowsOf(samples.map((s) => s.record));
    const actorOf = (eventName: string, identity: string) => rows.find((r) => r.eventName === eventName && r.identity === identity)?.actor;
    expect(actorOf('DeleteIdentity', 'amazon.com')).toBe('arn:aws:iam::111122223333:root');
    expect(actorOf('DeleteIdentity', 'sender@example.com')).toBe('arn:aws:iam::111122223333:role/admin-role');
    expect(actorOf('GetIdentityMailFromDomainAttributes', 'pwilson@sumologic.com')).toBe('arn:aws:iam::123456789033:user/mkmiller');
    // The first data event sample has no userIdentity at all.
    expect(rows.filter((r) => r.eventName === 'SendEmail').map((r) => r.actor)).toEqual(['unknown', 'arn:aws:iam::111122223333:role/admin-role']);
    expect(rows.find((r) => r.eventName === 'SendEmail')).toMatchObject({ eventCategory: 'Data', identityKind: 'email', readOnly: true });
  });
});
