/**
 * formatLifecycle, the text view of `ses-audit show`: a golden rendering at 80 columns (reviewed line by
 * line), the width kept on any model, log values escaped, ARNs shortened, external principals marked.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MIN_WIDTH, clean, formatLifecycle, shortArn } from '../../src/cli/show-text.js';
import { identityLifecycle } from '../../src/ses/lifecycle.js';
import type { AuditRow } from '../../src/ses/row.js';
import { ACCOUNT, ALICE, ALL, BOB, INTERN, NASTY_STRINGS, anyRow, call, denied, rowsOf, type Caller } from '../helpers/ses-records.js';

const GOLDEN = join(import.meta.dirname, 'golden/show-example.com.txt');

/** Display columns of a line, counted independently of the code under test: East Asian wide = 2. */
function columns(line: string): number {
  let n = 0;
  for (const ch of line) {
    if (/\p{M}/u.test(ch)) continue;
    n += /[\u{1100}-\u{115F}\u{2E80}-\u{A4CF}\u{AC00}-\u{D7A3}\u{F900}-\u{FAFF}\u{FE30}-\u{FE4F}\u{FF00}-\u{FF60}\u{FFE0}-\u{FFE6}\u{1F300}-\u{1F64F}\u{1F900}-\u{1F9FF}\u{20000}-\u{3FFFD}]/u.test(ch) ? 2 : 1;
  }
  return n;
}

function linesOf(text: string): string[] {
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** Nothing a terminal would act on: no control characters but the line breaks, no format characters. */
const UNSAFE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}\p{Cn}]/u;

describe('formatLifecycle: example.com', () => {
  const model = identityLifecycle('example.com', rowsOf('example.com', ALL));

  it('is the golden rendering at 80 columns', () => {
    expect(formatLifecycle(model)).toBe(readFileSync(GOLDEN, 'utf8'));
    expect(formatLifecycle(model, 80)).toBe(readFileSync(GOLDEN, 'utf8'));
  });

  it('no line is wider than 80 columns, or than any width asked for', () => {
    for (const line of linesOf(formatLifecycle(model))) expect(columns(line)).toBeLessThanOrEqual(80);
    for (let width = MIN_WIDTH; width <= 200; width++) {
      for (const line of linesOf(formatLifecycle(model, width))) expect(columns(line), `width ${width}: ${line}`).toBeLessThanOrEqual(width);
    }
  });

  it('a wide terminal gets fewer lines; the words are the same', () => {
    const narrow = formatLifecycle(model, 40);
    const wide = formatLifecycle(model, 200);
    expect(linesOf(wide).length).toBeLessThan(linesOf(narrow).length);
    const words = (t: string): string => t.replace(/\s+/g, '');
    expect(words(wide)).toBe(words(narrow));
  });

  it('widths below the minimum are laid out at the minimum', () => {
    expect(formatLifecycle(model, 5)).toBe(formatLifecycle(model, MIN_WIDTH));
    expect(formatLifecycle(model, Number.NaN)).toBe(formatLifecycle(model, 80));
  });
});

