/**
 * recordToRows on hand-written records, compared with rows written out by hand: which attributes a row has
 * (absent, never null or undefined, when the record lacks them), retention, and the keys of odd records.
 */
import { describe, expect, it } from 'vitest';
import { recordToRows, type RowContext } from '../../src/ses/rows.js';
import type { AuditRow } from '../../src/ses/row.js';

const ctx: RowContext = { sourceObject: 's3://trail/AWSLogs/111122223333/x.json.gz', ingestedAt: '2026-11-24T00:00:00.000Z' };

/** A denied DeleteIdentity as CloudTrail logs it: `responseElements: null`, no additionalEventData. */
const DENIED = {
  eventVersion: '1.08',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::111122223333:user/carol', accountId: '111122223333', userName: 'carol' },
  eventTime: '2026-11-20T10:15:30Z',
  eventSource: 'ses.amazonaws.com',
  eventName: 'DeleteIdentity',
  awsRegion: 'us-east-1',
  sourceIPAddress: '203.0.113.7',
  userAgent: 'aws-cli/2.22.0',
  errorCode: 'AccessDenied',
  errorMessage: 'User: arn:aws:iam::111122223333:user/carol is not authorized to perform: ses:DeleteIdentity',
  requestParameters: { identity: 'example.com' },
  responseElements: null,
  requestID: 'req-1',
  eventID: 'evt-1',
  readOnly: false,
  eventType: 'AwsApiCall',
  managementEvent: true,
  recipientAccountId: '111122223333',
  eventCategory: 'Management',
};

function rowsOf(value: unknown, c: RowContext = ctx): AuditRow[] {
  const out = recordToRows(value, c);
  if (out.kind !== 'rows') throw new Error(`expected rows, got ${JSON.stringify(out)}`);
  return out.rows;
}

describe('recordToRows: attributes', () => {
  it('a denied call: the row written out by hand, with no responseElements at all (CloudTrail logs null)', () => {
    const rows = rowsOf(DENIED);
    expect(rows).toStrictEqual([
      {
        identity: 'example.com',
        identityKind: 'domain',
        eventKey: '2026-11-20T10:15:30Z#evt-1',
        actor: 'arn:aws:iam::111122223333:user/carol',
        eventName: 'DeleteIdentity',
        identities: ['example.com'],
        eventTime: '2026-11-20T10:15:30Z',
        eventID: 'evt-1',
        eventSource: 'ses.amazonaws.com',
        eventCategory: 'Management',
        readOnly: false,
        errorCode: 'AccessDenied',
        errorMessage: 'User: arn:aws:iam::111122223333:user/carol is not authorized to perform: ses:DeleteIdentity',
        awsRegion: 'us-east-1',
        accountId: '111122223333',
        actorType: 'IAMUser',
        principalArn: 'arn:aws:iam::111122223333:user/carol',
        principalId: 'AIDAEXAMPLE',
        userName: 'carol',
        sourceIPAddress: '203.0.113.7',
        userAgent: 'aws-cli/2.22.0',
        requestID: 'req-1',
        requestParameters: { identity: 'example.com' },
        sourceObject: ctx.sourceObject,
        ingestedAt: ctx.ingestedAt,
        findings: ['access-denied'],
        severity: 'medium',
      },
    ]);
    expect('responseElements' in rows[0]).toBe(false);
  });

  it('null requestParameters, responseElements and additionalEventData are absent; empty objects are kept', () => {
    const [nulls] = rowsOf({ ...DENIED, requestParameters: null, responseElements: null, additionalEventData: null });
    expect(Object.keys(nulls).filter((k) => /^(requestParameters|responseElements|additionalEventData)$/.test(k))).toEqual([]);
    const [empty] = rowsOf({ ...DENIED, responseElements: {}, additionalEventData: { SignatureVersion: 'SigV4' } });
    expect(empty.responseElements).toStrictEqual({});
    expect(empty.additionalEventData).toStrictEqual({ SignatureVersion: 'SigV4' });
  });

  it('fields logged as empty strings or with the wrong type are absent, not copied', () => {
    const [row] = rowsOf({ ...DENIED, errorCode: '', errorMessage: 7, awsRegion: null, userAgent: '', readOnly: 'true', eventCategory: '' });
    for (const name of ['errorCode', 'errorMessage', 'awsRegion', 'userAgent', 'readOnly', 'eventCategory']) expect(name in row).toBe(false);
    // Without errorCode the call is not a denied one any more: a deletion that worked.
    expect(row.findings).toStrictEqual(['identity-deleted']);
    expect(row.severity).toBe('high');
  });

  it('a record without eventName is filed as unknown', () => {
    const { eventName: _e, ...noName } = DENIED;
    expect(rowsOf(noName)[0].eventName).toBe('unknown');
  });

  it('readOnly true is kept as a boolean', () => {
    expect(rowsOf({ ...DENIED, readOnly: true })[0].readOnly).toBe(true);
  });
});

