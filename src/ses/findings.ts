/**
 * Findings: which SES calls deserve a look (DESIGN.md, "Findings"; the reasoning and sources per rule are in
 * docs/findings.md). Pure, and total: a record is untrusted JSON, so every field is checked before use and
 * nothing here throws on any shape.
 *
 * Decisions where DESIGN.md is silent:
 * - Only SES records (`eventSource` ses.amazonaws.com) get findings; an AccessDenied from another service is
 *   not an SES finding.
 * - A call failed when its `errorCode` is a non-empty string: the same test the row uses to store `errorCode`,
 *   so a row's findings always agree with what the row shows.
 * - Flags count only as JSON booleans (`false`, `true`), as CloudTrail logs them; a missing flag matches
 *   nothing.
 * - A policy put whose document cannot be read (missing, withheld as HIDDEN_DUE_TO_SECURITY_REASONS, not JSON,
 *   not a policy) gets `sending-authorization-changed`: the record proves a change but not an external grant,
 *   and DESIGN.md's "any other" put covers it. It never fails the row.
 * - Without a `recipientAccountId`, every account principal in a policy is external.
 */
import { asObject, str } from '../json.js';
import { parsePolicy } from './policy.js';
import { SES_EVENT_SOURCE, type CloudTrailRecord } from './record.js';
import { SEVERITIES, type Severity } from './row.js';

export interface FindingRule {
  readonly id: string;
  readonly severity: Severity;
  /** One line, for `ses-audit findings --help` and the docs. */
  readonly description: string;
}

/** The rule table of DESIGN.md, in its order. */
export const FINDING_RULES = [
  {
    id: 'identity-deleted',
    severity: 'high',
    description: 'An identity was deleted (DeleteIdentity, DeleteEmailIdentity, DeleteVerifiedEmailAddress).',
  },
  {
    id: 'sending-authorization-external',
    severity: 'high',
    description: 'A sending authorization policy was put that allows a principal outside the account, or "*".',
  },
  {
    id: 'sending-authorization-changed',
    severity: 'medium',
    description: 'Any other sending authorization policy was put, created, updated or deleted.',
  },
  {
    id: 'dkim-disabled',
    severity: 'high',
    description: 'DKIM signing was turned off for an identity.',
  },
  {
    id: 'feedback-forwarding-disabled',
    severity: 'medium',
    description: 'Bounce and complaint forwarding by email was turned off for an identity.',
  },
  {
    id: 'account-sending-enabled',
    severity: 'medium',
    description: 'Email sending was turned on for the account in a region.',
  },
  {
    id: 'production-access-requested',
    severity: 'high',
    description: 'Someone asked AWS to move the account out of the SES sandbox (PutAccountDetails).',
  },
  {
    id: 'identity-created',
    severity: 'low',
    description: 'An email or domain identity was created or sent for verification.',
  },
  {
    id: 'access-denied',
    severity: 'medium',
    description: 'An SES call was denied (AccessDenied, AccessDeniedException, UnauthorizedOperation).',
  },
  {
    id: 'long-term-key-enumeration',
    severity: 'medium',
    description: 'SES quota, account or identities were read with a long-term (AKIA) access key, failed calls included.',
  },
] as const satisfies readonly FindingRule[];

export type FindingId = (typeof FINDING_RULES)[number]['id'];

export interface Findings {
  /** Distinct, sorted. */
  findings: FindingId[];
  /** The highest severity of `findings`; absent when there are none. */
  severity?: Severity;
}

const SEVERITY_OF: ReadonlyMap<FindingId, Severity> = new Map(FINDING_RULES.map((r) => [r.id, r.severity]));

