/**
 * Properties of the identity rules over generated records: whatever a record holds, the rules never
 * throw and always file it somewhere; domains are lower-case, emails kept exactly; every key the row
 * builder writes fits DynamoDB's key limits (partition key 2048 bytes, sort key 1024 bytes, never empty);
 * the same record always gives the same keys.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { identityKeys, type IdentityKey } from '../../src/ses/identity.js';
import type { CloudTrailRecord } from '../../src/ses/record.js';
import { recordToRows } from '../../src/ses/rows.js';

// DynamoDB's documented key limits, in UTF-8 bytes.
const PARTITION_KEY_LIMIT = 2048;
const SORT_KEY_LIMIT = 1024;
const ctx = { sourceObject: 'prop', ingestedAt: '2026-11-24T00:00:00.000Z' };
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

// Strings shaped like what lands in identity parameters: names, mixed case, any Unicode, and long ones.
const longString = fc
  .tuple(fc.constantFrom('x', 'É', '中', '📧', 'A@'), fc.integer({ min: 300, max: 2500 }))
  .map(([c, n]) => c.repeat(n));
const nameString = fc.oneof(
  fc.domain().chain((d) => fc.mixedCase(fc.constant(d))),
  fc.emailAddress().chain((e) => fc.mixedCase(fc.constant(e))),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  longString,
);
const resourceType = fc.oneof(
  fc.constantFrom('identity', 'configuration-set', 'template', 'tenant', 'multi-region-endpoint', 'contact-list', 'dedicated-ip-pool'),
  fc.stringMatching(/^[a-z][a-z-]{0,20}$/),
);
const sesArn = fc
  .record({
    partition: fc.constantFrom('aws', 'aws-cn', 'aws-us-gov'),
    service: fc.constantFrom('ses', 'ses', 'ses', 'sns', 'iam'),
    region: fc.constantFrom('us-east-1', 'eu-west-1', ''),
    account: fc.constantFrom('111122223333', ''),
    type: resourceType,
    path: fc.oneof(nameString, fc.array(nameString, { maxLength: 3 }).map((p) => p.join('/'))),
  })
  .map((a) => `arn:${a.partition}:${a.service}:${a.region}:${a.account}:${a.type}/${a.path}`);
const value = fc.oneof({ weight: 3, arbitrary: nameString }, { weight: 3, arbitrary: sesArn }, { weight: 2, arbitrary: fc.jsonValue({ maxDepth: 2 }) });

// Request parameters mixing every parameter the rules read with arbitrary others.
const params = fc.oneof(
  fc.record(
    {
      identity: value,
      identities: fc.oneof(fc.array(value, { maxLength: 4 }), value),
      emailIdentity: value,
      domain: value,
      emailAddress: value,
      resourceArn: value,
      sourceArn: value,
      fromEmailAddressIdentityArn: value,
      templateName: value,
      template: fc.oneof(value, fc.record({ templateName: value })),
      configurationSetName: value,
      tenantName: value,
      content: fc.record({ template: fc.record({ templateName: value, templateArn: value }) }),
      other: fc.jsonValue({ maxDepth: 2 }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue({ maxDepth: 3 }),
);
const errorMessage = fc.oneof(
  fc.string(),
  sesArn.map((a) => `User: arn:aws:iam::111122223333:user/u is not authorized to perform: ses:X on resource: ${a} because no policy allows it`),
  sesArn.map((a) => `User \`u' is not authorized to perform \`ses:X' on resource \`${a}'`),
  fc.constant('is not authorized to perform: ses:X on resource: *'),
  fc.jsonValue({ maxDepth: 1 }),
);
const eventName = fc.oneof(
  fc.constantFrom('DeleteIdentity', 'VerifyDomainIdentity', 'VerifyEmailIdentity', 'SendCustomVerificationEmail', 'CreateCustomVerificationEmailTemplate', 'TagResource', 'SendEmail'),
  fc.string({ maxLength: 30 }),
  fc.jsonValue({ maxDepth: 1 }),
);
const record = fc.record(
  {
    eventSource: fc.constant('ses.amazonaws.com'),
    eventTime: fc.constant('2026-11-20T10:15:30Z'),
    eventID: fc.oneof(fc.uuid(), longString),
    eventName,
    requestParameters: params,
    resources: fc.oneof(fc.array(fc.record({ type: fc.string(), ARN: value }, { requiredKeys: [] }), { maxLength: 3 }), fc.jsonValue({ maxDepth: 2 })),
    errorMessage,
    recipientAccountId: fc.oneof(fc.constant('111122223333'), fc.jsonValue({ maxDepth: 1 }), longString),
    userIdentity: fc.oneof(fc.record({ type: fc.constant('IAMUser'), arn: fc.oneof(fc.string(), longString), accountId: fc.string() }), fc.jsonValue({ maxDepth: 2 })),
  },
  { requiredKeys: ['eventSource', 'eventTime'] },
);

/** What DESIGN.md allows a record's key list to look like: identities, or resources, or the account alone. */
function wellFormed(keys: IdentityKey[]): void {
  expect(keys.length).toBeGreaterThan(0);
  for (const k of keys) expect(typeof k.key === 'string' && k.key.length > 0).toBe(true);
  expect(new Set(keys.map((k) => k.key)).size).toBe(keys.length);
  const kinds = new Set(keys.map((k) => k.kind));
  const identity = [...kinds].every((kind) => kind === 'email' || kind === 'domain');
  const resource = kinds.size === 1 && kinds.has('resource');
  const account = keys.length === 1 && kinds.has('account') && keys[0].key.startsWith('account/');
  expect(identity || resource || account).toBe(true);
}

