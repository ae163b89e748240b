/**
 * SES records shaped exactly as CloudTrail logs them, for the `show` tests: callers of every kind, and the life
 * of example.com (verified, configured, a policy widened to outsiders and deleted, a denied deletion, deleted,
 * re-created with the v2 API). Policy documents are JSON text inside requestParameters, as logged.
 */
import fc from 'fast-check';
import { recordToRows } from '../../src/ses/rows.js';
import type { AuditRow } from '../../src/ses/row.js';
import type { EventRef } from '../../src/ses/lifecycle.js';

export const ACCOUNT = '111122223333';
export const PARTNER = '444455556666';
export const OTHER = '999988887777';
const CTX = { sourceObject: `s3://trail-bucket/AWSLogs/${ACCOUNT}/CloudTrail/us-east-1/2026/03/05/x.json.gz`, ingestedAt: '2026-03-06T00:00:00Z' };

export interface Caller {
  userIdentity: Record<string, unknown>;
  sourceIPAddress: string;
  userAgent: string;
  /** What the row's `actor` must be (DESIGN.md). */
  actor: string;
  /** The person. */
  who: string;
}

const SSO_ROLE = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
export const ALICE: Caller = {
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID0000ALIC:alice@corp.example',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE}/alice@corp.example`,
    accountId: ACCOUNT,
    accessKeyId: 'ASIAEXAMPLEKEY0ALICE',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEID0000ALIC',
        arn: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE}`,
        accountId: ACCOUNT,
        userName: SSO_ROLE,
      },
      attributes: { creationDate: '2026-03-01T08:55:00Z', mfaAuthenticated: 'false' },
    },
  },
  sourceIPAddress: '192.0.2.10',
  userAgent: 'aws-cli/2.22.0 Python/3.12.6 Darwin/24.1.0 source/arm64',
  actor: `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/${SSO_ROLE}`,
  who: 'alice@corp.example',
};

export const BOB: Caller = {
  userIdentity: {
    type: 'IAMUser',
    principalId: 'AIDAEXAMPLEID00000BOB',
    arn: `arn:aws:iam::${ACCOUNT}:user/bob`,
    accountId: ACCOUNT,
    accessKeyId: 'AKIAEXAMPLEKEY000BOB',
    userName: 'bob',
  },
  sourceIPAddress: '198.51.100.7',
  userAgent: 'aws-sdk-js/3.700.0',
  actor: `arn:aws:iam::${ACCOUNT}:user/bob`,
  who: 'bob',
};

export const INTERN: Caller = {
  userIdentity: {
    type: 'IAMUser',
    principalId: 'AIDAEXAMPLEID00INTERN',
    arn: `arn:aws:iam::${ACCOUNT}:user/intern`,
    accountId: ACCOUNT,
    accessKeyId: 'AKIAEXAMPLEKEYINTERN',
    userName: 'intern',
  },
  sourceIPAddress: '203.0.113.50',
  userAgent: 'aws-cli/2.17.32',
  actor: `arn:aws:iam::${ACCOUNT}:user/intern`,
  who: 'intern',
};

export const TERRAFORM: Caller = {
  userIdentity: {
    type: 'AssumedRole',
    principalId: 'AROAEXAMPLEID0000TFCI:gh-actions-4711',
    arn: `arn:aws:sts::${ACCOUNT}:assumed-role/terraform-ci/gh-actions-4711`,
    accountId: ACCOUNT,
    accessKeyId: 'ASIAEXAMPLEKEY00TFCI',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: 'AROAEXAMPLEID0000TFCI',
        arn: `arn:aws:iam::${ACCOUNT}:role/terraform-ci`,
        accountId: ACCOUNT,
        userName: 'terraform-ci',
      },
      attributes: { creationDate: '2026-03-05T09:25:00Z', mfaAuthenticated: 'false' },
    },
  },
  sourceIPAddress: '192.0.2.200',
  userAgent: 'APN/1.0 HashiCorp/1.0 Terraform/1.9.8 aws-sdk-go-v2/1.32.2',
  actor: `arn:aws:iam::${ACCOUNT}:role/terraform-ci`,
  who: 'gh-actions-4711',
};

let serial = 0;

/** An SES management event as CloudTrail logs it. */
export function call(
  caller: Caller,
  eventTime: string,
  eventName: string,
  requestParameters: unknown,
  extra: Record<string, unknown> = {},
): Record<string, unknown> {
  serial++;
  return {
    eventVersion: '1.08',
    userIdentity: caller.userIdentity,
    eventTime,
    eventSource: 'ses.amazonaws.com',
    eventName,
    awsRegion: 'us-east-1',
    sourceIPAddress: caller.sourceIPAddress,
    userAgent: caller.userAgent,
    requestParameters,
    responseElements: null,
    requestID: `5f0e8b1c-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    eventID: `e1d2c3b4-0000-4000-8000-${String(serial).padStart(12, '0')}`,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: 'email.us-east-1.amazonaws.com' },
    ...extra,
  };
}

