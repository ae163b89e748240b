import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { Readable } from 'node:stream';
import { TrailScanner } from '../../src/trail/scanner.js';
import { readTrail } from '../../src/trail/reader.js';
import { InputError } from '../../src/errors.js';

const LIMITS = { maxUncompressedBytes: 64 * 1024 * 1024, maxRecordBytes: 1024 * 1024 };

interface Scan {
  candidates: Array<{ index: number; value: unknown }>;
  notObjects: Array<{ index: number; kind: string }>;
  records: number;
}

/** Scans `doc` cut into the given chunks. */
function scanChunks(chunks: Buffer[], maxRecordBytes = LIMITS.maxRecordBytes): Scan {
  const out: Scan = { candidates: [], notObjects: [], records: 0 };
  const s = new TrailScanner(
    {
      candidate: (json, index) => out.candidates.push({ index, value: JSON.parse(json) }),
      notObject: (index, kind) => out.notObjects.push({ index, kind }),
    },
    { maxRecordBytes },
  );
  for (const c of chunks) s.write(c);
  s.end();
  out.records = s.records;
  return out;
}

function scanText(doc: string | Buffer): Scan {
  return scanChunks([Buffer.isBuffer(doc) ? doc : Buffer.from(doc)]);
}

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).reason;
  }
  throw new Error('expected an InputError');
}

// A record built to confuse a scanner: quotes escaped by odd and even runs of backslashes, brackets and
// the needle inside strings, multi-byte UTF-8 (2, 3 and 4 bytes), \u escapes, a nested "Records".
const TRICKY = {
  eventVersion: '1.08',
  eventSource: 'ses.amazonaws.com',
  eventName: 'PutIdentityPolicy',
  eventTime: '2026-11-20T10:15:30Z',
  requestParameters: {
    identity: 'exämple.com',
    policy: '{"Statement":[{"Effect":"Allow","Resource":"*"}]} \\" \\\\" \\\\\\" }]{[',
    note: 'quote " backslash \\ both \\" end \\',
    emoji: 'mail 📧 中文 “smart” ✓',
    Records: [{ eventSource: 'ses.amazonaws.com', decoy: true }],
    empty: '',
    nums: [0, -1.5e-7, 12345678901234567890, true, false, null],
  },
  responseElements: null,
  eventID: 'e-tricky',
};
const OTHER = { eventSource: 'kms.amazonaws.com', eventName: 'Decrypt', requestParameters: { text: 'ses.amazonaws.com is mentioned }' } };
const SES2 = { eventSource: 'ses.amazonaws.com', eventName: 'GetSendQuota', eventTime: '2026-11-20T10:16:00Z', eventID: 'e2' };

