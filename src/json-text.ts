/**
 * JSON text of a value, at any depth. JSON.parse takes documents nested thousands of levels deep (it is not
 * recursive), but JSON.stringify is, and throws "Maximum call stack size exceeded" on the way back out: a
 * CloudTrail record with a deeply nested `requestParameters` is valid, and its row must still print and
 * store. jsonText gives exactly what JSON.stringify gives where that works, and the same text where it does
 * not, by walking with an explicit stack.
 */

/** `JSON.stringify(value)` without the depth limit; never throws. undefined for what JSON cannot express. */
export function jsonText(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof RangeError) return deepText(value);
  }
  // A BigInt (JSON.parse never makes one, rows built by hand may) or a cycle (not JSON data at all).
  try {
    return JSON.stringify(value, bigintAsString);
  } catch (err) {
    return err instanceof RangeError ? deepText(value) : safeString(value);
  }
}

/** BigInt has no JSON form: written as a string of its digits. */
function bigintAsString(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? value.toString() : value;
}

function safeString(value: unknown): string {
  try {
    return String(value);
  } catch {
    return Object.prototype.toString.call(value);
  }
}

/** One scalar (or a value JSON.stringify leaves out), as JSON.stringify writes it. */
function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      return Number.isFinite(v) ? String(v) : 'null';
    case 'boolean':
      return v ? 'true' : 'false';
    case 'bigint':
      return JSON.stringify(v.toString());
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
    default:
      return v === null ? 'null' : undefined;
  }
}

interface Frame {
  value: object;
  /** The container's entries still to write: [key or undefined for arrays, value]. */
  entries: Array<[string | undefined, unknown]>;
  next: number;
  array: boolean;
  wrote: boolean;
}

/** The iterative walk: objects (own enumerable keys in order) and arrays, like JSON.stringify without toJSON. */
function deepText(root: unknown): string | undefined {
  if (root === null || typeof root !== 'object') return scalarText(root);
  const out: string[] = [];
  const stack: Frame[] = [];
  // Containers being written: one met again inside itself is a cycle, which JSON cannot express.
  const open = new Set<object>();
  const enter = (v: object): void => {
    open.add(v);
    const array = Array.isArray(v);
    const entries: Array<[string | undefined, unknown]> = array
      ? Array.from(v, (x): [undefined, unknown] => [undefined, x])
      : Object.entries(v);
    out.push(array ? '[' : '{');
    stack.push({ value: v, entries, next: 0, array, wrote: false });
  };
  enter(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    if (top.next === top.entries.length) {
      out.push(top.array ? ']' : '}');
      open.delete(top.value);
      stack.pop();
      continue;
    }
    const [key, v] = top.entries[top.next++];
    const isContainer = v !== null && typeof v === 'object';
    const text = isContainer ? '' : scalarText(v);
    // Objects leave out what JSON cannot express; arrays write null in its place.
    if (!isContainer && text === undefined && !top.array) continue;
    if (top.wrote) out.push(',');
    top.wrote = true;
    if (!top.array) out.push(`${JSON.stringify(key)}:`);
    if (!isContainer) out.push(text ?? 'null');
    else if (open.has(v)) return safeString(root);
    else enter(v);
  }
  return out.join('');
}
