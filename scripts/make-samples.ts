/**
 * Writes the sample trail files under events/trail/ (run: `npx tsx scripts/make-samples.ts`). They tell a
 * small SES story among other services' records: a domain and an email identity created and verified,
 * DKIM, MAIL FROM, policies, receipt rules, a configuration set, a denied call, a deletion, a data event,
 * and one record delivered twice. Deterministic: the same bytes every run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { generateTrail } from '../test/fixtures/trailgen.js';

const ACCOUNT = '111122223333';
const REGION = 'us-east-1';
const ROOT = join(import.meta.dirname ?? dirname(new URL(import.meta.url).pathname), '..', 'events', 'trail');

const alice = {
  type: 'AssumedRole',
  principalId: 'AROA4DO2KAWIPZEXAMPLE:alice',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/admin-role/alice`,
  accountId: ACCOUNT,
  accessKeyId: 'ASIA4DO2KAWIEXAMPLE1',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROA4DO2KAWIPZEXAMPLE', arn: `arn:aws:iam::${ACCOUNT}:role/admin-role`, accountId: ACCOUNT, userName: 'admin-role' },
    attributes: { creationDate: '2026-11-20T09:58:00Z', mfaAuthenticated: 'true' },
  },
};
const carol = {
  type: 'IAMUser',
  principalId: 'AIDAJ45Q7YFFAREXAMPLE',
  arn: `arn:aws:iam::${ACCOUNT}:user/carol`,
  accountId: ACCOUNT,
  accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
  userName: 'carol',
};
const mailer = {
  type: 'AssumedRole',
  principalId: 'AROA4DO2KAWIMAILER00:i-0abc123def4567890',
  arn: `arn:aws:sts::${ACCOUNT}:assumed-role/app-mailer/i-0abc123def4567890`,
  accountId: ACCOUNT,
  accessKeyId: 'ASIA4DO2KAWIEXAMPLE2',
  sessionContext: {
    sessionIssuer: { type: 'Role', principalId: 'AROA4DO2KAWIMAILER00', arn: `arn:aws:iam::${ACCOUNT}:role/app-mailer`, accountId: ACCOUNT, userName: 'app-mailer' },
    attributes: { creationDate: '2026-11-20T10:00:00Z', mfaAuthenticated: 'false' },
  },
};

let seq = 0;
function ses(time: string, who: object, eventName: string, requestParameters: object | null, extra: Record<string, unknown> = {}) {
  seq++;
  const id = `${seq.toString(16).padStart(8, '0')}-5e5a-4d17-9c0e-${(seq * 7919).toString(16).padStart(12, '0')}`;
  return {
    eventVersion: '1.11',
    userIdentity: who,
    eventTime: time,
    eventSource: 'ses.amazonaws.com',
    eventName,
    awsRegion: REGION,
    sourceIPAddress: who === carol ? '198.51.100.23' : '203.0.113.10',
    userAgent: 'aws-cli/2.22.0 md/awscrt#0.23.4 ua/2.1 os/linux#6.1 md/arch#x86_64 lang/python#3.12.6',
    requestParameters,
    responseElements: null,
    requestID: `req-${id}`,
    eventID: id,
    readOnly: /^(Get|List|Describe)/.test(eventName),
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCOUNT,
    eventCategory: 'Management',
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `email.${REGION}.amazonaws.com` },
    ...extra,
  };
}

const POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:role/app-mailer` }, Action: ['ses:SendEmail', 'ses:SendRawEmail'], Resource: '*' }],
});

const first = [
  ses('2026-11-20T10:10:04Z', alice, 'VerifyDomainIdentity', { domain: 'Example.com' }, { responseElements: { verificationToken: 'QTKknzFg2J4ygwa+XvHAxUl1hyHoY0gVfZdfjIedHZ0=' } }),
  ses('2026-11-20T10:10:09Z', alice, 'VerifyDomainDkim', { domain: 'example.com' }, { responseElements: { dkimTokens: ['vvjuipp74whm76gqoni7qmwwn4w4qusj', 'asdf6hxsyrkzq2n6kvwddgcgjmxhckbq', 'wrqplteh7oodxnad7hsl4mixg2uavzneazxv'] } }),
  ses('2026-11-20T10:11:30Z', alice, 'SetIdentityDkimEnabled', { identity: 'example.com', dkimEnabled: true }),
  ses('2026-11-20T10:12:02Z', alice, 'VerifyEmailIdentity', { emailAddress: 'Alerts@Example.com' }),
  ses('2026-11-20T10:12:40Z', alice, 'PutIdentityPolicy', { identity: 'example.com', policyName: 'app-mailer-send', policy: POLICY }),
  ses('2026-11-20T10:13:05Z', alice, 'SetIdentityMailFromDomain', { identity: 'example.com', mailFromDomain: 'bounce.example.com', behaviorOnMXFailure: 'UseDefaultValue' }),
  ses('2026-11-20T10:13:30Z', alice, 'CreateReceiptRuleSet', { ruleSetName: 'inbound' }),
  ses('2026-11-20T10:13:44Z', alice, 'CreateReceiptRule', {
    ruleSetName: 'inbound',
    rule: { name: 'store-in-s3', enabled: true, scanEnabled: true, recipients: ['support@example.com'], actions: [{ s3Action: { bucketName: 'inbound-mail-111122223333' } }] },
  }),
  ses('2026-11-20T10:14:10Z', carol, 'GetIdentityVerificationAttributes', { identities: ['example.com', 'Alerts@Example.com'] }, {
    responseElements: { verificationAttributes: { 'example.com': { verificationStatus: 'Pending' }, 'Alerts@Example.com': { verificationStatus: 'Success' } } },
  }),
  ses('2026-11-20T10:14:31Z', carol, 'GetSendQuota', null),
  ses('2026-11-20T10:14:52Z', carol, 'DeleteIdentity', { identity: 'example.com' }, {
    errorCode: 'AccessDenied',
    errorMessage: `User: arn:aws:iam::${ACCOUNT}:user/carol is not authorized to perform: ses:DeleteIdentity on resource: arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com because no identity-based policy allows the ses:DeleteIdentity action`,
  }),
];

const second = [
  ses('2026-11-20T10:25:03Z', alice, 'CreateEmailIdentity', { emailIdentity: 'news.example.com' }, { responseElements: { identityType: 'DOMAIN', verifiedForSendingStatus: false } }),
  ses('2026-11-20T10:25:40Z', alice, 'PutEmailIdentityDkimSigningAttributes', { emailIdentity: 'news.example.com', signingAttributesOrigin: 'AWS_SES_US_EAST_1' }),
  ses('2026-11-20T10:26:15Z', alice, 'CreateConfigurationSet', { configurationSet: { name: 'transactional' } }),
  ses('2026-11-20T10:27:00Z', mailer, 'SendEmail', {
    destination: { toAddresses: ['HIDDEN_DUE_TO_SECURITY_REASONS'] },
    message: { subject: { charset: 'UTF-8', data: 'HIDDEN_DUE_TO_SECURITY_REASONS' }, body: { text: { charset: 'UTF-8', data: 'HIDDEN_DUE_TO_SECURITY_REASONS' } } },
    source: 'Alerts@Example.com',
    configurationSetName: 'transactional',
  }, {
    eventCategory: 'Data',
    managementEvent: false,
    readOnly: true,
    additionalEventData: { sesMessageId: '010001936d1f2a3b-5c7e9a1b-2c4d-4e6f-8a0b-1c2d3e4f5a6b-000000' },
    resources: [
      { accountId: ACCOUNT, type: 'AWS::SES::EmailIdentity', ARN: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/Alerts@Example.com` },
      { accountId: ACCOUNT, type: 'AWS::SES::ConfigurationSet', ARN: `arn:aws:ses:${REGION}:${ACCOUNT}:configuration-set/transactional` },
    ],
  }),
  ses('2026-11-20T10:28:20Z', alice, 'DeleteIdentityPolicy', { identity: 'example.com', policyName: 'app-mailer-send' }),
  ses('2026-11-20T10:29:05Z', alice, 'DeleteIdentity', { identity: 'arn:aws:ses:us-east-1:111122223333:identity/news.example.com' }),
];
// CloudTrail may deliver a record twice: the same eventID must overwrite, not duplicate.
second.push(first[2]);

async function noise(seed: number, bytes: number): Promise<object[]> {
  const parts: Buffer[] = [];
  for await (const chunk of generateTrail({ bytes, sesShare: 0, seed, startMs: Date.parse('2026-11-20T10:10:00Z') })) parts.push(chunk);
  // trailgen's document.
  return (JSON.parse(Buffer.concat(parts).toString()) as { Records: object[] }).Records;
}

/** Interleaves SES records among the others at fixed positions, as CloudTrail's order is arbitrary. */
function mix(others: object[], sesRecords: object[]): object[] {
  const out = [...others];
  sesRecords.forEach((r, i) => out.splice(Math.floor(((i + 1) * out.length) / (sesRecords.length + 1)), 0, r));
  return out;
}

