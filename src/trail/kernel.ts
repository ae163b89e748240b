/**
 * The structural walk of the trail scanner: finds where JSON containers end, without parsing them.
 *
 * Two implementations with the same results on valid JSON:
 * - WebAssembly + SIMD128 (kernel.wat, assembled into kernel-wasm.ts): 64 bytes per step, simdjson-style
 *   (quote / backslash / bracket bit masks, odd backslash runs, prefix-XOR in-string mask, popcount fast path,
 *   ctz walk where a depth-0 transition is possible). The bytes are copied into the module's memory first.
 * - Plain JavaScript byte loops: the fallback when WebAssembly SIMD is unavailable, and the reference the
 *   WebAssembly one is tested against.
 *
 * Depth is a counter: brackets are not matched by type (`{]` counts as balanced), and nothing is validated
 * inside an element. Callers that need validity parse the elements they keep.
 *
 * scanRecords also tells, per element, whether the bytes of NEEDLE (`"ses.amazonaws.com"`, quotes included)
 * occur inside it: a plain byte search, inside strings or not, so callers still check what they keep.
 */
import { KERNEL_WASM_BASE64 } from './kernel-wasm.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** The bytes whose presence scanRecords reports per element. The WebAssembly kernel has them built in. */
export const NEEDLE: Buffer = Buffer.from('"ses.amazonaws.com"');

export interface WalkState {
  /** Open containers (0 between values). */
  depth: number;
  /** Inside a string. */
  inString: boolean;
  /** Inside a string, and the previous byte was a backslash that escapes the next byte. */
  escape: boolean;
}

export interface RecordsState extends WalkState {
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
 * Scans buf[from..) continuing `state` (depth >= 1: inside a container). Returns the index just past the
 * byte where depth returns to 0, or -1 if buf ends first (state updated in place; on success the state is
 * depth 0, not in a string). Brackets inside strings are ignored; escapes (any run of backslashes) are
 * handled; buf may end anywhere, including between a backslash and the escaped byte.
 */
export function walkContainer(buf: Uint8Array, from: number, state: WalkState): number {
  if (state.depth < 1) throw new RangeError('walkContainer: depth must be >= 1');
  const wasm = wasmKernel();
  // The copy and call are worth it only for a long stretch.
  if (wasm && buf.length - from >= 2048) return wasm.walk(buf, from, state);
  return walkContainerJS(buf, from, state);
}

/**
 * Scans the elements of an array, starting at `from` inside it, and records every element that is an
 * object or array and ends in buf, as triples: `out[3k]` its start (index of its `{`/`[`, or -1 if it
 * started in an earlier buffer), `out[3k+1]` the index just past its end, `out[3k+2]` 1 if the bytes of
 * NEEDLE occur within buf[start, end), else 0 (always 0 when start is -1: the caller, holding the earlier
 * bytes, searches those itself). Records at most `floor(out.length / 3)` elements; returns how many.
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

/** Which kernel scanRecords uses. */
export function kernelKind(): 'wasm-simd' | 'js' {
  return wasmKernel() ? 'wasm-simd' : 'js';
}

// ---------------------------------------------------------------------------------------------------------
// JavaScript

/** walkContainer in plain JavaScript. */
export function walkContainerJS(buf: Uint8Array, from: number, state: WalkState): number {
  const len = buf.length;
  let i = from;
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
      depth++;
    } else if ((c | 0x20) === 0x7d) {
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
  let i = from;
  let count = 0;
  let start = -1;
  // First NEEDLE position at or after the last element's start (-1: none in buf; -2: not searched yet).
  let needleAt = -2;
  let hay: Buffer | null = null;
  for (;;) {
    if (state.depth > 0 || state.inString) {
      const end = walkContainerJS(buf, i, state);
      if (end < 0) {
        state.pos = len;
        state.start = start;
        state.afterElement = true;
        return count;
      }
      let hit = 0;
      if (start >= 0) {
        if (needleAt === -2 || (needleAt >= 0 && needleAt < start)) {
          hay ??= Buffer.isBuffer(buf) ? buf : Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
          needleAt = hay.indexOf(NEEDLE, start);
        }
        if (needleAt >= 0 && needleAt + NEEDLE.length <= end) hit = 1;
      }
      out[3 * count] = start;
      out[3 * count + 1] = end;
      out[3 * count + 2] = hit;
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

// ---------------------------------------------------------------------------------------------------------
// WebAssembly

const DATA = 65536; // input bytes start here in the module's memory; (start, end, needle) triples below
const MAX_TRIPLES = Math.floor(DATA / 12);
const PAD = 64;

interface WasmKernel {
  scan(buf: Uint8Array, from: number, state: RecordsState, out: Int32Array): number;
  walk(buf: Uint8Array, from: number, state: WalkState): number;
}

interface Exports {
  memory: WebAssembly.Memory;
  pos: WebAssembly.Global;
  depth: WebAssembly.Global;
  flags: WebAssembly.Global;
  start: WebAssembly.Global;
  scan(from: number, len: number, depth: number, flags: number, cap: number, single: number): number;
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
      kernel = null;
    }
  }
  return kernel;
}

/** Compiles and instantiates the module (synchronously; about 1.9 KB). */
export function loadWasm(): WasmKernel {
  const bytes = Buffer.from(KERNEL_WASM_BASE64, 'base64');
  const inst = new WebAssembly.Instance(new WebAssembly.Module(bytes), {});
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

  const flagsOf = (s: WalkState, after: boolean): number => (s.inString ? 1 : 0) | (s.escape ? 2 : 0) | (after ? 4 : 0);

  return {
    scan(buf, from, state, out) {
      const b = load(buf, from);
      const cap = Math.min(Math.floor(out.length / 3), MAX_TRIPLES);
      const count = x.scan(from - b, buf.length - b, state.depth, flagsOf(state, state.afterElement), cap, 0);
      const f = x.flags.value as number;
      state.depth = x.depth.value as number;
      state.inString = (f & 1) !== 0;
      state.escape = (f & 2) !== 0;
      state.afterElement = (f & 4) !== 0;
      state.pos = (x.pos.value as number) + b;
      resumeAt = state.pos < buf.length ? state.pos : -1;
      const st = x.start.value as number;
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
    walk(buf, from, state) {
      const b = load(buf, from);
      const r = x.scan(from - b, buf.length - b, state.depth, flagsOf(state, false), 0, 1);
      const f = x.flags.value as number;
      state.depth = x.depth.value as number;
      state.inString = (f & 1) !== 0;
      state.escape = (f & 2) !== 0;
      resumeAt = r >= 0 && r + b < buf.length ? r + b : -1;
      return r < 0 ? -1 : r + b;
    },
  };
}
