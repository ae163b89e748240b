/**
 * Differential property test of the reader: for generated CloudTrail documents in every legal encoding
 * (escapes anywhere, any key order, duplicate keys, whitespace and CRLF, a byte order mark, pretty or compact,
 * unicode, records up to 256 KB, scalar elements, SES records nested as decoys inside other records, extra
 * top-level keys), the SES events the pipeline turns into rows are exactly those a whole-document JSON.parse
 * finds in $.Records, in order, with both kernels, at random chunk splits, plain or gzipped.
 *
 * Seeded (FC_SEED overrides) and bounded in time; `FC_RUNS=2000 npx vitest run test/unit/reader.property.test.ts`
 * runs it longer.
 */
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { processTrail } from '../../src/pipeline.js';
import { useJsKernel } from '../../src/trail/kernel.js';

const SEED = Number(process.env.FC_SEED ?? 20261202);
const RUNS = Number(process.env.FC_RUNS ?? 120);

// ---- a JSON tree that can hold what JSON.stringify cannot write: duplicate keys, chosen spellings ----

type Node =
  | { t: 'obj'; entries: Array<[string, Node]> }
  | { t: 'arr'; items: Node[] }
  | { t: 'str'; v: string }
  | { t: 'num'; text: string }
  | { t: 'lit'; text: 'true' | 'false' | 'null' };

interface Style {
  /** Between tokens: '' (compact) or a whitespace run. */
  ws: readonly string[];
  /** Chance a character is written as an escape. */
  escape: number;
  /** Choices consumed in order (from fast-check) so the document is a pure function of the inputs. */
  rnd: () => number;
}

const str = (v: string): Node => ({ t: 'str', v });
const obj = (entries: Array<[string, Node]>): Node => ({ t: 'obj', entries });

function fromJson(v: unknown): Node {
  if (v === null) return { t: 'lit', text: 'null' };
  if (typeof v === 'boolean') return { t: 'lit', text: v ? 'true' : 'false' };
  if (typeof v === 'number') return { t: 'num', text: Number.isFinite(v) ? JSON.stringify(v) : '0' };
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return { t: 'arr', items: v.map(fromJson) };
  return obj(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, fromJson(x)]));
}

/** A JSON string literal with escapes chosen at random: \uXXXX for any character, short forms, \/. */
function encodeString(s: string, st: Style): string {
  let out = '"';
  for (const ch of s) {
    const code = ch.codePointAt(0)!;
    const hex = (c: number) => c.toString(16).padStart(4, '0');
    const u = (c: number) => `\\u${st.rnd() < 0.5 ? hex(c) : hex(c).toUpperCase()}`;
    const escapeIt = st.rnd() < st.escape;
    if (ch === '"') out += escapeIt ? u(code) : '\\"';
    else if (ch === '\\') out += escapeIt ? u(code) : '\\\\';
    else if (code < 0x20) out += ch === '\n' && !escapeIt ? '\\n' : u(code);
    else if (ch === '/' && escapeIt) out += '\\/';
    else if (escapeIt && code > 0xffff) out += u(ch.charCodeAt(0)) + u(ch.charCodeAt(1));
    else if (escapeIt) out += u(code);
    else out += ch;
  }
  return `${out}"`;
}

function write(n: Node, st: Style, out: string[]): void {
  const w = () => st.ws[Math.floor(st.rnd() * st.ws.length)];
  switch (n.t) {
    case 'str':
      out.push(encodeString(n.v, st));
      return;
    case 'num':
    case 'lit':
      out.push(n.text);
      return;
    case 'arr':
      out.push('[', w());
      n.items.forEach((x, i) => {
        if (i) out.push(w(), ',', w());
        write(x, st, out);
      });
      out.push(w(), ']');
      return;
    case 'obj':
      out.push('{', w());
      n.entries.forEach(([k, x], i) => {
        if (i) out.push(w(), ',', w());
        out.push(encodeString(k, st), w(), ':', w());
        write(x, st, out);
      });
      out.push(w(), '}');
  }
}

// ---- arbitraries ----

const SES = 'ses.amazonaws.com';
const text = fc.string({ unit: fc.oneof(fc.constantFrom('"', '\\', '{', '}', '[', ']', ',', ':', '\n', '\r', '\t', 'u', '/', '\u0000', '\u2028', 'é', '中', '😀'), fc.string({ unit: 'grapheme', maxLength: 3 })), maxLength: 12 });
const filler = fc.jsonValue({ maxDepth: 3 }).map(fromJson);
const extra = fc.array(fc.tuple(fc.oneof(text, fc.constantFrom('eventSource', 'Records', 'eventID')), filler), { maxLength: 4 });

