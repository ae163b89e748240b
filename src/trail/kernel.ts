/**
 * The structural walk of the trail scanner over the elements of the `Records` array: where each element
 * ends, without parsing it, and whether it may be an SES event.
 *
 * Two implementations with the same results (tested against each other and against a reference):
 * - WebAssembly + SIMD128 (kernel.wat, assembled into kernel-wasm.ts): 64 bytes per step, simdjson-style
 *   (quote / backslash / bracket bit masks, odd backslash runs, prefix-XOR in-string mask, popcount fast path,
 *   ctz walk where a depth-0 transition is possible). The bytes are copied into the module's memory first.
 *   It is the default because the function is CPU-bound (a 256 MB Lambda has about 1/7 of a vCPU): on the
 *   bench it costs a fraction of the plain loop's CPU (see docs/performance.md).
 * - Plain JavaScript byte loops: the fallback when WebAssembly SIMD is unavailable (or SES_AUDIT_KERNEL=js),
 *   and the reference the WebAssembly one is tested against. Read this one first.
 *
 * Depth is a counter: brackets are not matched by type (`{]` counts as balanced), and nothing is validated
 * inside an element. Callers that need validity parse the elements they keep.
 *
 * Candidates: an element is flagged when its bytes contain NEEDLE (`"ses.amazonaws.com"`, quotes included)
 * or a `\u` escape (a backslash followed by `u`), anywhere: JSON may spell the event source with `\u`
 * escapes, and a record lost that way would be lost silently. Both are plain byte searches. The scanner then
 * narrows the flagged elements with `isCandidateBytes` (below) before anything is decoded or parsed, and
 * callers parse what is left and check `eventSource` for real.
 */
import { KERNEL_WASM_BASE64 } from './kernel-wasm.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The bytes that make an element a candidate: the SES event source, quoted. */
export const NEEDLE: Buffer = Buffer.from('"ses.amazonaws.com"');
/** ... or the start of a `\uXXXX` escape. */
export const UNICODE_ESCAPE: Buffer = Buffer.from('\\u');

/** The characters of `ses.amazonaws.com`, by code point. */
const SOURCE_CHARS: ReadonlySet<number> = new Set([...'ses.amazonaws.com'].map((c) => c.charCodeAt(0)));

/**
 * Whether an element may be an SES record, exactly: JSON.parse can only give `eventSource` the value
 * `ses.amazonaws.com` if the bytes hold that string literally (NEEDLE) or spell at least one of its characters
 * with a `\uXXXX` escape (JSON's short escapes never give one of them). Escapes of other characters, such as
 * the `\u003d` and `\u0026` some serializers write for `=` and `&`, cannot; an element with only those is
 * not parsed. A backslash-u that is not a well-formed escape (or is an escaped backslash before `u`) counts,
 * to stay on the safe side. Used on every element the kernel flags, and on elements it did not see whole.
 */
export function isCandidateBytes(bytes: Buffer): boolean {
  if (bytes.indexOf(NEEDLE) >= 0) return true;
  for (let i = bytes.indexOf(UNICODE_ESCAPE); i >= 0; i = bytes.indexOf(UNICODE_ESCAPE, i + 2)) {
    const code = hex4(bytes, i + 2);
    if (code < 0 || SOURCE_CHARS.has(code)) return true;
  }
  return false;
}

/** The value of four hex digits at bytes[at..at+4), or -1 when they are not four hex digits. */
function hex4(bytes: Buffer, at: number): number {
  if (at + 4 > bytes.length) return -1;
  let v = 0;
  for (let k = at; k < at + 4; k++) {
    const c = bytes[k];
    let d: number;
    if (c >= 0x30 && c <= 0x39) d = c - 0x30;
    else if (c >= 0x61 && c <= 0x66) d = c - 0x57;
    else if (c >= 0x41 && c <= 0x46) d = c - 0x37;
    else return -1;
    v = v * 16 + d;
  }
  return v;
}

export interface RecordsState {
  /** Open containers (0 between elements). */
  depth: number;
  /** Inside a string. */
  inString: boolean;
  /** Inside a string, and the previous byte was a backslash that escapes the next byte. */
  escape: boolean;
  /**
   * Between elements (depth 0): true after an element and before its `,` (expecting `,` or `]`), false
   * after a `,` or `[` (expecting an element). Inside an element it is true.
   */
  afterElement: boolean;
  /** Out: where the scan stopped (an index into buf; buf.length when it ran to the end). */
  pos: number;
  /** Out: when buf ended inside an element, where that element started in buf (-1: in an earlier buffer). */
  start: number;
}

