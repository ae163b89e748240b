import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  loadWasm,
  NEEDLE,
  newRecordsState,
  scanRecords,
  scanRecordsJS,
  UNICODE_ESCAPE,
  useJsKernel,
  type RecordsState,
} from '../../src/trail/kernel.js';
import { TrailScanner } from '../../src/trail/scanner.js';
import { KERNEL_WAT_SHA256 } from '../../src/trail/kernel-wasm.js';
import { generateTrail, rng } from '../fixtures/trailgen.js';

// ---- reference: an obviously-correct byte loop over the whole document ----

/** Index just past the end of the container starting at `i` (bytes[i] is `{` or `[`), or -1. */
function refEnd(b: Uint8Array, i: number): number {
  let depth = 0;
  let inStr = false;
  let esc = false;
  for (; i < b.length; i++) {
    const c = b[i];
    if (inStr) {
      if (esc) esc = false;
      else if (c === 0x5c) esc = true;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) depth++;
    else if (c === 0x7d || c === 0x5d) {
      depth--;
      if (depth === 0) return i + 1;
    }
  }
  return -1;
}

const isWs = (c: number) => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

interface RefElem {
  start: number;
  end: number;
  container: boolean;
}

/** The elements of the array whose contents start at `from` (just past `[`), and the index of its `]`. */
function refElements(b: Uint8Array, from: number): { elems: RefElem[]; close: number } {
  const elems: RefElem[] = [];
  let i = from;
  for (;;) {
    while (isWs(b[i])) i++;
    if (b[i] === 0x5d) return { elems, close: i };
    const c = b[i];
    let end: number;
    if (c === 0x7b || c === 0x5b) end = refEnd(b, i);
    else if (c === 0x22) {
      end = i + 1;
      for (let esc = false; ; end++) {
        const d = b[end];
        if (esc) esc = false;
        else if (d === 0x5c) esc = true;
        else if (d === 0x22) break;
      }
      end++;
    } else {
      end = i;
      while (b[end] !== 0x2c && b[end] !== 0x5d && !isWs(b[end])) end++;
    }
    elems.push({ start: i, end, container: c === 0x7b || c === 0x5b });
    i = end;
    while (isWs(b[i])) i++;
    if (b[i] === 0x2c) i++;
    else if (b[i] !== 0x5d) throw new Error(`reference: bad separator at ${i}`);
  }
}

// ---- random JSON with nasty strings ----


const PIECES = ['"', '\\', '\\\\', '\\"', '\\\\"', '{', '}', '[', ']', '{"a":[1]}', ',', ':', 'a', 'bc', ' ', 'é', '中', '😀', '\n', '\t', '/', '\u0001', 'x'.repeat(70)];
// String contents near the needle (encoded, a `"` in them may become `\"` or `\u0022`).
const NEEDLE_PIECES = ['ses.amazonaws.com', '"ses.amazonaws.com"', 'sessionContext', '"ses.amazonaws.co', 'ses.amazonaws.com"'];
// Whole JSON values: the needle and near misses.
const NEEDLE_VALUES = [
  '"ses.amazonaws.com"',
  '"ses.amazonaws.co"',
  '"ses.amazonaws.comm"',
  '"sts.amazonaws.com"',
  '"sessionContext"',
  '"xses.amazonaws.com"',
  '"x\\"ses.amazonaws.com"', // raw bytes hold the needle (after an escaped quote)
  '"\\"ses.amazonaws.com\\""', // raw bytes do not (a backslash before the closing quote)
];

function nastyString(r: () => number): string {
  let s = '';
  const n = Math.floor(r() * 12);
  for (let k = 0; k < n; k++) {
    const x = r();
    if (x < 0.15) s += '\\'.repeat(1 + Math.floor(r() * 7)) + (r() < 0.5 ? '"' : '');
    else if (x < 0.2) s += NEEDLE_PIECES[Math.floor(r() * NEEDLE_PIECES.length)];
    else s += PIECES[Math.floor(r() * PIECES.length)];
  }
  if (r() < 0.2) s += '\\'.repeat(1 + Math.floor(r() * 4)); // backslashes just before the closing quote
  return s;
}

