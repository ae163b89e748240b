import { describe, expect, it } from 'vitest';
import { identityKeys, type IdentityKey } from '../../src/ses/identity.js';
import { recordToRows, type RowContext } from '../../src/ses/rows.js';
import { actorOf } from '../../src/ses/actor.js';
import type { AuditRow } from '../../src/ses/row.js';
import { ACCOUNT, sesCall } from '../helpers/ses-call.js';

const ctx: RowContext = { sourceObject: 's3://trail/AWSLogs/x.json.gz', ingestedAt: '2026-11-24T00:00:00.000Z' };

const record = sesCall;

function keysOf(eventName: string, params: unknown, extra?: Record<string, unknown>): IdentityKey[] {
  return identityKeys(record(eventName, params, extra));
}

function rowsOf(value: unknown): AuditRow[] {
  const out = recordToRows(value, ctx);
  if (out.kind !== 'rows') throw new Error(`expected rows, got ${JSON.stringify(out)}`);
  return out.rows;
}

const dom = (key: string): IdentityKey => ({ key, kind: 'domain' });
const email = (key: string): IdentityKey => ({ key, kind: 'email' });
const res = (key: string): IdentityKey => ({ key, kind: 'resource' });
const ACC: IdentityKey = { key: `account/${ACCOUNT}`, kind: 'account' };