describe('formatLifecycle: values from the logs', () => {
  const ID = 'example.org';
  const R = `arn:aws:ses:us-east-1:${ACCOUNT}:identity/${ID}`;

  function caller(sessionName: string): Caller {
    return {
      ...ALICE,
      userIdentity: {
        ...ALICE.userIdentity,
        arn: `arn:aws:sts::${ACCOUNT}:assumed-role/ops/${sessionName}`,
        sessionContext: { sessionIssuer: { type: 'Role', arn: `arn:aws:iam::${ACCOUNT}:role/ops` } },
      },
      who: sessionName,
    };
  }

  it('escapes control characters, bidi overrides and backslashes where they appear', () => {
    const evil = caller('mallory\u001b[2J\u202Etxt.exe');
    const model = identityLifecycle(ID, rowsOf(ID, [denied(evil, '2026-07-01T10:00:00Z', 'DeleteIdentity', R)]));
    const text = formatLifecycle(model);
    expect(text).toContain('by mallory\\x1B[2J\\u{202E}txt.exe as role/ops (111122223333)');
    for (const line of linesOf(text)) expect(line).not.toMatch(UNSAFE);
  });

  it('clean: one visible, unambiguous line', () => {
    expect(clean('a\u001b[31mb')).toBe('a\\x1B[31mb');
    expect(clean('x\ny\rz\tw')).toBe('x\\x0Ay\\x0Dz\\x09w');
    expect(clean('\u202Egnp.exe')).toBe('\\u{202E}gnp.exe');
    expect(clean('zero\u200Bwidth\u2066iso\u2069')).toBe('zero\\u{200B}width\\u{2066}iso\\u{2069}');
    expect(clean('\u0085next line\u2028sep')).toBe('\\x85next line\\u{2028}sep');
    expect(clean('C:\\temp\\x1B')).toBe('C:\\\\temp\\\\x1B');
    expect(clean('\uD800lone')).toBe('\\u{D800}lone');
    // Printable text stays as it is: accents, CJK, emoji.
    expect(clean('café 中文 e\u0301 \u{1F600}')).toBe('café 中文 e\u0301 \u{1F600}');
  });

  it('shortens IAM and STS ARNs to the name and the account; leaves other values alone', () => {
    expect(shortArn('arn:aws:iam::111122223333:role/admin')).toBe('role/admin (111122223333)');
    expect(shortArn('arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_0a1b')).toBe('role/AWSReservedSSO_Admin_0a1b (111122223333)');
    expect(shortArn('arn:aws:iam::111122223333:user/division/bob')).toBe('user/bob (111122223333)');
    expect(shortArn('arn:aws:iam::111122223333:root')).toBe('root (111122223333)');
    expect(shortArn('arn:aws:sts::111122223333:assumed-role/ops/alice@corp.example')).toBe('assumed-role/ops/alice@corp.example (111122223333)');
    expect(shortArn('arn:aws:sts::111122223333:federated-user/dana')).toBe('federated-user/dana (111122223333)');
    expect(shortArn('arn:aws-cn:iam::111122223333:role/admin')).toBe('role/admin (111122223333, aws-cn)');
    for (const same of ['999988887777', '*', 'Service:ses.amazonaws.com', 'cloudformation.amazonaws.com', `arn:aws:sns:us-east-1:${ACCOUNT}:topic`, 'unknown']) {
      expect(shortArn(same)).toBe(same);
    }
  });

  it('shows the person alone when there is no role or user to add', () => {
    const service: Caller = {
      userIdentity: { type: 'AWSService', invokedBy: 'cloudformation.amazonaws.com' },
      sourceIPAddress: 'cloudformation.amazonaws.com',
      userAgent: 'cloudformation.amazonaws.com',
      actor: 'cloudformation.amazonaws.com',
      who: 'cloudformation.amazonaws.com',
    };
    const text = formatLifecycle(identityLifecycle(ID, rowsOf(ID, [call(service, '2026-07-02T10:00:00Z', 'VerifyDomainIdentity', { domain: ID })])));
    expect(text).toContain('\n      by cloudformation.amazonaws.com\n');
  });

  it('unreadable policy versions say so; a version after one cannot say what changed, and lists what it allows', () => {
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Principal: '*', Action: 'ses:SendRawEmail' }] });
    const model = identityLifecycle(
      ID,
      rowsOf(ID, [
        call(BOB, '2026-07-03T10:00:00Z', 'PutIdentityPolicy', { identity: ID, policyName: 'open', policy: 'HIDDEN_DUE_TO_SECURITY_REASONS' }),
        call(BOB, '2026-07-03T11:00:00Z', 'PutIdentityPolicy', { identity: ID, policyName: 'open', policy }),
      ]),
    );
    const text = formatLifecycle(model);
    expect(text).toContain(
      [
        '    open: in force: 1 principal, 1 EXTERNAL',
        '      2026-07-03T10:00:00Z PutIdentityPolicy',
        '        by bob as user/bob (111122223333)',
        '        document unreadable: CloudTrail withheld the policy document',
        '          (HIDDEN_DUE_TO_SECURITY_REASONS)',
        '      2026-07-03T11:00:00Z PutIdentityPolicy',
        '        by bob as user/bob (111122223333)',
        '        what changed is unknown (the version before is not in this history);',
        '          allows:',
        '          * EXTERNAL (anyone)',
        '        actions ses:SendRawEmail',
      ].join('\n'),
    );
  });

  it('several accounts or regions: each shown, the one changed last first, denied attempts say where', () => {
    const here = call(ALICE, '2026-07-04T10:00:00Z', 'VerifyDomainIdentity', { domain: ID });
    const there = call(ALICE, '2026-07-05T10:00:00Z', 'VerifyDomainIdentity', { domain: ID }, { awsRegion: 'eu-west-1' });
    const no = denied(INTERN, '2026-07-06T10:00:00Z', 'DeleteIdentity', R);
    const text = formatLifecycle(identityLifecycle(ID, rowsOf(ID, [here, there, no])));
    const lines = linesOf(text);
    expect(lines[1]).toBe('Seen in 2 account/region pairs, each its own identity in SES; the first below is');
    expect(lines.filter((l) => l.startsWith('Account '))).toEqual([
      'Account 111122223333, region eu-west-1: exists (created 2026-07-05T10:00:00Z)',
      'Account 111122223333, region us-east-1: exists (created 2026-07-04T10:00:00Z)',
    ]);
    expect(text).toContain('    from 203.0.113.50, account 111122223333, region us-east-1\n');
  });

  it('a deletion then a creation is two lives: settings of the first are not the current ones', () => {
    const dkimOff = call(BOB, '2026-07-07T09:00:00Z', 'SetIdentityDkimEnabled', { identity: ID, dkimEnabled: false });
    const gone = call(BOB, '2026-07-07T10:00:00Z', 'DeleteIdentity', { identity: ID });
    const back = call(ALICE, '2026-07-07T11:00:00Z', 'VerifyDomainIdentity', { domain: ID });
    const text = formatLifecycle(identityLifecycle(ID, rowsOf(ID, [dkimOff, gone, back])));
    expect(text).toContain("\n  Life (2 lives; the state and settings below are the current life's)\n");
    expect(text).toContain('\n    DKIM signing: no change in the current life\n');
  });

  it('an identity with no rows', () => {
    expect(formatLifecycle(identityLifecycle('nobody.example', []))).toBe('nobody.example\nNo audit rows for this identity.\n');
  });

  it('any rows, any width: never throws, never wider than the width, nothing unsafe printed', () => {
    fc.assert(
      fc.property(fc.array(anyRow(ID), { maxLength: 10 }), fc.integer({ min: MIN_WIDTH, max: 160 }), fc.constantFrom(ID, ...NASTY_STRINGS), (rows, width, identity) => {
        const input = rows.map((r) => ({ ...r, identity })) as unknown as AuditRow[]; // rows of any shape: the point of the property
        const text = formatLifecycle(identityLifecycle(identity, input), width);
        for (const line of linesOf(text)) {
          expect(columns(line), line).toBeLessThanOrEqual(width);
          expect(line).not.toMatch(UNSAFE);
        }
      }),
      { numRuns: 300 },
    );
  });
});