/** JSON string literal with randomly chosen (valid) escapes, including \u escapes. */
function encodeString(r: () => number, s: string): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const u = (c: number) => '\\u' + c.toString(16).padStart(4, '0');
    if (ch === '"') out += r() < 0.8 ? '\\"' : u(code);
    else if (ch === '\\') out += r() < 0.8 ? '\\\\' : u(code);
    else if (ch === '\n') out += '\\n';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20) out += u(code);
    else if (ch === '/' && r() < 0.5) out += '\\/';
    else if (code > 0xffff && r() < 0.3) out += u(ch.charCodeAt(0)) + u(ch.charCodeAt(1));
    else if (code < 0x10000 && r() < 0.1) out += u(code);
    else out += ch;
  }
  return out + '"';
}

function ws(r: () => number, pretty: boolean): string {
  if (!pretty) return '';
  const x = r();
  if (x < 0.5) return '';
  if (x < 0.8) return ' ';
  return '\n' + ' '.repeat(Math.floor(r() * 6)) + (r() < 0.1 ? '\t\r\n' : '');
}

function value(r: () => number, depth: number, pretty: boolean): string {
  const x = r();
  if (depth > 5 || x < 0.35) return scalar(r);
  if (x < 0.75) {
    const n = Math.floor(r() * 6);
    const parts: string[] = [];
    for (let k = 0; k < n; k++) parts.push(ws(r, pretty) + encodeString(r, nastyString(r)) + ws(r, pretty) + ':' + ws(r, pretty) + value(r, depth + 1, pretty) + ws(r, pretty));
    return '{' + (n ? parts.join(',') : ws(r, pretty)) + '}';
  }
  const n = Math.floor(r() * 5);
  const parts: string[] = [];
  for (let k = 0; k < n; k++) parts.push(ws(r, pretty) + value(r, depth + 1, pretty) + ws(r, pretty));
  return '[' + (n ? parts.join(',') : ws(r, pretty)) + ']';
}

function scalar(r: () => number): string {
  const x = r();
  if (x < 0.08) return NEEDLE_VALUES[Math.floor(r() * NEEDLE_VALUES.length)];
  if (x < 0.6) return encodeString(r, nastyString(r));
  if (x < 0.75) return String(Math.floor(r() * 1e6) - 5e5) + (r() < 0.3 ? '.5e-3' : '');
  return ['true', 'false', 'null'][Math.floor(r() * 3)];
}

function container(r: () => number, pretty: boolean): string {
  for (;;) {
    const v = value(r, 0, pretty);
    if (v[0] === '{' || v[0] === '[') return v;
  }
}

/** `{"Records":[ ... ]}` with mostly containers, some scalars. */
function recordsDoc(r: () => number, n: number, pretty: boolean, scalars: boolean): Buffer {
  const parts: string[] = [];
  for (let k = 0; k < n; k++) parts.push(ws(r, pretty) + (scalars && r() < 0.15 ? scalar(r) : container(r, pretty)) + ws(r, pretty));
  const text = '{"Records":[' + parts.join(',') + ']}';
  JSON.parse(text); // the generator makes valid JSON
  return Buffer.from(text);
}

const TRICKY = Buffer.from(
  '{"a":"x\\\\\\"}]{[\\\\","b\\\\":["\\\\\\\\\\\\\\\\","\\"\\"\\"",{"c":"é中😀\\u00e9\\ud83d\\ude00"}],' +
    '"long":"' +
    'y'.repeat(61) +
    '\\\\\\"' +
    'z'.repeat(60) +
    '\\\\","d":[[[{}]],{"e":"}}}]]]"}],"f":"\\\\"}',
);

// ---- drivers: feed chunks, map results back to offsets in the whole document ----