export function newRecordsState(): RecordsState {
  return { depth: 0, inString: false, escape: false, afterElement: false, pos: 0, start: -1 };
}

/**
 * Scans the elements of an array, starting at `from` inside it, and records every element that is an
 * object or array and ends in buf, as triples: `out[3k]` its start (index of its `{`/`[`, or -1 if it
 * started in an earlier buffer), `out[3k+1]` the index just past its end, `out[3k+2]` 1 if it is a
 * candidate (see above) within buf[start, end), else 0 (always 0 when start is -1: the caller, holding the
 * earlier bytes, checks the whole element with isCandidateBytes). Records at most `floor(out.length / 3)`
 * elements; returns how many.
 *
 * Between elements it accepts whitespace, one `,` after each element, and the `{`/`[` of the next one. It
 * stops with `state.depth === 0` at the first byte it does not handle (`]`, a scalar element, a misplaced
 * `,`, anything else) with `state.pos` at that byte, so the caller can take over there; also when `out` is
 * full (state.pos just past the last element recorded). When buf ends, `state.pos === buf.length`; if that
 * is inside an element, `state.depth > 0` and `state.start` says where it began.
 *
 * After a call that stopped before the end of buf, buf must not change until the caller has resumed and
 * finished with it (the WebAssembly kernel reuses its copy of buf to resume).
 */
export function scanRecords(buf: Uint8Array, from: number, state: RecordsState, out: Int32Array): number {
  const wasm = wasmKernel();
  if (wasm) return wasm.scan(buf, from, state, out);
  return scanRecordsJS(buf, from, state, out);
}

// ---------------------------------------------------------------------------------------------------------
// JavaScript

/**
 * Walks the current element from `i` until its depth returns to 0. Returns the index just past that byte,
 * or -1 when buf ends first (state updated in place).
 */
function walkElement(buf: Uint8Array, i: number, state: RecordsState): number {
  const len = buf.length;
  let depth = state.depth;
  if (state.inString) {
    if (state.escape) {
      if (i >= len) return -1;
      i++;
      state.escape = false;
    }
    for (;;) {
      if (i >= len) return -1;
      const d = buf[i++];
      if (d === QUOTE) break;
      if (d === BACKSLASH) {
        if (i >= len) {
          state.escape = true;
          return -1;
        }
        i++;
      }
    }
    state.inString = false;
  }
  while (i < len) {
    const c = buf[i++];
    if (c === QUOTE) {
      for (;;) {
        if (i >= len) {
          state.inString = true;
          state.depth = depth;
          return -1;
        }
        const d = buf[i++];
        if (d === QUOTE) break;
        if (d === BACKSLASH) {
          if (i >= len) {
            state.inString = true;
            state.escape = true;
            state.depth = depth;
            return -1;
          }
          i++;
        }
      }
    } else if ((c | 0x20) === 0x7b) {
      depth++; // `{` or `[`
    } else if ((c | 0x20) === 0x7d) {
      // `}` or `]`
      if (--depth === 0) {
        state.depth = 0;
        return i;
      }
    }
  }
  state.depth = depth;
  return -1;
}

/** scanRecords in plain JavaScript. */
export function scanRecordsJS(buf: Uint8Array, from: number, state: RecordsState, out: Int32Array): number {
  const len = buf.length;
  const cap = Math.floor(out.length / 3);
  const hay = Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const markers = [new Marker(hay, NEEDLE), new Marker(hay, UNICODE_ESCAPE)];
  let i = from;
  let count = 0;
  let start = -1;
  for (;;) {
    if (state.depth > 0 || state.inString) {
      const end = walkElement(buf, i, state);
      if (end < 0) {
        state.pos = len;
        state.start = start;
        state.afterElement = true;
        return count;
      }
      out[3 * count] = start;
      out[3 * count + 1] = end;
      out[3 * count + 2] = start >= 0 && markers.some((m) => m.within(start, end)) ? 1 : 0;
      count++;
      start = -1;
      state.afterElement = true;
      i = end;
      if (count >= cap) break;
    }
    // between elements
    let after = state.afterElement;
    for (;;) {
      if (i >= len) {
        state.afterElement = after;
        state.pos = len;
        state.start = -1;
        return count;
      }
      const c = buf[i];
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
      } else if (c === 0x2c && after) {
        after = false;
        i++;
      } else if ((c | 0x20) === 0x7b && !after) {
        start = i++;
        state.depth = 1;
        state.afterElement = true;
        break;
      } else {
        state.afterElement = after;
        state.pos = i;
        state.start = -1;
        return count;
      }
    }
  }
  state.pos = i;
  state.start = -1;
  return count;
}

