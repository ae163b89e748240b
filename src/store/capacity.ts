/**
 * What a row costs to write, by DynamoDB's published rules: the cost model of docs/cost.md, used by the bench
 * (`npm run bench -- --suite cost`) and checked by tests against item sizes worked out by hand.
 *
 * Item size (Developer Guide, "Item sizes and formats", CapacityUnitCalculations.html): the sum over
 * attributes of the UTF-8 bytes of the name plus the value's size, where a string is its UTF-8 bytes, a number
 * 1 byte per two significant digits plus 1, a binary its raw bytes, a boolean or null 1 byte, and a list or map
 * 3 bytes plus its elements plus 1 byte per element (a map element's name counting as an attribute name).
 * Sets are counted as the sum of their elements: the guide gives no overhead for them.
 *
 * Write units (same page, and "Global secondary indexes", GSI.html#GSI.ThroughputConsiderations.Writes):
 * - a new item costs ceil(size / 1 KB) write units in the table (BatchWriteItem rounds each item on its own);
 * - each global secondary index the item is in (it carries the index's key attributes: a sparse index skips the
 *   rest) costs one more write, sized by the index entry: the table's keys, the index's keys and the projected
 *   attributes, rounded up to 1 KB alike. The 100 bytes per index item the guide adds are storage only.
 * Not modelled: overwriting an existing item (a replay) costs the larger of the old and new sizes, the same for
 * identical rows; TTL deletions are free.
 *
 * marshal.ts has its own estimate for the 400 KB item limit, which over-counts numbers on purpose; this one
 * follows the documented rule exactly, since it prices items rather than guards a limit.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { INDEX_LIST, PARTITION_KEY, SORT_KEY, type IndexSpec } from './schema.js';

/** One write unit covers an item of up to 1 KB. */
export const WRITE_UNIT_BYTES = 1024;

/** Significant digits of DynamoDB number text: no sign, point or exponent; leading and trailing zeros trimmed. */
function significantDigits(text: string): number {
  const mantissa = text.replace(/^[+-]/, '').replace(/[eE].*$/, '').replace('.', '');
  const trimmed = mantissa.replace(/^0+/, '').replace(/0+$/, '');
  return Math.max(1, trimmed.length);
}

/** Size of a number: 1 byte per two significant digits, plus 1. */
export function numberBytes(text: string): number {
  return Math.ceil(significantDigits(text) / 2) + 1;
}

/** Size of one value (without its name). */
export function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S, 'utf8');
  if (v.N !== undefined) return numberBytes(v.N);
  if (v.B !== undefined) return v.B.length;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.L !== undefined) {
    let n = 3;
    for (const x of v.L) n += 1 + valueBytes(x);
    return n;
  }
  if (v.M !== undefined) return 3 + Object.keys(v.M).length + itemBytes(v.M);
  if (v.SS !== undefined) return v.SS.reduce((n, s) => n + Buffer.byteLength(s, 'utf8'), 0);
  if (v.NS !== undefined) return v.NS.reduce((n, s) => n + numberBytes(s), 0);
  if (v.BS !== undefined) return v.BS.reduce((n, b) => n + b.length, 0);
  return 0;
}

/** Size of an item (or of a map's contents): name bytes plus value sizes. */
export function itemBytes(item: Record<string, AttributeValue>): number {
  let n = 0;
  for (const name in item) n += Buffer.byteLength(name, 'utf8') + valueBytes(item[name]);
  return n;
}

/** Write units for an item of this size: whole kilobytes, rounded up, at least one. */
export function writeUnits(bytes: number): number {
  return Math.max(1, Math.ceil(bytes / WRITE_UNIT_BYTES));
}

/**
 * The entry an index holds for an item, or undefined when the item lacks the index's key attributes (a sparse
 * index) or `include` leaves it out.
 */
export function indexEntry(item: Record<string, AttributeValue>, index: IndexSpec): Record<string, AttributeValue> | undefined {
  if (item[index.partitionKey] === undefined || item[index.sortKey] === undefined) return undefined;
  if (index.projection.type === 'ALL') return item;
  const names = new Set([PARTITION_KEY, SORT_KEY, index.partitionKey, index.sortKey]);
  if (index.projection.type === 'INCLUDE') for (const a of index.projection.attributes) names.add(a);
  const entry: Record<string, AttributeValue> = {};
  for (const name of names) if (item[name] !== undefined) entry[name] = item[name];
  return entry;
}

export interface WriteCost {
  /** Item size in the table. */
  bytes: number;
  /** Write units in the table. */
  table: number;
  /** Write units per index the item is in (absent: not in it). */
  indexes: Record<string, number>;
  /** Size of each index entry. */
  indexBytes: Record<string, number>;
  /** Table and indexes together. */
  total: number;
}

export interface CostOptions {
  /** Whether an index takes this item: a hypothetical sparse rule to price (default: every item with its keys). */
  include?: (index: IndexSpec, item: Record<string, AttributeValue>) => boolean;
}

/** What writing a new item costs in the table and each index of `indexes` (default: the schema's). */
export function writeCost(item: Record<string, AttributeValue>, indexes: readonly IndexSpec[] = INDEX_LIST, options: CostOptions = {}): WriteCost {
  const bytes = itemBytes(item);
  const table = writeUnits(bytes);
  const cost: WriteCost = { bytes, table, indexes: {}, indexBytes: {}, total: table };
  for (const index of indexes) {
    const entry = indexEntry(item, index);
    if (entry === undefined || (options.include && !options.include(index, item))) continue;
    const size = entry === item ? bytes : itemBytes(entry);
    const units = writeUnits(size);
    cost.indexes[index.name] = units;
    cost.indexBytes[index.name] = size;
    cost.total += units;
  }
  return cost;
}