type Scan = (buf: Uint8Array, from: number, state: RecordsState, out: Int32Array) => number;

const wasm = loadWasm();
const SCANS: Array<[string, Scan]> = [
  ['js', scanRecordsJS],
  ['wasm', (b, f, s, o) => wasm.scan(b, f, s, o)],
];

function split(doc: Uint8Array, cuts: number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of cuts) {
    out.push(doc.slice(prev, c)); // copies: each chunk is its own buffer
    prev = c;
  }
  out.push(doc.slice(prev));
  return out;
}

/**
 * Whether doc[start, end) holds the needle or a `\u` (a backslash, then u): the reference for the third
 * value of a triple, by a plain scan of the text.
 */
function refNeedle(doc: Uint8Array, start: number, end: number): boolean {
  const text = Buffer.from(doc.buffer, doc.byteOffset, doc.byteLength).toString('latin1', start, end);
  return text.includes('"ses.amazonaws.com"') || text.includes('\\u');
}

/**
 * Scans the Records array through the chunks; the (start, end) pairs in doc and the index of `]`. Checks
 * every needle flag against refNeedle (0 for an element that began in an earlier chunk); `hits` lists the
 * starts (in doc) of the elements flagged.
 */
function scanChunks(
  scan: Scan,
  doc: Uint8Array,
  chunks: Uint8Array[],
  cap = 64,
  hits: number[] = [],
): { pairs: Array<[number, number]>; close: number } {
  const ref = refElements(doc, doc.indexOf(0x5b) + 1);
  const scalarsAt = new Map(ref.elems.filter((e) => !e.container).map((e) => [e.start, e.end]));
  const out = new Int32Array(3 * cap + (cap % 2)); // room left over must not be used
  const flagErrors: string[] = [];
  const st = newRecordsState();
  const pairs: Array<[number, number]> = [];
  let offset = 0;
  let next = doc.indexOf(0x5b) + 1; // where to go on, in doc
  let pending = -1; // start (in doc) of the element running over a chunk boundary
  for (const ch of chunks) {
    let from = next - offset;
    while (from <= ch.length) {
      const n = scan(ch, from, st, out);
      expect(n).toBeLessThanOrEqual(cap);
      for (let k = 0; k < n; k++) {
        const s = out[3 * k];
        const e = out[3 * k + 1];
        expect(s >= 0 || (k === 0 && pending >= 0)).toBe(true);
        pairs.push([s >= 0 ? offset + s : pending, offset + e]);
        if (s < 0) pending = -1;
        const want = s >= 0 && refNeedle(ch, s, e) ? 1 : 0;
        if (out[3 * k + 2] !== want) flagErrors.push(`element [${offset + s}, ${offset + e}) flag ${out[3 * k + 2]}, want ${want}`);
        if (out[3 * k + 2] === 1) hits.push(offset + s);
      }
      if (st.depth > 0 || st.inString) {
        expect(st.pos).toBe(ch.length);
        if (st.start >= 0) pending = offset + st.start;
        expect(pending).toBeGreaterThanOrEqual(0);
        next = offset + ch.length;
        break;
      }
      if (st.pos >= ch.length) {
        expect(st.pos).toBe(ch.length);
        next = offset + ch.length;
        break;
      }
      if (n === cap) {
        from = st.pos;
        continue;
      }
      const at = offset + st.pos;
      if (doc[at] === 0x5d) {
        expect(flagErrors).toEqual([]);
        return { pairs, close: at };
      }
      // a scalar element: the caller skips it (here with the reference's help)
      const end = scalarsAt.get(at);
      if (end === undefined) throw new Error(`kernel stopped at ${at} (${String.fromCharCode(doc[at])})`);
      expect(st.afterElement).toBe(false);
      st.afterElement = true;
      next = end;
      from = end - offset;
    }
    offset += ch.length;
  }
  expect(flagErrors).toEqual([]);
  return { pairs, close: -1 };
}

