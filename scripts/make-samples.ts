/**
 * Writes the sample trail files under events/trail/ (run: `npx tsx scripts/make-samples.ts`). They tell a
 * small SES story among other services' records: a domain and an email identity created and verified,
 * DKIM, MAIL FROM, policies, receipt rules, a configuration set, a denied call, a deletion, a data event,
 * and one record delivered twice (10:15 and 10:30). Then, at 10:41-10:44, an abuse story: a CI user's
 * long-term access key, used from outside, checks the quota and the identities, asks AWS to lift the
 * sandbox in three regions within seconds, turns sending on, creates and verifies its own identities,
 * grants another account sending rights on example.com, sends, is denied deleting example.com, and deletes
 * its own identities (10:45, in three regions' files). Deterministic: the same bytes every run.
 *
 * Digest files are not here: `ses-audit local` signs them over the uploaded files with the test key in
 * events/keys/, as CloudTrail would, since a digest's signature covers the bucket it was delivered to.
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
  const region = typeof extra.awsRegion === 'string' ? extra.awsRegion : REGION;
  const id = `${seq.toString(16).padStart(8, '0')}-5e5a-4d17-9c0e-${(seq * 7919).toString(16).padStart(12, '0')}`;
  return {
    eventVersion: '1.11',
    userIdentity: who,
    eventTime: time,
    eventSource: 'ses.amazonaws.com',
    eventName,
    awsRegion: region,
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
    tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `email.${region}.amazonaws.com` },
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

// ---- the abuse story: ci-deployer's long-term key (AKIA...), used from an address it never uses ----

const ciDeployer = {
  type: 'IAMUser',
  principalId: 'AIDA5CIDEPLOYEREXAMPLE',
  arn: `arn:aws:iam::${ACCOUNT}:user/ci-deployer`,
  accountId: ACCOUNT,
  accessKeyId: 'AKIA5CIDEPLOYEXAMPLE',
  userName: 'ci-deployer',
};
const stolen = {
  sourceIPAddress: '192.0.2.45',
  userAgent: 'Boto3/1.35.0 md/Botocore#1.35.0 ua/2.0 os/linux#5.15.0 md/arch#x86_64 lang/python#3.10.12 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.35.0',
};
const HIDDEN = 'HIDDEN_DUE_TO_SECURITY_REASONS';
// The same policy name as the app's, now also granting another account.
const EXTERNAL_POLICY = JSON.stringify({
  Version: '2012-10-17',
  Statement: [
    { Effect: 'Allow', Principal: { AWS: [`arn:aws:iam::${ACCOUNT}:role/app-mailer`, 'arn:aws:iam::444455556666:root'] }, Action: ['ses:SendEmail', 'ses:SendRawEmail'], Resource: '*' },
  ],
});
const accountDetails = { mailType: 'MARKETING', websiteURL: HIDDEN, contactLanguage: 'EN', useCaseDescription: HIDDEN, additionalContactEmailAddresses: HIDDEN, productionAccessEnabled: true };

const abuseEast = [
  ses('2026-11-20T10:41:02Z', ciDeployer, 'GetSendQuota', null, { ...stolen, responseElements: null }),
  ses('2026-11-20T10:41:05Z', ciDeployer, 'ListIdentities', { identityType: 'Domain', maxItems: 100 }, stolen),
  ses('2026-11-20T10:41:09Z', ciDeployer, 'GetAccount', null, stolen),
  ses('2026-11-20T10:41:30Z', ciDeployer, 'PutAccountDetails', accountDetails, stolen),
  ses('2026-11-20T10:42:10Z', ciDeployer, 'UpdateAccountSendingEnabled', { enabled: true }, stolen),
  ses('2026-11-20T10:42:40Z', ciDeployer, 'CreateEmailIdentity', { emailIdentity: 'billing-notice.example.net' }, {
    ...stolen,
    responseElements: { identityType: 'DOMAIN', verifiedForSendingStatus: false, dkimAttributes: { signingEnabled: true, status: 'PENDING' } },
  }),
  ses('2026-11-20T10:42:55Z', ciDeployer, 'VerifyEmailIdentity', { emailAddress: 'no-reply@billing-notice.example.net' }, stolen),
  ses('2026-11-20T10:43:20Z', ciDeployer, 'PutIdentityPolicy', { identity: 'example.com', policyName: 'app-mailer-send', policy: EXTERNAL_POLICY }, stolen),
  ses('2026-11-20T10:43:50Z', ciDeployer, 'SendEmail', {
    destination: { toAddresses: [HIDDEN] },
    message: { subject: { charset: 'UTF-8', data: HIDDEN }, body: { html: { charset: 'UTF-8', data: HIDDEN } } },
    source: 'no-reply@billing-notice.example.net',
  }, {
    ...stolen,
    eventCategory: 'Data',
    managementEvent: false,
    readOnly: true,
    additionalEventData: { sesMessageId: '010001936d4e5f60-7a8b9c0d-1e2f-4a3b-8c7d-6e5f4a3b2c1d-000000' },
    resources: [{ accountId: ACCOUNT, type: 'AWS::SES::EmailIdentity', ARN: `arn:aws:ses:${REGION}:${ACCOUNT}:identity/no-reply@billing-notice.example.net` }],
  }),
  // Denied, and logged as CloudTrail logs denied calls: no request parameters, the resource in the message.
  ses('2026-11-20T10:44:02Z', ciDeployer, 'DeleteIdentity', null, {
    ...stolen,
    errorCode: 'AccessDenied',
    errorMessage: `User: arn:aws:iam::${ACCOUNT}:user/ci-deployer is not authorized to perform: ses:DeleteIdentity on resource: arn:aws:ses:${REGION}:${ACCOUNT}:identity/example.com because no identity-based policy allows the ses:DeleteIdentity action`,
  }),
  ses('2026-11-20T10:44:20Z', ciDeployer, 'DeleteIdentity', { identity: 'billing-notice.example.net' }, stolen),
  ses('2026-11-20T10:44:31Z', ciDeployer, 'DeleteIdentity', { identity: 'no-reply@billing-notice.example.net' }, stolen),
];
const abuseWest = [
  ses('2026-11-20T10:41:33Z', ciDeployer, 'PutAccountDetails', accountDetails, { ...stolen, awsRegion: 'us-west-2' }),
  ses('2026-11-20T10:41:36Z', ciDeployer, 'GetSendQuota', null, { ...stolen, awsRegion: 'us-west-2' }),
];
const abuseEu = [ses('2026-11-20T10:41:35Z', ciDeployer, 'PutAccountDetails', accountDetails, { ...stolen, awsRegion: 'eu-west-1' })];

const base = `AWSLogs/${ACCOUNT}/CloudTrail/${REGION}/2026/11/20`;
await write(`${base}/${ACCOUNT}_CloudTrail_${REGION}_20261120T1015Z_a1b2c3d4.json.gz`, mix(await noise(11, 48 * 1024), first));
await write(`${base}/${ACCOUNT}_CloudTrail_${REGION}_20261120T1030Z_e5f6a7b8.json.gz`, mix(await noise(12, 32 * 1024), second));
const day = (region: string) => `AWSLogs/${ACCOUNT}/CloudTrail/${region}/2026/11/20`;
await write(`${day(REGION)}/${ACCOUNT}_CloudTrail_${REGION}_20261120T1045Z_c0ffee01.json.gz`, mix(await noise(13, 24 * 1024), abuseEast));
await write(`${day('us-west-2')}/${ACCOUNT}_CloudTrail_us-west-2_20261120T1045Z_c0ffee02.json.gz`, mix(await noise(14, 12 * 1024), abuseWest));
await write(`${day('eu-west-1')}/${ACCOUNT}_CloudTrail_eu-west-1_20261120T1045Z_c0ffee03.json.gz`, mix(await noise(15, 8 * 1024), abuseEu));