describe('identity rules: properties', () => {
  it('never throw on any JSON object, and always file the record under at least one well-formed key', () => {
    fc.assert(
      fc.property(fc.oneof(record, fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 }))), (rec) => {
        wellFormed(identityKeys(rec as CloudTrailRecord));
      }),
      { numRuns: 400 },
    );
  });

  it('the row builder never throws on any JSON value and reports what it cannot file', () => {
    fc.assert(
      fc.property(fc.oneof(record, fc.jsonValue({ maxDepth: 3 })), (value) => {
        const out = recordToRows(value, ctx);
        expect(['rows', 'bad', 'not-ses']).toContain(out.kind);
        if (out.kind === 'rows') expect(out.rows.length).toBeGreaterThan(0);
      }),
      { numRuns: 300 },
    );
  });

  it('domain keys are lower-case, however they were named', () => {
    fc.assert(
      fc.property(record, (rec) => {
        for (const k of identityKeys(rec)) if (k.kind === 'domain') expect(k.key).toBe(k.key.toLowerCase());
      }),
      { numRuns: 400 },
    );
  });

  it('a domain identity is its name lower-cased, by name or by ARN', () => {
    fc.assert(
      fc.property(fc.domain().chain((d) => fc.mixedCase(fc.constant(d))), (name) => {
        const expected = [{ key: name.toLowerCase(), kind: 'domain' }];
        expect(identityKeys({ eventName: 'DeleteIdentity', requestParameters: { identity: name } })).toEqual(expected);
        expect(identityKeys({ requestParameters: { resourceArn: `arn:aws:ses:us-east-1:111122223333:identity/${name}` } })).toEqual(expected);
      }),
    );
  });

  it('an email identity is kept exactly as logged, by name, by ARN and in its row', () => {
    const anyEmail = fc
      .tuple(fc.string({ unit: 'binary', maxLength: 30 }), fc.string({ unit: 'binary', maxLength: 30 }))
      .map(([local, domain]) => `${local}@${domain}`)
      .filter((s) => !s.startsWith('arn:'));
    fc.assert(
      fc.property(fc.oneof(anyEmail, fc.emailAddress().chain((e) => fc.mixedCase(fc.constant(e)))), (address) => {
        const expected = [{ key: address, kind: 'email' }];
        expect(identityKeys({ requestParameters: { emailIdentity: address } })).toEqual(expected);
        expect(identityKeys({ requestParameters: { sourceArn: `arn:aws:ses:us-east-1:111122223333:identity/${address}` } })).toEqual(expected);
        const out = recordToRows({ eventSource: 'ses.amazonaws.com', eventTime: '2026-11-20T10:15:30Z', eventID: 'e', requestParameters: { identity: address } }, ctx);
        expect(out.kind === 'rows' && out.rows.map((r) => [r.identity, r.identityKind])).toEqual([[address, 'email']]);
      }),
      { numRuns: 300 },
    );
  });

  it('every key the row builder writes is non-empty and within DynamoDB key limits', () => {
    fc.assert(
      fc.property(record, (rec) => {
        const out = recordToRows(rec, ctx);
        expect(out.kind).toBe('rows');
        if (out.kind !== 'rows') return;
        for (const row of out.rows) {
          // Table partition key, and the partition keys of the byActor and byEventName indexes.
          for (const key of [row.identity, row.actor, row.eventName]) {
            expect(key.length).toBeGreaterThan(0);
            expect(bytes(key)).toBeLessThanOrEqual(PARTITION_KEY_LIMIT);
          }
          // The sort key of the table and of every index.
          expect(row.eventKey.length).toBeGreaterThan(0);
          expect(bytes(row.eventKey)).toBeLessThanOrEqual(SORT_KEY_LIMIT);
          expect(row.identities).toContain(row.identity);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the same record gives the same keys: on a replay, and whatever order its parameters were logged in', () => {
    fc.assert(
      fc.property(record, (rec) => {
        const keys = identityKeys(rec);
        expect(identityKeys(structuredClone(rec))).toEqual(keys);
        const p = rec.requestParameters;
        if (p !== null && typeof p === 'object' && !Array.isArray(p)) {
          const reversed = Object.fromEntries(Object.entries(p).reverse());
          expect(identityKeys({ ...rec, requestParameters: reversed })).toEqual(keys);
        }
        const a = recordToRows(rec, ctx);
        const b = recordToRows(JSON.parse(JSON.stringify(rec)), ctx);
        expect(a.kind === 'rows' && a.rows.map((r) => r.identity)).toEqual(b.kind === 'rows' && b.rows.map((r) => r.identity));
      }),
      { numRuns: 300 },
    );
  });
});
