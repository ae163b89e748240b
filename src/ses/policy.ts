/**
 * SES identity (sending authorization) policies: whom a policy document lets in, and what changed between two
 * versions. The document arrives in `requestParameters.policy` of PutIdentityPolicy (v1) and
 * CreateEmailIdentityPolicy / UpdateEmailIdentityPolicy (v2) as JSON text. Pure; never throws: a document that
 * cannot be read is an `{ ok: false, reason }` value.
 *
 * How principals read (docs/findings.md, "sending-authorization-external"):
 * - only `Allow` statements count; `Deny` statements are checked for shape and otherwise ignored;
 * - `"*"` and `{"AWS": "*"}` are `*`, external whatever the statement's `Condition`;
 * - an AWS principal (account ID or IAM/STS ARN) is external unless its account is the given account; one whose
 *   account cannot be read (a unique ID such as `AIDA...`, a malformed ARN) is external, since nothing ties it
 *   to the account;
 * - service principals are never external; federated principals are external unless they are an identity
 *   provider ARN in the account (a web identity provider such as `accounts.google.com` admits anyone with an
 *   account there); canonical user IDs are external (they cannot be tied to an account ID);
 * - `NotPrincipal` in an Allow admits everyone except the listed principals: one external entry
 *   `* except A, B` (nothing at all when it excludes `*`). `NotAction` reads the same way for actions.
 * Principal strings: AWS principals as written (`123456789012`, an ARN, `*`); others with their type, as in
 * `Service:ses.amazonaws.com`, `Federated:accounts.google.com`, `CanonicalUser:79a5...`, so a federated
 * provider is never mistaken for a service.
 */
import { asObject } from '../json.js';

export interface PolicyPrincipal {
  principal: string;
  external: boolean;
}

export type ParsedPolicy =
  | { ok: true; principals: PolicyPrincipal[]; actions: string[] }
  | { ok: false; reason: string };

/** What a policy grants, as `diffPolicies` compares it; a successful `ParsedPolicy` is one. */
export interface PolicyGrants {
  principals: readonly PolicyPrincipal[];
  actions: readonly string[];
}

export interface PolicyDiff {
  principals: { added: PolicyPrincipal[]; removed: PolicyPrincipal[] };
  actions: { added: string[]; removed: string[] };
}

/** What CloudTrail logs in place of a value it withholds. */
export const HIDDEN_VALUE = 'HIDDEN_DUE_TO_SECURITY_REASONS';

const PRINCIPAL_TYPES = ['AWS', 'Service', 'Federated', 'CanonicalUser'] as const;
type PrincipalType = (typeof PRINCIPAL_TYPES)[number];

const ACCOUNT_ID = /^\d{12}$/;
// arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE; principals name an account in the fifth field.
const ARN_ACCOUNT = /^arn:[^:]+:[^:]+:[^:]*:(\d{12}):./s;
const MAX_REASON = 200;

/** A reason `parsePolicy` gives up; thrown and caught only inside this module. */
class PolicyShapeError extends Error {}

/**
 * The Allow principals and actions of a policy document: JSON text as CloudTrail logs it, or (tolerated) the
 * document already parsed into an object. `accountId` is the account that owns the identity; without one,
 * every account principal is external. Principals and actions come out distinct and sorted.
 */
export function parsePolicy(document: unknown, accountId: string | undefined): ParsedPolicy {
  let root: unknown = document;
  if (typeof document === 'string') {
    if (document === HIDDEN_VALUE) return { ok: false, reason: `CloudTrail withheld the policy document (${HIDDEN_VALUE})` };
    try {
      root = JSON.parse(document);
    } catch (err) {
      return { ok: false, reason: clip(`the policy document is not JSON: ${err instanceof Error ? err.message : String(err)}`) };
    }
  } else if (document === undefined || document === null) {
    return { ok: false, reason: 'no policy document' };
  }
  try {
    return { ok: true, ...readDocument(root, accountId) };
  } catch (err) {
    if (err instanceof PolicyShapeError) return { ok: false, reason: clip(err.message) };
    // Anything else is a bug here, not bad input; still a value, as promised.
    return { ok: false, reason: clip(`the policy document could not be read: ${err instanceof Error ? err.message : String(err)}`) };
  }
}

/** Principals and actions that `after` grants and `before` did not, and the reverse. `undefined` is no policy. */
export function diffPolicies(before: PolicyGrants | undefined, after: PolicyGrants | undefined): PolicyDiff {
  const oldPrincipals = new Set((before?.principals ?? []).map((p) => p.principal));
  const newPrincipals = new Set((after?.principals ?? []).map((p) => p.principal));
  const oldActions = new Set(before?.actions ?? []);
  const newActions = new Set(after?.actions ?? []);
  return {
    principals: {
      added: (after?.principals ?? []).filter((p) => !oldPrincipals.has(p.principal)).map((p) => ({ ...p })),
      removed: (before?.principals ?? []).filter((p) => !newPrincipals.has(p.principal)).map((p) => ({ ...p })),
    },
    actions: {
      added: [...newActions].filter((a) => !oldActions.has(a)),
      removed: [...oldActions].filter((a) => !newActions.has(a)),
    },
  };
}