function expected(doc: Uint8Array): { pairs: Array<[number, number]>; close: number } {
  const ref = refElements(doc, doc.indexOf(0x5b) + 1);
  return { pairs: ref.elems.filter((e) => e.container).map((e) => [e.start, e.end]), close: ref.close };
}

// ---- tests ----

describe('kernel', () => {
  it('the WebAssembly kernel loads here, built from the current kernel.wat', () => {
    expect(wasm).toBeDefined();
    const wat = readFileSync(new URL('../../src/trail/kernel.wat', import.meta.url), 'utf8');
    // If this fails, run `node scripts/build-kernel.mjs` (needs wabt).
    expect(createHash('sha256').update(wat).digest('hex')).toBe(KERNEL_WAT_SHA256);
  });

  it('the reference agrees with JSON.parse', () => {
    const r = rng(1);
    for (let k = 0; k < 50; k++) {
      const doc = recordsDoc(r, 10, k % 2 === 0, true);
      const parsed = JSON.parse(doc.toString()).Records as unknown[];
      const ref = refElements(doc, doc.indexOf(0x5b) + 1);
      expect(ref.elems.map((e) => JSON.parse(doc.toString('utf8', e.start, e.end)))).toEqual(parsed);
    }
  });

  for (const [name, scan] of SCANS) {
    describe(`scanRecords (${name})`, () => {
      it('random documents, compact and pretty, with scalar elements, whole and split', () => {
        const r = rng(3);
        for (let k = 0; k < 150; k++) {
          const doc = recordsDoc(r, 1 + Math.floor(r() * 12), k % 2 === 1, k % 3 !== 0);
          const want = expected(doc);
          expect(scanChunks(scan, doc, [doc])).toEqual(want);
          const cuts = Array.from({ length: Math.floor(r() * 6) }, () => Math.floor(r() * (doc.length + 1))).sort((x, y) => x - y);
          expect(scanChunks(scan, doc, split(doc, cuts)), `doc ${k} cuts ${cuts}`).toEqual(want);
          expect(scanChunks(scan, doc, split(doc, cuts), 1), `cap 1, doc ${k}`).toEqual(want);
        }
      });

      it('every two-way split of records around the tricky one', () => {
        for (const sep of [',', ' ,\n    ', '\n,\t']) {
          const t = TRICKY.toString();
          const doc = Buffer.from(`{"Records":[ {"a":1}${sep}${t}${sep}[]${sep}"s{"${sep}${t} ]}`);
          const want = expected(doc);
          expect(want.pairs.length).toBe(4);
          for (let c = 0; c <= doc.length; c++) expect(scanChunks(scan, doc, split(doc, [c])), `cut ${c}`).toEqual(want);
        }
      });

      it('three-way splits with empty chunks', () => {
        const doc = Buffer.from(`{"Records":[${TRICKY},${TRICKY},\n{}]}`);
        const want = expected(doc);
        for (let a = 0; a <= doc.length; a += 7) {
          for (let b = a; b <= doc.length; b += 11) expect(scanChunks(scan, doc, split(doc, [a, a, b, b])), `cuts ${a} ${b}`).toEqual(want);
        }
      });

      it('generated trail files, compact and pretty', async () => {
        for (const pretty of [false, true]) {
          const parts: Buffer[] = [];
          for await (const p of generateTrail({ bytes: 400_000, sesShare: 0.1, seed: 5, pretty })) parts.push(p);
          const doc = Buffer.concat(parts);
          const records = JSON.parse(doc.toString()).Records as unknown[];
          const want = expected(doc);
          expect(want.pairs.length).toBe(records.length);
          const chunks: Uint8Array[] = [];
          for (let o = 0; o < doc.length; o += 16_384) chunks.push(doc.subarray(o, o + 16_384));
          const got = scanChunks(scan, doc, chunks, 100);
          expect(got).toEqual(want);
          expect(got.pairs.map(([s, e]) => JSON.parse(doc.toString('utf8', s, e)))).toEqual(records);
        }
      });

      it('stops at what it does not handle', () => {
        const cases: Array<[string, string, number]> = [
          // text (inside the array), what stops it, stop index
          ['{"a":1} , {"b":2} ]', ']', 18],
          ['{"a":1},, {"b":2}]', ',', 8],
          ['{"a":1} {"b":2}]', '{ without a comma', 8],
          [' 12, {}]', 'a number', 1],
          ['{}, "x"]', 'a string', 4],
          ['{},]', 'a trailing comma', 3],
          ['{} x', 'garbage', 3],
        ];
        for (const [text, what, at] of cases) {
          const st = newRecordsState();
          const buf = Buffer.from(text);
          const n = scan(buf, 0, st, new Int32Array(16));
          expect({ what, pos: st.pos, depth: st.depth }).toEqual({ what, pos: at, depth: 0 });
          expect(n).toBeGreaterThanOrEqual(0);
        }
        // between elements at the end of the buffer: afterElement tells whether the comma was seen
        const st = newRecordsState();
        expect(scan(Buffer.from('{"a":[]} \n'), 0, st, new Int32Array(16))).toBe(1);
        expect(st).toMatchObject({ depth: 0, afterElement: true, pos: 10 });
        expect(scan(Buffer.from(' , '), 0, st, new Int32Array(16))).toBe(0);
        expect(st).toMatchObject({ depth: 0, afterElement: false, pos: 3 });
        expect(scan(Buffer.from(' ,{}'), 0, st, new Int32Array(16))).toBe(0);
        expect(st.pos).toBe(1);
      });

      it('a buffer refilled in place after being scanned is read again', () => {
        const buf = Buffer.from('{"a":"]"}, {"b":2}, 7, {}');
        const st = newRecordsState();
        const out = new Int32Array(16);
        expect(scan(buf, 0, st, out)).toBe(2);
        expect(st.pos).toBe(20);
        st.afterElement = true; // the caller skipped the 7
        expect(scan(buf, 21, st, out)).toBe(1);
        expect([out[0], out[1], out[2], st.pos]).toEqual([23, 25, 0, 25]);
        buf.write('{"c":[{}]}, {"d":"}"},{}', 0); // same length, new contents
        const st2 = newRecordsState();
        expect(scan(buf, 0, st2, out)).toBe(3);
        expect(Array.from(out.subarray(0, 9))).toEqual([0, 10, 0, 12, 21, 0, 22, 24, 0]);
      });

      it('flags the needle at every offset around 64-byte blocks and chunk ends', () => {
        const N = NEEDLE.toString();
        let flagged = 0;
        for (let pad = 0; pad < 140; pad++) {
          for (const lead of ['', ' ', '\n    ', ' '.repeat(37)]) {
            const target = `{"p":"${'x'.repeat(pad)}","eventSource":${N},"q":[1]}`;
            const doc = Buffer.from(`{"Records":[{"a":1},${lead}${target},{"b":${N}},{"c":"x"}]}`);
            const at = doc.indexOf(NEEDLE);
            const hits: number[] = [];
            expect(scanChunks(scan, doc, [doc], 64, hits)).toEqual(expected(doc));
            expect(hits).toEqual([doc.indexOf(target), doc.lastIndexOf('{"b"')]);
            flagged += hits.length;
            if (lead === '' || lead === ' ') {
              // a cut anywhere near the needle: the element is split (flag 0) or whole in one chunk
              for (let c = at - 3; c <= at + NEEDLE.length + 3; c++) scanChunks(scan, doc, split(doc, [c]));
              // out holding one element: the kernel resumes in the same buffer (another block alignment)
              if (pad % 3 === 0) for (let c = at - 60; c < at + 60; c += 7) scanChunks(scan, doc, split(doc, [c]), 1);
            }
          }
        }
        expect(flagged).toBe(140 * 4 * 2);
      });

      it('flags small elements packed into one block, and near misses', () => {
        const N = NEEDLE.toString();
        const misses = [
          '"ses.amazonaws.co"',
          '"ses.amazonaws.comm"',
          'ses.amazonaws.com',
          '"sessionContext"',
          '"sessionIssuer"',
          '"\\"ses.amazonaws.com\\""',
          '"ses.amazonaws.com\\""',
          // every byte 1..17 changed
          ...Array.from({ length: 17 }, (_, k) => N.slice(0, k + 1) + (N[k + 1] === 'x' ? 'y' : 'x') + N.slice(k + 2)),
        ];
        for (const miss of misses) {
          const body = miss.startsWith('"') ? miss : `"${miss}x"`;
          for (let pad = 0; pad < 70; pad++) {
            const doc = Buffer.from(`{"Records":[{"z":"${'y'.repeat(pad)}"},{"a":${body}},[${body}],{${body}:1},{"b":${body}${' '.repeat(pad % 5)}}]}`);
            const hits: number[] = [];
            expect(scanChunks(scan, doc, [doc], 64, hits)).toEqual(expected(doc));
            expect(hits, miss).toEqual([]);
          }
        }
        for (let pad = 0; pad < 70; pad++) {
          const parts = [`{"z":"${'y'.repeat(pad)}"}`, `{"a":${N}}`, `[${N}]`, `{${N}:1}`, '{"x":1}', `{"b":"\\"ses.amazonaws.com"}`, '{}', `{"c":${N}}`];
          const doc = Buffer.from(`{"Records":[${parts.join(pad % 2 ? ',' : ' ,\n ')}]}`);
          const hits: number[] = [];
          expect(scanChunks(scan, doc, [doc], 64, hits)).toEqual(expected(doc));
          expect(hits).toEqual(expected(doc).pairs.filter(([a, b]) => refNeedle(doc, a, b)).map(([a]) => a));
          expect(hits.length).toBe(5);
          if (pad % 5 === 0) for (let c = 0; c <= doc.length; c++) scanChunks(scan, doc, split(doc, [c]), 2);
        }
      });

      it('flags match the reference on random documents dense with needles', () => {
        const r = rng(11);
        let flagged = 0;
        const N = NEEDLE.toString();
        const tokens = [N, N, '"ses.amazonaws.co"', '"sessionContext"', '"x\\"ses.amazonaws.com"', '1', '"' + 'p'.repeat(40) + '"', '{"k":[]}'];
        for (let k = 0; k < 300; k++) {
          const pretty = k % 2 === 1;
          const elems: string[] = [];
          for (let e = 0, n = 1 + Math.floor(r() * 10); e < n; e++) {
            const m = Math.floor(r() * 5);
            const vals = Array.from({ length: m }, () => (r() < 0.5 ? tokens[Math.floor(r() * tokens.length)] : scalar(r)));
            elems.push(ws(r, pretty) + (r() < 0.2 ? `[${vals.join(',')}]` : `{${vals.map((v, i) => `"k${i}":${ws(r, pretty)}${v}`).join(',')}}`) + ws(r, pretty));
          }
          const doc = Buffer.from(`{"Records":[${elems.join(',')}]}`);
          JSON.parse(doc.toString());
          const hits: number[] = [];
          expect(scanChunks(scan, doc, [doc], 64, hits)).toEqual(expected(doc));
          flagged += hits.length;
          const cuts = Array.from({ length: Math.floor(r() * 5) }, () => Math.floor(r() * (doc.length + 1))).sort((x, y) => x - y);
          expect(scanChunks(scan, doc, split(doc, cuts))).toEqual(expected(doc));
          expect(scanChunks(scan, doc, split(doc, cuts), 1)).toEqual(expected(doc));
        }
        expect(flagged).toBeGreaterThan(300);
      });

      it('flags a \\u escape at every offset around 64-byte blocks, and only a backslash before u', () => {
        let flagged = 0;
        for (let pad = 0; pad < 140; pad++) {
          // the escaped event source, and the escaped key: either alone makes the element a candidate
          for (const field of ['"eventSource":"\\u0073es.amazonaws.com"', '"event\\u0053ource":"x"', '"k":"\\\\u"']) {
            const target = `{"p":"${'x'.repeat(pad)}",${field}}`;
            const doc = Buffer.from(`{"Records":[{"a":"u\\\\"},${target},{"b":"\\\\"},{"u":"\\n"}]}`);
            JSON.parse(doc.toString());
            const hits: number[] = [];
            expect(scanChunks(scan, doc, [doc], 64, hits)).toEqual(expected(doc));
            expect(hits).toEqual([doc.indexOf(target)]);
            flagged += hits.length;
            const at = doc.indexOf(UNICODE_ESCAPE, doc.indexOf(target));
            for (let c = at - 2; c <= at + 3; c++) scanChunks(scan, doc, split(doc, [c]));
          }
        }
        expect(flagged).toBe(140 * 3);
      });

      it('records the start of an element that runs past the buffer', () => {
        const st = newRecordsState();
        const out = new Int32Array(16);
        expect(scan(Buffer.from('{"a":1}, {"b":"}'), 0, st, out)).toBe(1);
        expect([out[0], out[1], out[2]]).toEqual([0, 7, 0]);
        expect(st).toMatchObject({ depth: 1, inString: true, pos: 16, start: 9 });
        expect(scan(Buffer.from('\\""}]'), 0, st, out)).toBe(1);
        expect([out[0], out[1], out[2]]).toEqual([-1, 4, 0]);
        expect(st).toMatchObject({ depth: 0, pos: 4 });
      });
    });
  }

  for (const kind of ['wasm', 'js'] as const) {
    it(`TrailScanner finds the needle split across chunks, and only real ones (${kind} kernel)`, () => {
      const N = NEEDLE.toString();
      const rec = (i: number, src: string) => `{"eventVersion":"1.08","sessionContext":{"sessionIssuer":{}},"eventSource":${src},"n":${i}}`;
      const recs = [rec(0, '"s3.amazonaws.com"'), rec(1, N), rec(2, '"ses.amazonaws.co"'), rec(3, N), `{"x":"\\${N.slice(0, -1)}\\""}`, rec(5, N)];
      const doc = Buffer.from(`{"Records":[${recs.join(',')}]}`);
      const want = [1, 3, 5];
      useJsKernel(kind === 'js');
      try {
        for (let c = 0; c <= doc.length; c++) {
          for (const c2 of [c, Math.min(doc.length, c + 7), Math.min(doc.length, c + 70)]) {
            const got: number[] = [];
            const s = new TrailScanner({ candidate: (json, i) => got.push(i, JSON.parse(json).n), notObject() {} }, { maxRecordBytes: 1 << 20 });
            for (const ch of split(doc, [c, c2])) s.write(Buffer.from(ch));
            s.end();
            expect(got, `cuts ${c} ${c2}`).toEqual(want.flatMap((i) => [i, i]));
          }
        }
      } finally {
        useJsKernel(process.env.SES_AUDIT_KERNEL === 'js');
      }
    });
  }

  it('the default scanRecords is the WebAssembly one and agrees with the JS one on a large buffer', () => {
    const r = rng(9);
    const doc = recordsDoc(r, 3000, false, false);
    const k0 = doc.indexOf(0x5b) + 1;
    const a = new Int32Array(3 * 4000);
    const b = new Int32Array(3 * 4000);
    const sa = newRecordsState();
    const sb = newRecordsState();
    const na = scanRecords(doc, k0, sa, a);
    const nb = scanRecordsJS(doc, k0, sb, b);
    expect(na).toBe(3000);
    expect(na).toBe(nb);
    expect(sa).toEqual(sb);
    expect(a).toEqual(b);
  });
});
