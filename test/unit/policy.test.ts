/**
 * Sending authorization policies: principals in every form IAM allows, which of them are external, actions,
 * documents that cannot be read (a value, never a throw), and diffs between versions.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { diffPolicies, parsePolicy, type ParsedPolicy, type PolicyPrincipal } from '../../src/ses/policy.js';

const ACCOUNT = '111122223333';
const OTHER = '999988887777';

function policy(...statements: unknown[]): string {
  return JSON.stringify({ Version: '2012-10-17', Statement: statements });
}

function allow(principal: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { Effect: 'Allow', Principal: principal, Action: 'ses:SendEmail', Resource: `arn:aws:ses:us-east-1:${ACCOUNT}:identity/example.com`, ...extra };
}

function principalsOf(document: unknown, owner: { accountId: string | undefined } = { accountId: ACCOUNT }): PolicyPrincipal[] {
  const parsed = parsePolicy(document, owner.accountId);
  if (!parsed.ok) throw new Error(`expected a policy, got: ${parsed.reason}`);
  return parsed.principals;
}

function reasonOf(document: unknown): string {
  const parsed = parsePolicy(document, ACCOUNT);
  if (parsed.ok) throw new Error(`expected an error, got ${JSON.stringify(parsed)}`);
  return parsed.reason;
}

describe('parsePolicy: principals', () => {
  // [what, Principal value, expected principals]
  const FORMS: Array<[string, unknown, PolicyPrincipal[]]> = [
    ['bare "*"', '*', [{ principal: '*', external: true }]],
    ['{"AWS": "*"}', { AWS: '*' }, [{ principal: '*', external: true }]],
    ['the account ID itself', { AWS: ACCOUNT }, [{ principal: ACCOUNT, external: false }]],
    ['another account ID', { AWS: OTHER }, [{ principal: OTHER, external: true }]],
    ['the account root ARN', { AWS: `arn:aws:iam::${ACCOUNT}:root` }, [{ principal: `arn:aws:iam::${ACCOUNT}:root`, external: false }]],
    ['another account root ARN', { AWS: `arn:aws:iam::${OTHER}:root` }, [{ principal: `arn:aws:iam::${OTHER}:root`, external: true }]],
    ['a user of the account', { AWS: `arn:aws:iam::${ACCOUNT}:user/mailer` }, [{ principal: `arn:aws:iam::${ACCOUNT}:user/mailer`, external: false }]],
    ['a user of another account', { AWS: `arn:aws:iam::${OTHER}:user/evil` }, [{ principal: `arn:aws:iam::${OTHER}:user/evil`, external: true }]],
    ['a role of the account', { AWS: `arn:aws:iam::${ACCOUNT}:role/app` }, [{ principal: `arn:aws:iam::${ACCOUNT}:role/app`, external: false }]],
    ['a role of another account', { AWS: `arn:aws:iam::${OTHER}:role/app` }, [{ principal: `arn:aws:iam::${OTHER}:role/app`, external: true }]],
    ['a role path', { AWS: `arn:aws:iam::${ACCOUNT}:role/service/app` }, [{ principal: `arn:aws:iam::${ACCOUNT}:role/service/app`, external: false }]],
    [
      'an assumed-role session of the account',
      { AWS: `arn:aws:sts::${ACCOUNT}:assumed-role/app/session` },
      [{ principal: `arn:aws:sts::${ACCOUNT}:assumed-role/app/session`, external: false }],
    ],
    ['an ARN in the China partition', { AWS: `arn:aws-cn:iam::${ACCOUNT}:root` }, [{ principal: `arn:aws-cn:iam::${ACCOUNT}:root`, external: false }]],
    ['a GovCloud ARN of another account', { AWS: `arn:aws-us-gov:iam::${OTHER}:root` }, [{ principal: `arn:aws-us-gov:iam::${OTHER}:root`, external: true }]],
    // IAM rewrites the ARN of a deleted principal to its unique ID; nothing ties that to the account.
    ['a unique ID', { AWS: 'AIDAJQABLZS4A3QDU576Q' }, [{ principal: 'AIDAJQABLZS4A3QDU576Q', external: true }]],
    ['an ARN with no account', { AWS: 'arn:aws:iam:::root' }, [{ principal: 'arn:aws:iam:::root', external: true }]],
    ['a short account number', { AWS: '11112222333' }, [{ principal: '11112222333', external: true }]],
    [
      'a list of AWS principals',
      { AWS: [ACCOUNT, `arn:aws:iam::${OTHER}:root`] },
      [
        { principal: ACCOUNT, external: false },
        { principal: `arn:aws:iam::${OTHER}:root`, external: true },
      ],
    ],
    ['a service', { Service: 'ses.amazonaws.com' }, [{ principal: 'Service:ses.amazonaws.com', external: false }]],
    [
      'a list of services',
      { Service: ['ses.amazonaws.com', 'cognito-idp.amazonaws.com'] },
      [
        { principal: 'Service:cognito-idp.amazonaws.com', external: false },
        { principal: 'Service:ses.amazonaws.com', external: false },
      ],
    ],
    ['a web identity provider', { Federated: 'accounts.google.com' }, [{ principal: 'Federated:accounts.google.com', external: true }]],
    ['Cognito identity', { Federated: 'cognito-identity.amazonaws.com' }, [{ principal: 'Federated:cognito-identity.amazonaws.com', external: true }]],
    [
      'a SAML provider of the account',
      { Federated: `arn:aws:iam::${ACCOUNT}:saml-provider/Okta` },
      [{ principal: `Federated:arn:aws:iam::${ACCOUNT}:saml-provider/Okta`, external: false }],
    ],
    [
      'a SAML provider of another account',
      { Federated: `arn:aws:iam::${OTHER}:saml-provider/Okta` },
      [{ principal: `Federated:arn:aws:iam::${OTHER}:saml-provider/Okta`, external: true }],
    ],
    [
      'a canonical user',
      { CanonicalUser: '79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be' },
      [{ principal: 'CanonicalUser:79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be', external: true }],
    ],
    [
      'several principal types at once',
      { AWS: OTHER, Service: 'ses.amazonaws.com' },
      [
        { principal: OTHER, external: true },
        { principal: 'Service:ses.amazonaws.com', external: false },
      ],
    ],
    ['an empty list', { AWS: [] }, []],
  ];

  it.each(FORMS)('reads %s', (_what, principal, expected) => {
    expect(principalsOf(policy(allow(principal)))).toEqual(expected);
  });

  it('takes "Statement" as one object as well as a list', () => {
    const single = JSON.stringify({ Version: '2012-10-17', Statement: allow({ AWS: OTHER }) });
    expect(principalsOf(single)).toEqual([{ principal: OTHER, external: true }]);
  });

  it('counts "*" as external whatever the Condition', () => {
    const conditioned = allow('*', { Condition: { StringEquals: { 'aws:SourceAccount': ACCOUNT } } });
    expect(principalsOf(policy(conditioned))).toEqual([{ principal: '*', external: true }]);
    const awsStar = allow({ AWS: '*' }, { Condition: { StringEquals: { 'aws:PrincipalOrgID': 'o-abc123' } } });
    expect(principalsOf(policy(awsStar))).toEqual([{ principal: '*', external: true }]);
  });

  it('counts only Allow statements', () => {
    const deny = { Effect: 'Deny', Principal: '*', Action: 'ses:*', Condition: { StringNotLike: { 'ses:Recipients': '*@example.com' } } };
    expect(principalsOf(policy(deny))).toEqual([]);
    expect(principalsOf(policy(deny, allow({ AWS: ACCOUNT })))).toEqual([{ principal: ACCOUNT, external: false }]);
  });

  it('reads NotPrincipal in an Allow as everyone but the listed: one external entry', () => {
    const notPrincipal = { Effect: 'Allow', NotPrincipal: { AWS: [`arn:aws:iam::${ACCOUNT}:user/b`, `arn:aws:iam::${ACCOUNT}:user/a`] }, Action: 'ses:SendEmail' };
    expect(principalsOf(policy(notPrincipal))).toEqual([
      { principal: `* except arn:aws:iam::${ACCOUNT}:user/a, arn:aws:iam::${ACCOUNT}:user/b`, external: true },
    ]);
    // Even when it excludes only outsiders: it still admits every other account.
    const notOutsider = { Effect: 'Allow', NotPrincipal: { AWS: OTHER }, Action: 'ses:SendEmail' };
    expect(principalsOf(policy(notOutsider))).toEqual([{ principal: `* except ${OTHER}`, external: true }]);
  });

  it('reads NotPrincipal "*" in an Allow as no one, and ignores NotPrincipal in a Deny', () => {
    expect(principalsOf(policy({ Effect: 'Allow', NotPrincipal: '*', Action: 'ses:SendEmail' }))).toEqual([]);
    expect(principalsOf(policy({ Effect: 'Allow', NotPrincipal: { AWS: '*' }, Action: 'ses:SendEmail' }))).toEqual([]);
    expect(principalsOf(policy({ Effect: 'Deny', NotPrincipal: { AWS: ACCOUNT }, Action: 'ses:*' }))).toEqual([]);
  });

  it('gives a statement without Principal no principals', () => {
    expect(principalsOf(policy({ Effect: 'Allow', Action: 'ses:SendEmail', Resource: '*' }))).toEqual([]);
  });

  it('lists each principal once, sorted, across statements', () => {
    const doc = policy(allow({ AWS: [OTHER, ACCOUNT] }), allow({ AWS: OTHER }), allow('*'));
    expect(principalsOf(doc)).toEqual([
      { principal: '*', external: true },
      { principal: ACCOUNT, external: false },
      { principal: OTHER, external: true },
    ]);
  });

  it('without an account, counts every account principal as external, services still not', () => {
    const doc = policy(allow({ AWS: [ACCOUNT, `arn:aws:iam::${ACCOUNT}:root`], Service: 'ses.amazonaws.com' }));
    expect(principalsOf(doc, { accountId: undefined })).toEqual([
      { principal: ACCOUNT, external: true },
      { principal: 'Service:ses.amazonaws.com', external: false },
      { principal: `arn:aws:iam::${ACCOUNT}:root`, external: true },
    ]);
  });

  it('accepts a document already parsed into an object', () => {
    const parsed: unknown = JSON.parse(policy(allow({ AWS: OTHER })));
    expect(principalsOf(parsed)).toEqual([{ principal: OTHER, external: true }]);
  });
});

describe('parsePolicy: actions', () => {
  function actionsOf(document: string): string[] {
    const parsed = parsePolicy(document, ACCOUNT);
    if (!parsed.ok) throw new Error(parsed.reason);
    return parsed.actions;
  }

  it('takes Action as a string or a list, distinct and sorted across Allow statements', () => {
    const doc = policy(
      allow({ AWS: OTHER }, { Action: ['ses:SendRawEmail', 'ses:SendEmail'] }),
      allow({ AWS: ACCOUNT }, { Action: 'ses:SendEmail' }),
      { Effect: 'Deny', Principal: '*', Action: 'ses:SendBulkTemplatedEmail' },
    );
    expect(actionsOf(doc)).toEqual(['ses:SendEmail', 'ses:SendRawEmail']);
  });

  it('reads NotAction in an Allow as every action but the listed', () => {
    const doc = policy({ Effect: 'Allow', Principal: { AWS: OTHER }, NotAction: ['ses:SendRawEmail', 'ses:SendEmail'] });
    expect(actionsOf(doc)).toEqual(['* except ses:SendEmail, ses:SendRawEmail']);
    expect(actionsOf(policy({ Effect: 'Allow', Principal: { AWS: OTHER }, NotAction: '*' }))).toEqual([]);
  });

  it('keeps "*" and wildcards as written', () => {
    expect(actionsOf(policy(allow('*', { Action: ['ses:Send*', '*'] })))).toEqual(['*', 'ses:Send*']);
  });
});

describe('parsePolicy: documents that cannot be read', () => {
  const BAD: Array<[string, unknown, RegExp]> = [
    ['text that is not JSON', '{"Statement": [', /^the policy document is not JSON: /],
    ['an empty string', '', /^the policy document is not JSON: /],
    ['the withheld marker', 'HIDDEN_DUE_TO_SECURITY_REASONS', /^CloudTrail withheld the policy document \(HIDDEN_DUE_TO_SECURITY_REASONS\)$/],
    ['undefined', undefined, /^no policy document$/],
    ['null', null, /^no policy document$/],
    ['a number', 42, /^the policy document is the number 42, not a JSON object$/],
    ['JSON text of a list', '[]', /^the policy document is a list, not a JSON object$/],
    ['JSON text of a string', '"policy"', /^the policy document is the string "policy", not a JSON object$/],
    ['no Statement', '{"Version": "2012-10-17"}', /^the policy document has no Statement$/],
    ['Statement a number', '{"Statement": 3}', /^Statement is the number 3, not an object$/],
    ['a statement that is not an object', policy(allow('*'), 'x'), /^Statement\[1\] is the string "x", not an object$/],
    ['Effect missing', policy({ Principal: '*', Action: 'ses:SendEmail' }), /^Statement\[0\]\.Effect is missing, not "Allow" or "Deny"$/],
    ['Effect in lower case', policy({ Effect: 'allow', Principal: '*' }), /^Statement\[0\]\.Effect is the string "allow", not "Allow" or "Deny"$/],
    ['Principal and NotPrincipal', policy({ Effect: 'Allow', Principal: '*', NotPrincipal: { AWS: OTHER } }), /^Statement\[0\] has both Principal and NotPrincipal$/],
    ['a bare principal other than "*"', policy(allow(OTHER)), /^Statement\[0\]\.Principal is the string "999988887777", not "\*" or an object$/],
    ['an unknown principal type', policy(allow({ Aws: OTHER })), /^Statement\[0\]\.Principal has an unknown principal type "Aws"$/],
    ['an account ID as a number', policy(allow({ AWS: 999988887777 })), /^Statement\[0\]\.Principal\.AWS is the number 999988887777, not a string or a list of strings$/],
    ['a list with a non-string', policy(allow({ AWS: [OTHER, null] })), /^Statement\[0\]\.Principal\.AWS is a list, not a string or a list of strings$/],
    ['Action a number', policy(allow('*', { Action: 7 })), /^Statement\[0\]\.Action is the number 7, not a string or a list of strings$/],
    ['Action and NotAction', policy(allow('*', { NotAction: 'ses:SendRawEmail' })), /^Statement\[0\] has both Action and NotAction$/],
    ['a malformed Deny statement', policy({ Effect: 'Deny', Principal: 5 }), /^Statement\[0\]\.Principal is the number 5, not "\*" or an object$/],
  ];

  it.each(BAD)('gives a one-line reason for %s', (_what, document, reason) => {
    expect(reasonOf(document)).toMatch(reason);
  });

  it('keeps a reason to one short line, whatever the input', () => {
    const long = policy({ Effect: `Allow\n${'x'.repeat(500)}`, Principal: '*' });
    const reason = reasonOf(long);
    expect(reason).not.toMatch(/\n/);
    expect(reason.length).toBeLessThanOrEqual(200);
  });
});

describe('diffPolicies', () => {
  const v1 = { principals: [{ principal: ACCOUNT, external: false }], actions: ['ses:SendEmail'] };
  const v2 = {
    principals: [
      { principal: ACCOUNT, external: false },
      { principal: `arn:aws:iam::${OTHER}:user/evil`, external: true },
    ],
    actions: ['ses:SendEmail', 'ses:SendRawEmail'],
  };

  it('gives what a new version adds', () => {
    expect(diffPolicies(v1, v2)).toEqual({
      principals: { added: [{ principal: `arn:aws:iam::${OTHER}:user/evil`, external: true }], removed: [] },
      actions: { added: ['ses:SendRawEmail'], removed: [] },
    });
  });

  it('gives what a new version removes', () => {
    expect(diffPolicies(v2, v1)).toEqual({
      principals: { added: [], removed: [{ principal: `arn:aws:iam::${OTHER}:user/evil`, external: true }] },
      actions: { added: [], removed: ['ses:SendRawEmail'] },
    });
  });

  it('treats no policy as granting nothing: a first version adds all, a deletion removes all', () => {
    expect(diffPolicies(undefined, v1)).toEqual({
      principals: { added: [{ principal: ACCOUNT, external: false }], removed: [] },
      actions: { added: ['ses:SendEmail'], removed: [] },
    });
    expect(diffPolicies(v1, undefined)).toEqual({
      principals: { added: [], removed: [{ principal: ACCOUNT, external: false }] },
      actions: { added: [], removed: ['ses:SendEmail'] },
    });
    expect(diffPolicies(undefined, undefined)).toEqual({ principals: { added: [], removed: [] }, actions: { added: [], removed: [] } });
  });

  it('finds nothing between equal versions, and works on parsed documents', () => {
    const a = parsePolicy(policy(allow({ AWS: [OTHER, ACCOUNT] })), ACCOUNT);
    const b = parsePolicy(policy(allow({ AWS: ACCOUNT }), allow({ AWS: OTHER })), ACCOUNT);
    if (!a.ok || !b.ok) throw new Error('both documents are valid');
    expect(diffPolicies(a, b)).toEqual({ principals: { added: [], removed: [] }, actions: { added: [], removed: [] } });
  });

  it('sees a swap of principals as one added and one removed', () => {
    const a = parsePolicy(policy(allow({ AWS: ACCOUNT })), ACCOUNT);
    const b = parsePolicy(policy(allow('*')), ACCOUNT);
    if (!a.ok || !b.ok) throw new Error('both documents are valid');
    expect(diffPolicies(a, b).principals).toEqual({
      added: [{ principal: '*', external: true }],
      removed: [{ principal: ACCOUNT, external: false }],
    });
  });
});

describe('parsePolicy: properties', () => {
  function isOneLineReason(result: ParsedPolicy): boolean {
    return result.ok || (result.reason.length > 0 && result.reason.length <= 200 && !/[\r\n]/.test(result.reason));
  }

  it('never throws on any text, and a failure is one short line', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 300 }), fc.option(fc.string(), { nil: undefined }), (text, account) => {
        expect(isOneLineReason(parsePolicy(text, account))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on any JSON, as text or as a value', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        expect(isOneLineReason(parsePolicy(value, ACCOUNT))).toBe(true);
        expect(isOneLineReason(parsePolicy(JSON.stringify(value), ACCOUNT))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on policy-shaped documents with arbitrary parts', () => {
    const part = fc.oneof(fc.jsonValue({ maxDepth: 3 }), fc.constantFrom('*', 'Allow', 'Deny', ACCOUNT, OTHER));
    const statement = fc.record(
      { Effect: part, Principal: part, NotPrincipal: part, Action: part, NotAction: part, Condition: part },
      { requiredKeys: [] },
    );
    const doc = fc.record({ Version: part, Statement: fc.oneof(statement, fc.array(statement, { maxLength: 4 }), part) }, { requiredKeys: [] });
    fc.assert(
      fc.property(doc, (d) => {
        expect(isOneLineReason(parsePolicy(JSON.stringify(d), ACCOUNT))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  // Principal entries whose reading is known, to build random policies with an independent expectation.
  const POOL: ReadonlyArray<{ type: string; id: string; principal: string; external: boolean }> = [
    { type: 'AWS', id: ACCOUNT, principal: ACCOUNT, external: false },
    { type: 'AWS', id: OTHER, principal: OTHER, external: true },
    { type: 'AWS', id: `arn:aws:iam::${ACCOUNT}:role/app`, principal: `arn:aws:iam::${ACCOUNT}:role/app`, external: false },
    { type: 'AWS', id: `arn:aws:iam::${OTHER}:user/evil`, principal: `arn:aws:iam::${OTHER}:user/evil`, external: true },
    { type: 'AWS', id: '*', principal: '*', external: true },
    { type: 'Service', id: 'ses.amazonaws.com', principal: 'Service:ses.amazonaws.com', external: false },
    { type: 'Federated', id: 'accounts.google.com', principal: 'Federated:accounts.google.com', external: true },
  ];
  const ACTIONS = ['ses:SendEmail', 'ses:SendRawEmail', 'ses:SendTemplatedEmail', 'ses:SendBulkTemplatedEmail'];

  it('reports exactly the principals and actions of the Allow statements', () => {
    const statement = fc.record({
      allow: fc.boolean(),
      entries: fc.subarray([...POOL.keys()], { minLength: 1 }),
      actions: fc.subarray(ACTIONS, { minLength: 1 }),
      listForm: fc.boolean(),
    });
    fc.assert(
      fc.property(fc.array(statement, { minLength: 1, maxLength: 5 }), fc.boolean(), (statements, singleObject) => {
        const json = statements.map((s) => {
          const byType: Record<string, string[]> = {};
          for (const i of s.entries) (byType[POOL[i].type] ??= []).push(POOL[i].id);
          const principal = Object.fromEntries(Object.entries(byType).map(([t, ids]) => [t, ids.length === 1 && !s.listForm ? ids[0] : ids]));
          return { Effect: s.allow ? 'Allow' : 'Deny', Principal: principal, Action: s.actions.length === 1 && !s.listForm ? s.actions[0] : s.actions };
        });
        const doc = JSON.stringify({ Version: '2012-10-17', Statement: singleObject && json.length === 1 ? json[0] : json });

        const expectedPrincipals = new Map<string, boolean>();
        const expectedActions = new Set<string>();
        for (const s of statements.filter((st) => st.allow)) {
          for (const i of s.entries) expectedPrincipals.set(POOL[i].principal, POOL[i].external);
          for (const a of s.actions) expectedActions.add(a);
        }
        const byCodeUnit = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
        expect(parsePolicy(doc, ACCOUNT)).toEqual({
          ok: true,
          principals: [...expectedPrincipals.keys()].sort(byCodeUnit).map((p) => ({ principal: p, external: expectedPrincipals.get(p) })),
          actions: [...expectedActions].sort(byCodeUnit),
        });
      }),
      { numRuns: 300 },
    );
  });
});