/** Occurrences of one byte string in a buffer, searched lazily and only forward. */
class Marker {
  /** First occurrence at or after the last `from` searched (-1: none; -2: not searched yet). */
  private at = -2;
  constructor(
    private readonly hay: Buffer,
    private readonly bytes: Buffer,
  ) {}

  /** Whether an occurrence lies wholly within [start, end); calls come with increasing `start`. */
  within(start: number, end: number): boolean {
    if (this.at === -2 || (this.at >= 0 && this.at < start)) this.at = this.hay.indexOf(this.bytes, start);
    return this.at >= 0 && this.at + this.bytes.length <= end;
  }
}

// ---------------------------------------------------------------------------------------------------------
// WebAssembly

const DATA = 65536; // input bytes start here in the module's memory; (start, end, candidate) triples below
const MAX_TRIPLES = Math.floor(DATA / 12);
const PAD = 64;

interface WasmKernel {
  scan(buf: Uint8Array, from: number, state: RecordsState, out: Int32Array): number;
}

/** The module's exports (kernel.wat); WebAssembly's own typing cannot know them. */
interface Exports {
  memory: WebAssembly.Memory;
  pos: WebAssembly.Global;
  depth: WebAssembly.Global;
  flags: WebAssembly.Global;
  start: WebAssembly.Global;
  scan(from: number, len: number, depth: number, flags: number, cap: number): number;
}

let kernel: WasmKernel | null | undefined;
let disabled = process.env.SES_AUDIT_KERNEL === 'js';

/** For tests and benchmarks: force the JavaScript kernel (true) or allow WebAssembly again (false). */
export function useJsKernel(on: boolean): void {
  disabled = on;
}

function wasmKernel(): WasmKernel | null {
  if (disabled) return null;
  if (kernel === undefined) {
    try {
      kernel = loadWasm();
    } catch {
      kernel = null; // no WebAssembly SIMD here: the JavaScript kernel gives the same results
    }
  }
  return kernel;
}

/** Compiles and instantiates the module (synchronously; about 2 KB). */
export function loadWasm(): WasmKernel {
  const bytes = Buffer.from(KERNEL_WASM_BASE64, 'base64');
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
  // Boundary: WebAssembly.Exports is an untyped record; kernel.wat defines exactly these.
  const x = inst.exports as unknown as Exports;
  const memory = x.memory;
  let mem = new Uint8Array(memory.buffer);
  let mem32 = new Int32Array(memory.buffer, 0, MAX_TRIPLES * 3);
  // The buffer currently copied at DATA: bytes buf[base..) are at DATA + (i - base). The copy is reused only
  // to resume in the same buffer after a call that stopped before its end (at or after `resumeAt`), so a
  // buffer refilled in place after being scanned to the end is copied again.
  let copied: Uint8Array | null = null;
  let copiedLen = 0;
  let base = 0;
  let resumeAt = -1;

  const load = (buf: Uint8Array, from: number): number => {
    if (buf === copied && copiedLen === buf.length && resumeAt >= 0 && from >= resumeAt) return base;
    const n = buf.length - from;
    const need = DATA + n + PAD;
    if (need > memory.buffer.byteLength) {
      memory.grow(Math.ceil((need - memory.buffer.byteLength) / 65536));
      mem = new Uint8Array(memory.buffer);
      mem32 = new Int32Array(memory.buffer, 0, MAX_TRIPLES * 3);
    }
    mem.set(from === 0 ? buf : buf.subarray(from), DATA);
    mem.fill(0, DATA + n, DATA + n + PAD);
    copied = buf;
    copiedLen = buf.length;
    base = from;
    return from;
  };

  return {
    scan(buf, from, state, out) {
      const b = load(buf, from);
      const cap = Math.min(Math.floor(out.length / 3), MAX_TRIPLES);
      const flags = (state.inString ? 1 : 0) | (state.escape ? 2 : 0) | (state.afterElement ? 4 : 0);
      const count = x.scan(from - b, buf.length - b, state.depth, flags, cap);
      const f = Number(x.flags.value);
      state.depth = Number(x.depth.value);
      state.inString = (f & 1) !== 0;
      state.escape = (f & 2) !== 0;
      state.afterElement = (f & 4) !== 0;
      state.pos = Number(x.pos.value) + b;
      resumeAt = state.pos < buf.length ? state.pos : -1;
      const st = Number(x.start.value);
      state.start = st < 0 ? -1 : st + b;
      if (count > 0) {
        out.set(mem32.subarray(0, 3 * count));
        if (b !== 0) {
          for (let k = 0; k < 3 * count; k += 3) {
            if (out[k] >= 0) out[k] += b;
            out[k + 1] += b;
          }
        }
      }
      return count;
    },
  };
}
