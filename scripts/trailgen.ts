/**
 * Realistic CloudTrail log files for benchmarks, tests and samples: many services, small and large
 * records, a chosen share of SES events, deterministic for a seed. Streams, so a 1 GB file never sits
 * in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { createGzip } from 'node:zlib';

export interface TrailGenOptions {
  /** Approximate uncompressed size in bytes. */
  bytes: number;
  /** Fraction of records from ses.amazonaws.com (0..1). */
  sesShare: number;
  seed?: number;
  account?: string;
  region?: string;
  /** Pretty-print like `JSON.stringify(doc, null, 2)` (CloudTrail itself writes compact JSON). */
  pretty?: boolean;
  /** First eventTime (ms); records spread over five minutes as in one delivery. */
  startMs?: number;
}

/** Small deterministic PRNG (mulberry32). */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type R = () => number;
const pick = <T>(r: R, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const hex = (r: R, n: number) => Array.from({ length: n }, () => Math.floor(r() * 16).toString(16)).join('');
const uuid = (r: R) => `${hex(r, 8)}-${hex(r, 4)}-4${hex(r, 3)}-a${hex(r, 3)}-${hex(r, 12)}`;

function identityOf(r: R, account: string): Record<string, unknown> {
  const kind = r();
  if (kind < 0.6) {
    const role = pick(r, ['deploy-role', 'admin-role', 'ops-role', 'ci-runner', 'DataPipelineRole']);
    const session = pick(r, ['alice', 'bob', 'github-actions', 'terraform', 'i-0abc123def4567890']);
    return {
      type: 'AssumedRole',
      principalId: `AROA${hex(r, 16).toUpperCase()}:${session}`,
      arn: `arn:aws:sts::${account}:assumed-role/${role}/${session}`,
      accountId: account,
      accessKeyId: `ASIA${hex(r, 16).toUpperCase()}`,
      sessionContext: {
        sessionIssuer: {
          type: 'Role',
          principalId: `AROA${hex(r, 16).toUpperCase()}`,
          arn: `arn:aws:iam::${account}:role/${role}`,
          accountId: account,
          userName: role,
        },
        attributes: { creationDate: '2026-11-20T09:00:00Z', mfaAuthenticated: r() < 0.3 ? 'true' : 'false' },
      },
    };
  }
  if (kind < 0.85) {
    const user = pick(r, ['carol', 'dave', 'svc-mailer', 'backup']);
    return {
      type: 'IAMUser',
      principalId: `AIDA${hex(r, 16).toUpperCase()}`,
      arn: `arn:aws:iam::${account}:user/${user}`,
      accountId: account,
      accessKeyId: `AKIA${hex(r, 16).toUpperCase()}`,
      userName: user,
    };
  }
  return { type: 'AWSService', invokedBy: pick(r, ['cloudformation.amazonaws.com', 'config.amazonaws.com', 'trustedadvisor.amazonaws.com']) };
}

const OTHER = [
  ['kms.amazonaws.com', 'Decrypt', 0.25],
  ['sts.amazonaws.com', 'AssumeRole', 0.15],
  ['ec2.amazonaws.com', 'DescribeInstances', 0.1],
  ['s3.amazonaws.com', 'GetBucketAcl', 0.1],
  ['logs.amazonaws.com', 'CreateLogStream', 0.1],
  ['lambda.amazonaws.com', 'GetFunction', 0.08],
  ['iam.amazonaws.com', 'GetRole', 0.07],
  ['cloudformation.amazonaws.com', 'DescribeStacks', 0.07],
  ['dynamodb.amazonaws.com', 'DescribeTable', 0.05],
  ['config.amazonaws.com', 'PutEvaluations', 0.03],
] as const;

function otherRecord(r: R, base: Record<string, unknown>): Record<string, unknown> {
  let x = r();
  let chosen: (typeof OTHER)[number] = OTHER[0];
  for (const o of OTHER) {
    if ((x -= o[2]) <= 0) {
      chosen = o;
      break;
    }
  }
  const [eventSource, eventName] = chosen;
  const rec: Record<string, unknown> = { ...base, eventSource, eventName };
  switch (eventName) {
    case 'Decrypt':
      rec.requestParameters = {
        encryptionAlgorithm: 'SYMMETRIC_DEFAULT',
        encryptionContext: { 'aws:lambda:FunctionArn': `arn:aws:lambda:us-east-1:111122223333:function:fn-${hex(r, 6)}` },
      };
      rec.resources = [{ accountId: '111122223333', type: 'AWS::KMS::Key', ARN: `arn:aws:kms:us-east-1:111122223333:key/${uuid(r)}` }];
      break;
    case 'DescribeInstances': {
      // The large ones: responseElements with many instances (sometimes 50+ KB).
      const n = r() < 0.05 ? 60 + Math.floor(r() * 60) : Math.floor(r() * 4);
      rec.requestParameters = { instancesSet: {}, filterSet: {} };
      rec.responseElements = n
        ? {
            reservationSet: {
              items: Array.from({ length: n }, () => ({
                instanceId: `i-${hex(r, 17)}`,
                imageId: `ami-${hex(r, 17)}`,
                instanceState: { code: 16, name: 'running' },
                privateDnsName: `ip-10-0-${Math.floor(r() * 255)}-${Math.floor(r() * 255)}.ec2.internal`,
                tagSet: { items: [{ key: 'Name', value: `web "frontend" {${hex(r, 4)}}` }, { key: 'team', value: 'payments\\ops' }] },
              })),
            },
          }
        : null;
      break;
    }
    case 'AssumeRole':
      rec.requestParameters = { roleArn: 'arn:aws:iam::111122223333:role/deploy-role', roleSessionName: `s-${hex(r, 8)}`, durationSeconds: 3600 };
      rec.responseElements = { credentials: { accessKeyId: `ASIA${hex(r, 16).toUpperCase()}`, expiration: 'Nov 20, 2026, 11:00:00 AM', sessionToken: hex(r, 300) } };
      break;
    case 'GetRole':
      // A policy that mentions SES: a byte-level false positive the real eventSource check must reject.
      rec.requestParameters = { roleName: 'mailer' };
      rec.responseElements = r() < 0.2 ? { role: { assumeRolePolicyDocument: '{"Statement":[{"Principal":{"Service":"ses.amazonaws.com"}}]}' } } : null;
      break;
    default:
      rec.requestParameters = { name: `${eventName}-${hex(r, 10)}`, note: 'multi-byte ✓ “quotes” \u00e9\u4e2d' };
      rec.responseElements = null;
  }
  return rec;
}

const SES_EVENTS: ReadonlyArray<(r: R) => [string, Record<string, unknown> | null, Record<string, unknown>?]> = [
  (r) => ['VerifyDomainIdentity', { domain: pick(r, ['Example.com', 'mail.example.org', 'shop.example.net']) }],
  (r) => ['VerifyEmailIdentity', { emailAddress: pick(r, ['Alerts@Example.com', 'noreply@example.org']) }],
  (r) => ['SetIdentityDkimEnabled', { identity: pick(r, ['example.com', 'mail.example.org']), dkimEnabled: true }],
  (r) => ['PutIdentityPolicy', { identity: 'example.com', policyName: 'send-from-app', policy: '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:role/app"},"Action":"ses:SendEmail","Resource":"*"}]}' }],
  (r) => ['GetIdentityVerificationAttributes', { identities: ['example.com', 'Alerts@Example.com', 'EXAMPLE.com'] }],
  (r) => ['DeleteIdentity', { identity: pick(r, ['old.example.com', 'arn:aws:ses:us-east-1:111122223333:identity/legacy.example.com']) }],
  (r) => ['CreateEmailIdentity', { emailIdentity: 'news.example.com' }],
  (r) => ['CreateReceiptRule', { ruleSetName: 'inbound', rule: { name: `rule-${hex(r, 4)}`, enabled: true } }],
  (r) => ['GetSendQuota', null],
  (r) => ['CreateConfigurationSet', { configurationSet: { name: 'transactional' } }],
];

function sesRecord(r: R, base: Record<string, unknown>, account: string): Record<string, unknown> {
  if (r() < 0.1) {
    return {
      ...base,
      eventSource: 'ses.amazonaws.com',
      eventName: 'SendEmail',
      eventCategory: 'Data',
      managementEvent: false,
      readOnly: true,
      requestParameters: {
        destination: { toAddresses: ['HIDDEN_DUE_TO_SECURITY_REASONS'] },
        message: { subject: { data: 'HIDDEN_DUE_TO_SECURITY_REASONS' } },
        source: 'noreply@example.org',
      },
      resources: [{ accountId: account, type: 'AWS::SES::EmailIdentity', ARN: `arn:aws:ses:us-east-1:${account}:identity/example.org` }],
    };
  }
  const [eventName, requestParameters] = pick(r, SES_EVENTS)(r);
  const rec: Record<string, unknown> = { ...base, eventSource: 'ses.amazonaws.com', eventName, requestParameters, responseElements: null };
  rec.readOnly = /^(Get|List|Describe)/.test(eventName);
  if (r() < 0.05) {
    rec.errorCode = 'AccessDenied';
    rec.errorMessage = `User: ${String((base.userIdentity as { arn?: string }).arn)} is not authorized to perform: ses:${eventName}`;
  }
  return rec;
}

/** Yields the document in pieces of about 64 KB. */
export async function* generateTrail(o: TrailGenOptions): AsyncGenerator<Buffer> {
  const r = rng(o.seed ?? 1);
  const account = o.account ?? '111122223333';
  const region = o.region ?? 'us-east-1';
  const start = o.startMs ?? Date.parse('2026-11-20T10:10:00Z');
  const sep = o.pretty ? ',\n' : ',';
  let written = 0;
  let parts: string[] = [o.pretty ? '{\n  "Records": [\n' : '{"Records":['];
  let size = parts[0].length;
  let n = 0;
  while (written + size < o.bytes || n === 0) {
    const base: Record<string, unknown> = {
      eventVersion: '1.11',
      userIdentity: identityOf(r, account),
      eventTime: new Date(start + Math.floor(r() * 300_000)).toISOString().slice(0, 19) + 'Z',
      eventSource: '',
      eventName: '',
      awsRegion: region,
      sourceIPAddress: `203.0.113.${Math.floor(r() * 255)}`,
      userAgent: pick(r, ['aws-cli/2.22.0 Python/3.12.6 Linux/6.1', 'Boto3/1.35.0 md/Botocore#1.35.0', 'console.amazonaws.com']),
      requestID: uuid(r),
      eventID: uuid(r),
      readOnly: true,
      eventType: 'AwsApiCall',
      managementEvent: true,
      recipientAccountId: account,
      eventCategory: 'Management',
      tlsDetails: { tlsVersion: 'TLSv1.3', cipherSuite: 'TLS_AES_128_GCM_SHA256', clientProvidedHostHeader: `service.${region}.amazonaws.com` },
    };
    const rec = r() < o.sesShare ? sesRecord(r, base, account) : otherRecord(r, base);
    const text = (n ? sep : '') + (o.pretty ? JSON.stringify(rec, null, 2).replace(/^/gm, '    ') : JSON.stringify(rec));
    parts.push(text);
    size += text.length;
    n++;
    if (size >= 64 * 1024) {
      const buf = Buffer.from(parts.join(''));
      written += buf.length;
      yield buf;
      parts = [];
      size = 0;
    }
  }
  parts.push(o.pretty ? '\n  ]\n}\n' : ']}');
  yield Buffer.from(parts.join(''));
}

/** Writes a generated trail file, gzipped when the path ends in .gz. Returns its uncompressed size. */
export async function writeTrailFile(path: string, o: TrailGenOptions): Promise<number> {
  const out = createWriteStream(path);
  const gz = path.endsWith('.gz') ? createGzip({ level: 6 }) : undefined;
  if (gz) gz.pipe(out);
  const sink = gz ?? out;
  let bytes = 0;
  for await (const chunk of generateTrail(o)) {
    bytes += chunk.length;
    if (!sink.write(chunk)) await once(sink, 'drain');
  }
  sink.end();
  await once(out, 'close');
  return bytes;
}
