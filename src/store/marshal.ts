/**
 * AuditRow -> DynamoDB item (low-level AttributeValues).
 *
 * Hand-rolled rather than `marshall()` from util-dynamodb for three reasons: it runs once per row, so a single
 * pass that converts and measures at once is cheaper; `marshall()` throws on numbers above
 * Number.MAX_SAFE_INTEGER (JSON.parse yields those from large integers in CloudTrail payloads); and we need to
 * know, per attribute, whether DynamoDB could hold the value as a map at all.
 *
 * DynamoDB limits applied (Developer Guide, "Constraints" and "Item sizes and formats"):
 * - item <= 400 KB, counted as attribute-name bytes + value bytes; List/Map 3 bytes + 1 byte per element;
 *   Number ~ 1 byte per two significant digits + 1; Null/Boolean 1 byte. We aim below ITEM_BYTE_BUDGET.
 * - nesting: 32 levels counting the top-level attribute as level 1, i.e. at most 31 maps/lists deep.
 * - attribute names (map keys too) 1 byte .. < 64 KB.
 * - numbers: at most 38 significant digits, magnitude 1E-130 .. 9.99...E+125 (or 0).
 * - key attributes: non-empty strings, partition key <= 2048 bytes, sort key <= 1024 bytes (GSIs alike).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AuditRow } from '../ses/row.js';
import { INDEX_LIST, PARTITION_KEY, SORT_KEY } from './schema.js';
import { MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES, clampKey, utf8Prefix } from '../ses/key-limits.js';
import { jsonText } from '../json-text.js';

/** DynamoDB's hard item limit (400 KB). */
export const MAX_ITEM_BYTES = 400 * 1024;
/**
 * What encodeRow aims for: under 400 KB even if "KB" meant 1000 bytes, and leaving ~9 KB for any difference
 * between our count and DynamoDB's internal one.
 */
export const ITEM_BYTE_BUDGET = 400_000;
export { MAX_PARTITION_KEY_BYTES, MAX_SORT_KEY_BYTES };
/** Maps/lists that may be nested inside one another, the top-level attribute's own map counting as 1. */
export const MAX_CONTAINER_DEPTH = 31;
/** Map keys are attribute names: 1 byte .. less than 64 KB. */
export const MAX_NAME_BYTES = 65_535;
/** Boolean attribute set on an item whose text had to be cut to fit. */
export const TRUNCATED_ATTRIBUTE = 'truncated';

/** Attributes kept as maps when DynamoDB can hold them, else stored as JSON text (S). */
export const DOCUMENT_ATTRIBUTES = ['requestParameters', 'responseElements', 'additionalEventData'] as const;

/** Byte limit per key attribute (table and GSI keys); `eventKey` is the sort key of all three. */
const KEY_LIMITS: ReadonlyMap<string, number> = new Map([
  [PARTITION_KEY, MAX_PARTITION_KEY_BYTES],
  ...INDEX_LIST.map((i) => [i.partitionKey, MAX_PARTITION_KEY_BYTES] as const),
  [SORT_KEY, MAX_SORT_KEY_BYTES],
]);
/** Key attributes with a documented fallback value (DESIGN.md: actor falls back to `unknown`). */
const KEY_FALLBACK: ReadonlyMap<string, string> = new Map([
  ['actor', 'unknown'],
  ['eventName', 'unknown'],
]);
const DOCUMENT_SET: ReadonlySet<string> = new Set(DOCUMENT_ATTRIBUTES);
/** Keys of sparse indexes: absent on rows that are not in the index. */
const SPARSE_KEYS: ReadonlySet<string> = new Set(INDEX_LIST.filter((i) => i.sparse).map((i) => i.partitionKey));
/**
 * Lists of keys that may lose their last entries to fit: `identities` names every identity of the event, and
 * a malformed call can name hundreds of long ones (each row already has its own in `identity`).
 */
const KEY_LISTS: ReadonlySet<string> = new Set(['identities']);
/** Never cut: the keys, and the pointer to the full record that the truncation note refers to. */
const NOT_TRUNCATABLE: ReadonlySet<string> = new Set([...KEY_LIMITS.keys(), 'sourceObject', TRUNCATED_ATTRIBUTE]);

export interface EncodedRow {
  item: Record<string, AttributeValue>;
  /** Item size by DynamoDB's rules (numbers over-estimated). */
  bytes: number;
  /** How many of DOCUMENT_ATTRIBUTES went in as JSON text instead of a map. */
  jsonFallbacks: number;
  /** Some text was cut to fit the item limit (`truncated: true` is then on the item). */
  truncated: boolean;
}

/**
 * The DynamoDB item for a row, with what the writer reports in its stats. Deterministic: the same row always
 * gives the same item (replays overwrite).
 */