// The 37 management actions of the SES developer guide's CloudTrail page, with parameters as the API
// names them, and the keys DESIGN.md prescribes.
const MANAGEMENT: Array<[string, unknown, IdentityKey[]]> = [
  ['CloneReceiptRuleSet', { ruleSetName: 'inbound-v2', originalRuleSetName: 'inbound' }, [res('receipt-rule-set/inbound-v2'), res('receipt-rule-set/inbound')]],
  ['CreateReceiptFilter', { filter: { name: 'block-spam', ipFilter: { policy: 'Block', cidr: '10.0.0.0/8' } } }, [res('receipt-filter/block-spam')]],
  ['CreateReceiptRule', { ruleSetName: 'inbound', rule: { name: 'store', enabled: true, recipients: ['ops@example.com'] } }, [res('receipt-rule-set/inbound')]],
  ['CreateReceiptRuleSet', { ruleSetName: 'inbound' }, [res('receipt-rule-set/inbound')]],
  ['DeleteIdentity', { identity: 'Example.COM' }, [dom('example.com')]],
  ['DeleteIdentityPolicy', { identity: 'example.com', policyName: 'p1' }, [dom('example.com')]],
  ['DeleteReceiptFilter', { filterName: 'block-spam' }, [res('receipt-filter/block-spam')]],
  ['DeleteReceiptRule', { ruleSetName: 'inbound', ruleName: 'store' }, [res('receipt-rule-set/inbound')]],
  ['DeleteReceiptRuleSet', { ruleSetName: 'inbound' }, [res('receipt-rule-set/inbound')]],
  ['DeleteVerifiedEmailAddress', { emailAddress: 'User@Example.com' }, [email('User@Example.com')]],
  ['DescribeActiveReceiptRuleSet', null, [ACC]],
  ['DescribeReceiptRule', { ruleSetName: 'inbound', ruleName: 'store' }, [res('receipt-rule-set/inbound')]],
  ['DescribeReceiptRuleSet', { ruleSetName: 'inbound' }, [res('receipt-rule-set/inbound')]],
  ['GetIdentityDkimAttributes', { identities: ['example.com', 'mail.example.org'] }, [dom('example.com'), dom('mail.example.org')]],
  ['GetIdentityNotificationAttributes', { identities: ['example.com'] }, [dom('example.com')]],
  ['GetIdentityPolicies', { identity: 'example.com', policyNames: ['p1'] }, [dom('example.com')]],
  ['GetIdentityVerificationAttributes', { identities: ['example.com', 'user@example.com'] }, [dom('example.com'), email('user@example.com')]],
  ['GetSendQuota', null, [ACC]],
  ['GetSendStatistics', null, [ACC]],
  ['ListIdentities', { identityType: 'Domain', maxItems: 10 }, [ACC]],
  ['ListIdentityPolicies', { identity: 'example.com' }, [dom('example.com')]],
  ['ListReceiptFilters', null, [ACC]],
  ['ListReceiptRuleSets', null, [ACC]],
  ['ListVerifiedEmailAddresses', null, [ACC]],
  ['PutIdentityPolicy', { identity: 'example.com', policyName: 'p1', policy: '{"Version":"2012-10-17"}' }, [dom('example.com')]],
  ['ReorderReceiptRuleSet', { ruleSetName: 'inbound', ruleNames: ['a', 'b'] }, [res('receipt-rule-set/inbound')]],
  ['SetActiveReceiptRuleSet', { ruleSetName: 'inbound' }, [res('receipt-rule-set/inbound')]],
  ['SetReceiptRulePosition', { ruleSetName: 'inbound', ruleName: 'store', after: 'first' }, [res('receipt-rule-set/inbound')]],
  ['SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: true }, [dom('example.com')]],
  ['SetIdentityFeedbackForwardingEnabled', { identity: 'example.com', forwardingEnabled: true }, [dom('example.com')]],
  ['SetIdentityHeadersInNotificationsEnabled', { identity: 'example.com', notificationType: 'Bounce', enabled: true }, [dom('example.com')]],
  ['SetIdentityNotificationTopic', { identity: 'example.com', notificationType: 'Bounce', snsTopic: 'arn:aws:sns:us-east-1:111122223333:t' }, [dom('example.com')]],
  ['UpdateReceiptRule', { ruleSetName: 'inbound', rule: { name: 'store' } }, [res('receipt-rule-set/inbound')]],
  ['VerifyDomainDkim', { domain: 'Example.com' }, [dom('example.com')]],
  ['VerifyDomainIdentity', { domain: 'Example.com' }, [dom('example.com')]],
  ['VerifyEmailAddress', { emailAddress: 'User@Example.com' }, [email('User@Example.com')]],
  ['VerifyEmailIdentity', { emailAddress: 'User@Example.com' }, [email('User@Example.com')]],
];

describe('identity rules: the 37 management actions', () => {
  it('covers all 37', () => {
    expect(new Set(MANAGEMENT.map((m) => m[0])).size).toBe(37);
  });
  it.each(MANAGEMENT)('%s', (eventName, params, expected) => {
    expect(keysOf(eventName, params)).toEqual(expected);
  });
  it('SetActiveReceiptRuleSet with no rule set (deactivating) is account-level', () => {
    expect(keysOf('SetActiveReceiptRuleSet', {})).toEqual([ACC]);
  });
});

describe('identity rules: other SES v1 and v2 actions', () => {
  it.each<[string, unknown, IdentityKey[]]>([
    ['SetIdentityMailFromDomain', { identity: 'Example.com', mailFromDomain: 'bounce.example.com', behaviorOnMXFailure: 'UseDefaultValue' }, [dom('example.com')]],
    ['GetIdentityMailFromDomainAttributes', { identities: ['a@example.com', 'example.com'] }, [email('a@example.com'), dom('example.com')]],
    ['CreateConfigurationSet', { configurationSet: { name: 'transactional' } }, [res('configuration-set/transactional')]],
    ['CreateConfigurationSet', { configurationSetName: 'marketing', deliveryOptions: { sendingPoolName: 'p' } }, [res('configuration-set/marketing')]],
    ['CreateConfigurationSetEventDestination', { configurationSetName: 'cs', eventDestination: { name: 'to-sns' } }, [res('configuration-set/cs')]],
    ['DeleteConfigurationSet', { configurationSetName: 'cs' }, [res('configuration-set/cs')]],
    ['CreateTemplate', { template: { templateName: 'Welcome', subjectPart: 'Hi' } }, [res('template/Welcome')]],
    ['UpdateTemplate', { template: { templateName: 'Welcome' } }, [res('template/Welcome')]],
    ['DeleteTemplate', { templateName: 'Welcome' }, [res('template/Welcome')]],
    ['CreateEmailTemplate', { templateName: 'Receipt', templateContent: { subject: 'x' } }, [res('template/Receipt')]],
    ['CreateCustomVerificationEmailTemplate', { templateName: 'Verify', fromEmailAddress: 'noreply@example.com' }, [res('custom-verification-email-template/Verify')]],
    ['DeleteCustomVerificationEmailTemplate', { templateName: 'Verify' }, [res('custom-verification-email-template/Verify')]],
    ['SendCustomVerificationEmail', { emailAddress: 'New@Example.com', templateName: 'Verify' }, [email('New@Example.com')]],
    ['CreateEmailIdentity', { emailIdentity: 'News.Example.com', tags: [] }, [dom('news.example.com')]],
    ['DeleteEmailIdentity', { emailIdentity: 'someone@Example.com' }, [email('someone@Example.com')]],
    ['PutEmailIdentityDkimSigningAttributes', { emailIdentity: 'example.com', signingAttributesOrigin: 'AWS_SES' }, [dom('example.com')]],
    ['PutEmailIdentityMailFromAttributes', { emailIdentity: 'example.com', mailFromDomain: 'm.example.com' }, [dom('example.com')]],
    ['CreateEmailIdentityPolicy', { emailIdentity: 'example.com', policyName: 'p', policy: '{}' }, [dom('example.com')]],
    ['PutEmailIdentityConfigurationSetAttributes', { emailIdentity: 'example.com', configurationSetName: 'cs' }, [dom('example.com')]],
    ['CreateContactList', { contactListName: 'newsletter' }, [res('contact-list/newsletter')]],
    // The contact's address is a recipient, not an identity.
    ['CreateContact', { contactListName: 'newsletter', emailAddress: 'reader@example.net' }, [res('contact-list/newsletter')]],
    ['PutSuppressedDestination', { emailAddress: 'bounced@example.net', reason: 'BOUNCE' }, [ACC]],
    ['DeleteSuppressedDestination', { emailAddress: 'bounced@example.net' }, [ACC]],
    ['CreateDedicatedIpPool', { poolName: 'transactional-ips', scalingMode: 'STANDARD' }, [res('dedicated-ip-pool/transactional-ips')]],
    ['PutDedicatedIpInPool', { ip: '198.51.100.1', destinationPoolName: 'warm' }, [res('dedicated-ip-pool/warm')]],
    ['PutAccountDetails', { mailType: 'TRANSACTIONAL', websiteURL: 'https://example.com' }, [ACC]],
    ['GetAccount', null, [ACC]],
  ])('%s %j', (eventName, params, expected) => {
    expect(keysOf(eventName, params)).toEqual(expected);
  });

  it('`domain` and `emailAddress` name identities only for the calls DESIGN.md lists', () => {
    expect(keysOf('SomeOtherCall', { domain: 'example.com' })).toEqual([ACC]);
    expect(keysOf('SomeOtherCall', { emailAddress: 'x@example.com' })).toEqual([ACC]);
  });
});

describe('identity rules: data events', () => {
  const data = (resources: unknown[], params: unknown = { destination: { toAddresses: ['HIDDEN_DUE_TO_SECURITY_REASONS'] } }) =>
    record('SendEmail', params, { eventCategory: 'Data', managementEvent: false, readOnly: true, resources });

  it('takes identities from resources[] ARNs of type AWS::SES::EmailIdentity', () => {
    const rec = data([
      { accountId: ACCOUNT, type: 'AWS::SES::EmailIdentity', ARN: 'arn:aws:ses:us-east-1:111122223333:identity/Sender@Example.com' },
      { accountId: ACCOUNT, type: 'AWS::SES::EmailIdentity', ARN: 'arn:aws:ses:us-east-1:111122223333:identity/Example.COM' },
      { accountId: ACCOUNT, type: 'AWS::SES::Template', ARN: 'arn:aws:ses:us-east-1:111122223333:template/TestTemplate' },
    ]);
    expect(identityKeys(rec)).toEqual([
      { key: 'Sender@Example.com', kind: 'email' },
      { key: 'example.com', kind: 'domain' },
    ]);
  });
  it('falls back to the other resources when no identity is named', () => {
    const rec = data([
      { type: 'AWS::SES::ConfigurationSet', ARN: 'arn:aws:ses:us-east-1:111122223333:configuration-set/cs1' },
      { type: 'AWS::SES::Template', ARN: 'arn:aws:ses:us-east-1:111122223333:template/T' },
    ]);
    expect(identityKeys(rec)).toEqual([res('configuration-set/cs1'), res('template/T')]);
  });
  it('ignores fromEmailAddress/source (not identity parameters) and non-SES resources', () => {
    const rec = data([{ type: 'AWS::KMS::Key', ARN: 'arn:aws:kms:us-east-1:111122223333:key/abc' }], { fromEmailAddress: 'a@example.com', source: 'a@example.com' });
    expect(identityKeys(rec)).toEqual([ACC]);
  });
  it('keeps eventCategory and readOnly on the row', () => {
    const [row] = rowsOf(data([{ type: 'AWS::SES::EmailIdentity', ARN: 'arn:aws:ses:us-east-1:111122223333:identity/example.com' }]));
    expect(row).toMatchObject({ identity: 'example.com', eventCategory: 'Data', readOnly: true, identityKind: 'domain' });
  });
});

describe('identity rules: names, case, lists, unknown events', () => {
  it('reduces identity ARNs to the bare name, then applies the case rules', () => {
    expect(keysOf('DeleteIdentity', { identity: 'arn:aws:ses:eu-west-1:111122223333:identity/Example.COM' })).toEqual([dom('example.com')]);
    expect(keysOf('DeleteIdentity', { identity: 'arn:aws-us-gov:ses:us-gov-west-1:111122223333:identity/Ops@Example.COM' })).toEqual([email('Ops@Example.COM')]);
  });
  it('lower-cases domains and keeps email addresses exactly', () => {
    expect(identityKeys(record('DeleteIdentity', { identity: 'MAIL.Example.Org' }))).toEqual([{ key: 'mail.example.org', kind: 'domain' }]);
    expect(identityKeys(record('DeleteIdentity', { identity: 'First.Last@EXAMPLE.org' }))).toEqual([{ key: 'First.Last@EXAMPLE.org', kind: 'email' }]);
  });
  it('one row per distinct identity of a list with repeats', () => {
    const rows = rowsOf(record('GetIdentityVerificationAttributes', { identities: ['example.com', 'EXAMPLE.com', 'a@x.com', 'a@x.com', 'A@x.com', '', 7, null] }));
    expect(rows.map((r) => r.identity)).toEqual(['example.com', 'a@x.com', 'A@x.com']);
    for (const r of rows) expect(r.identities).toEqual(['example.com', 'a@x.com', 'A@x.com']);
    expect(new Set(rows.map((r) => r.eventKey)).size).toBe(1);
  });
  it('combines identity, identities and emailIdentity without repeating', () => {
    expect(keysOf('Whatever', { identity: 'example.com', identities: ['b.example.com', 'Example.com'], emailIdentity: 'c@example.com' })).toEqual([
      dom('example.com'),
      dom('b.example.com'),
      email('c@example.com'),
    ]);
  });
  it('an event name nobody has seen yet still gets rows by the same rules', () => {
    expect(keysOf('PutEmailIdentityQuantumAttributes', { emailIdentity: 'New.Example' })).toEqual([dom('new.example')]);
    expect(keysOf('CreateSomethingNew', { configurationSetName: 'cs' })).toEqual([res('configuration-set/cs')]);
    expect(keysOf('DescribeTheFuture', { unrelated: 1 })).toEqual([ACC]);
    expect(rowsOf(record('DescribeTheFuture', { unrelated: 1 }))[0]).toMatchObject({ eventName: 'DescribeTheFuture', identityKind: 'account' });
  });
  it('an ARN of another SES resource given as identity becomes that resource key', () => {
    expect(keysOf('Whatever', { identity: 'arn:aws:ses:us-east-1:111122223333:configuration-set/cs' })).toEqual([res('configuration-set/cs')]);
  });
  it('account key falls back to userIdentity.accountId, then unknown', () => {
    expect(identityKeys({ eventSource: 'ses.amazonaws.com', userIdentity: { accountId: '444455556666' } })).toEqual([{ key: 'account/444455556666', kind: 'account' }]);
    expect(identityKeys({ eventSource: 'ses.amazonaws.com' })).toEqual([{ key: 'account/unknown', kind: 'account' }]);
  });
});

describe('rows', () => {
  it('carries every DESIGN.md attribute the record has', () => {
    const rec = record('PutIdentityPolicy', { identity: 'example.com', policyName: 'p' }, {
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAEXAMPLE:alice',
        arn: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
        accountId: ACCOUNT,
        accessKeyId: 'ASIAEXAMPLE',
        sessionContext: {
          sessionIssuer: { type: 'Role', principalId: 'AROAEXAMPLE', arn: 'arn:aws:iam::111122223333:role/admin', userName: 'admin' },
          attributes: { mfaAuthenticated: 'true', creationDate: '2026-11-20T09:00:00Z' },
        },
      },
      eventCategory: 'Management',
      readOnly: false,
      additionalEventData: { k: 'v' },
      responseElements: { ok: true },
    });
    const [row] = rowsOf(rec);
    expect(row).toEqual({
      identity: 'example.com',
      identityKind: 'domain',
      eventKey: '2026-11-20T10:15:30Z#evt-1',
      actor: 'arn:aws:iam::111122223333:role/admin',
      eventName: 'PutIdentityPolicy',
      identities: ['example.com'],
      eventTime: '2026-11-20T10:15:30Z',
      eventID: 'evt-1',
      eventSource: 'ses.amazonaws.com',
      eventCategory: 'Management',
      readOnly: false,
      awsRegion: 'us-east-1',
      accountId: ACCOUNT,
      actorType: 'AssumedRole',
      principalArn: 'arn:aws:sts::111122223333:assumed-role/admin/alice',
      principalId: 'AROAEXAMPLE:alice',
      accessKeyId: 'ASIAEXAMPLE',
      userName: 'alice',
      sessionIssuerArn: 'arn:aws:iam::111122223333:role/admin',
      mfaAuthenticated: true,
      sourceIPAddress: '203.0.113.7',
      userAgent: 'aws-cli/2.22.0',
      requestID: 'req-1',
      requestParameters: { identity: 'example.com', policyName: 'p' },
      responseElements: { ok: true },
      additionalEventData: { k: 'v' },
      sourceObject: ctx.sourceObject,
      ingestedAt: ctx.ingestedAt,
      // A policy put without a readable policy document: a change, not provably an external grant.
      findings: ['sending-authorization-changed'],
      severity: 'medium',
    });
  });

  it('failed calls are rows too, with errorCode and errorMessage', () => {
    const [row] = rowsOf(record('DeleteIdentity', { identity: 'example.com' }, { errorCode: 'AccessDenied', errorMessage: 'User is not authorized' }));
    expect(row).toMatchObject({ identity: 'example.com', errorCode: 'AccessDenied', errorMessage: 'User is not authorized' });
  });

  it('a record without userIdentity has actor unknown and no identity attributes', () => {
    const rec: Record<string, unknown> = record('DeleteIdentity', { identity: 'example.com' });
    delete rec.userIdentity;
    const [row] = rowsOf(rec);
    expect(row.actor).toBe('unknown');
    expect(row).not.toHaveProperty('actorType');
    expect(row).not.toHaveProperty('principalArn');
  });

  it('normalizes eventKey time to UTC seconds; eventTime stays as logged', () => {
    const [a] = rowsOf(record('GetSendQuota', null, { eventTime: '2026-11-20T10:15:30.987Z' }));
    expect(a.eventKey).toBe('2026-11-20T10:15:30Z#evt-1');
    expect(a.eventTime).toBe('2026-11-20T10:15:30.987Z');
    const [b] = rowsOf(record('GetSendQuota', null, { eventTime: '2026-11-20T12:15:30+02:00' }));
    expect(b.eventKey).toBe('2026-11-20T10:15:30Z#evt-1');
  });

  it('a record without eventID gets a key derived from its content, the same on every replay', () => {
    const rec: Record<string, unknown> = record('GetSendQuota', null);
    delete rec.eventID;
    const [a] = rowsOf(rec);
    const [b] = rowsOf(JSON.parse(JSON.stringify(rec)));
    expect(a.eventKey).toMatch(/^2026-11-20T10:15:30Z#sha256-[0-9a-f]{32}$/);
    expect(b.eventKey).toBe(a.eventKey);
    const [c] = rowsOf({ ...rec, requestID: 'other' });
    expect(c.eventKey).not.toBe(a.eventKey);
  });

  it('sets expiresAt only when a retention period is given', () => {
    expect(rowsOf(record('GetSendQuota', null))[0]).not.toHaveProperty('expiresAt');
    const out = recordToRows(record('GetSendQuota', null), { ...ctx, expiresAt: 1_800_000_000 });
    expect(out.kind === 'rows' && out.rows[0].expiresAt).toBe(1_800_000_000);
  });

  it('reports records it cannot file: not objects, no or bad eventTime; other services are not SES', () => {
    expect(recordToRows([1, 2], ctx)).toEqual({ kind: 'bad', reason: 'not a JSON object' });
    expect(recordToRows('x', ctx)).toEqual({ kind: 'bad', reason: 'not a JSON object' });
    const noTime: Record<string, unknown> = record('GetSendQuota', null);
    delete noTime.eventTime;
    expect(recordToRows(noTime, ctx)).toMatchObject({ kind: 'bad', reason: 'SES event without eventTime' });
    expect(recordToRows(record('GetSendQuota', null, { eventTime: 'yesterday' }), ctx)).toMatchObject({ kind: 'bad' });
    expect(recordToRows({ ...record('GetSendQuota', null), eventSource: 'sns.amazonaws.com' }, ctx)).toEqual({ kind: 'not-ses' });
  });

  it('clamps keys DynamoDB could not hold, deterministically', () => {
    const long = `${'x'.repeat(3000)}.example.com`;
    const [row] = rowsOf(record('DeleteIdentity', { identity: long }));
    expect(Buffer.byteLength(row.identity)).toBeLessThanOrEqual(1024);
    expect(row.identity).toMatch(/^x+#[0-9a-f]{64}$/);
    expect(rowsOf(record('DeleteIdentity', { identity: long }))[0].identity).toBe(row.identity);
    // 4-byte characters: the prefix is cut on a character boundary, never inside a surrogate pair.
    const [emoji] = rowsOf(record('DeleteIdentity', { identity: `${'📧'.repeat(600)}@example.com` }));
    expect(Buffer.byteLength(emoji.identity)).toBeLessThanOrEqual(1024);
    expect(emoji.identity).toMatch(/^(📧)+#[0-9a-f]{64}$/u);
    expect(Buffer.from(emoji.identity, 'utf8').toString('utf8')).toBe(emoji.identity);
  });
});

describe('actor', () => {
  it.each<[string, unknown, string]>([
    ['AssumedRole: the role', { type: 'AssumedRole', arn: 'arn:aws:sts::1:assumed-role/r/s', principalId: 'AROA:s', sessionContext: { sessionIssuer: { arn: 'arn:aws:iam::1:role/r' } } }, 'arn:aws:iam::1:role/r'],
    ['AssumedRole without issuer: its arn', { type: 'AssumedRole', arn: 'arn:aws:sts::1:assumed-role/r/s', principalId: 'AROA:s' }, 'arn:aws:sts::1:assumed-role/r/s'],
    ['IAMUser', { type: 'IAMUser', arn: 'arn:aws:iam::1:user/u', principalId: 'AIDA', invokedBy: 'signin.amazonaws.com' }, 'arn:aws:iam::1:user/u'],
    ['Root', { type: 'Root', arn: 'arn:aws:iam::1:root', principalId: '1' }, 'arn:aws:iam::1:root'],
    ['FederatedUser', { type: 'FederatedUser', arn: 'arn:aws:sts::1:federated-user/bob', principalId: '1:bob' }, 'arn:aws:sts::1:federated-user/bob'],
    ['AWSService', { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' }, 'cloudformation.amazonaws.com'],
    ['other type: principalId', { type: 'IdentityCenterUser', principalId: 'p-123', arn: 'arn:x' }, 'p-123'],
    ['nothing usable', { type: 'Unknown' }, 'unknown'],
  ])('%s', (_name, ui, expected) => {
    expect(actorOf(ui).actor).toBe(expected);
  });
  it('mfaAuthenticated becomes a boolean', () => {
    expect(actorOf({ type: 'IAMUser', arn: 'a', sessionContext: { attributes: { mfaAuthenticated: 'false' } } }).mfaAuthenticated).toBe(false);
  });
});
