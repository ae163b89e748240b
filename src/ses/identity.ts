/**
 * Which identity a record belongs to: the rules of DESIGN.md, in order.
 * 1. email/domain identities named by request parameters, by the ARN parameters of rule 7 and, for data
 *    events, by `resources[]`; 2. identity ARNs reduced to the bare name; 3. domains lower-cased, emails
 *    kept exactly; 4. failing that, other SES resources with a typed key; 7. failing that, the resource a
 *    denied call's `errorMessage` names; 5. failing that, the account.
 * Nothing here depends on knowing the event name, except where DESIGN.md says a parameter means an
 * identity only for certain calls: so new SES actions key their rows by the same rules.
 * docs/identity-rules.md checks these tables against the SES v1 and v2 API references.
 */
import { asObject, str } from '../json.js';
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

type ParamPath = readonly string[];

/**
 * Request parameters holding an SES ARN: an identity ARN names that identity (rule 1), any other SES
 * ARN its resource (rule 4). A value that is not an SES ARN names nothing.
 */
const ARN_PARAMS: readonly ParamPath[] = [
  ['resourceArn'], // TagResource, UntagResource, ListTagsForResource, tenant resource associations
  ['sourceArn'], // v1 sends: sending authorization for Source
  ['fromArn'], // v1 SendRawEmail
  ['returnPathArn'], // v1 sends
  ['bounceSenderArn'], // v1 SendBounce
  ['fromEmailAddressIdentityArn'], // v2 SendEmail, SendBulkEmail
  ['feedbackForwardingEmailAddressIdentityArn'], // v2 SendEmail, SendBulkEmail
  ['templateArn'], // v1 SendTemplatedEmail, SendBulkTemplatedEmail
  ['content', 'template', 'templateArn'], // v2 SendEmail
  ['defaultContent', 'template', 'templateArn'], // v2 SendBulkEmail
  ['reputationEntityReference'], // v2 reputation entity calls: the resource's ARN
];

/** Request parameters naming another SES resource by name, and the type of its key, in order of preference. */
const RESOURCE_PARAMS: ReadonlyArray<readonly [path: ParamPath, type: string]> = [
  [['ruleSetName'], 'receipt-rule-set'],
  // CloneReceiptRuleSet touches the rule set it copies as well as the new one.
  [['originalRuleSetName'], 'receipt-rule-set'],
  [['filter', 'name'], 'receipt-filter'],
  [['filterName'], 'receipt-filter'],
  [['configurationSet', 'name'], 'configuration-set'],
  [['configurationSetName'], 'configuration-set'],
  [['template', 'templateName'], 'template'],
  // v1 SendTemplatedEmail and SendBulkTemplatedEmail name the template by a plain string.
  [['template'], 'template'],
  [['templateName'], 'template'],
  [['content', 'template', 'templateName'], 'template'],
  [['defaultContent', 'template', 'templateName'], 'template'],
  [['contactListName'], 'contact-list'],
  [['listManagementOptions', 'contactListName'], 'contact-list'],
  [['importDestination', 'contactListDestination', 'contactListName'], 'contact-list'],
  [['poolName'], 'dedicated-ip-pool'],
  // PutDedicatedIpInPool moves an IP into this pool.
  [['destinationPoolName'], 'dedicated-ip-pool'],
  [['tenantName'], 'tenant'],
  [['endpointName'], 'multi-region-endpoint'],
];

/** `templateName` of these calls names a custom verification email template, not an email template. */
const CUSTOM_VERIFICATION_EVENT = /CustomVerificationEmail/;

/** `arn:PARTITION:ses:REGION:ACCOUNT:TYPE/PATH`; every SES resource TYPE so far is lower-case words joined by hyphens. */
const SES_ARN = /^arn:[\w-]+:ses:[^:]*:[^:]*:([\w-]+)\/(.*)$/s;

/**
 * The resource an authorization error names: `on resource: ARN` (ends at white space; a full stop, comma
 * or semicolon right after it belongs to the sentence) or SES's quoted form ``on resource `ARN'`` (ends at
 * the last `'` before white space, so an address holding an apostrophe stays whole).
 */