export function encodeRow(row: AuditRow): EncodedRow {
  const item: Record<string, AttributeValue> = {};
  let total = 0;
  let jsonFallbacks = 0;
  // AuditRow is a closed interface without an index signature; its attributes are walked by name here.
  const src = row as unknown as Record<string, unknown>;
  for (const name in src) {
    const value = src[name];
    if (value === undefined) continue;
    const limit = KEY_LIMITS.get(name);
    let attr: AttributeValue | undefined;
    acc = 0;
    if (limit !== undefined) {
      const s = keyValue(name, value, limit);
      attr = { S: s };
      acc = utf8(s);
    } else {
      attr = convert(value, 1);
      if (attr === undefined) {
        // Not representable as a map/list/number (too deep, bad number, bad key name): keep it as text.
        const text = textOf(value);
        attr = { S: text };
        acc = utf8(text);
        if (DOCUMENT_SET.has(name)) jsonFallbacks++;
      }
    }
    item[name] = attr;
    total += name.length + acc; // attribute names of AuditRow are ASCII
  }
  for (const name of KEY_LIMITS.keys()) {
    if (item[name] === undefined && !SPARSE_KEYS.has(name)) {
      const s = keyValue(name, undefined, KEY_LIMITS.get(name)!);
      item[name] = { S: s };
      total += name.length + utf8(s);
    }
  }
  if (total <= ITEM_BYTE_BUDGET) return { item, bytes: total, jsonFallbacks, truncated: false };
  return shrink(item, src, total, jsonFallbacks);
}

// ---------------------------------------------------------------------------------------------------------
// Conversion

/** Bytes of the value being converted; module-level so nodes need no size tuples (conversion is synchronous). */
let acc = 0;
const NULL_ATTR: AttributeValue = { NULL: true };

/** JSON-shaped value -> AttributeValue, adding its size to `acc`; undefined when DynamoDB cannot hold it. */
function convert(v: unknown, depth: number): AttributeValue | undefined {
  switch (typeof v) {
    case 'string':
      acc += utf8(v);
      return { S: v };
    case 'number': {
      const n = numberText(v);
      if (n === undefined) return undefined;
      acc += numberBytes(n);
      return { N: n };
    }
    case 'boolean':
      acc += 1;
      return { BOOL: v };
    case 'bigint': {
      const n = bigintText(v);
      if (n === undefined) return undefined;
      acc += numberBytes(n);
      return { N: n };
    }
    case 'object': {
      if (v === null) {
        acc += 1;
        return { NULL: true };
      }
      if (depth > MAX_CONTAINER_DEPTH) return undefined;
      if (Array.isArray(v)) {
        acc += 3 + v.length;
        const list: AttributeValue[] = new Array(v.length);
        for (let i = 0; i < v.length; i++) {
          const el: unknown = v[i];
          // As JSON.stringify would: a hole or undefined in a list is null.
          const a = el === undefined ? NULL_ATTR : convert(el, depth + 1);
          if (a === undefined) return undefined;
          list[i] = a;
        }
        return { L: list };
      }
      const proto: unknown = Object.getPrototypeOf(v);
      if (proto !== Object.prototype && proto !== null) return undefined; // Date, Buffer, Map...: not JSON-shaped
      acc += 3;
      const map: Record<string, AttributeValue> = {};
      // A plain object (its prototype checked above): JSON.parse output, keyed by strings.
      const obj = v as Record<string, unknown>;
      for (const k in obj) {
        const x = obj[k];
        if (x === undefined) continue;
        const kb = utf8(k);
        if (kb === 0 || kb > MAX_NAME_BYTES) return undefined;
        const a = convert(x, depth + 1);
        if (a === undefined) return undefined;
        // JSON.parse makes "__proto__" an own key; plain assignment would set the prototype instead.
        if (k === '__proto__') Object.defineProperty(map, k, { value: a, enumerable: true, writable: true, configurable: true });
        else map[k] = a;
        acc += kb + 1;
      }
      return { M: map };
    }
    default:
      return undefined; // undefined at top level is skipped by the caller; functions, symbols: not data
  }
}

/** A double as DynamoDB number text, or undefined outside DynamoDB's range (JSON.parse gives e.g. 1e300). */
function numberText(n: number): string | undefined {
  if (!Number.isFinite(n)) return undefined;
  const a = Math.abs(n);
  if (a >= 1e126 || (a !== 0 && a < 1e-130)) return undefined;
  // Shortest round-trip text: <= 17 significant digits; exponent form ("1e+21") is valid number text.
  return String(n);
}

function bigintText(n: bigint): string | undefined {
  const s = n.toString();
  const digits = s.charCodeAt(0) === 45 /* - */ ? s.slice(1) : s;
  const significant = digits.replace(/0+$/, '').length;
  if (significant > 38 || digits.length - 1 > 125) return undefined;
  return s;
}

/** Over-estimate of DynamoDB's "1 byte per two significant digits + 1 byte" (text length counts sign, point, exponent). */
function numberBytes(text: string): number {
  return ((text.length + 1) >> 1) + 2;
}

