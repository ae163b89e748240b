/**
 * Findings (DESIGN.md, "Findings"): for every rule, records that must and must not match; the real samples in
 * ../shared/samples, each with its expected findings listed by hand; and properties over arbitrary records.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FINDING_RULES, findingsOf, type Findings } from '../../src/ses/findings.js';
import type { CloudTrailRecord } from '../../src/ses/record.js';
import { SAMPLES_DIR } from '../helpers/samples.js';
import { ACCOUNT, sesCall } from '../helpers/ses-call.js';

const OTHER = '999988887777';
const LONG_TERM_KEY = 'AKIAIOSFODNN7EXAMPLE';
const SESSION_KEY = 'ASIAIOSFODNN7EXAMPLE';

const record = (eventName: string, requestParameters: unknown, extra: Record<string, unknown> = {}) =>
  sesCall(eventName, requestParameters, extra, { accessKeyId: SESSION_KEY });

function denied(eventName: string, errorCode = 'AccessDenied'): CloudTrailRecord {
  return record(eventName, null, { errorCode, errorMessage: `User is not authorized to perform: ses:${eventName}` });
}

function withKey(eventName: string, accessKeyId: unknown, extra: Record<string, unknown> = {}): CloudTrailRecord {
  const r = record(eventName, null, extra);
  return { ...r, userIdentity: { type: 'IAMUser', arn: `arn:aws:iam::${ACCOUNT}:user/carol`, accessKeyId } };
}

const NONE: Findings = { findings: [] };

function policyText(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function allowing(principal: unknown, extra: Record<string, unknown> = {}): string {
  return policyText({ Effect: 'Allow', Principal: principal, Action: ['ses:SendEmail', 'ses:SendRawEmail'], Resource: '*', ...extra });
}

describe('the rule table', () => {
  it('is DESIGN.md\'s table: ids and severities, in order', () => {
    expect(FINDING_RULES.map((r) => [r.id, r.severity])).toEqual([
      ['identity-deleted', 'high'],
      ['sending-authorization-external', 'high'],
      ['sending-authorization-changed', 'medium'],
      ['dkim-disabled', 'high'],
      ['feedback-forwarding-disabled', 'medium'],
      ['account-sending-enabled', 'medium'],
      ['production-access-requested', 'high'],
      ['identity-created', 'low'],
      ['access-denied', 'medium'],
      ['long-term-key-enumeration', 'medium'],
    ]);
  });

  it('is the table docs/findings.md opens with, and each rule has its section there', () => {
    const doc = readFileSync(join(import.meta.dirname, '../../docs/findings.md'), 'utf8');
    const rows = [...doc.matchAll(/^\| \[`([a-z-]+)`\]\(#([a-z-]+)\) \| (high|medium|low) \|/gm)].map((m) => [m[1], m[3]]);
    expect(rows).toEqual(FINDING_RULES.map((r) => [r.id, r.severity]));
    for (const rule of FINDING_RULES) expect(doc).toContain(`\n## ${rule.id}\n`);
  });

  it('describes every rule in one line', () => {
    for (const rule of FINDING_RULES) {
      expect(rule.description.length).toBeGreaterThan(10);
      expect(rule.description).not.toMatch(/\n/);
    }
  });
});

describe('identity-deleted', () => {
  it.each(['DeleteIdentity', 'DeleteEmailIdentity', 'DeleteVerifiedEmailAddress'])('flags a successful %s as high', (name) => {
    const params = name === 'DeleteVerifiedEmailAddress' ? { emailAddress: 'a@example.com' } : { identity: 'example.com' };
    expect(findingsOf(record(name, params))).toEqual({ findings: ['identity-deleted'], severity: 'high' });
  });

  it('flags the deletion even when the record names no identity', () => {
    expect(findingsOf(record('DeleteEmailIdentity', null))).toEqual({ findings: ['identity-deleted'], severity: 'high' });
  });

  it('does not flag a failed deletion (a denied one is access-denied only)', () => {
    expect(findingsOf(denied('DeleteIdentity'))).toEqual({ findings: ['access-denied'], severity: 'medium' });
    expect(findingsOf(record('DeleteEmailIdentity', { emailIdentity: 'example.com' }, { errorCode: 'NotFoundException' }))).toEqual(NONE);
  });

  it('does not flag other deletions', () => {
    expect(findingsOf(record('DeleteConfigurationSet', { configurationSetName: 'cs' }))).toEqual(NONE);
    expect(findingsOf(record('DeleteIdentityPolicy', { identity: 'example.com', policyName: 'p' })).findings).not.toContain('identity-deleted');
  });
});

describe('identity-created', () => {
  it.each([
    ['VerifyEmailIdentity', { emailAddress: 'a@example.com' }],
    ['VerifyEmailAddress', { emailAddress: 'a@example.com' }],
    ['VerifyDomainIdentity', { domain: 'example.com' }],
    ['CreateEmailIdentity', { emailIdentity: 'example.com' }],
  ])('flags a successful %s as low', (name, params) => {
    expect(findingsOf(record(name, params))).toEqual({ findings: ['identity-created'], severity: 'low' });
  });

  it('does not flag VerifyDomainDkim, a status read, or a failed creation', () => {
    expect(findingsOf(record('VerifyDomainDkim', { domain: 'example.com' }))).toEqual(NONE);
    expect(findingsOf(record('GetEmailIdentity', { emailIdentity: 'example.com' }))).toEqual(NONE);
    expect(findingsOf(record('CreateEmailIdentity', null, { errorCode: 'AlreadyExistsException' }))).toEqual(NONE);
    expect(findingsOf(denied('VerifyEmailIdentity'))).toEqual({ findings: ['access-denied'], severity: 'medium' });
  });
});

describe('production-access-requested', () => {
  const details = { mailType: 'TRANSACTIONAL', websiteURL: 'HIDDEN_DUE_TO_SECURITY_REASONS', contactLanguage: 'EN' };

  it('flags a successful PutAccountDetails as high, whatever its parameters', () => {
    expect(findingsOf(record('PutAccountDetails', details))).toEqual({ findings: ['production-access-requested'], severity: 'high' });
    expect(findingsOf(record('PutAccountDetails', null))).toEqual({ findings: ['production-access-requested'], severity: 'high' });
  });

  it('does not flag a failed request, nor the account read', () => {
    expect(findingsOf(record('PutAccountDetails', details, { errorCode: 'ConflictException' }))).toEqual(NONE);
    expect(findingsOf(denied('PutAccountDetails', 'AccessDeniedException'))).toEqual({ findings: ['access-denied'], severity: 'medium' });
    expect(findingsOf(record('GetAccount', null))).toEqual(NONE);
  });
});

describe('account-sending-enabled', () => {
  it('flags v1 UpdateAccountSendingEnabled with enabled true, and v2 PutAccountSendingAttributes with sendingEnabled true', () => {
    expect(findingsOf(record('UpdateAccountSendingEnabled', { enabled: true }))).toEqual({ findings: ['account-sending-enabled'], severity: 'medium' });
    expect(findingsOf(record('PutAccountSendingAttributes', { sendingEnabled: true }))).toEqual({ findings: ['account-sending-enabled'], severity: 'medium' });
  });

  it('does not flag turning sending off, a missing or non-boolean flag, or the other API\'s flag name', () => {
    expect(findingsOf(record('UpdateAccountSendingEnabled', { enabled: false }))).toEqual(NONE);
    expect(findingsOf(record('PutAccountSendingAttributes', { sendingEnabled: false }))).toEqual(NONE);
    expect(findingsOf(record('UpdateAccountSendingEnabled', {}))).toEqual(NONE);
    expect(findingsOf(record('UpdateAccountSendingEnabled', null))).toEqual(NONE);
    expect(findingsOf(record('UpdateAccountSendingEnabled', { enabled: 'true' }))).toEqual(NONE);
    expect(findingsOf(record('UpdateAccountSendingEnabled', { sendingEnabled: true }))).toEqual(NONE);
    expect(findingsOf(record('PutAccountSendingAttributes', { enabled: true }))).toEqual(NONE);
  });

  it('does not flag a failed call, nor a configuration set\'s sending', () => {
    expect(findingsOf(record('UpdateAccountSendingEnabled', { enabled: true }, { errorCode: 'ThrottlingException' }))).toEqual(NONE);
    expect(findingsOf(record('UpdateConfigurationSetSendingEnabled', { configurationSetName: 'cs', enabled: true }))).toEqual(NONE);
  });
});

describe('dkim-disabled', () => {
  it('flags v1 SetIdentityDkimEnabled false and v2 PutEmailIdentityDkimAttributes signingEnabled false, as high', () => {
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: false }))).toEqual({ findings: ['dkim-disabled'], severity: 'high' });
    expect(findingsOf(record('PutEmailIdentityDkimAttributes', { emailIdentity: 'example.com', signingEnabled: false }))).toEqual({
      findings: ['dkim-disabled'],
      severity: 'high',
    });
  });

  it('does not flag turning DKIM on, a missing or non-boolean flag, or a failed call', () => {
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: true }))).toEqual(NONE);
    expect(findingsOf(record('PutEmailIdentityDkimAttributes', { emailIdentity: 'example.com', signingEnabled: true }))).toEqual(NONE);
    expect(findingsOf(record('PutEmailIdentityDkimAttributes', { emailIdentity: 'example.com' }))).toEqual(NONE);
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: 'false' }))).toEqual(NONE);
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: 0 }))).toEqual(NONE);
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', signingEnabled: false }))).toEqual(NONE);
    expect(findingsOf(record('SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: false }, { errorCode: 'InvalidParameterValue' }))).toEqual(NONE);
  });

  it('does not flag changing the signing keys (BYODKIM) rather than signing', () => {
    expect(findingsOf(record('PutEmailIdentityDkimSigningAttributes', { emailIdentity: 'example.com', signingAttributesOrigin: 'AWS_SES' }))).toEqual(NONE);
  });
});

describe('feedback-forwarding-disabled', () => {
  it('flags v1 forwardingEnabled false and v2 emailForwardingEnabled false, as medium', () => {
    expect(findingsOf(record('SetIdentityFeedbackForwardingEnabled', { identity: 'example.com', forwardingEnabled: false }))).toEqual({
      findings: ['feedback-forwarding-disabled'],
      severity: 'medium',
    });
    expect(findingsOf(record('PutEmailIdentityFeedbackAttributes', { emailIdentity: 'example.com', emailForwardingEnabled: false }))).toEqual({
      findings: ['feedback-forwarding-disabled'],
      severity: 'medium',
    });
  });

  it('does not flag turning forwarding on, a missing flag, or a failed call', () => {
    expect(findingsOf(record('SetIdentityFeedbackForwardingEnabled', { identity: 'example.com', forwardingEnabled: true }))).toEqual(NONE);
    expect(findingsOf(record('PutEmailIdentityFeedbackAttributes', { emailIdentity: 'example.com', emailForwardingEnabled: true }))).toEqual(NONE);
    expect(findingsOf(record('PutEmailIdentityFeedbackAttributes', { emailIdentity: 'example.com' }))).toEqual(NONE);
    expect(findingsOf(record('SetIdentityFeedbackForwardingEnabled', { identity: 'example.com', forwardingEnabled: false }, { errorCode: 'ValidationError' }))).toEqual(NONE);
  });

  it('does not flag the notification headers switch', () => {
    expect(findingsOf(record('SetIdentityHeadersInNotificationsEnabled', { identity: 'example.com', notificationType: 'Bounce', enabled: false }))).toEqual(NONE);
  });
});

describe('sending-authorization-external and sending-authorization-changed', () => {
  const EXTERNAL = { findings: ['sending-authorization-external'], severity: 'high' };
  const CHANGED = { findings: ['sending-authorization-changed'], severity: 'medium' };

  const v1 = (policy: unknown) => record('PutIdentityPolicy', { identity: 'example.com', policyName: 'delegates', policy });
  const v2create = (policy: unknown) => record('CreateEmailIdentityPolicy', { emailIdentity: 'example.com', policyName: 'delegates', policy });
  const v2update = (policy: unknown) => record('UpdateEmailIdentityPolicy', { emailIdentity: 'example.com', policyName: 'delegates', policy });

  // [what, external?, policy document]
  const POLICIES: Array<[string, boolean, string]> = [
    ['"*"', true, allowing('*')],
    ['{"AWS": "*"}', true, allowing({ AWS: '*' })],
    ['"*" with a Condition', true, allowing('*', { Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } })],
    ['another account ID', true, allowing({ AWS: OTHER })],
    ['another account root', true, allowing({ AWS: `arn:aws:iam::${OTHER}:root` })],
    ['a user of another account', true, allowing({ AWS: `arn:aws:iam::${OTHER}:user/evil` })],
    ['a role of another account', true, allowing({ AWS: `arn:aws:iam::${OTHER}:role/sender` })],
    ['one outsider among insiders', true, allowing({ AWS: [ACCOUNT, `arn:aws:iam::${OTHER}:root`] })],
    ['NotPrincipal in an Allow', true, policyText({ Effect: 'Allow', NotPrincipal: { AWS: `arn:aws:iam::${ACCOUNT}:user/x` }, Action: 'ses:SendEmail' })],
    ['a web identity provider', true, allowing({ Federated: 'accounts.google.com' })],
    ['the account ID', false, allowing({ AWS: ACCOUNT })],
    ['the account root', false, allowing({ AWS: `arn:aws:iam::${ACCOUNT}:root` })],
    ['a user of the account', false, allowing({ AWS: `arn:aws:iam::${ACCOUNT}:user/mailer` })],
    ['a role of the account', false, allowing({ AWS: `arn:aws:iam::${ACCOUNT}:role/app` })],
    ['a service principal', false, allowing({ Service: 'ses.amazonaws.com' })],
    ['"*" only in a Deny', false, policyText({ Effect: 'Deny', Principal: '*', Action: 'ses:*' }, { Effect: 'Allow', Principal: { AWS: ACCOUNT }, Action: 'ses:SendEmail' })],
  ];

  it.each(POLICIES)('PutIdentityPolicy allowing %s: external %s, never both findings', (_what, external, document) => {
    expect(findingsOf(v1(document))).toEqual(external ? EXTERNAL : CHANGED);
  });

  it.each(POLICIES)('v2 Create/UpdateEmailIdentityPolicy allowing %s: external %s', (_what, external, document) => {
    expect(findingsOf(v2create(document))).toEqual(external ? EXTERNAL : CHANGED);
    expect(findingsOf(v2update(document))).toEqual(external ? EXTERNAL : CHANGED);
  });

  it('judges against the record\'s recipientAccountId, not the caller\'s account', () => {
    const cross = record('PutIdentityPolicy', { identity: 'example.com', policyName: 'p', policy: allowing({ AWS: OTHER }) }, { recipientAccountId: OTHER });
    expect(findingsOf(cross)).toEqual(CHANGED);
  });

  it('counts every account principal as external when the record has no recipientAccountId', () => {
    expect(findingsOf({ ...v1(allowing({ AWS: ACCOUNT })), recipientAccountId: undefined })).toEqual(EXTERNAL);
  });

  it('gives a policy that cannot be read sending-authorization-changed, never a failure', () => {
    expect(findingsOf(v1('HIDDEN_DUE_TO_SECURITY_REASONS'))).toEqual(CHANGED);
    expect(findingsOf(v1('{"Statement": ['))).toEqual(CHANGED);
    expect(findingsOf(v1(''))).toEqual(CHANGED);
    expect(findingsOf(v1(42))).toEqual(CHANGED);
    expect(findingsOf(v1(undefined))).toEqual(CHANGED);
    expect(findingsOf(record('PutIdentityPolicy', null))).toEqual(CHANGED);
    expect(findingsOf(v2create(policyText({ Effect: 'allow', Principal: '*' })))).toEqual(CHANGED);
  });

  it('reads a policy logged as an object, not text', () => {
    expect(findingsOf(v1(JSON.parse(allowing({ AWS: OTHER })) as unknown))).toEqual(EXTERNAL);
  });

  it.each([
    ['DeleteIdentityPolicy', { identity: 'example.com', policyName: 'delegates' }],
    ['DeleteEmailIdentityPolicy', { emailIdentity: 'example.com', policyName: 'delegates' }],
  ])('flags a successful %s as sending-authorization-changed', (name, params) => {
    expect(findingsOf(record(name, params))).toEqual(CHANGED);
  });

  it('does not flag a failed policy change, external or not', () => {
    expect(findingsOf(record('PutIdentityPolicy', { identity: 'example.com', policyName: 'p', policy: allowing('*') }, { errorCode: 'InvalidPolicy' }))).toEqual(NONE);
    expect(findingsOf(denied('CreateEmailIdentityPolicy'))).toEqual({ findings: ['access-denied'], severity: 'medium' });
    expect(findingsOf(record('DeleteEmailIdentityPolicy', { emailIdentity: 'example.com', policyName: 'p' }, { errorCode: 'NotFoundException' }))).toEqual(NONE);
  });

  it('does not flag reading policies', () => {
    expect(findingsOf(record('GetIdentityPolicies', { identity: 'example.com', policyNames: ['p'] }))).toEqual(NONE);
    expect(findingsOf(record('GetEmailIdentityPolicies', { emailIdentity: 'example.com' }))).toEqual(NONE);
    expect(findingsOf(record('ListIdentityPolicies', { identity: 'example.com' }))).toEqual(NONE);
  });
});

describe('access-denied', () => {
  it.each(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation'])('flags any SES call failing with %s as medium', (code) => {
    expect(findingsOf(denied('GetIdentityVerificationAttributes', code))).toEqual({ findings: ['access-denied'], severity: 'medium' });
    expect(findingsOf(denied('SendEmail', code))).toEqual({ findings: ['access-denied'], severity: 'medium' });
    expect(findingsOf(denied('SomeFutureSesAction', code))).toEqual({ findings: ['access-denied'], severity: 'medium' });
  });

  it('does not flag other error codes, nor spellings that differ', () => {
    for (const code of ['ThrottlingException', 'ValidationException', 'NotFoundException', 'accessdenied', 'Client.UnauthorizedOperation', 'AccessDenied ']) {
      expect(findingsOf(denied('DeleteIdentity', code))).toEqual(NONE);
    }
  });

  it('does not flag a denied call of another service', () => {
    expect(findingsOf({ ...denied('GetCallerIdentity'), eventSource: 'sts.amazonaws.com' })).toEqual(NONE);
  });
});

describe('long-term-key-enumeration', () => {
  const ENUMERATION = ['GetSendQuota', 'GetAccount', 'GetAccountSendingEnabled', 'ListIdentities', 'ListEmailIdentities'];

  it.each(ENUMERATION)('flags %s made with an AKIA key as medium', (name) => {
    expect(findingsOf(withKey(name, LONG_TERM_KEY))).toEqual({ findings: ['long-term-key-enumeration'], severity: 'medium' });
  });

  it.each(ENUMERATION)('flags a failed %s with an AKIA key too, beside access-denied', (name) => {
    expect(findingsOf(withKey(name, LONG_TERM_KEY, { errorCode: 'AccessDenied' }))).toEqual({
      findings: ['access-denied', 'long-term-key-enumeration'],
      severity: 'medium',
    });
    expect(findingsOf(withKey(name, LONG_TERM_KEY, { errorCode: 'ThrottlingException' }))).toEqual({ findings: ['long-term-key-enumeration'], severity: 'medium' });
  });

  it('does not flag temporary (ASIA) keys, missing or odd keys', () => {
    for (const key of [SESSION_KEY, undefined, null, '', 'akiaiosfodnn7example', ' AKIA', 42, 'SAMPLE_ACCESS_KEY']) {
      expect(findingsOf(withKey('GetSendQuota', key))).toEqual(NONE);
    }
    expect(findingsOf({ ...record('GetSendQuota', null), userIdentity: null })).toEqual(NONE);
    expect(findingsOf({ ...record('GetSendQuota', null), userIdentity: 'AKIAIOSFODNN7EXAMPLE' })).toEqual(NONE);
  });

  it('does not flag other reads made with an AKIA key', () => {
    for (const name of ['GetSendStatistics', 'ListVerifiedEmailAddresses', 'GetIdentityVerificationAttributes', 'ListConfigurationSets']) {
      expect(findingsOf(withKey(name, LONG_TERM_KEY))).toEqual(NONE);
    }
  });
});

describe('any record', () => {
  it('gets nothing when it is not an SES record, whatever else it holds', () => {
    expect(findingsOf({ ...record('DeleteIdentity', { identity: 'example.com' }), eventSource: 'iam.amazonaws.com' })).toEqual(NONE);
    expect(findingsOf({ ...withKey('ListIdentities', LONG_TERM_KEY), eventSource: undefined })).toEqual(NONE);
  });

  it('has no severity attribute when nothing matched', () => {
    const result = findingsOf(record('GetSendStatistics', null));
    expect(result).toEqual(NONE);
    expect('severity' in result).toBe(false);
  });

  it('gets nothing for event names that are object prototype keys or not strings', () => {
    for (const name of ['__proto__', 'constructor', 'toString', 'hasOwnProperty', '', 42, null, ['DeleteIdentity']]) {
      expect(findingsOf({ ...record('x', { enabled: true, dkimEnabled: false }), eventName: name })).toEqual(NONE);
    }
  });

  it('judges a call failed only by a non-empty string errorCode, as the row stores it', () => {
    // The row shows no errorCode for these, so the call reads as succeeded.
    for (const errorCode of [null, '', 403, { code: 'AccessDenied' }]) {
      expect(findingsOf(record('DeleteIdentity', { identity: 'example.com' }, { errorCode }))).toEqual({ findings: ['identity-deleted'], severity: 'high' });
    }
  });

  it('survives inputs that are not objects at all', () => {
    // Records are parsed JSON: the type is only what they should be.
    const values: unknown[] = [null, undefined, 0, 'DeleteIdentity', [], [record('DeleteIdentity', null)], true];
    for (const value of values) {
      expect(findingsOf(value as CloudTrailRecord)).toEqual(NONE);
    }
  });
});

// The real records in ../shared/samples, each with the findings a reader of DESIGN.md expects, by hand.
const SAMPLES = SAMPLES_DIR;
const HAVE_SAMPLES = existsSync(SAMPLES);
if (!HAVE_SAMPLES) console.warn(`note: ${SAMPLES} is absent; the sample-record findings tests are skipped`);

function samplesOf(file: string): CloudTrailRecord[] {
  // The sample files are a list of {source, record}, written by hand.
  const entries = JSON.parse(readFileSync(join(SAMPLES, file), 'utf8')) as Array<{ record: CloudTrailRecord }>;
  return entries.map((e) => e.record);
}

// [eventID, eventName, expected result, why]. Some published samples reuse an eventID, so the list follows
// the file's order and names the event too.
type Expected = [eventID: string, eventName: string, result: Findings, why: string];
const DELETED: Findings = { findings: ['identity-deleted'], severity: 'high' };
const CREATED: Findings = { findings: ['identity-created'], severity: 'low' };
const ENUMERATED: Findings = { findings: ['long-term-key-enumeration'], severity: 'medium' };
const DENIED: Findings = { findings: ['access-denied'], severity: 'medium' };
const DENIED_ENUMERATION: Findings = { findings: ['access-denied', 'long-term-key-enumeration'], severity: 'medium' };
const AKIA_DOC = 'succeeded, AKIAIOSFODNN7EXAMPLE is a long-term key';

const PUBLIC_EXPECTED: Expected[] = [
  ['0ffa308d-1467-4259-8be3-c749753be325', 'DeleteIdentity', DELETED, 'a successful deletion'],
  ['17bb827a-dc8c-4156-90b1-c214e1d135c9', 'DeleteVerifiedEmailAddress', DELETED, 'the v1 legacy deletion counts too'],
  ['0b311e38-b5c6-43b3-9a39-5fbf0c2d0d99', 'GetIdentityDkimAttributes', NONE, 'a read outside the enumeration list'],
  ['bf695be8-1c67-45b0-8f10-fd56afee09dd', 'GetIdentityNotificationAttributes', NONE, 'a read outside the enumeration list'],
  ['8f9aed63-b03a-4d30-a880-33ae0c6b7786', 'GetIdentityVerificationAttributes', NONE, 'not in the enumeration list, AKIA key or not'],
  ['60ef4f01-9826-4fb4-828e-8c36dda81f40', 'GetSendQuota', ENUMERATED, AKIA_DOC],
  ['0fe5eef3-0c28-4480-808e-307b21404a78', 'GetSendStatistics', NONE, 'not in the enumeration list'],
  ['6eb8178e-69c3-4a93-8af0-2a5a0f5f209e', 'ListIdentities', ENUMERATED, AKIA_DOC],
  ['a18a9745-d06a-43e9-aad0-8eee4de50f48', 'ListVerifiedEmailAddresses', NONE, 'not in the enumeration list'],
  ['da975f45-e68b-4499-8e3f-31a89140e0c9', 'SetIdentityDkimEnabled', NONE, 'dkimEnabled is true'],
  ['5d817126-dadb-436f-b480-f9843289f487', 'SetIdentityFeedbackForwardingEnabled', NONE, 'forwardingEnabled is true'],
  ['5d817126-dadb-436f-b480-f9843289f487', 'SetIdentityHeadersInNotificationsEnabled', NONE, 'no rule for notification headers'],
  ['1a31fd43-55ba-4ce7-b3fe-55659e8144c0', 'SetIdentityNotificationTopic', NONE, 'no rule for notification topics'],
  ['aec73edb-6dac-4503-81bb-cca1102f959e', 'VerifyDomainDkim', NONE, 'DKIM tokens, not an identity creation in DESIGN.md'],
  ['33b3e2eb-7ba3-460b-a127-a5f4cedb4469', 'VerifyDomainIdentity', CREATED, 'a domain identity created'],
  ['eb2e1616-2b7b-4cd2-b6dc-29f83fc1789f', 'VerifyEmailAddress', CREATED, 'the v1 legacy creation counts too'],
  ['5613b0ff-d6c6-4526-9b53-a603a9231725', 'VerifyEmailIdentity', CREATED, 'an email identity created'],
  ['0ffa308d-1467-4259-8be3-c749753be325', 'DeleteIdentity', DELETED, 'the same example in a later guide'],
  ['5613b0ff-d6c6-4526-9b53-a603a9231725', 'VerifyEmailIdentity', CREATED, 'an email identity created'],
  ['0ffa308d-1467-4259-8be3-c749753be325', 'DeleteIdentity', DELETED, 'a role session deleting an identity'],
  ['5613b0ff-d6c6-4526-9b53-a603a9231725', 'VerifyEmailIdentity', CREATED, 'a role session creating an identity'],
  ['eb834e01-f168-435f-92c0-c36278378b6e', 'SendEmail', NONE, 'a data event; sending has no rule'],
  ['0ffa308d-1467-4259-8be3-c749753be325', 'SendEmail', NONE, 'a v2 send; sending has no rule'],
  ['d36bd7a4-03f0-4245-a6b8-cdb56cfc8e91', 'GetIdentityMailFromDomainAttributes', NONE, 'a read outside the enumeration list'],
  ['05197e93-992f-4476-899a-a6f53c9a462c', 'GetIdentityVerificationAttributes', NONE, 'not in the enumeration list'],
  ['141c7b0f-3ec3-40bd-b551-5a33d1a794b4', 'GetSendQuota', NONE, 'SAMPLE_ACCESS_KEY is not an AKIA key'],
  ['test-event-id', 'GetSendQuota', NONE, "Trusted Advisor's service-linked role: no access key at all"],
  ['910326f5-5c2c-49b4-a963-702280f29208', 'GetAccountSendingEnabled', NONE, 'SAMPLE_ACCESS_KEY is not an AKIA key'],
  ['7c41bbec-52c5-49cb-80aa-88f295d490fd', 'ListIdentities', NONE, 'SAMPLE_ACCESS_KEY is not an AKIA key'],
];

const REAL_EXPECTED: Expected[] = [
  ['f08b23f1-ba0d-4ed8-9413-4210bc780478', 'CreateEmailIdentity', DENIED, 'denied: no identity was created'],
  ['698dc6aa-74c9-4a56-84fb-c759a79d8fc8', 'DeleteIdentity', DENIED, 'denied: no identity was deleted'],
  ['21a3ad27-1580-4dbe-82a5-6b10cfd17ce2', 'GetAccount', DENIED_ENUMERATION, 'denied enumeration with an AKIA key'],
  ['aba474e4-ed6b-4087-b4ff-cb25db839d47', 'GetAccountSendingEnabled', DENIED_ENUMERATION, 'denied enumeration with an AKIA key'],
  ['5a856773-cd7d-4317-bdc9-53d011f6727d', 'GetIdentityVerificationAttributes', DENIED, 'denied, not in the enumeration list'],
  ['e4f8d737-69d4-4686-a908-e2f1679ca673', 'GetSendQuota', DENIED_ENUMERATION, 'denied enumeration with an AKIA key'],
  // The maintainer masked the key as AKIA****; the prefix is what the rule reads.
  ['007ebdb7-8af1-42c7-a257-2fac3e475d6c', 'ListEmailIdentities', ENUMERATED, 'succeeded, key masked but AKIA'],
  ['0d9c6613-e71d-40c3-a1de-029d54ac9229', 'ListIdentities', DENIED_ENUMERATION, 'denied enumeration with an AKIA key'],
  ['1f59978b-bd90-4058-be12-91e2ecfb5c52', 'PutAccountDetails', { findings: ['production-access-requested'], severity: 'high' }, 'succeeded: sandbox exit requested'],
  ['d234aba0-2ad3-4956-89ac-9c0e31e34cf7', 'UpdateAccountSendingEnabled', DENIED, 'denied: sending was not enabled'],
  ['ec42e78b-a627-4f01-b750-86dee742132d', 'VerifyEmailIdentity', DENIED, 'denied: no identity was created'],
  ['e52e7a78-438a-4851-b53f-6b77c566c293', 'ListIdentities', ENUMERATED, 'Stratus Red Team ses-enumerate with an IAM user key'],
];

function expectSamples(records: CloudTrailRecord[], expected: Expected[]): void {
  expect(records.map((r) => [r.eventID, r.eventName])).toEqual(expected.map(([id, name]) => [id, name]));
  records.forEach((r, i) => {
    const [eventID, eventName, result, why] = expected[i];
    expect(findingsOf(r), `${i} ${eventID} ${eventName}: ${why}`).toEqual(result);
  });
}

describe('the real sample records', () => {
  it.skipIf(!HAVE_SAMPLES)('public-ses-records.json: 29 records published by AWS and vendors', () => {
    expectSamples(samplesOf('public-ses-records.json'), PUBLIC_EXPECTED);
  });

  it.skipIf(!HAVE_SAMPLES)('real-ses-records.json: 12 records, mostly denied calls of a test principal', () => {
    expectSamples(samplesOf('real-ses-records.json'), REAL_EXPECTED);
  });

  it.skipIf(!HAVE_SAMPLES)('real-other-records.json: other services get nothing, denied or not', () => {
    const records = samplesOf('real-other-records.json');
    expect(records).toHaveLength(29);
    expect(records.filter((r) => r.errorCode === 'AccessDenied').length).toBeGreaterThan(0);
    for (const r of records) expect(findingsOf(r), `${String(r.eventSource)} ${String(r.eventName)}`).toEqual(NONE);
  });
});

describe('properties over arbitrary records', () => {
  // Severities by hand from DESIGN.md's table, ranked independently of the code under test.
  const SEVERITY: Record<string, 'high' | 'medium' | 'low'> = {
    'identity-deleted': 'high',
    'sending-authorization-external': 'high',
    'sending-authorization-changed': 'medium',
    'dkim-disabled': 'high',
    'feedback-forwarding-disabled': 'medium',
    'account-sending-enabled': 'medium',
    'production-access-requested': 'high',
    'identity-created': 'low',
    'access-denied': 'medium',
    'long-term-key-enumeration': 'medium',
  };
  const RANK = { low: 1, medium: 2, high: 3 };

  const NAMES = [
    'DeleteIdentity', 'DeleteEmailIdentity', 'DeleteVerifiedEmailAddress', 'PutIdentityPolicy', 'CreateEmailIdentityPolicy',
    'UpdateEmailIdentityPolicy', 'DeleteIdentityPolicy', 'DeleteEmailIdentityPolicy', 'SetIdentityDkimEnabled',
    'PutEmailIdentityDkimAttributes', 'SetIdentityFeedbackForwardingEnabled', 'PutEmailIdentityFeedbackAttributes',
    'UpdateAccountSendingEnabled', 'PutAccountSendingAttributes', 'PutAccountDetails', 'VerifyEmailIdentity', 'VerifyEmailAddress',
    'VerifyDomainIdentity', 'CreateEmailIdentity', 'GetSendQuota', 'GetAccount', 'GetAccountSendingEnabled', 'ListIdentities',
    'ListEmailIdentities', 'SendEmail', 'GetSendStatistics',
  ];
  const json = fc.jsonValue({ maxDepth: 3 });
  // Mostly the values the rules look for, sometimes anything at all.
  const mostly = <T,>(likely: fc.Arbitrary<T>) => fc.oneof({ arbitrary: likely, weight: 4 }, { arbitrary: json, weight: 1 });
  const flag = mostly(fc.boolean());
  const policyDoc = fc.oneof(
    { arbitrary: fc.constantFrom(allowing('*'), allowing({ AWS: ACCOUNT }), allowing({ AWS: OTHER }), allowing({ Service: 'ses.amazonaws.com' }), 'HIDDEN_DUE_TO_SECURITY_REASONS'), weight: 4 },
    { arbitrary: fc.string(), weight: 1 },
    { arbitrary: json, weight: 1 },
  );
  const params = mostly(
    fc.record(
      { identity: json, emailIdentity: json, policy: policyDoc, dkimEnabled: flag, signingEnabled: flag, forwardingEnabled: flag, emailForwardingEnabled: flag, enabled: flag, sendingEnabled: flag },
      { requiredKeys: [] },
    ),
  );
  const sesRecord = fc.record(
    {
      eventSource: mostly(fc.constant('ses.amazonaws.com')),
      eventName: mostly(fc.constantFrom(...NAMES)),
      // Half the calls succeed.
      errorCode: fc.oneof(fc.constant(undefined), mostly(fc.constantFrom('AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation', 'ThrottlingException', ''))),
      recipientAccountId: mostly(fc.constant(ACCOUNT)),
      userIdentity: mostly(fc.record({ accessKeyId: mostly(fc.constantFrom(LONG_TERM_KEY, SESSION_KEY)) }, { requiredKeys: [] })),
      requestParameters: params,
    },
    { requiredKeys: ['eventSource', 'eventName'] },
  );
  // Parsed JSON can be any value; the signature only says what it should be.
  const anything = fc.oneof(sesRecord, json).map((v) => v as CloudTrailRecord);

  it('never throws, and gives distinct sorted ids of the table with the highest severity', () => {
    fc.assert(
      fc.property(anything, (r) => {
        const out = findingsOf(r);
        expect(out.findings).toEqual([...new Set(out.findings)].sort());
        for (const id of out.findings) expect(Object.keys(SEVERITY)).toContain(id);
        if (out.findings.length === 0) {
          expect(out).toEqual({ findings: [] });
        } else {
          const max = out.findings.map((id) => SEVERITY[id]).reduce((a, b) => (RANK[a] >= RANK[b] ? a : b));
          expect(out.severity).toBe(max);
        }
      }),
      { numRuns: 1000 },
    );
  });

  it('gives a failed call only the two failed-call findings', () => {
    const failed = sesRecord.chain((r) => fc.string({ minLength: 1 }).map((errorCode) => ({ ...r, errorCode })));
    fc.assert(
      fc.property(failed, (r) => {
        for (const id of findingsOf(r).findings) expect(['access-denied', 'long-term-key-enumeration']).toContain(id);
      }),
      { numRuns: 1000 },
    );
  });

  it('never gives a policy change both sending-authorization findings', () => {
    fc.assert(
      fc.property(sesRecord, (r) => {
        const { findings } = findingsOf(r);
        expect(findings.includes('sending-authorization-external') && findings.includes('sending-authorization-changed')).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });
});