describe('recordToRows: retention', () => {
  const retained: RowContext = { ...ctx, expiresAt: 2_000_000_000, readOnlyExpiresAt: 1_900_000_000 };

  it('a read-only call gets the read-only retention when one is set', () => {
    expect(rowsOf({ ...DENIED, readOnly: true }, retained)[0].expiresAt).toBe(1_900_000_000);
  });

  it('a call that changes something, or whose readOnly is not the boolean true, keeps the general retention', () => {
    expect(rowsOf({ ...DENIED, readOnly: false }, retained)[0].expiresAt).toBe(2_000_000_000);
    expect(rowsOf({ ...DENIED, readOnly: 'true' }, retained)[0].expiresAt).toBe(2_000_000_000);
    const { readOnly: _r, ...unknown } = DENIED;
    expect(rowsOf(unknown, retained)[0].expiresAt).toBe(2_000_000_000);
  });

  it('a read-only call without a read-only retention gets the general one; without any, none', () => {
    expect(rowsOf({ ...DENIED, readOnly: true }, { ...ctx, expiresAt: 2_000_000_000 })[0].expiresAt).toBe(2_000_000_000);
    expect('expiresAt' in rowsOf({ ...DENIED, readOnly: true }, { ...ctx, readOnlyExpiresAt: 1_900_000_000 })[0]).toBe(true);
    expect('expiresAt' in rowsOf({ ...DENIED, readOnly: true })[0]).toBe(false);
    expect('expiresAt' in rowsOf({ ...DENIED, readOnly: false }, { ...ctx, readOnlyExpiresAt: 1_900_000_000 })[0]).toBe(false);
  });
});

describe('recordToRows: keys and results', () => {
  it('two identities: two rows, each with its own identity and kind and both in identities', () => {
    const rows = rowsOf({ ...DENIED, eventName: 'GetIdentityVerificationAttributes', requestParameters: { identities: ['Ops@Example.com', 'Example.COM'] } });
    expect(rows.map((r) => [r.identity, r.identityKind, r.identities])).toStrictEqual([
      ['Ops@Example.com', 'email', ['Ops@Example.com', 'example.com']],
      ['example.com', 'domain', ['Ops@Example.com', 'example.com']],
    ]);
  });

  it('eventKey is the time in whole UTC seconds, #, and the eventID; eventTime and the result time as logged', () => {
    const out = recordToRows({ ...DENIED, eventTime: '2026-11-20T12:15:30.999+02:00' }, ctx);
    expect(out).toMatchObject({ kind: 'rows', eventKey: '2026-11-20T10:15:30Z#evt-1', eventTime: Date.UTC(2026, 10, 20, 10, 15, 30, 999) });
    expect(out.kind === 'rows' && out.rows[0].eventTime).toBe('2026-11-20T12:15:30.999+02:00');
  });

  it('bad records say why, in one line', () => {
    expect(recordToRows(null, ctx)).toStrictEqual({ kind: 'bad', reason: 'not a JSON object' });
    expect(recordToRows({ ...DENIED, eventTime: '' }, ctx)).toStrictEqual({ kind: 'bad', reason: 'SES event without eventTime' });
    expect(recordToRows({ ...DENIED, eventTime: 'next "Tuesday"' }, ctx)).toStrictEqual({
      kind: 'bad',
      reason: 'SES event with an invalid eventTime "next \\"Tuesday\\""',
    });
    expect(recordToRows({ ...DENIED, eventTime: `${'9'.repeat(100)}` }, ctx)).toStrictEqual({
      kind: 'bad',
      reason: `SES event with an invalid eventTime "${'9'.repeat(59)}`,
    });
  });

  it('a record without eventID is keyed by the sha256 of its JSON text', () => {
    const { eventID: _id, ...noId } = DENIED;
    // The first 32 hex digits of sha256 over the record's compact JSON, computed outside this code base
    // (Python: hashlib.sha256(json.dumps(record, separators=(',', ':')).encode())).
    const [row] = rowsOf(noId);
    expect(row.eventID).toBe('sha256-a27f11f1be98eb63a23b3868efd5d559');
    expect(row.eventKey).toBe('2026-11-20T10:15:30Z#sha256-a27f11f1be98eb63a23b3868efd5d559');
  });
});
