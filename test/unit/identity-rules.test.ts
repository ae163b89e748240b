/**
 * DESIGN.md identity rule 7 (issue 13, "Every identity"): ARN parameters, denied calls keyed by the
 * resource their errorMessage names, typed keys for SES v2 resources from their ARN, and the parameters
 * docs/identity-rules.md adds after checking the SES v1 and v2 API references. Every expectation is
 * written by hand from the rules, with its kind.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { identityFrom, identityKeys, type IdentityKey } from '../../src/ses/identity.js';
import { recordToRows } from '../../src/ses/rows.js';
import { SAMPLES_DIR } from '../helpers/samples.js';
import { ACCOUNT, sesCall } from '../helpers/ses-call.js';

const dom = (key: string): IdentityKey => ({ key, kind: 'domain' });
const email = (key: string): IdentityKey => ({ key, kind: 'email' });
const res = (key: string): IdentityKey => ({ key, kind: 'resource' });
const ACC: IdentityKey = { key: `account/${ACCOUNT}`, kind: 'account' };
const arn = (resource: string, partition = 'aws', region = 'us-east-1') => `arn:${partition}:ses:${region}:${ACCOUNT}:${resource}`;

const record = sesCall;

const keysOf = (eventName: string, params: unknown, extra?: Record<string, unknown>) => identityKeys(record(eventName, params, extra));

describe('rule 7: each ARN parameter follows rules 1-4', () => {
  it.each<[string, unknown, IdentityKey[]]>([
    // Tagging calls (SES v2): an identity ARN gives the identity, another resource's ARN its typed key.
    ['TagResource', { resourceArn: arn('identity/Example.COM'), tags: [{ key: 'team', value: 'mail' }] }, [dom('example.com')]],
    ['UntagResource', { resourceArn: arn('identity/Ops@Example.COM'), tagKeys: ['team'] }, [email('Ops@Example.COM')]],
    ['ListTagsForResource', { resourceArn: arn('configuration-set/transactional') }, [res('configuration-set/transactional')]],
    ['ListTagsForResource', { resourceArn: arn('contact-list/newsletter') }, [res('contact-list/newsletter')]],
    ['TagResource', { resourceArn: arn('dedicated-ip-pool/warm'), tags: [] }, [res('dedicated-ip-pool/warm')]],
    // SES v1 sends with sending authorization.
    ['SendEmail', { source: 'news@example.com', sourceArn: arn('identity/example.com') }, [dom('example.com')]],
    ['SendRawEmail', { fromArn: arn('identity/Sender@Example.com') }, [email('Sender@Example.com')]],
    ['SendTemplatedEmail', { returnPathArn: arn('identity/bounces.example.com') }, [dom('bounces.example.com')]],
    ['SendBounce', { bounceSender: 'mailer@example.com', bounceSenderArn: arn('identity/example.com') }, [dom('example.com')]],
    // SES v2 sends with sending authorization.
    ['SendEmail', { fromEmailAddress: 'a@example.com', fromEmailAddressIdentityArn: arn('identity/example.com') }, [dom('example.com')]],
    ['SendBulkEmail', { feedbackForwardingEmailAddressIdentityArn: arn('identity/Feedback@Example.com') }, [email('Feedback@Example.com')]],
    // Template ARNs of templated sends.
    ['SendTemplatedEmail', { source: 'a@example.com', templateArn: arn('template/Welcome') }, [res('template/Welcome')]],
    ['SendEmail', { content: { template: { templateArn: arn('template/Receipt'), templateData: '{}' } } }, [res('template/Receipt')]],
    ['SendBulkEmail', { defaultContent: { template: { templateArn: arn('template/Digest') } } }, [res('template/Digest')]],
    // Reputation entities are referenced by their resource's ARN.
    ['UpdateReputationEntityPolicy', { reputationEntityType: 'RESOURCE', reputationEntityReference: arn('configuration-set/cs'), reputationEntityPolicy: 'p' }, [res('configuration-set/cs')]],
    ['GetReputationEntity', { reputationEntityType: 'RESOURCE', reputationEntityReference: arn('identity/example.com') }, [dom('example.com')]],
  ])('%s %j', (eventName, params, expected) => {
    expect(keysOf(eventName, params)).toEqual(expected);
  });

  it.each<[string, string, IdentityKey | undefined]>([
    ['aws partition, domain lower-cased', 'arn:aws:ses:eu-west-1:111122223333:identity/Mail.Example.ORG', dom('mail.example.org')],
    ['aws-cn partition', 'arn:aws-cn:ses:cn-north-1:111122223333:identity/example.cn', dom('example.cn')],
    ['aws-us-gov partition, email kept exactly', 'arn:aws-us-gov:ses:us-gov-west-1:111122223333:identity/Ops@Example.GOV', email('Ops@Example.GOV')],
    ['an email whose local part holds a slash', arn('identity/dept/sales@example.com'), email('dept/sales@example.com')],
    ['template', arn('template/Welcome_v2'), res('template/Welcome_v2')],
    ['custom verification email template', arn('custom-verification-email-template/Verify'), res('custom-verification-email-template/Verify')],
    ['receipt rule set', arn('receipt-rule-set/inbound'), res('receipt-rule-set/inbound')],
    ['tenant: type and first path segment', arn('tenant/acme/tn-0123456789abcdef'), res('tenant/acme')],
    ['multi-region endpoint', arn('multi-region-endpoint/global-1'), res('multi-region-endpoint/global-1')],
    ['a resource type SES adds later', arn('future-thing/name/extra/parts'), res('future-thing/name')],
    ['an ARN with no region or account', 'arn:aws:ses:::identity/example.com', dom('example.com')],
    ['an identity ARN without a name', arn('identity/'), undefined],
    ['a resource ARN without a name', arn('tenant//tn-1'), undefined],
    ['another service', `arn:aws:sns:us-east-1:${ACCOUNT}:identity/example.com`, undefined],
    ['not an ARN', 'example.com', undefined],
  ])('resourceArn: %s', (_name, value, expected) => {
    expect(keysOf('TagResource', { resourceArn: value, tags: [] })).toEqual([expected ?? ACC]);
  });

  it('an identity named by ARN wins over the resources the same call names', () => {
    const params = {
      fromEmailAddress: 'a@example.com',
      fromEmailAddressIdentityArn: arn('identity/example.com'),
      configurationSetName: 'cs',
      tenantName: 'acme',
      content: { template: { templateName: 'Receipt' } },
      listManagementOptions: { contactListName: 'newsletter' },
    };
    expect(keysOf('SendEmail', params)).toEqual([dom('example.com')]);
  });

  it('every identity a send names by ARN gets a row, each once', () => {
    const params = { sourceArn: arn('identity/example.com'), fromArn: arn('identity/Example.com'), returnPathArn: arn('identity/bounce@example.net') };
    expect(keysOf('SendRawEmail', params)).toEqual([dom('example.com'), email('bounce@example.net')]);
  });

  it('identity parameters and ARN parameters combine, in rule order', () => {
    expect(keysOf('Whatever', { resourceArn: arn('identity/b.example.com'), identity: 'a.example.com' })).toEqual([dom('a.example.com'), dom('b.example.com')]);
  });

  it('ARN parameters holding something other than a string name nothing', () => {
    expect(keysOf('TagResource', { resourceArn: ['x'], sourceArn: { arn: 'y' }, fromArn: 7, returnPathArn: null })).toEqual([ACC]);
  });

  it('tenant resource associations file the resource, or both resources when no identity is named', () => {
    expect(keysOf('CreateTenantResourceAssociation', { tenantName: 'acme', resourceArn: arn('identity/example.com') })).toEqual([dom('example.com')]);
    expect(keysOf('DeleteTenantResourceAssociation', { tenantName: 'acme', resourceArn: arn('template/T') })).toEqual([res('template/T'), res('tenant/acme')]);
    expect(keysOf('ListResourceTenants', { resourceArn: arn('configuration-set/cs') })).toEqual([res('configuration-set/cs')]);
  });
});

describe('rule 4: resource parameters added from the API references', () => {
  it.each<[string, unknown, IdentityKey[]]>([
    // v1 SendTemplatedEmail and SendBulkTemplatedEmail name the template by a plain string.
    ['SendTemplatedEmail', { source: 'a@example.com', template: 'Welcome', templateData: '{}' }, [res('template/Welcome')]],
    ['SendBulkTemplatedEmail', { source: 'a@example.com', template: 'Digest' }, [res('template/Digest')]],
    ['SendEmail', { fromEmailAddress: 'a@example.com', content: { template: { templateName: 'Receipt' } } }, [res('template/Receipt')]],
    ['SendBulkEmail', { defaultContent: { template: { templateName: 'Digest' } } }, [res('template/Digest')]],
    ['SendEmail', { content: { simple: {} }, listManagementOptions: { contactListName: 'newsletter', topicName: 'news' } }, [res('contact-list/newsletter')]],
    ['CreateImportJob', { importDestination: { contactListDestination: { contactListName: 'newsletter', contactListImportAction: 'PUT' } } }, [res('contact-list/newsletter')]],
    ['CreateImportJob', { importDestination: { suppressionListDestination: { suppressionListImportAction: 'PUT' } } }, [ACC]],
    ['CreateTenant', { tenantName: 'acme', tags: [] }, [res('tenant/acme')]],
    ['PutTenantSuppressionAttributes', { tenantName: 'acme', suppressionScope: 'TENANT' }, [res('tenant/acme')]],
    ['CreateMultiRegionEndpoint', { endpointName: 'global-1', details: { routesDetails: [{ region: 'us-west-2' }] } }, [res('multi-region-endpoint/global-1')]],
    ['DeleteMultiRegionEndpoint', { endpointName: 'global-1' }, [res('multi-region-endpoint/global-1')]],
    // `templateName` of custom verification calls is a custom verification email template.
    ['GetCustomVerificationEmailTemplate', { templateName: 'Verify' }, [res('custom-verification-email-template/Verify')]],
    ['SendCustomVerificationEmail', { templateName: 'Verify', configurationSetName: 'cs' }, [res('configuration-set/cs'), res('custom-verification-email-template/Verify')]],
    ['TestRenderEmailTemplate', { templateName: 'Receipt', templateData: '{}' }, [res('template/Receipt')]],
    // A send without an identity files every resource it names, configuration set first.
    ['SendEmail', { configurationSetName: 'cs', tenantName: 'acme', content: { template: { templateName: 'R' } } }, [res('configuration-set/cs'), res('template/R'), res('tenant/acme')]],
    // Names nothing: an empty or non-string name, a template object without a name.
    ['SendTemplatedEmail', { template: '', tenantName: 5, endpointName: ['x'] }, [ACC]],
    ['CreateTemplate', { template: { subjectPart: 'no name' } }, [ACC]],
  ])('%s %j', (eventName, params, expected) => {
    expect(keysOf(eventName, params)).toEqual(expected);
  });
});

describe('rule 7: a denied call is filed under the resource its errorMessage names', () => {
  const denied = (eventName: string, errorMessage: unknown, params: unknown = null) =>
    identityKeys(record(eventName, params, { errorCode: 'AccessDenied', errorMessage }));
  const notAuthorized = (action: string, resource: string) =>
    `User: arn:aws:iam::${ACCOUNT}:user/carol is not authorized to perform: ses:${action} on resource: ${resource} because no identity-based policy allows the ses:${action} action`;

  it.each<[string, unknown, IdentityKey[]]>([
    ['`on resource: ARN` of a domain identity, lower-cased', notAuthorized('DeleteIdentity', arn('identity/Example.COM')), [dom('example.com')]],
    ['`on resource: ARN` of an email identity, kept exactly', notAuthorized('DeleteEmailIdentity', arn('identity/Ops@Example.com')), [email('Ops@Example.com')]],
    ['SES quoted form', `User \`arn:aws:iam::${ACCOUNT}:user/carol' is not authorized to perform \`ses:SendRawEmail' on resource \`${arn('identity/example.com')}'`, [dom('example.com')]],
    ['quoted form around an email holding an apostrophe', `not authorized to perform \`ses:SendEmail' on resource \`${arn("identity/o'brien@example.com")}'`, [email("o'brien@example.com")]],
    ['another SES resource type', notAuthorized('DeleteConfigurationSet', arn('configuration-set/cs')), [res('configuration-set/cs')]],
    ['a tenant ARN gives its typed key', notAuthorized('DeleteTenant', arn('tenant/acme/tn-1')), [res('tenant/acme')]],
    ['the ARN ends the sentence', `User is not authorized to perform: ses:DeleteIdentity on resource: ${arn('identity/example.com')}.`, [dom('example.com')]],
    ['with an explicit deny', `User: x is not authorized to perform: ses:SendEmail on resource: ${arn('identity/example.com')} with an explicit deny in a service control policy`, [dom('example.com')]],
    ['`on resource: *` names nothing', notAuthorized('GetAccount', '*'), [ACC]],
    ['an ARN of another service names nothing', notAuthorized('SendEmail', `arn:aws:iam::${ACCOUNT}:role/sender`), [ACC]],
    ['no resource in the message', `User: arn:aws:iam::${ACCOUNT}:user/carol is not authorized to perform: ses:DeleteIdentity because no identity-based policy allows the ses:DeleteIdentity action`, [ACC]],
    ['an errorMessage that is not a string', { message: notAuthorized('DeleteIdentity', arn('identity/example.com')) }, [ACC]],
  ])('%s', (_name, errorMessage, expected) => {
    expect(denied('DeleteIdentity', errorMessage)).toEqual(expected);
  });

  it('request parameters that name an identity or a resource come first', () => {
    const message = notAuthorized('DeleteIdentity', arn('identity/other.example.com'));
    expect(denied('DeleteIdentity', message, { identity: 'example.com' })).toEqual([dom('example.com')]);
    expect(denied('DeleteConfigurationSet', message, { configurationSetName: 'cs' })).toEqual([res('configuration-set/cs')]);
  });

  it('identities the message names come before other resources it names', () => {
    const message = `${notAuthorized('SendEmail', arn('configuration-set/cs'))}; and on resource: ${arn('identity/example.com')}`;
    expect(denied('SendEmail', message)).toEqual([dom('example.com')]);
  });

  it('the row of a denied call carries the key, its kind and the error', () => {
    const out = recordToRows(record('DeleteIdentity', null, { errorCode: 'AccessDenied', errorMessage: notAuthorized('DeleteIdentity', arn('identity/Example.com')) }), {
      sourceObject: 'test',
      ingestedAt: '2026-11-24T00:00:00.000Z',
    });
    expect(out.kind === 'rows' && out.rows.map((r) => [r.identity, r.identityKind, r.errorCode])).toEqual([['example.com', 'domain', 'AccessDenied']]);
  });
});

describe('data events: resources[] entries are keyed by their ARN', () => {
  const data = (resources: unknown) => identityKeys(record('SendEmail', {}, { eventCategory: 'Data', resources }));

  it('the ARN decides, whatever the entry says its type is', () => {
    expect(data([{ type: 'AWS::SES::ConfigurationSet', ARN: arn('identity/Example.com') }])).toEqual([dom('example.com')]);
    expect(data([{ type: 'AWS::SES::EmailIdentity', ARN: arn('configuration-set/cs') }])).toEqual([res('configuration-set/cs')]);
    expect(data([{ ARN: arn('tenant/acme/tn-1') }])).toEqual([res('tenant/acme')]);
  });
  it('entries without a usable ARN, and a resources that is not a list, name nothing', () => {
    expect(data([null, 'x', 7, [arn('identity/a.com')], { type: 'AWS::SES::EmailIdentity' }, { arn: arn('identity/a.com') }])).toEqual([ACC]);
    expect(data({ ARN: arn('identity/a.com') })).toEqual([ACC]);
  });
});

describe('identityFrom: what `history IDENTITY` normalizes with', () => {
  it.each<[unknown, IdentityKey | undefined]>([
    ['Example.COM', dom('example.com')],
    ['Someone@Example.COM', email('Someone@Example.COM')],
    [arn('identity/Example.COM'), dom('example.com')],
    [arn('tenant/acme/tn-1'), res('tenant/acme')],
    [arn('identity/'), undefined],
    ['', undefined],
    [42, undefined],
  ])('%j', (value, expected) => {
    expect(identityFrom(value)).toEqual(expected);
  });
});

// Real SES records (mostly denied calls by a test principal). The expected keys are read by hand from
// each record's requestParameters and errorMessage.
const REAL = join(SAMPLES_DIR, 'real-ses-records.json');
const haveReal = existsSync(REAL);
if (!haveReal) console.warn(`identity-rules.test: ${REAL} is absent, so the real-record cases are skipped`);

describe.skipIf(!haveReal)('real SES records (../shared/samples/real-ses-records.json)', () => {
  const acct = (id: string): IdentityKey => ({ key: `account/${id}`, kind: 'account' });
  // eventID -> keys: only the first names a resource (`on resource: ARN` of an identity); GetAccount's
  // `on resource: *` names nothing; the rest name no resource at all.
  const EXPECTED: Array<[string, string, IdentityKey[]]> = [
    ['f08b23f1-ba0d-4ed8-9413-4210bc780478', 'CreateEmailIdentity', [dom('cloudtrail.cloud')]],
    ['698dc6aa-74c9-4a56-84fb-c759a79d8fc8', 'DeleteIdentity', [acct('111111111111')]],
    ['21a3ad27-1580-4dbe-82a5-6b10cfd17ce2', 'GetAccount', [acct('111111111111')]],
    ['aba474e4-ed6b-4087-b4ff-cb25db839d47', 'GetAccountSendingEnabled', [acct('111111111111')]],
    ['5a856773-cd7d-4317-bdc9-53d011f6727d', 'GetIdentityVerificationAttributes', [acct('111111111111')]],
    ['e4f8d737-69d4-4686-a908-e2f1679ca673', 'GetSendQuota', [acct('111111111111')]],
    ['007ebdb7-8af1-42c7-a257-2fac3e475d6c', 'ListEmailIdentities', [acct('111111111111')]],
    ['0d9c6613-e71d-40c3-a1de-029d54ac9229', 'ListIdentities', [acct('111111111111')]],
    ['1f59978b-bd90-4058-be12-91e2ecfb5c52', 'PutAccountDetails', [acct('111111111111')]],
    ['d234aba0-2ad3-4956-89ac-9c0e31e34cf7', 'UpdateAccountSendingEnabled', [acct('111111111111')]],
    ['ec42e78b-a627-4f01-b750-86dee742132d', 'VerifyEmailIdentity', [acct('111111111111')]],
    ['e52e7a78-438a-4851-b53f-6b77c566c293', 'ListIdentities', [acct('438465128930')]],
  ];
  const samples = haveReal ? (JSON.parse(readFileSync(REAL, 'utf8')) as Array<{ record: Record<string, unknown> }>) : [];

  it('are the twelve records this table describes', () => {
    expect(samples.map((s) => [s.record.eventID, s.record.eventName])).toEqual(EXPECTED.map(([id, name]) => [id, name]));
  });

  it.each(EXPECTED.map((e, i) => [i, ...e] as const))('#%i %s %s', (i, _id, _name, expected) => {
    expect(identityKeys(samples[i].record)).toEqual(expected);
    const out = recordToRows(samples[i].record, { sourceObject: 'real-ses-records.json', ingestedAt: '2026-11-24T00:00:00.000Z' });
    expect(out.kind === 'rows' && out.rows.map((r) => ({ key: r.identity, kind: r.identityKind }))).toEqual(expected);
  });
});