describe('TrailScanner: record splitting', () => {
  const doc = Buffer.from(JSON.stringify({ Records: [OTHER, TRICKY, SES2] }));

  it('finds SES candidates in one chunk', () => {
    const r = scanText(doc);
    expect(r.records).toBe(3);
    // OTHER mentions the service only inside a string without quotes around it: not a candidate.
    expect(r.candidates.map((c) => c.index)).toEqual([1, 2]);
    expect(r.candidates[0].value).toEqual(TRICKY);
    expect(r.candidates[1].value).toEqual(SES2);
  });

  it('gives the same result with the document split at every byte offset', () => {
    const whole = scanText(doc);
    for (let i = 0; i <= doc.length; i++) {
      const r = scanChunks([doc.subarray(0, i), doc.subarray(i)]);
      expect(r, `split at ${i}`).toEqual(whole);
    }
  });

  it('gives the same result when split into three pieces around the tricky record, and byte by byte', () => {
    const whole = scanText(doc);
    const start = doc.indexOf('"policy"');
    for (let i = start; i < start + 120; i++) {
      for (let j = i; j < i + 9; j++) {
        expect(scanChunks([doc.subarray(0, i), doc.subarray(i, j), doc.subarray(j)]), `${i}/${j}`).toEqual(whole);
      }
    }
    const bytes = Array.from({ length: doc.length }, (_, k) => doc.subarray(k, k + 1));
    expect(scanChunks(bytes)).toEqual(whole);
  });

  it('handles pretty-printed documents and any key order or whitespace', () => {
    const pretty = JSON.stringify({ eventFormat: 'x', Records: [OTHER, TRICKY, SES2], digest: { a: [1, 2] } }, null, 4);
    const r = scanText(pretty);
    expect(r.records).toBe(3);
    expect(r.candidates.map((c) => c.value)).toEqual([TRICKY, SES2]);
    const spaced = ` \r\n\t{ "Records" :\n[ ${JSON.stringify(SES2)} ,\n\t${JSON.stringify(OTHER)}\n ] , "n" : -12.5e3 , "s":"]}" , "t":true,"f":false,"z":null } \n`;
    expect(scanText(spaced).candidates.map((c) => c.value)).toEqual([SES2]);
  });

  it('only $.Records[*] counts: a nested decoy Records is not records', () => {
    const decoy = { meta: { Records: [SES2, SES2] }, list: [{ Records: [SES2] }], Records: [OTHER], after: { Records: [SES2] } };
    const r = scanText(JSON.stringify(decoy));
    expect(r.records).toBe(1);
    expect(r.candidates).toEqual([]);
    expect(errorOf(() => scanText(JSON.stringify({ meta: { Records: [SES2] } })))).toBe('not a CloudTrail log file: no top-level "Records" array');
  });

  it('counts elements that are not objects and goes on', () => {
    const r = scanText(`{"Records":[1, "a\\"b", null, [ {"eventSource":"ses.amazonaws.com"} ], ${JSON.stringify(SES2)}, true, -0.5]}`);
    expect(r.records).toBe(7);
    expect(r.notObjects).toEqual([
      { index: 0, kind: 'a number' },
      { index: 1, kind: 'a string' },
      { index: 2, kind: 'null' },
      { index: 3, kind: 'an array' },
      { index: 5, kind: 'a boolean' },
      { index: 6, kind: 'a number' },
    ]);
    expect(r.candidates.map((c) => c.index)).toEqual([4]);
  });

  it('accepts an empty Records array and a UTF-8 byte order mark, in any chunks', () => {
    expect(scanText('{"Records":[]}').records).toBe(0);
    const doc = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`{"Records":[ ${JSON.stringify(SES2)} ]}`)]);
    expect(scanText(doc).candidates).toEqual([{ index: 0, value: SES2 }]);
    const bytes = [...doc].map((b) => Buffer.from([b]));
    expect(scanChunks(bytes).candidates).toEqual([{ index: 0, value: SES2 }]);
    // Only as the first bytes, and whole.
    expect(errorOf(() => scanText(Buffer.concat([Buffer.from([0xef, 0xbb]), Buffer.from('{"Records":[]}')])))).toMatch(/incomplete byte order mark/);
    expect(errorOf(() => scanText(Buffer.concat([Buffer.from(' '), Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"Records":[]}')])))).toMatch(/expected a JSON object/);
  });
});

describe('TrailScanner: valid documents as JSON.parse reads them', () => {
  it('a top-level key written with escapes is still Records', () => {
    for (const key of ['Rec\\u006frds', '\\u0052ecords', 'R\\u0065\\u0063ords']) {
      const doc = `{"other":1,"${key}":[${JSON.stringify(SES2)}]}`;
      expect(Object.keys(JSON.parse(doc))).toContain('Records');
      for (let c = 1; c < doc.length; c++) {
        expect(scanChunks([Buffer.from(doc.slice(0, c)), Buffer.from(doc.slice(c))]).candidates, `${key} cut ${c}`).toEqual([{ index: 0, value: SES2 }]);
      }
    }
    // ... and a key that only looks like it is not.
    expect(errorOf(() => scanText('{"Records ":[]}'))).toMatch(/no top-level "Records" array/);
    expect(errorOf(() => scanText('{"Rec\\\\u006frds":[]}'))).toMatch(/no top-level "Records" array/);
  });

  it('an escaped event source or eventSource key makes a record a candidate', () => {
    const spelled = ['"eventSource":"\\u0073es.amazonaws.com"', '"eventSource":"ses\\u002eamazonaws.com"', '"event\\u0053ource":"ses.amazonaws.com"', '"eventSource":"\\u0073\\u0065\\u0073.amazonaws.com"'];
    for (const field of spelled) {
      const rec = `{"eventVersion":"1.08",${field},"eventName":"DeleteIdentity","n":1}`;
      const doc = `{"Records":[{"eventSource":"s3.amazonaws.com"},${rec}]}`;
      expect(JSON.parse(doc).Records[1].eventSource ?? JSON.parse(doc).Records[1]['eventSource']).toBe('ses.amazonaws.com');
      expect(scanText(doc).candidates.map((c) => c.index), field).toEqual([1]);
    }
  });

  it('escapes that cannot spell the event source do not make a candidate; those that can, or may, do', () => {
    // JSON.parse is the reference: which of these records has eventSource ses.amazonaws.com.
    const notSes = [
      '{"eventSource":"s3.amazonaws.com","q":"a\\u003db\\u0026c\\u003C"}', // =, &, < as some serializers write them
      '{"eventSource":"s3.amazonaws.com","q":"\\u0053ES"}', // S: upper case is not in the source
      '{"eventSource":"s3.amazonaws.com","q":"\\u00e9\\ud83d\\ude00"}',
      '{"eventSource":"s3.amazonaws.com","q":"\\\\u003d"}', // not an escape at all (a backslash, then u003d)
    ];
    const mayBe = [
      '{"eventSource":"s3.amazonaws.com","q":"\\u0073"}', // an s elsewhere: parsed, then dropped by eventSource
      '{"eventSource":"s3.amazonaws.com","q":"\\u002E"}', // upper-case hex digits
      '{"eventSource":"s3.amazonaws.com","q":"\\\\u0073"}', // an escaped backslash before u0073: counted, to be safe
    ];
    const ses = '{"eventSource":"se\\u0073.amazonaws.com","eventName":"DeleteIdentity"}';
    const records = [...notSes, ...mayBe, ses];
    const doc = `{"Records":[${records.join(',')}]}`;
    const parsed: Array<{ eventSource: string }> = JSON.parse(doc).Records;
    expect(parsed.map((r) => r.eventSource === 'ses.amazonaws.com')).toEqual([false, false, false, false, false, false, false, true]);
    expect(scanText(doc).candidates.map((c) => c.index)).toEqual([4, 5, 6, 7]);
    // The same when an element arrives in pieces (checked whole by the scanner, not the kernel).
    for (let c = 1; c < doc.length; c += 7) {
      const r = scanChunks([Buffer.from(doc.slice(0, c)), Buffer.from(doc.slice(c))]);
      expect(r.candidates.map((x) => x.index), `cut ${c}`).toEqual([4, 5, 6, 7]);
    }
  });

  it('a top-level value nested deeper than any fixed stack is walked, not refused', () => {
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const doc = `{"meta":${deep},"Records":[${JSON.stringify(SES2)}],"more":{"a":${deep}}}`;
    expect(() => JSON.parse(doc)).not.toThrow();
    expect(scanText(doc).candidates).toEqual([{ index: 0, value: SES2 }]);
    expect(errorOf(() => scanText(`{"meta":${deep.slice(0, -1)}}},"Records":[]}`))).toMatch(/mismatched brackets/);
  });
});

describe('TrailScanner: bad documents', () => {
  it.each<[string, string, RegExp]>([
    ['empty', '', /^empty file/],
    ['whitespace only', '  \n', /^empty file/],
    ['an array', '[{"Records":[]}]', /^not a CloudTrail log file: the document is a JSON array/],
    ['a string', '"Records"', /^not a CloudTrail log file: expected a JSON object, found a string/],
    ['Records not an array', '{"Records":{"a":1}}', /^not a CloudTrail log file: "Records" is an object, not an array/],
    ['Records null', '{"Records":null}', /"Records" is null, not an array/],
    ['no Records', '{"foo":[1,2]}', /no top-level "Records" array/],
    ['truncated in a record', '{"Records":[{"eventSource":"ses.amazonaws.com","x":"ab', /^truncated JSON.*inside Records \(after 0 records\)/],
    ['truncated after a record', '{"Records":[{"a":1},', /^truncated JSON.*after 1 records/],
    ['truncated after the array', '{"Records":[{"a":1}]', /^truncated JSON/],
    ['truncated in a scalar element', '{"Records":[1', /^truncated JSON/],
    ['trailing comma', '{"Records":[{"a":1},]}', /trailing comma/],
    ['missing comma', '{"Records":[{"a":1} {"b":2}]}', /expected , or \] after record 1/],
    ['a bracket closing Records wrongly', '{"Records":[{"a":1}}', /expected , or \] after record 1 \(found '}'\)/],
    ['mismatched brackets outside Records', '{"x":[1}, "Records":[]}', /mismatched brackets/],
    ['garbage after the document', '{"Records":[]} x', /unexpected data after the end/],
    ['a second document', '{"Records":[]}{"Records":[]}', /unexpected data after the end/],
    ['bad top-level key', '{Records:[]}', /expected a key/],
    ['missing colon', '{"Records" []}', /expected :/],
    ['two Records keys', '{"Records":[{"a":1}],"Records":[{"b":2}]}', /more than one "Records" key/],
    ['a second, empty Records', '{"Records":[{"a":1}],"Records":[]}', /more than one "Records" key/],
    ['two Records keys, one escaped', '{"Records":[],"Rec\\u006frds":[]}', /more than one "Records" key/],
    ['trailing comma in the outer object', '{"Records":[],}', /expected a key/],
    ['a bad escape in a top-level key', '{"Rec\\qords":[]}', /invalid escape in a top-level key/],
  ])('%s', (_name, doc, reason) => {
    expect(errorOf(() => scanText(doc))).toMatch(reason);
  });

  it('leaves the inside of other services\' records unchecked, by design; SES records are parsed in full', async () => {
    // Inside an element only strings and bracket balance are tracked: a record that is never parsed is
    // not validated. A kept (SES) record goes through JSON.parse, which names the problem.
    expect(scanText('{"Records":[{"eventSource":"kms.amazonaws.com","a":[1}]]}').records).toBe(1);
    const doc = Buffer.from('{"Records":[{"eventSource":"ses.amazonaws.com","a":[1}]]}');
    const { processTrail } = await import('../../src/pipeline.js');
    await expect(
      processTrail((async function* () { yield doc; })(), { config: LIMITS, sourceObject: 'x', sink: () => {} }),
    ).rejects.toThrow(/^invalid JSON in record 0: /);
  });

  it('refuses a record larger than the limit, naming it and the limit', () => {
    const big = JSON.stringify({ Records: [SES2, { eventSource: 'x', blob: 'a'.repeat(5000) }] });
    expect(errorOf(() => scanChunks([Buffer.from(big)], 4096))).toBe(
      'record 1 is larger than the 4096-byte record limit (CloudTrail events are at most 256 KB)',
    );
    // The same when the record spans chunks.
    const buf = Buffer.from(big);
    expect(errorOf(() => scanChunks([buf.subarray(0, 100), buf.subarray(100, 3000), buf.subarray(3000)], 4096))).toMatch(/^record 1 is larger/);
    // A record just under the limit is fine.
    expect(scanChunks([buf], 6000).records).toBe(2);
  });
});