/** Calls that delete an identity (v1 and v2). */
export const DELETE_IDENTITY: ReadonlySet<string> = new Set(['DeleteIdentity', 'DeleteEmailIdentity', 'DeleteVerifiedEmailAddress']);
/** Calls that create an identity or send it for verification (v1 and v2). */
export const CREATE_IDENTITY: ReadonlySet<string> = new Set(['VerifyEmailIdentity', 'VerifyEmailAddress', 'VerifyDomainIdentity', 'CreateEmailIdentity']);
/** Calls that carry a policy document in `requestParameters.policy`. */
export const PUT_POLICY: ReadonlySet<string> = new Set(['PutIdentityPolicy', 'CreateEmailIdentityPolicy', 'UpdateEmailIdentityPolicy']);
export const DELETE_POLICY: ReadonlySet<string> = new Set(['DeleteIdentityPolicy', 'DeleteEmailIdentityPolicy']);
/** Error codes of a call refused for lack of permission. */
export const DENIED: ReadonlySet<string> = new Set(['AccessDenied', 'AccessDeniedException', 'UnauthorizedOperation']);
const ENUMERATION = new Set(['GetSendQuota', 'GetAccount', 'GetAccountSendingEnabled', 'ListIdentities', 'ListEmailIdentities']);

/** Event name -> the request flag and the value that makes the finding. */
const FLAG_RULES: ReadonlyMap<string, { flag: string; value: boolean; finding: FindingId }> = new Map([
  ['SetIdentityDkimEnabled', { flag: 'dkimEnabled', value: false, finding: 'dkim-disabled' }],
  ['PutEmailIdentityDkimAttributes', { flag: 'signingEnabled', value: false, finding: 'dkim-disabled' }],
  ['SetIdentityFeedbackForwardingEnabled', { flag: 'forwardingEnabled', value: false, finding: 'feedback-forwarding-disabled' }],
  ['PutEmailIdentityFeedbackAttributes', { flag: 'emailForwardingEnabled', value: false, finding: 'feedback-forwarding-disabled' }],
  ['UpdateAccountSendingEnabled', { flag: 'enabled', value: true, finding: 'account-sending-enabled' }],
  ['PutAccountSendingAttributes', { flag: 'sendingEnabled', value: true, finding: 'account-sending-enabled' }],
]);

const LONG_TERM_KEY_PREFIX = 'AKIA';

export function findingsOf(record: CloudTrailRecord): Findings {
  // The type is a promise the JSON does not keep: check it is an object at all.
  const rec = asObject(record);
  if (!rec || rec.eventSource !== SES_EVENT_SOURCE) return { findings: [] };
  const eventName = typeof rec.eventName === 'string' ? rec.eventName : '';
  const errorCode = str(rec.errorCode);
  const found = new Set<FindingId>();

  // The two rules that also apply to failed calls.
  if (errorCode !== undefined && DENIED.has(errorCode)) found.add('access-denied');
  const accessKeyId = str(asObject(rec.userIdentity)?.accessKeyId);
  if (ENUMERATION.has(eventName) && accessKeyId?.startsWith(LONG_TERM_KEY_PREFIX)) found.add('long-term-key-enumeration');

  if (errorCode === undefined) {
    const params = asObject(rec.requestParameters);
    if (DELETE_IDENTITY.has(eventName)) found.add('identity-deleted');
    if (CREATE_IDENTITY.has(eventName)) found.add('identity-created');
    if (eventName === 'PutAccountDetails') found.add('production-access-requested');
    if (DELETE_POLICY.has(eventName)) found.add('sending-authorization-changed');
    if (PUT_POLICY.has(eventName)) {
      const policy = parsePolicy(params?.policy, str(rec.recipientAccountId));
      const external = policy.ok && policy.principals.some((p) => p.external);
      found.add(external ? 'sending-authorization-external' : 'sending-authorization-changed');
    }
    const flagRule = FLAG_RULES.get(eventName);
    if (flagRule && params?.[flagRule.flag] === flagRule.value) found.add(flagRule.finding);
  }

  const findings = [...found].sort();
  if (findings.length === 0) return { findings };
  return { findings, severity: highest(findings) };
}

function highest(findings: readonly FindingId[]): Severity {
  let best: number = SEVERITIES.length - 1;
  for (const id of findings) {
    const severity = SEVERITY_OF.get(id);
    if (severity !== undefined) best = Math.min(best, SEVERITIES.indexOf(severity));
  }
  return SEVERITIES[best];
}
