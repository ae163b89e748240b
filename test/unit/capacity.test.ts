/**
 * The write-unit model (src/store/capacity.ts) against item sizes worked out by hand from DynamoDB's published
 * rules: name bytes + value bytes; strings UTF-8; numbers 1 byte per two significant digits + 1; booleans and
 * null 1; lists and maps 3 + 1 per element + the elements; binaries their raw bytes.
 */
import { describe, expect, it } from 'vitest';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { indexEntry, itemBytes, numberBytes, valueBytes, writeCost, writeUnits } from '../../src/store/capacity.js';
import type { IndexSpec } from '../../src/store/schema.js';

describe('item size', () => {
  it('counts each type as the Developer Guide says', () => {
    const item: Record<string, AttributeValue> = {
      a: { S: 'héllo' }, // 1 + 6 (é is two bytes)            = 7
      n: { N: '123.4500' }, // 1 + ceil(5 digits / 2) + 1      = 5
      z: { N: '0.001' }, // 1 + ceil(1 / 2) + 1                = 3
      b: { BOOL: false }, // 1 + 1                             = 2
      x: { NULL: true }, // 1 + 1                              = 2
      l: { L: [{ S: 'ab' }, { N: '7' }] }, // 1 + 3 + (1 + 2) + (1 + 2) = 10
      m: { M: { k: { S: 'v' }, kk: { BOOL: true } } }, // 1 + 3 + (1 + 1 + 1) + (1 + 2 + 1) = 11
      bin: { B: new Uint8Array([1, 2, 3]) }, // 3 + 3      = 6
    };
    expect(itemBytes(item)).toBe(7 + 5 + 3 + 2 + 2 + 10 + 11 + 6);
  });

  it('counts significant digits only: no sign, point, exponent, or leading and trailing zeros', () => {
    expect(numberBytes('1795012345')).toBe(6); // 10 digits
    expect(numberBytes('1795000000')).toBe(3); // 1795: 4 digits
    expect(numberBytes('-0.5')).toBe(2);
    expect(numberBytes('1.5E+3')).toBe(2);
    expect(numberBytes('0')).toBe(2);
    expect(numberBytes('12345678901234567890123456789012345678')).toBe(20); // 38 digits
  });

  it('counts empty containers and sets', () => {
    expect(valueBytes({ L: [] })).toBe(3);
    expect(valueBytes({ M: {} })).toBe(3);
    expect(valueBytes({ SS: ['ab', 'c'] })).toBe(3);
    expect(valueBytes({ NS: ['10', '123'] })).toBe(2 + 3);
  });
});

describe('write units', () => {
  it('rounds each item up to whole kilobytes, one at least', () => {
    expect([0, 1, 1024, 1025, 2048, 2049].map(writeUnits)).toEqual([1, 1, 1, 2, 2, 3]);
  });

  // identity 8+11, eventKey 8+23, actor 5+36, eventName 9+14, errorCode 9+12, userAgent 9+1000: 1144 bytes.
  const item: Record<string, AttributeValue> = {
    identity: { S: 'example.com' },
    eventKey: { S: '2026-11-20T10:15:00Z#e1' },
    actor: { S: 'arn:aws:iam::111122223333:user/carol' },
    eventName: { S: 'DeleteIdentity' },
    errorCode: { S: 'AccessDenied' },
    userAgent: { S: 'x'.repeat(1000) },
  };
  const indexes: IndexSpec[] = [
    { name: 'byActor', partitionKey: 'actor', sortKey: 'eventKey', projection: { type: 'INCLUDE', attributes: ['eventName', 'errorCode', 'userName'] }, sparse: false },
    { name: 'byEventName', partitionKey: 'eventName', sortKey: 'eventKey', projection: { type: 'KEYS_ONLY' }, sparse: false },
    { name: 'bySeverity', partitionKey: 'severity', sortKey: 'eventKey', projection: { type: 'ALL' }, sparse: true },
  ];

  it('adds one write per index the item is in, sized by what the index projects', () => {
    expect(itemBytes(item)).toBe(1144);
    // byActor: identity, eventKey, actor, eventName, errorCode (userName absent) = 19 + 31 + 41 + 23 + 21.
    // byEventName: identity, eventKey, eventName = 19 + 31 + 23. bySeverity: no severity, not in it.
    expect(writeCost(item, indexes)).toEqual({
      bytes: 1144,
      table: 2,
      indexes: { byActor: 1, byEventName: 1 },
      indexBytes: { byActor: 135, byEventName: 73 },
      total: 4,
    });
  });

  it('prices a sparse index only for items carrying its key, at the whole item for ALL', () => {
    const withFinding = { ...item, severity: { S: 'medium' } }; // + 8 + 6
    expect(writeCost(withFinding, indexes)).toMatchObject({ bytes: 1158, table: 2, indexes: { byActor: 1, byEventName: 1, bySeverity: 2 }, total: 6 });
  });

  it('prices a hypothetical rule that leaves items out of an index', () => {
    const cost = writeCost(item, indexes, { include: (index) => index.name !== 'byEventName' });
    expect(cost.indexes).toEqual({ byActor: 1 });
    expect(cost.total).toBe(3);
  });

  it('builds the index entry from the table keys, the index keys and the projection', () => {
    expect(Object.keys(indexEntry(item, indexes[0]) ?? {}).sort()).toEqual(['actor', 'errorCode', 'eventKey', 'eventName', 'identity']);
    expect(indexEntry(item, indexes[2])).toBeUndefined();
    expect(indexEntry({ ...item, severity: { S: 'low' } }, indexes[2])).toHaveProperty('userAgent');
  });
});