function utf8(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** JSON text of anything, at any depth; never throws (what JSON cannot express is stored as its string form). */
function textOf(v: unknown): string {
  return jsonText(v) ?? String(v);
}

// ---------------------------------------------------------------------------------------------------------
// Keys

/** A non-empty key string within its byte limit (see clampKey). */
function keyValue(name: string, v: unknown, limit: number): string {
  if (typeof v !== 'string' || v === '') {
    const fallback = KEY_FALLBACK.get(name);
    if (fallback === undefined) throw new TypeError(`audit row without ${name}: the row builder must set it`);
    return fallback;
  }
  return clampKey(v, limit);
}

// ---------------------------------------------------------------------------------------------------------
// Size limit

export function truncationNote(bytesNotStored: number): string {
  return `…[truncated: ${bytesNotStored} bytes not stored; full record in sourceObject]`;
}

/**
 * Brings an over-budget item under ITEM_BYTE_BUDGET, largest attribute first: a document attribute still held
 * as a map becomes JSON text (text can be cut, a map cannot), the largest text is cut with a note saying
 * how much is missing, and a list of keys keeps the entries that fit. Every cut sets `truncated: true`.
 * Only runs for oversize rows, so clarity wins over speed here.
 */
function shrink(item: Record<string, AttributeValue>, row: Record<string, unknown>, total: number, jsonFallbacks: number): EncodedRow {
  const cut = new Set<string>();
  while (total > ITEM_BYTE_BUDGET) {
    let best: string | undefined;
    let bestSize = -1;
    for (const name in item) {
      if (NOT_TRUNCATABLE.has(name) || cut.has(name)) continue;
      const a = item[name];
      const shortenable =
        a.S !== undefined || (DOCUMENT_SET.has(name) && (a.M !== undefined || a.L !== undefined)) || (KEY_LISTS.has(name) && a.L !== undefined);
      if (!shortenable) continue;
      const size = attributeSize(a);
      if (size > bestSize) {
        best = name;
        bestSize = size;
      }
    }
    if (best === undefined) {
      throw new RangeError(`audit row ${item[SORT_KEY].S} is ${total} bytes and nothing left to shorten`);
    }
    const current = item[best];
    if (current.S === undefined) {
      if (DOCUMENT_SET.has(best)) {
        const text = textOf(row[best]);
        item[best] = { S: text };
        total += utf8(text) - bestSize;
        jsonFallbacks++;
        continue;
      }
      // A list of keys keeps its first entries that fit (each entry costs its size and 1 byte).
      total = markTruncated(item, total);
      const list = (current.L ?? []).slice();
      const target = bestSize - (total - ITEM_BYTE_BUDGET);
      let size = bestSize;
      while (list.length > 0 && size > target) size -= attributeSize(list.pop()!) + 1;
      item[best] = { L: list };
      total += size - bestSize;
      cut.add(best);
      continue;
    }
    const note = truncationNote(bestSize); // the real count has at most as many digits: note length is an upper bound
    if (bestSize <= utf8(note)) {
      cut.add(best); // cutting would make it longer
      continue;
    }
    total = markTruncated(item, total);
    const excess = total - ITEM_BYTE_BUDGET;
    const keep = Math.max(0, bestSize - excess - utf8(note));
    const kept = utf8Prefix(current.S, keep);
    const keptBytes = utf8(kept);
    const text = kept + truncationNote(bestSize - keptBytes);
    item[best] = { S: text };
    total += utf8(text) - bestSize;
    cut.add(best);
  }
  return { item, bytes: total, jsonFallbacks, truncated: item[TRUNCATED_ATTRIBUTE] !== undefined };
}

/** Sets `truncated: true` on the item (once), returning the item's new size. */
function markTruncated(item: Record<string, AttributeValue>, total: number): number {
  if (item[TRUNCATED_ATTRIBUTE] !== undefined) return total;
  item[TRUNCATED_ATTRIBUTE] = { BOOL: true };
  return total + TRUNCATED_ATTRIBUTE.length + 1;
}

/** Size of one value by DynamoDB's rules (same estimate as the encoder). */
export function attributeSize(a: AttributeValue): number {
  if (a.S !== undefined) return utf8(a.S);
  if (a.N !== undefined) return numberBytes(a.N);
  if (a.BOOL !== undefined || a.NULL !== undefined) return 1;
  if (a.B !== undefined) return a.B.length;
  if (a.L !== undefined) {
    let n = 3 + a.L.length;
    for (const x of a.L) n += attributeSize(x);
    return n;
  }
  if (a.M !== undefined) return 3 + itemSize(a.M) + Object.keys(a.M).length;
  if (a.SS !== undefined) return a.SS.reduce((n, s) => n + utf8(s), 0);
  if (a.NS !== undefined) return a.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (a.BS !== undefined) return a.BS.reduce((n, b) => n + b.length, 0);
  return 0;
}

/** Item size by DynamoDB's rules: attribute-name bytes + value bytes. */
export function itemSize(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const name in item) n += utf8(name) + attributeSize(item[name]);
  return n;
}