function readDocument(root: unknown, accountId: string | undefined): { principals: PolicyPrincipal[]; actions: string[] } {
  const doc = asObject(root);
  if (!doc) throw new PolicyShapeError(`the policy document is ${kindOf(root)}, not a JSON object`);
  if (!('Statement' in doc)) throw new PolicyShapeError('the policy document has no Statement');
  const raw = doc.Statement;
  const statements = Array.isArray(raw) ? raw : [raw];

  const principals = new Map<string, boolean>();
  const actions = new Set<string>();
  statements.forEach((value, i) => {
    const where = Array.isArray(raw) ? `Statement[${i}]` : 'Statement';
    const statement = asObject(value);
    if (!statement) throw new PolicyShapeError(`${where} is ${kindOf(value)}, not an object`);
    const effect = statement.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') throw new PolicyShapeError(`${where}.Effect is ${kindOf(effect)}, not "Allow" or "Deny"`);

    const granted = principalsOf(statement, where, accountId);
    const allowed = actionsOf(statement, where);
    if (effect !== 'Allow') return;
    for (const p of granted) principals.set(p.principal, p.external);
    for (const a of allowed) actions.add(a);
  });

  return {
    principals: [...principals.keys()].sort(compare).map((principal) => ({ principal, external: principals.get(principal) === true })),
    actions: [...actions].sort(compare),
  };
}

function principalsOf(statement: Record<string, unknown>, where: string, accountId: string | undefined): PolicyPrincipal[] {
  const hasPrincipal = 'Principal' in statement;
  const hasNot = 'NotPrincipal' in statement;
  if (hasPrincipal && hasNot) throw new PolicyShapeError(`${where} has both Principal and NotPrincipal`);
  if (hasPrincipal) return principalList(statement.Principal, `${where}.Principal`, accountId);
  if (!hasNot) return [];
  const excluded = principalList(statement.NotPrincipal, `${where}.NotPrincipal`, accountId);
  // Excluding everyone admits no one.
  if (excluded.some((p) => p.principal === '*')) return [];
  return [{ principal: except(excluded.map((p) => p.principal)), external: true }];
}

function principalList(value: unknown, where: string, accountId: string | undefined): PolicyPrincipal[] {
  if (value === '*') return [{ principal: '*', external: true }];
  const map = asObject(value);
  if (!map) throw new PolicyShapeError(`${where} is ${kindOf(value)}, not "*" or an object`);
  const out: PolicyPrincipal[] = [];
  for (const [key, entry] of Object.entries(map)) {
    if (!isPrincipalType(key)) throw new PolicyShapeError(`${where} has an unknown principal type ${JSON.stringify(key).slice(0, 60)}`);
    for (const id of stringList(entry, `${where}.${key}`)) out.push(principalOf(key, id, accountId));
  }
  return out;
}

function principalOf(type: PrincipalType, id: string, accountId: string | undefined): PolicyPrincipal {
  switch (type) {
    case 'AWS':
      if (id === '*') return { principal: '*', external: true };
      return { principal: id, external: !inAccount(accountOf(id), accountId) };
    case 'Service':
      return { principal: `Service:${id}`, external: false };
    case 'Federated':
      // Only an identity provider ARN ties a federated principal to an account.
      return { principal: `Federated:${id}`, external: !inAccount(ARN_ACCOUNT.exec(id)?.[1], accountId) };
    case 'CanonicalUser':
      return { principal: `CanonicalUser:${id}`, external: true };
  }
}

function actionsOf(statement: Record<string, unknown>, where: string): string[] {
  const hasAction = 'Action' in statement;
  const hasNot = 'NotAction' in statement;
  if (hasAction && hasNot) throw new PolicyShapeError(`${where} has both Action and NotAction`);
  if (hasAction) return stringList(statement.Action, `${where}.Action`);
  if (!hasNot) return [];
  const excluded = stringList(statement.NotAction, `${where}.NotAction`);
  if (excluded.includes('*')) return [];
  return [except(excluded)];
}

function accountOf(id: string): string | undefined {
  if (ACCOUNT_ID.test(id)) return id;
  return ARN_ACCOUNT.exec(id)?.[1];
}

function inAccount(principalAccount: string | undefined, accountId: string | undefined): boolean {
  return principalAccount !== undefined && accountId !== undefined && principalAccount === accountId;
}

function stringList(value: unknown, where: string): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value) && value.every((v): v is string => typeof v === 'string')) return value;
  throw new PolicyShapeError(`${where} is ${kindOf(value)}, not a string or a list of strings`);
}

function except(listed: string[]): string {
  return `* except ${[...new Set(listed)].sort(compare).join(', ')}`;
}

function isPrincipalType(key: string): key is PrincipalType {
  return (PRINCIPAL_TYPES as readonly string[]).includes(key);
}

function kindOf(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)}`;
  if (typeof v === 'object') return 'an object';
  return `the ${typeof v} ${String(v)}`;
}

// Code-unit order: the same on every machine, unlike localeCompare.
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function clip(reason: string): string {
  const line = reason.replace(/\s+/g, ' ').trim();
  return line.length > MAX_REASON ? `${line.slice(0, MAX_REASON - 3)}...` : line;
}