async function write(key: string, records: object[]): Promise<void> {
  const path = join(ROOT, key);
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, gzipSync(JSON.stringify({ Records: records }), { level: 9 }));
  console.log(`wrote events/trail/${key} (${records.length} records)`);
}

const base = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2026/11/20`;
await write(`${base}/${ACCOUNT}_CloudTrail_${REGION}_20261120T1015Z_a1b2c3d4.json.gz`, mix(await noise(11, 48 * 1024), first));
await write(`${base}/${ACCOUNT}_CloudTrail_${REGION}_20261120T1030Z_e5f6a7b8.json.gz`, mix(await noise(12, 32 * 1024), second));
// A digest file shares the bucket: it is to be skipped, never read as records.
const digestPath = join(ROOT, `AWSLogs/${ACCOUNT}/CloudTrail-Digest/${REGION}/2026/11/20/${ACCOUNT}_CloudTrail-Digest_${REGION}_ses-audit_${REGION}_20261120T110000Z.json.gz`);
await mkdir(dirname(digestPath), { recursive: true });
await writeFile(
  digestPath,
  gzipSync(JSON.stringify({ awsAccountId: ACCOUNT, digestStartTime: '2026-11-20T10:00:00Z', digestEndTime: '2026-11-20T11:00:00Z', logFiles: [] }), { level: 9 }),
);
console.log('wrote the digest file');
