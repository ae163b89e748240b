import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditRow } from '../../src/ses/row.js';
import {
  ITEM_BYTE_BUDGET,
  MAX_CONTAINER_DEPTH,
  MAX_ITEM_BYTES,
  attributeSize,
  encodeRow,
  itemSize,
} from '../../src/store/marshal.js';

/** The item alone, as the writer sends it. */
const itemOf = (r: AuditRow) => encodeRow(r).item;

/**
 * 500 distinct identities of 1006 bytes each ('000-' + 990 'd' + '.example.com'): a malformed call
 * (GetIdentityVerificationAttributes takes 100) that CloudTrail still logs, on a row that is otherwise small.
 */
function oversizeIdentitiesRow(ingestedAt: string): AuditRow {
  const ids = Array.from({ length: 500 }, (_, i) => `${String(i).padStart(3, '0')}-${'d'.repeat(990)}.example.com`);
  return {
    identity: ids[0],
    eventKey: '2024-05-01T10:00:00Z#e',
    actor: 'a',
    eventName: 'GetIdentityVerificationAttributes',
    identityKind: 'domain',
    identities: ids,
    eventTime: '2024-05-01T10:00:00Z',
    eventID: 'e',
    eventSource: 'ses.amazonaws.com',
    sourceObject: 's3://b/k',
    ingestedAt,
  };
}

function row(overrides: Partial<AuditRow> = {}): AuditRow {
  return {
    identity: 'example.com',
    eventKey: '2024-05-01T10:00:00Z#0f6c1e0a-1111-2222-3333-444455556666',
    actor: 'arn:aws:iam::123456789012:role/Admin',
    eventName: 'DeleteIdentity',
    identityKind: 'domain',
    identities: ['example.com'],
    eventTime: '2024-05-01T10:00:00Z',
    eventID: '0f6c1e0a-1111-2222-3333-444455556666',
    eventSource: 'ses.amazonaws.com',
    eventCategory: 'Management',
    readOnly: false,
    awsRegion: 'us-east-1',
    accountId: '123456789012',
    actorType: 'AssumedRole',
    principalArn: 'arn:aws:sts::123456789012:assumed-role/Admin/alice',
    principalId: 'AROAEXAMPLE:alice',
    mfaAuthenticated: true,
    sourceIPAddress: '192.0.2.1',
    userAgent: 'aws-cli/2.15.0',
    requestID: 'req-1',
    requestParameters: { identity: 'example.com', nested: { list: [1, 'two', null, true, { deep: '' }], n: -1.5e-7 } },
    responseElements: null,
    sourceObject: 's3://bucket/AWSLogs/123456789012/CloudTrail/us-east-1/2024/05/01/file.json.gz',
    ingestedAt: '2024-05-01T10:05:00.000Z',
    expiresAt: 1_800_000_000,
    ...overrides,
  };
}

function nest(depth: number): unknown {
  let v: unknown = 'leaf';
  for (let i = 0; i < depth; i++) v = { k: v };
  return v;
}

const KB = 1024;