let serial = 0;
/** A record: SES or another service's, maybe with an SES decoy nested inside, maybe a duplicate eventSource key. */
const record = fc
  .record({
    ses: fc.boolean(),
    decoy: fc.boolean(),
    source: fc.constantFrom('s3.amazonaws.com', 'sts.amazonaws.com', 'ses.amazonaws.com.example', 'sesv2.amazonaws.com', 'SES.amazonaws.com'),
    dupSource: fc.constantFrom('none', 'ses-first', 'ses-last'),
    extra,
    big: fc.integer({ min: 0, max: 40 }),
    order: fc.array(fc.nat(), { maxLength: 8 }),
  })
  .map((r) => {
    const id = `id-${++serial}`;
    const entries: Array<[string, Node]> = [
      ['eventVersion', str('1.11')],
      ['eventTime', str('2026-11-20T10:15:30Z')],
      ['eventID', str(id)],
      ['eventName', str('DeleteIdentity')],
      ['requestParameters', obj([['identity', str('example.com')]])],
      ['eventSource', str(r.ses ? SES : r.source)],
      ...r.extra.filter(([k]) => k !== 'eventSource' && k !== 'eventID'),
    ];
    if (r.decoy) entries.push(['nested', obj([['eventSource', str(SES)], ['eventID', str(`decoy-${id}`)]])]);
    // A 256 KB record now and then (CloudTrail's largest).
    if (r.big === 0) entries.push(['blob', str('x'.repeat(256 * 1024 - 600))]);
    // Any key order: rotate by the given amounts.
    for (const k of r.order) entries.push(...entries.splice(0, k % entries.length));
    // A second eventSource key: JSON.parse keeps the last one.
    if (r.dupSource === 'ses-first') entries.unshift(['eventSource', str(SES)]);
    if (r.dupSource === 'ses-last') entries.push(['eventSource', str(SES)]);
    return obj(entries);
  });

const element = fc.oneof({ weight: 8, arbitrary: record }, { weight: 1, arbitrary: filler });

const documentArb = fc.record({
  elements: fc.array(element, { maxLength: 25 }),
  before: fc.array(fc.tuple(text.filter((k) => k !== 'Records'), filler), { maxLength: 2 }),
  after: fc.array(fc.tuple(text.filter((k) => k !== 'Records'), filler), { maxLength: 2 }),
  recordsKeyEscaped: fc.boolean(),
  ws: fc.constantFrom([''], ['', ' '], ['\n  ', '\n    '], ['\r\n', ' ', '\t'], ['']),
  escape: fc.constantFrom(0, 0.05, 0.3, 1),
  bom: fc.boolean(),
  gzip: fc.boolean(),
  choices: fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), { minLength: 64, maxLength: 64 }),
  cuts: fc.array(fc.nat(), { maxLength: 6 }),
});

type Doc = typeof documentArb extends fc.Arbitrary<infer T> ? T : never;

function render(d: Doc): { bytes: Buffer; text: string } {
  let k = 0;
  const st: Style = { ws: d.ws, escape: d.escape, rnd: () => d.choices[k++ % d.choices.length] };
  const out: string[] = [d.bom ? '\uFEFF' : ''];
  const top: Array<[string, Node]> = [...d.before, ['Records', { t: 'arr', items: d.elements }], ...d.after];
  // The outer object is written here so that the Records key may be escaped on its own.
  out.push('{');
  top.forEach(([key, value], i) => {
    if (i) out.push(',');
    out.push(key === 'Records' && d.recordsKeyEscaped ? '"Rec\\u006Frds"' : encodeString(key, st), ':');
    write(value, st, out);
  });
  out.push('}');
  const text = out.join('');
  return { bytes: Buffer.from(text, 'utf8'), text };
}

/** The reference: what a whole-document JSON.parse says the SES events are, in order. */
function reference(text: string): string[] {
  const doc = JSON.parse(text.replace(/^\uFEFF/, '')) as { Records: unknown[] };
  return doc.Records.filter(
    (r): r is { eventSource: string; eventID: string } =>
      r !== null && typeof r === 'object' && !Array.isArray(r) && (r as { eventSource?: unknown }).eventSource === SES,
  ).map((r) => r.eventID);
}

async function underTest(bytes: Buffer, cuts: number[]): Promise<string[]> {
  const points = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    chunks.push(bytes.subarray(prev, p));
    prev = p;
  }
  chunks.push(bytes.subarray(prev));
  const ids: string[] = [];
  await processTrail(
    (async function* () {
      yield* chunks;
    })(),
    {
      config: { ...DEFAULT_LIMITS },
      sourceObject: 'property',
      sink: (rows) => {
        // One row per identity: every generated SES record names exactly one.
        for (const r of rows) ids.push(r.eventID);
      },
    },
  );
  return ids;
}

describe('reader: differential against JSON.parse', () => {
  for (const kernel of ['wasm', 'js'] as const) {
    it(`the SES events found equal JSON.parse's, in every legal encoding (${kernel} kernel)`, async () => {
      useJsKernel(kernel === 'js');
      try {
        await fc.assert(
          fc.asyncProperty(documentArb, async (d) => {
            const { bytes, text } = render(d);
            const want = reference(text);
            const input = d.gzip ? gzipSync(bytes) : bytes;
            expect(await underTest(input, d.cuts)).toEqual(want);
          }),
          { seed: SEED, numRuns: RUNS, interruptAfterTimeLimit: 25_000, markInterruptAsFailure: false },
        );
      } finally {
        useJsKernel(process.env.SES_AUDIT_KERNEL === 'js');
      }
    });
  }

  it('the generator covers what it claims: escapes, duplicates, decoys, big records, BOM', () => {
    const samples = fc.sample(documentArb, { seed: SEED, numRuns: 200 }).map(render);
    const all = samples.map((s) => s.text).join('\n');
    expect(all).toContain('Rec\\u006Frds');
    expect(all).toMatch(/\\u00[0-9A-Fa-f]{2}/);
    expect(samples.some((s) => s.text.startsWith('\uFEFF'))).toBe(true);
    expect(samples.some((s) => s.bytes.length > 256 * 1024)).toBe(true);
    expect(samples.some((s) => /"nested"/.test(s.text))).toBe(true);
    expect(samples.some((s) => reference(s.text).length > 3)).toBe(true);
  });
});
