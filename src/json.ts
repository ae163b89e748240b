/**
 * Narrowing helpers for parsed JSON (Lambda events, CloudTrail records), which arrives as `unknown`: every
 * field is checked before use. The one home of these helpers for the whole code base.
 */
export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value as an object (not null, not an array), else undefined. */
export function asObject(value: unknown): JsonObject | undefined {
  return isObject(value) ? value : undefined;
}

/** A string that is not empty, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function nonNegativeNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

/** `obj.a.b.c` when every step is an object, else undefined. */
export function path(value: unknown, ...keys: string[]): unknown {
  let cur = value;
  for (const k of keys) {
    if (!isObject(cur)) return undefined;
    cur = cur[k];
  }
  return cur;
}

/** The top-level keys of a value, for error messages that say what was seen. */
export function describeKeys(value: unknown, max = 10): string {
  if (!isObject(value)) return Array.isArray(value) ? 'an array' : value === null ? 'null' : `a ${typeof value}`;
  const keys = Object.keys(value);
  if (keys.length === 0) return 'no keys';
  const shown = keys.slice(0, max).join(', ');
  return `keys: ${shown}${keys.length > max ? `, ... (${keys.length} in all)` : ''}`;
}