describe('encodeRow(row).item', () => {
  it('round-trips a plain row through unmarshall', () => {
    const r = row();
    const item = itemOf(r);
    expect(unmarshall(item)).toEqual(r);
    expect(item.identity).toEqual({ S: 'example.com' });
    expect(item.requestParameters.M).toBeDefined();
    expect(item.responseElements).toEqual({ NULL: true });
    expect(item.expiresAt).toEqual({ N: '1800000000' });
    expect(item.identities).toEqual({ L: [{ S: 'example.com' }] });
    expect(item.truncated).toBeUndefined();
  });

  it('leaves out attributes the row does not have', () => {
    const r = row();
    delete r.errorCode;
    r.errorMessage = undefined;
    const item = itemOf(r);
    expect('errorCode' in item).toBe(false);
    expect('errorMessage' in item).toBe(false);
  });

  it('keeps empty strings in non-key attributes, and large integers that a double holds', () => {
    const r = row({ userAgent: '', requestParameters: { a: '', big: 12345678901234567890, tiny: 1e-130, e: 1e125 } });
    const item = itemOf(r);
    expect(item.userAgent).toEqual({ S: '' });
    const m = item.requestParameters.M!;
    expect(m.a).toEqual({ S: '' });
    expect(m.big).toEqual({ N: '12345678901234567000' });
    expect(m.tiny).toEqual({ N: '1e-130' });
    expect(m.e).toEqual({ N: '1e+125' });
  });

  it('stores nesting deeper than DynamoDB allows as JSON text', () => {
    const deep = nest(40);
    const enc = encodeRow(row({ requestParameters: deep }));
    expect(enc.item.requestParameters).toEqual({ S: JSON.stringify(deep) });
    expect(enc.jsonFallbacks).toBe(1);
    expect(JSON.parse(enc.item.requestParameters.S!)).toEqual(deep);
  });

  it('keeps nesting at the limit as a map, one more level as text', () => {
    // MAX_CONTAINER_DEPTH maps around a scalar: the scalar sits at level 32 counting the attribute as level 1.
    const atLimit = itemOf(row({ requestParameters: nest(MAX_CONTAINER_DEPTH) }));
    expect(atLimit.requestParameters.M).toBeDefined();
    const over = itemOf(row({ requestParameters: nest(MAX_CONTAINER_DEPTH + 1) }));
    expect(over.requestParameters.S).toBeDefined();
    // Lists count as levels too.
    let list: unknown = 1;
    for (let i = 0; i < MAX_CONTAINER_DEPTH + 1; i++) list = [list];
    expect(itemOf(row({ responseElements: list })).responseElements.S).toBe(JSON.stringify(list));
  });

  it('stores numbers DynamoDB cannot represent as JSON text', () => {
    for (const bad of [1e300, -1e126, 5e-324, -1e-200]) {
      const enc = encodeRow(row({ requestParameters: { x: { y: [bad] } } }));
      expect(enc.item.requestParameters.S).toBe(JSON.stringify({ x: { y: [bad] } }));
      expect(enc.jsonFallbacks).toBe(1);
    }
    // Only the attribute holding the bad number changes.
    const item = itemOf(row({ responseElements: { n: 1e300 } }));
    expect(item.requestParameters.M).toBeDefined();
    expect(item.responseElements).toEqual({ S: '{"n":1e+300}' });
  });

  it('stores a map with an empty key (or a key of 64 KB) as JSON text', () => {
    const empty = itemOf(row({ additionalEventData: { '': 'x', ok: 1 } }));
    expect(empty.additionalEventData).toEqual({ S: '{"":"x","ok":1}' });
    const longKey = 'k'.repeat(65_536);
    expect(itemOf(row({ requestParameters: { [longKey]: 1 } })).requestParameters.S).toBeDefined();
    expect(itemOf(row({ requestParameters: { ['k'.repeat(1000)]: 1 } })).requestParameters.M).toBeDefined();
  });

  it('keeps a "__proto__" key from JSON.parse as data', () => {
    const rp = JSON.parse('{"__proto__":{"a":1},"b":2}') as unknown;
    const item = itemOf(row({ requestParameters: rp }));
    expect(Object.keys(item.requestParameters.M!)).toEqual(['__proto__', 'b']);
    expect(Object.getPrototypeOf(item.requestParameters.M)).toBe(Object.prototype);
  });

  it('keeps a 350 KB requestParameters as a map when the item still fits', () => {
    const rp = { blob: 'a'.repeat(350 * KB) };
    const enc = encodeRow(row({ requestParameters: rp }));
    expect(enc.item.requestParameters.M).toBeDefined();
    expect(enc.truncated).toBe(false);
    expect(itemSize(enc.item)).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
  });

  it('turns an oversize document into JSON text and truncates it, marking the item', () => {
    const rp = { blob: 'a'.repeat(350 * KB), more: ['x'.repeat(10)] };
    const re = { body: 'b'.repeat(100 * KB) };
    const r = row({ requestParameters: rp, responseElements: re });
    const enc = encodeRow(r);
    expect(enc.truncated).toBe(true);
    expect(enc.item.truncated).toEqual({ BOOL: true });
    const text = enc.item.requestParameters.S!;
    expect(text).toMatch(/…\[truncated: \d+ bytes not stored; full record in sourceObject\]$/);
    const full = JSON.stringify(rp);
    const missing = Number(/truncated: (\d+) bytes/.exec(text)![1]);
    expect(text.startsWith(full.slice(0, 1000))).toBe(true);
    expect(full.length - missing).toBe(text.indexOf('…'));
    // The smaller document still fits as a map.
    expect(enc.item.responseElements.M).toBeDefined();
    expect(enc.jsonFallbacks).toBe(1);
    // Under the budget by an independent count, and never over DynamoDB's limit.
    expect(enc.bytes).toBe(itemSize(enc.item));
    expect(enc.bytes).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
    expect(enc.bytes).toBeGreaterThan(ITEM_BYTE_BUDGET - 200); // cut just enough
    expect(itemSize(enc.item)).toBeLessThan(MAX_ITEM_BYTES);
    // Keys and the pointer to the full record are untouched.
    expect(enc.item.identity).toEqual({ S: r.identity });
    expect(enc.item.sourceObject).toEqual({ S: r.sourceObject });
  });

  it('cuts multi-byte text on a character boundary', () => {
    const rp = { s: '€'.repeat(200 * KB) }; // 3 bytes each: ~600 KB
    const enc = encodeRow(row({ requestParameters: rp }));
    expect(enc.truncated).toBe(true);
    const text = enc.item.requestParameters.S!;
    expect(text).not.toContain('\uFFFD');
    expect(itemSize(enc.item)).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
  });

  it('truncates several documents when one is not enough', () => {
    const r = row({
      requestParameters: 'p'.repeat(300 * KB),
      responseElements: 'q'.repeat(300 * KB),
      additionalEventData: 'r'.repeat(300 * KB),
    });
    const enc = encodeRow(r);
    expect(enc.truncated).toBe(true);
    expect(itemSize(enc.item)).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
    expect(enc.item.eventKey).toEqual({ S: r.eventKey });
  });

  describe('sizes', () => {
    it('follows DynamoDB item size rules', () => {
      // name + UTF-8 bytes; map/list 3 + 1 per element; null/bool 1.
      const item: Record<string, AttributeValue> = {
        s: { S: 'héllo' }, // 1 + 6
        b: { BOOL: true }, // 1 + 1
        z: { NULL: true }, // 1 + 1
        m: { M: { ab: { S: 'x' }, c: { L: [{ S: '' }, { NULL: true }] } } }, // 1 + 3 + (2+1+1) + (1+ (3+2+0+1) +1)
      };
      expect(itemSize(item)).toBe(7 + 2 + 2 + (1 + 3 + 4 + (1 + 6 + 1)));
      // Numbers: never under DynamoDB's (digits / 2 + 1).
      for (const n of ['0', '7', '-12345.678', '1.7976931348623157e+308', '12345678901234567000']) {
        const digits = n.replace(/[^0-9]/g, '').replace(/^0+|0+$/g, '').length;
        expect(attributeSize({ N: n })).toBeGreaterThanOrEqual(Math.ceil(digits / 2) + 1);
      }
    });

    it('reports the same size the items measure, for ordinary rows', () => {
      const enc = encodeRow(row());
      expect(enc.bytes).toBe(itemSize(enc.item));
    });

    it('keeps maps just under the budget, shortens just over it', () => {
      const base = encodeRow(row({ requestParameters: { blob: '' } })).bytes;
      const room = ITEM_BYTE_BUDGET - base;
      const fits = encodeRow(row({ requestParameters: { blob: 'x'.repeat(room) } }));
      expect(fits.bytes).toBe(ITEM_BYTE_BUDGET);
      expect(fits.item.requestParameters.M).toBeDefined();
      expect(fits.truncated).toBe(false);
      const over = encodeRow(row({ requestParameters: { blob: 'x'.repeat(room + 1) } }));
      expect(over.item.requestParameters.S).toBeDefined();
      expect(over.truncated).toBe(true);
      expect(over.bytes).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
      expect(over.bytes).toBe(itemSize(over.item));
    });
  });

  describe('keys', () => {
    it('clamps over-long keys to a prefix and a hash, deterministically', () => {
      const longId = 'x'.repeat(3000) + '@example.com';
      const longKey = '2024-05-01T10:00:00Z#' + 'é'.repeat(800);
      const a = itemOf(row({ identity: longId, eventKey: longKey, actor: 'a'.repeat(5000) }));
      const b = itemOf(row({ identity: longId, eventKey: longKey, actor: 'a'.repeat(5000) }));
      expect(a).toEqual(b);
      const id = a.identity.S!;
      expect(Buffer.byteLength(id)).toBeLessThanOrEqual(2048);
      expect(id.endsWith('#' + createHash('sha256').update(longId).digest('hex'))).toBe(true);
      expect(longId.startsWith(id.slice(0, id.length - 65))).toBe(true);
      expect(Buffer.byteLength(a.eventKey.S!)).toBeLessThanOrEqual(1024);
      expect(a.eventKey.S!.startsWith('2024-05-01T10:00:00Z#é')).toBe(true);
      expect(a.eventKey.S!).not.toContain('\uFFFD');
      expect(Buffer.byteLength(a.actor.S!)).toBeLessThanOrEqual(2048);
      // Different long values stay different.
      const c = itemOf(row({ identity: longId + 'y' }));
      expect(c.identity.S).not.toBe(id);
    });

    it('keeps keys at exactly the limit', () => {
      const id = 'i'.repeat(2048);
      expect(itemOf(row({ identity: id })).identity.S).toBe(id);
      const sk = 's'.repeat(1024);
      expect(itemOf(row({ eventKey: sk })).eventKey.S).toBe(sk);
    });

    it('falls back to "unknown" for an empty actor or eventName, refuses an empty identity or eventKey', () => {
      const item = itemOf(row({ actor: '', eventName: '' }));
      expect(item.actor).toEqual({ S: 'unknown' });
      expect(item.eventName).toEqual({ S: 'unknown' });
      expect(() => itemOf(row({ identity: '' }))).toThrow(/identity/);
      expect(() => itemOf(row({ eventKey: '' }))).toThrow(/eventKey/);
    });
  });

  describe('an identities list over the item limit', () => {
    const small = oversizeIdentitiesRow('x');
    const ids = small.identities;

    it('keeps the first identities that fit and marks the item truncated (it used to throw RangeError)', () => {
      const enc = encodeRow(small);
      // Counted by hand, name + value: identity 8+1006, eventKey 8+22, actor 5+1, eventName 9+33,
      // identityKind 12+6, eventTime 9+20, eventID 7+1, eventSource 11+17, sourceObject 12+8, ingestedAt 10+1,
      // truncated 9+1, identities 10 + 3 = 1229; each entry 1006 + 1. 1229 + 395 * 1007 = 398994 <= 400000,
      // one more would be 400001.
      expect(enc.truncated).toBe(true);
      expect(enc.item.truncated).toEqual({ BOOL: true });
      expect(enc.item.identities.L).toEqual(ids.slice(0, 395).map((S) => ({ S })));
      expect(enc.bytes).toBe(398_994);
      expect(itemSize(enc.item)).toBe(398_994);
      expect(enc.jsonFallbacks).toBe(0);
      expect(enc.item.identity).toEqual({ S: ids[0] });
    });

    it('cuts a larger document first, then the list', () => {
      const enc = encodeRow({ ...small, requestParameters: { identities: ids } });
      // The map (503 KB) is the largest: it becomes JSON text, 15 + 500 * 1008 + 499 + 2 = 504516 bytes,
      // which is cut to nothing but the note (68 bytes), and the list to what fits after it:
      // 1229 + 17 (name) + 68 + 395 * 1007 = 399079.
      expect(enc.truncated).toBe(true);
      expect(enc.jsonFallbacks).toBe(1);
      expect(enc.item.requestParameters).toEqual({ S: '…[truncated: 504516 bytes not stored; full record in sourceObject]' });
      expect(enc.item.identities.L).toEqual(ids.slice(0, 395).map((S) => ({ S })));
      expect(enc.bytes).toBe(399_079);
      expect(itemSize(enc.item)).toBe(399_079);
    });
  });

  describe('shapes JSON.parse never makes, but rows built by hand can hold', () => {
    it('a hole or undefined in a list is NULL, as JSON.stringify writes it; undefined in a map is left out', () => {
      const holes = [1, , 3];
      const item = itemOf(row({ requestParameters: { list: [1, undefined, 'x'], holes, gone: undefined, kept: 0 } }));
      expect(item.requestParameters).toEqual({
        M: {
          list: { L: [{ N: '1' }, { NULL: true }, { S: 'x' }] },
          holes: { L: [{ N: '1' }, { NULL: true }, { N: '3' }] },
          kept: { N: '0' },
        },
      });
    });

    it('a key of exactly 65535 bytes is a map key; 65536 is not', () => {
      expect(itemOf(row({ requestParameters: { ['k'.repeat(65_535)]: 1 } })).requestParameters.M).toBeDefined();
      expect(itemOf(row({ requestParameters: { ['k'.repeat(65_536)]: 1 } })).requestParameters.S).toBeDefined();
    });

    it('NaN and infinities are not DynamoDB numbers: the document goes in as JSON text', () => {
      expect(itemOf(row({ requestParameters: { n: Number.NaN } })).requestParameters).toEqual({ S: '{"n":null}' });
      expect(itemOf(row({ requestParameters: { n: -Infinity } })).requestParameters).toEqual({ S: '{"n":null}' });
    });

    it('an object that is not a plain one (a Date, a Map) goes in as JSON text; a null-prototype object is a map', () => {
      const date = itemOf(row({ requestParameters: { at: new Date(0) } }));
      expect(date.requestParameters).toEqual({ S: '{"at":"1970-01-01T00:00:00.000Z"}' });
      const bare: Record<string, unknown> = Object.create(null);
      bare.a = 'b';
      expect(itemOf(row({ requestParameters: bare })).requestParameters).toEqual({ M: { a: { S: 'b' } } });
    });

    it('a bigint is a number up to 38 significant digits and an exponent of 125, else the document is text', () => {
      const ok = itemOf(
        row({
          requestParameters: {
            big: 12345678901234567890123456789012345678n, // 38 digits
            neg: -12345678901234567890123456789012345678n,
            zeros: 10n ** 125n, // 1 significant digit, exponent 125
          },
        }),
      );
      expect(ok.requestParameters.M).toEqual({
        big: { N: '12345678901234567890123456789012345678' },
        neg: { N: '-12345678901234567890123456789012345678' },
        zeros: { N: `1${'0'.repeat(125)}` },
      });
      // Trailing zeros are not significant digits: 38 digits then ten zeros is still a number.
      const scaled = 12345678901234567890123456789012345678n * 10n ** 10n;
      const enc = encodeRow(row({ requestParameters: { scaled } }));
      expect(enc.item.requestParameters).toEqual({ M: { scaled: { N: `12345678901234567890123456789012345678${'0'.repeat(10)}` } } });
      expect(enc.bytes).toBe(itemSize(enc.item));
      expect(itemOf(row({ requestParameters: { n: 123456789012345678901234567890123456789n } })).requestParameters).toEqual({
        S: '{"n":"123456789012345678901234567890123456789"}',
      });
      expect(itemOf(row({ requestParameters: { n: 10n ** 126n } })).requestParameters).toEqual({ S: `{"n":"1${'0'.repeat(126)}"}` });
    });

    it('a function or symbol in a document is not data: the document goes in as JSON text, without it', () => {
      expect(itemOf(row({ requestParameters: { f: () => 1, a: 1 } })).requestParameters).toEqual({ S: '{"a":1}' });
      expect(itemOf(row({ requestParameters: { s: Symbol('x'), a: 1 } })).requestParameters).toEqual({ S: '{"a":1}' });
    });

    it('counts as a JSON fallback only a document attribute stored as text', () => {
      const enc = encodeRow(row({ expiresAt: Number.NaN }));
      expect(enc.item.expiresAt).toEqual({ S: 'null' });
      expect(enc.jsonFallbacks).toBe(0);
    });
  });

  describe('key attributes', () => {
    it('a row without actor or eventName gets "unknown"; one without findings has no severity (the sparse index)', () => {
      const r = row();
      delete (r as Partial<AuditRow>).actor;
      delete (r as Partial<AuditRow>).eventName;
      const item = itemOf(r);
      expect(item.actor).toEqual({ S: 'unknown' });
      expect(item.eventName).toEqual({ S: 'unknown' });
      expect('severity' in item).toBe(false);
      const enc = encodeRow(r);
      expect(enc.bytes).toBe(itemSize(enc.item));
      expect(itemOf(row({ findings: ['identity-deleted'], severity: 'high' })).severity).toEqual({ S: 'high' });
    });

    it('a row without identity is refused', () => {
      const r = row();
      delete (r as Partial<AuditRow>).identity;
      expect(() => itemOf(r)).toThrow('audit row without identity: the row builder must set it');
    });
  });

  describe('what is never cut', () => {
    it('sourceObject stays whole even when it is the largest text: the others are cut', () => {
      const sourceObject = `s3://bucket/${'k'.repeat(300 * KB)}`;
      const enc = encodeRow(row({ sourceObject, requestParameters: { blob: 'a'.repeat(200 * KB) } }));
      expect(enc.item.sourceObject).toEqual({ S: sourceObject });
      expect(enc.truncated).toBe(true);
      expect(enc.item.requestParameters.S).toMatch(/…\[truncated: \d+ bytes not stored; full record in sourceObject\]$/);
      expect(itemSize(enc.item)).toBeLessThanOrEqual(ITEM_BYTE_BUDGET);
    });

    it('a row whose keys and sourceObject alone are over the limit is refused, with its size; nothing else is touched', () => {
      // Every attribute but sourceObject is tiny. Counted by hand, name + value: identity 8+1, eventKey 8+1,
      // actor 5+1, eventName 9+1, identityKind 12+6, identities 10+(3+1+1), eventTime 9+1, eventID 7+1,
      // eventSource 11+1, sourceObject 12+400000, ingestedAt 10+1, readOnly 8+1, expiresAt 9+3 (number "1"),
      // findings 8+(3+1+1), severity 8+4, additionalEventData 19+1 (a boolean) = 400186. Texts shorter than
      // the truncation note are left alone; identities loses its entry (-2 bytes, +10 for truncated): 400194.
      const r: AuditRow = {
        identity: 'a',
        eventKey: 'k',
        actor: 'a',
        eventName: 'e',
        identityKind: 'domain',
        identities: ['a'],
        eventTime: 't',
        eventID: 'i',
        eventSource: 's',
        sourceObject: 's'.repeat(400_000),
        ingestedAt: 'x',
        readOnly: true,
        expiresAt: 1,
        findings: ['f'],
        severity: 'high',
        additionalEventData: true,
      };
      expect(() => encodeRow(r)).toThrow(new RangeError('audit row k is 400194 bytes and nothing left to shorten'));
    });
  });

  describe('how an oversize item is brought under the budget', () => {
    it('a document that is a list goes in as JSON text and is cut like one', () => {
      const enc = encodeRow(row({ requestParameters: ['x'.repeat(300 * KB), 'y'.repeat(200 * KB)] }));
      expect(enc.truncated).toBe(true);
      expect(enc.jsonFallbacks).toBe(1);
      expect(enc.item.requestParameters.S).toMatch(/^\["x{307200}","y+…\[truncated: \d+ bytes not stored; full record in sourceObject\]$/);
      expect(itemSize(enc.item)).toBe(ITEM_BYTE_BUDGET);
    });

    it('a document that fits once it is text is not marked truncated', () => {
      // 110000 ones: as a list 3 + 110000 * (1 + 3) bytes, as text 2 bytes each.
      const enc = encodeRow(row({ requestParameters: { n: new Array(110_000).fill(1) } }));
      expect(enc.item.requestParameters).toEqual({ S: `{"n":[${new Array(110_000).fill(1).join(',')}]}` });
      expect(enc.truncated).toBe(false);
      expect('truncated' in enc.item).toBe(false);
      expect(enc.jsonFallbacks).toBe(1);
      expect(enc.bytes).toBe(itemSize(enc.item));
    });

    it('of two texts of the same size, the first attribute is cut', () => {
      const enc = encodeRow(row({ requestParameters: 'p'.repeat(250 * KB), responseElements: 'q'.repeat(250 * KB) }));
      expect(enc.item.requestParameters.S).toMatch(/^p+…\[truncated/);
      expect(enc.item.responseElements).toEqual({ S: 'q'.repeat(250 * KB) });
    });

    it('a list of keys loses exactly as many entries as the excess needs', () => {
      // As in 'an identities list over the item limit', with ingestedAt 1006 bytes longer: the excess is then
      // exactly 105 entries of 1007 bytes, and the item lands on the budget itself.
      const enc = encodeRow(oversizeIdentitiesRow('x'.repeat(1007)));
      expect(enc.item.identities.L).toHaveLength(395);
      expect(enc.bytes).toBe(400_000);
    });
  });

  describe('attributeSize: the types rows do not use', () => {
    it('binary and sets, by DynamoDB\'s rules', () => {
      expect(attributeSize({ B: new Uint8Array(5) })).toBe(5);
      expect(attributeSize({ SS: ['ab', 'é'] })).toBe(4);
      expect(attributeSize({ NS: ['1', '123'] })).toBe(3 + 4);
      expect(attributeSize({ BS: [new Uint8Array(2), new Uint8Array(3)] })).toBe(5);
    });
  });
});