async function* chunked(buf: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += size) yield buf.subarray(i, i + size);
}

async function read(buf: Buffer, size = 7, limits = LIMITS) {
  const found: unknown[] = [];
  const result = await readTrail(chunked(buf, size), limits, {
    candidate: (json) => found.push(JSON.parse(json)),
    notObject: () => {},
  });
  return { result, found };
}

async function readError(buf: Buffer, size = 7, limits = LIMITS): Promise<string> {
  try {
    await read(buf, size, limits);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).reason;
  }
  throw new Error('expected an InputError');
}

describe('readTrail', () => {
  const doc = Buffer.from(JSON.stringify({ Records: [OTHER, TRICKY, SES2] }));

  it('reads plain JSON and gzip alike, recognising gzip by its magic bytes', async () => {
    const plain = await read(doc);
    const gz = await read(gzipSync(doc), 5);
    expect(plain.found).toEqual([TRICKY, SES2]);
    expect(gz.found).toEqual([TRICKY, SES2]);
    expect(plain.result).toMatchObject({ records: 3, candidates: 2, bytes: doc.length, sourceBytes: doc.length, gzip: false });
    expect(gz.result).toMatchObject({ records: 3, bytes: doc.length, gzip: true });
    expect(gz.result.sourceBytes).toBe(gzipSync(doc).length);
  });

  it('reads concatenated gzip members as one stream', async () => {
    const half = doc.length >> 1;
    const two = Buffer.concat([gzipSync(doc.subarray(0, half)), gzipSync(doc.subarray(half))]);
    expect((await read(two, 11)).found).toEqual([TRICKY, SES2]);
  });

  it('names truncated and corrupt gzip', async () => {
    const gz = gzipSync(doc);
    expect(await readError(gz.subarray(0, gz.length - 12))).toMatch(/^truncated gzip/);
    const corrupt = Buffer.from(gz);
    corrupt.fill(0x55, 20, 40);
    expect(await readError(corrupt)).toMatch(/^corrupt gzip: /);
    expect(await readError(Buffer.concat([gz, Buffer.from('trailing junk')]))).toMatch(/^corrupt gzip: /);
  });

  it('names empty input and truncated JSON inside gzip', async () => {
    expect(await readError(Buffer.alloc(0))).toBe('empty file: no bytes');
    expect(await readError(gzipSync(doc.subarray(0, doc.length - 3)))).toMatch(/^truncated JSON/);
  });

  it('stops a gzip bomb at the uncompressed limit without inflating it all', async () => {
    const bomb = gzipSync(Buffer.alloc(50 * 1024 * 1024, 0x20)); // 50 MB of spaces: ~50 KB compressed
    const reason = await readError(bomb, 64 * 1024, { ...LIMITS, maxUncompressedBytes: 1024 * 1024 });
    expect(reason).toMatch(/^uncompressed size exceeds the 1048576-byte limit/);
  });

  it('passes on errors from the source itself', async () => {
    async function* failing(): AsyncGenerator<Buffer> {
      yield gzipSync(doc).subarray(0, 10);
      throw new InputError('source went away');
    }
    await expect(readTrail(failing(), LIMITS, { candidate: () => {}, notObject: () => {} })).rejects.toThrow('source went away');
  });

  it('awaits afterChunk between chunks (backpressure)', async () => {
    const order: string[] = [];
    await readTrail(chunked(doc, 64), LIMITS, { candidate: () => order.push('candidate'), notObject: () => {} }, async () => {
      order.push('after');
      await new Promise((r) => setTimeout(r, 1));
    });
    expect(order.filter((o) => o === 'after').length).toBe(Math.ceil(doc.length / 64));
    expect(order.indexOf('candidate')).toBeGreaterThan(0);
  });

  /** A byte stream like an S3 body: the given chunks, then it stays open (a live socket) until destroyed. */
  function liveBody(chunks: Buffer[]): Readable {
    let next = 0;
    return new Readable({
      read() {
        if (next < chunks.length) this.push(chunks[next++]);
      },
    });
  }

  it('closes the source on every failure path (an S3 body left open holds its socket)', async () => {
    const good = Buffer.from(JSON.stringify({ Records: [OTHER, TRICKY, SES2] }));
    const pieces = (b: Buffer) => [b.subarray(0, 40), b.subarray(40)];
    const corrupt = gzipSync(good);
    corrupt.fill(0x55, 20, 40);
    const cases: Array<[string, Buffer[], Partial<typeof LIMITS>, (() => void) | undefined, RegExp]> = [
      ['invalid JSON', pieces(Buffer.from('{"Records":[{"a":1} x')), {}, undefined, /expected , or \]/],
      ['corrupt gzip', pieces(corrupt), {}, undefined, /^corrupt gzip/],
      ['a record over the limit', pieces(good), { maxRecordBytes: 100 }, undefined, /larger than the 100-byte record limit/],
      ['the uncompressed limit', pieces(gzipSync(Buffer.alloc(4 << 20, 0x20))), { maxUncompressedBytes: 1 << 20 }, undefined, /uncompressed size exceeds/],
      ['the sink failing', pieces(gzipSync(good)), {}, () => { throw new Error('table gone'); }, /table gone/],
      ['the candidate handler failing', pieces(good), {}, undefined, /handler refused/],
    ];
    for (const [name, chunks, limits, afterChunk, reason] of cases) {
      const body = liveBody(chunks);
      const handler = {
        candidate: () => {
          if (name === 'the candidate handler failing') throw new InputError('handler refused');
        },
        notObject: () => {},
      };
      await expect(readTrail(body, { ...LIMITS, ...limits }, handler, afterChunk), name).rejects.toThrow(reason);
      expect(body.destroyed, name).toBe(true);
    }
  });

  it('hashes exactly the bytes it parsed: every gzip member, plain JSON as is', async () => {
    const { createHash } = await import('node:crypto');
    const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
    const half = doc.length >> 1;
    const two = Buffer.concat([gzipSync(doc.subarray(0, half)), gzipSync(doc.subarray(half))]);
    expect((await read(two, 11)).result.sha256).toBe(sha(doc));
    expect((await read(doc, 5)).result.sha256).toBe(sha(doc));
    expect((await read(gzipSync(doc), 3)).result.sha256).toBe(sha(doc));
    // Appended content changes the hash, as it changes what is read.
    const extra = Buffer.from(JSON.stringify({ Records: [SES2] }));
    const appended = Buffer.concat([gzipSync(Buffer.from('{"Records":[]}\n')), gzipSync(Buffer.from(' '))]);
    expect((await read(appended)).result.sha256).toBe(sha(Buffer.from('{"Records":[]}\n ')));
    expect(sha(extra)).not.toBe(sha(doc));
  });
});