export function denied(caller: Caller, eventTime: string, eventName: string, resource: string): Record<string, unknown> {
  return call(caller, eventTime, eventName, null, {
    errorCode: 'AccessDenied',
    errorMessage: `User: ${String(caller.userIdentity.arn)} is not authorized to perform: ses:${eventName} on resource: ${resource} because no identity-based policy allows the ses:${eventName} action`,
  });
}

/** The rows the row builder makes of `records`, for one identity. */
export function rowsOf(identity: string, records: Array<Record<string, unknown>>): AuditRow[] {
  return records.flatMap((record) => {
    const result = recordToRows(record, CTX);
    if (result.kind !== 'rows') throw new Error(`not rows: ${JSON.stringify(result)}`);
    return result.rows.filter((r) => r.identity === identity);
  });
}

/** What the model says about a call: written from the record's own fields and the caller's known names. */
export function ref(record: Record<string, unknown>, caller: Caller): EventRef {
  return {
    time: String(record.eventTime),
    actor: caller.actor,
    who: caller.who,
    eventName: String(record.eventName),
    eventKey: `${String(record.eventTime)}#${String(record.eventID)}`,
  };
}

export function policyText(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

export const RESOURCE = `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`;
export const APP_SENDER = `arn:aws:iam::${ACCOUNT}:role/app-sender`;
export const PARTNER_ROOT = `arn:aws:iam::${PARTNER}:root`;
export const BOUNCES = `arn:aws:sns:us-east-1:${ACCOUNT}:ses-bounces`;

export const internal = { Effect: 'Allow', Principal: { AWS: APP_SENDER }, Action: ['ses:SendEmail', 'ses:SendRawEmail'], Resource: RESOURCE };
export const external = {
  Effect: 'Allow',
  Principal: { AWS: [OTHER, '*'] },
  Action: ['ses:SendEmail', 'ses:SendTemplatedEmail'],
  Resource: RESOURCE,
  Condition: { StringLike: { 'ses:FromAddress': '*@example.com' } },
};

// The life of example.com, in time order: verified, DKIM on then off, a policy put, widened and deleted, a
// denied deletion, deleted, re-created with the v2 API and configured again.
export const E = {
  verify: call(ALICE, '2026-03-01T09:00:00Z', 'VerifyDomainIdentity', { domain: 'Example.com' }, { responseElements: { verificationToken: 'pmBGN/7MjnfhTKUZ06Enqq1PeGUaOkw8lGhcfwefcHU=' } }),
  dkimTokens: call(ALICE, '2026-03-01T09:01:00Z', 'VerifyDomainDkim', { domain: 'example.com' }, { responseElements: { dkimTokens: ['a1b2', 'c3d4', 'e5f6'] } }),
  dkimOn: call(ALICE, '2026-03-01T09:05:00Z', 'SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: true }),
  policyPut: call(ALICE, '2026-03-01T10:00:00Z', 'PutIdentityPolicy', { identity: 'example.com', policyName: 'app-sender', policy: policyText(internal) }),
  policyWidened: call(BOB, '2026-03-02T14:30:00Z', 'PutIdentityPolicy', { identity: 'example.com', policyName: 'app-sender', policy: policyText(internal, external) }),
  dkimOff: call(BOB, '2026-03-02T15:00:00Z', 'SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: false }),
  lookup: call(BOB, '2026-03-02T15:01:00Z', 'GetIdentityVerificationAttributes', { identities: ['example.com', 'other.example'] }, { readOnly: true }),
  policyDeleted: call(ALICE, '2026-03-03T08:00:00Z', 'DeleteIdentityPolicy', { identity: 'example.com', policyName: 'app-sender' }),
  deniedDelete: denied(INTERN, '2026-03-03T08:10:00Z', 'DeleteIdentity', RESOURCE),
  deleted: call(BOB, '2026-03-04T12:00:00Z', 'DeleteIdentity', { identity: 'example.com' }),
  recreateFailed: call(ALICE, '2026-03-05T08:59:00Z', 'CreateEmailIdentity', { emailIdentity: 'example.com' }, {
    errorCode: 'ConcurrentModificationException',
    errorMessage: 'Try again',
  }),
  recreated: call(ALICE, '2026-03-05T09:00:00Z', 'CreateEmailIdentity', { emailIdentity: 'example.com' }, {
    responseElements: { identityType: 'DOMAIN', verifiedForSendingStatus: false },
  }),
  mailFrom: call(TERRAFORM, '2026-03-05T09:30:00Z', 'PutEmailIdentityMailFromAttributes', {
    emailIdentity: 'example.com',
    mailFromDomain: 'mail.example.com',
    behaviorOnMxFailure: 'REJECT_MESSAGE',
  }),
  bounceTopic: call(TERRAFORM, '2026-03-05T09:31:00Z', 'SetIdentityNotificationTopic', { identity: 'example.com', notificationType: 'Bounce', snsTopic: BOUNCES }),
  forwardingOff: call(TERRAFORM, '2026-03-05T09:32:00Z', 'SetIdentityFeedbackForwardingEnabled', { identity: 'example.com', forwardingEnabled: false }),
  partnerPolicy: call(TERRAFORM, '2026-03-05T09:33:00Z', 'CreateEmailIdentityPolicy', {
    emailIdentity: 'example.com',
    policyName: 'partner',
    policy: policyText({ Effect: 'Allow', Principal: { AWS: PARTNER_ROOT }, Action: 'ses:SendEmail', Resource: RESOURCE }),
  }),
};
export const ALL = Object.values(E);


/** Log values meant to trip a terminal or a layout: escapes, bidi overrides, wide and combining characters. */
export const NASTY_STRINGS = [
  '\u001b[2J\u001b[31mred',
  'evil\u202Efdp.exe',
  'line\nbreak\r\u0000nul',
  'zero\u200Bwidth\u2066isolate\u2069',
  '中文名字中文名字中文名字中文名字中文名字中文名字中文名字中文名字中文名字中文名字',
  'e\u0301\u0301\u0301',
  '\u{1F469}\u200D\u{1F4BB}',
  'back\\slash',
  'x'.repeat(300),
];

/** Rows of `identity` with every attribute of any type and content, as a table written by anything could hold. */
export function anyRow(identity: string): fc.Arbitrary<Record<string, unknown>> {
  const eventNames = fc.constantFrom(
    'VerifyDomainIdentity',
    'CreateEmailIdentity',
    'DeleteIdentity',
    'DeleteEmailIdentity',
    'PutIdentityPolicy',
    'CreateEmailIdentityPolicy',
    'UpdateEmailIdentityPolicy',
    'DeleteIdentityPolicy',
    'SetIdentityDkimEnabled',
    'PutEmailIdentityDkimSigningAttributes',
    'SetIdentityMailFromDomain',
    'SetIdentityNotificationTopic',
    'SetIdentityHeadersInNotificationsEnabled',
    'GetSendQuota',
  );
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constantFrom(...NASTY_STRINGS));
  const value = fc.oneof(text, fc.anything());
  const policy = fc.oneof(text, fc.constant(policyText(internal, external)), text.map((principal) => policyText({ Effect: 'Allow', Principal: { AWS: principal }, Action: '*' })));
  const params = fc.oneof(
    fc.anything(),
    fc.record({ policyName: fc.oneof(text, fc.constant('p')), policy }, { requiredKeys: [] }),
    fc.record({ notificationType: text, snsTopic: value, enabled: value, dkimEnabled: value, mailFromDomain: value }, { requiredKeys: [] }),
    fc.record({ signingAttributes: fc.anything(), signingAttributesOrigin: value }, { requiredKeys: [] }),
  );
  return fc.record(
    {
      identity: fc.constant(identity),
      eventKey: fc.oneof(fc.constantFrom('2026-01-01T00:00:00Z#a', '2026-01-01T00:00:00Z#b', '2026-01-02T00:00:00Z#c'), value),
      eventName: fc.oneof(eventNames, value),
      eventTime: value,
      eventID: value,
      actor: value,
      actorType: fc.oneof(fc.constantFrom('AssumedRole', 'IAMUser', 'Root', 'AWSService', 'FederatedUser'), value),
      userName: value,
      principalArn: value,
      invokedBy: value,
      errorCode: fc.oneof(fc.constantFrom('AccessDenied', 'UnauthorizedOperation'), value),
      readOnly: fc.anything(),
      accountId: fc.oneof(fc.constantFrom(ACCOUNT, OTHER), value),
      awsRegion: fc.oneof(fc.constantFrom('us-east-1', 'eu-west-1'), value),
      identityKind: value,
      requestParameters: fc.oneof(params, params.map((p) => JSON.stringify(p) ?? '')),
      findings: fc.oneof(fc.array(fc.oneof(fc.constantFrom('access-denied', 'identity-deleted'), text)), fc.anything()),
      sourceIPAddress: value,
      truncated: fc.anything(),
    },
    { requiredKeys: ['identity'] },
  );
}
