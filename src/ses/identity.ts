/**
 * Which identity a record belongs to: the rules of DESIGN.md, in order.
 * 1. email/domain identities named by request parameters, and for data events by `resources[]`;
 * 2. identity ARNs reduced to the bare name; 3. domains lower-cased, emails kept exactly;
 * 4. failing that, another SES resource with a typed key; 5. failing that, the account.
 * Nothing here depends on knowing the event name, except where DESIGN.md says a parameter means an
 * identity only for certain calls: so new SES actions key their rows by the same rules.
 */
import type { IdentityKind } from './row.js';
import type { CloudTrailRecord } from './record.js';

export interface IdentityKey {
  key: string;
  kind: IdentityKind;
}

/** `emailAddress` names an identity only here; elsewhere (contacts, suppression list) it is a recipient. */
export const EMAIL_ADDRESS_IDENTITY_EVENTS: ReadonlySet<string> = new Set([
  'VerifyEmailIdentity',
  'VerifyEmailAddress',
  'DeleteVerifiedEmailAddress',
  'SendCustomVerificationEmail',
]);

/** `domain` names an identity for these calls. */
export const DOMAIN_IDENTITY_EVENTS: ReadonlySet<string> = new Set(['VerifyDomainIdentity', 'VerifyDomainDkim']);

/** Request parameters naming another SES resource, in order of preference; `templateName` is special-cased. */
const RESOURCE_PARAMS: ReadonlyArray<readonly [path: readonly string[], type: string]> = [
  [['ruleSetName'], 'receipt-rule-set'],
  // CloneReceiptRuleSet touches the rule set it copies as well as the new one.
  [['originalRuleSetName'], 'receipt-rule-set'],
  [['filter', 'name'], 'receipt-filter'],
  [['filterName'], 'receipt-filter'],
  [['configurationSet', 'name'], 'configuration-set'],
  [['configurationSetName'], 'configuration-set'],
  [['template', 'templateName'], 'template'],
  [['templateName'], 'template'],
  [['contactListName'], 'contact-list'],
  [['poolName'], 'dedicated-ip-pool'],
  // PutDedicatedIpInPool moves an IP into this pool.
  [['destinationPoolName'], 'dedicated-ip-pool'],
];

/** CloudTrail resource types of SES data events, to typed keys. */
const RESOURCE_TYPES: Readonly<Record<string, string>> = {
  'AWS::SES::ConfigurationSet': 'configuration-set',
  'AWS::SES::Template': 'template',
  'AWS::SES::ContactList': 'contact-list',
  'AWS::SES::DedicatedIpPool': 'dedicated-ip-pool',
  'AWS::SES::CustomVerificationEmailTemplate': 'custom-verification-email-template',
  'AWS::SES::ReceiptRuleSet': 'receipt-rule-set',
  'AWS::SES::ReceiptFilter': 'receipt-filter',
};

const SES_ARN = /^arn:[\w-]+:ses:[^:]*:[^:]*:([^/]+)\/(.+)$/s;

/** Every key a record is filed under, distinct, in order of first appearance. Never empty. */
export function identityKeys(record: CloudTrailRecord): IdentityKey[] {
  const params = asObject(record.requestParameters);
  const eventName = typeof record.eventName === 'string' ? record.eventName : '';
  const found = new Map<string, IdentityKey>();
  const add = (k: IdentityKey | undefined) => {
    if (k && !found.has(k.key)) found.set(k.key, k);
  };

  // 1-3: email and domain identities.
  if (params) {
    add(identityFrom(params.identity));
    if (Array.isArray(params.identities)) for (const v of params.identities) add(identityFrom(v));
    else add(identityFrom(params.identities));
    add(identityFrom(params.emailIdentity));
    if (DOMAIN_IDENTITY_EVENTS.has(eventName)) add(identityFrom(params.domain));
    if (EMAIL_ADDRESS_IDENTITY_EVENTS.has(eventName)) add(identityFrom(params.emailAddress));
  }
  const resources = Array.isArray(record.resources) ? record.resources : [];
  for (const r of resources) {
    const res = asObject(r);
    if (res?.type === 'AWS::SES::EmailIdentity') add(identityFrom(res.ARN ?? res.arn));
  }
  // A value that turned out to be an ARN of another resource type is not an identity.
  const identities = [...found.values()].filter((k) => k.kind !== 'resource');
  if (identities.length) return identities;

  // 4: other SES resources.
  const typed = new Map<string, IdentityKey>();
  const addTyped = (type: string, name: unknown) => {
    if (typeof name !== 'string' || name === '') return;
    const key = `${type}/${name}`;
    if (!typed.has(key)) typed.set(key, { key, kind: 'resource' });
  };
  for (const k of found.values()) typed.set(k.key, k); // ARNs of other types given as identities
  if (params) {
    const customTemplate = eventName.includes('CustomVerificationEmailTemplate');
    for (const [path, type] of RESOURCE_PARAMS) {
      const value = at(params, path);
      addTyped(type === 'template' && customTemplate && path.length === 1 ? 'custom-verification-email-template' : type, value);
    }
  }
  for (const r of resources) {
    const res = asObject(r);
    if (!res || res.type === 'AWS::SES::EmailIdentity') continue;
    const arn = typeof res.ARN === 'string' ? res.ARN : typeof res.arn === 'string' ? res.arn : undefined;
    const m = arn ? SES_ARN.exec(arn) : null;
    if (!m) continue;
    const type = (typeof res.type === 'string' && RESOURCE_TYPES[res.type]) || m[1];
    addTyped(type, m[2]);
  }
  if (typed.size) return [...typed.values()];

  // 5: the account.
  const account = str(record.recipientAccountId) ?? str(asObject(record.userIdentity)?.accountId) ?? 'unknown';
  return [{ key: `account/${account}`, kind: 'account' }];
}

/** An identity as SES names it: ARN to bare name, domain lower-cased, email kept exactly. */
export function identityFrom(value: unknown): IdentityKey | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  let name = value;
  const m = SES_ARN.exec(value);
  if (m) {
    if (m[1] !== 'identity') return { key: `${m[1]}/${m[2]}`, kind: 'resource' };
    name = m[2];
  }
  if (name.includes('@')) return { key: name, kind: 'email' };
  return { key: name.toLowerCase(), kind: 'domain' };
}

function at(obj: Record<string, unknown>, path: readonly string[]): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    const o = asObject(cur);
    if (!o) return undefined;
    cur = o[p];
  }
  return cur;
}

export function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}

export function str(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : undefined;
}