const ON_RESOURCE = /on resource(?:: ([^\s`]+?)[.,;]?(?=\s|$)| `([^\s`]+)'(?=\s|$|[.,;]))/g;

/** Every key a record is filed under, distinct, in order of first appearance. Never empty. */
export function identityKeys(record: CloudTrailRecord): IdentityKey[] {
  const params = asObject(record.requestParameters);
  const eventName = typeof record.eventName === 'string' ? record.eventName : '';

  // 1-3: email and domain identities, from names and ARNs; ARNs of other resources are kept for rule 4.
  const named = new KeyList();
  if (params) {
    named.add(identityFrom(params.identity));
    if (Array.isArray(params.identities)) for (const v of params.identities) named.add(identityFrom(v));
    else named.add(identityFrom(params.identities));
    named.add(identityFrom(params.emailIdentity));
    if (DOMAIN_IDENTITY_EVENTS.has(eventName)) named.add(identityFrom(params.domain));
    if (EMAIL_ADDRESS_IDENTITY_EVENTS.has(eventName)) named.add(identityFrom(params.emailAddress));
    for (const path of ARN_PARAMS) named.add(sesArnKey(at(params, path)));
  }
  const resources = Array.isArray(record.resources) ? record.resources : [];
  // A data event's resources[] entry is keyed by its `ARN`; its `type` (AWS::SES::EmailIdentity, ...) says
  // the same thing as the ARN's resource type, so the ARN alone decides.
  for (const r of resources) named.add(sesArnKey(asObject(r)?.ARN));
  const identities = named.list().filter((k) => k.kind !== 'resource');
  if (identities.length) return identities;

  // 4: other SES resources: those named by ARN above (all of `named` is resources here), then by name.
  const typed = new KeyList();
  for (const k of named.list()) typed.add(k);
  if (params) {
    const customVerification = CUSTOM_VERIFICATION_EVENT.test(eventName);
    for (const [path, type] of RESOURCE_PARAMS) {
      const keyType = customVerification && path.length === 1 && path[0] === 'templateName' ? 'custom-verification-email-template' : type;
      typed.add(resourceKey(keyType, at(params, path)));
    }
  }
  if (typed.size) return typed.list();

  // 7: a denied call that names nothing else is filed under the resource its error message names.
  const denied = new KeyList();
  if (typeof record.errorMessage === 'string') {
    for (const m of record.errorMessage.matchAll(ON_RESOURCE)) denied.add(sesArnKey(m[1] ?? m[2]));
  }
  if (denied.size) {
    const deniedIdentities = denied.list().filter((k) => k.kind !== 'resource');
    return deniedIdentities.length ? deniedIdentities : denied.list();
  }

  // 5: the account.
  const account = str(record.recipientAccountId) ?? str(asObject(record.userIdentity)?.accountId) ?? 'unknown';
  return [{ key: `account/${account}`, kind: 'account' }];
}

/**
 * An identity as SES names it: an identity ARN to its bare name, then domains lower-cased and emails
 * kept exactly; an ARN of another SES resource to that resource's typed key (rule 4).
 */
export function identityFrom(value: unknown): IdentityKey | undefined {
  if (typeof value !== 'string' || value === '') return undefined;
  if (SES_ARN.test(value)) return sesArnKey(value);
  return nameKey(value);
}

/**
 * The key an SES ARN names: an identity (rules 2-3), or another resource as its type, `/`, and the first
 * path segment (`tenant/NAME/ID` gives `tenant/NAME`). Anything else names nothing.
 */
function sesArnKey(value: unknown): IdentityKey | undefined {
  if (typeof value !== 'string') return undefined;
  const m = SES_ARN.exec(value);
  if (!m) return undefined;
  const [, type, path] = m;
  if (type === 'identity') return path === '' ? undefined : nameKey(path);
  return resourceKey(type, path.split('/')[0]);
}

function nameKey(name: string): IdentityKey {
  if (name.includes('@')) return { key: name, kind: 'email' };
  return { key: name.toLowerCase(), kind: 'domain' };
}

function resourceKey(type: string, name: unknown): IdentityKey | undefined {
  return typeof name === 'string' && name !== '' ? { key: `${type}/${name}`, kind: 'resource' } : undefined;
}

/** Distinct keys in order of first appearance. */
class KeyList {
  private readonly keys = new Map<string, IdentityKey>();
  add(k: IdentityKey | undefined): void {
    if (k && !this.keys.has(k.key)) this.keys.set(k.key, k);
  }
  get size(): number {
    return this.keys.size;
  }
  list(): IdentityKey[] {
    return [...this.keys.values()];
  }
}

function at(obj: Record<string, unknown>, path: ParamPath): unknown {
  let cur: unknown = obj;
  for (const p of path) {
    const o = asObject(cur);
    if (!o) return undefined;
    cur = o[p];
  }
  return cur;
}

