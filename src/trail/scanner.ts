/**
 * A push scanner over the bytes of a CloudTrail log document (`{"Records":[...]}`): it finds the elements
 * of the top-level `Records` array without parsing them, and hands on only the candidates (elements whose
 * bytes mention `"ses.amazonaws.com"` or spell one of its characters with a `\u` escape, see kernel.ts).
 * The caller parses those and checks `eventSource` for real.
 *
 * Why not a JSON parser: a trail file is mostly other services' records; building objects for them is most
 * of the cost of `JSON.parse`. The elements of Records go through the kernel (kernel.ts), a whole chunk at a
 * time; everything else (the outer object, its other values, scalar elements, separators the kernel stops
 * at) goes through the small state machine below.
 *
 * What is validated: the outer object exactly (its keys decoded as JSON.parse would, so `"Rec\u006frds"` is
 * `Records`; other top-level values walked with matched brackets at any depth), the Records array's
 * separators exactly, and inside an element only that strings and brackets balance. Elements that are kept
 * are then parsed with JSON.parse, so an SES record is always fully checked; other services' records are
 * never parsed, by design. A document with two `Records` keys is refused: JSON.parse would keep the last,
 * and rows from the first may already be out, so neither merging nor following JSON.parse is possible while
 * streaming.
 *
 * It holds no more than the element being cut (bounded by `maxRecordBytes`): chunks are released as soon as
 * the elements in them are handed on. Strings may contain any bytes, including braces, quotes escaped with
 * any number of backslashes, and multi-byte UTF-8 split across chunks (text is decoded only once a whole
 * element is in hand).
 */
import { InputError } from '../errors.js';
import { isCandidateBytes, newRecordsState, scanRecords } from './kernel.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const UTF8_BOM = [0xef, 0xbb, 0xbf];
const RECORDS = 'Records';
/** A key longer than this cannot be `Records`, however it is escaped (`\u0052` is 6 bytes a letter). */
const MAX_RECORDS_KEY_BYTES = 6 * RECORDS.length;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Where in the document the scanner is. */
const enum S {
  Begin, // before the outer `{`
  Key, // expecting a key or `}`
  KeyString, // inside a top-level key
  Colon,
  Value, // expecting the value of a top-level key
  SkipValue, // inside a top-level value that is not Records
  AfterValue, // expecting `,` or `}`
  Records, // inside the Records array: the kernel's (it tracks elements, separators, strings, depth)
  ScalarElement, // inside a Records element that is not an object or array
  Done,
}

export interface ScanHandler {
  /** A whole candidate element: its text, and its position in Records (0-based). */
  candidate(json: string, index: number): void;
  /** An element that is not a JSON object (counted and reported, not fatal). */
  notObject(index: number, kind: string): void;
}

export interface ScanCounts {
  /** Elements of `Records` seen. */
  records: number;
  /** Elements handed to `candidate`. */
  candidates: number;
  /** Decompressed bytes scanned. */
  bytes: number;
}

export class TrailScanner implements ScanCounts {
  records = 0;
  candidates = 0;
  bytes = 0;
  private state = S.Begin;
  private sawRecords = false;
  private readonly maxRecordBytes: number;

  // The kernel's state across chunks, and its output: (start, end, candidate) triples.
  private readonly ks = newRecordsState();
  private readonly out = new Int32Array(3 * 4096);

  // The element being cut, when it spans chunks.
  private pieces: Buffer[] = [];
  private pieceBytes = 0;

  // A byte order mark being read (bytes of it seen), and whether a `,` came last in the outer object.
  private bom = 0;
  private afterComma = false;

  // A top-level key being read (it may span chunks).
  private key: number[] = [];
  private keyEscape = false;
  private keyIsRecords = false;

  // A value walked here (a top-level value other than Records, or a scalar element).
  private readonly value = new ValueWalker();

  constructor(
    private readonly handler: ScanHandler,
    options: { maxRecordBytes: number },
  ) {
    this.maxRecordBytes = options.maxRecordBytes;
  }

  /** Scans one chunk. The chunk may be reused by the caller afterwards only if no element spans past it. */
  write(buf: Buffer): void {
    this.bytes += buf.length;
    let i = 0;
    while (i < buf.length) {
      if (this.state === S.Records) i = this.recordsFrom(buf, i);
      else if (this.state === S.ScalarElement) i = this.scalarElementFrom(buf, i);
      else i = this.top(buf, i);
    }
  }

  /** Call at the end of input: throws when the document is incomplete or has no Records array. */
  end(): void {
    if (this.state !== S.Done) {
      if (this.state === S.Begin) throw new InputError('empty file: no JSON document');
      const inside = this.state === S.Records || this.state === S.ScalarElement;
      throw new InputError(
        `truncated JSON: the file ends before the document closes${inside ? ` inside Records (after ${this.records} records)` : ''}`,
      );
    }
    if (!this.sawRecords) throw new InputError('not a CloudTrail log file: no top-level "Records" array');
  }

  // ---- the Records array ----

  /** The kernel walks elements from `i`; returns where the caller goes on. */
  private recordsFrom(buf: Buffer, i: number): number {
    const ks = this.ks;
    const out = this.out;
    for (;;) {
      const n = scanRecords(buf, i, ks, out);
      for (let k = 0; k < n; k++) this.element(buf, out[3 * k], out[3 * k + 1], out[3 * k + 2] !== 0);
      if (ks.depth > 0 || ks.inString) {
        // The chunk ended inside an element: keep its bytes so far.
        this.keepPiece(buf, ks.start >= 0 ? ks.start : 0, buf.length);
        return buf.length;
      }
      if (ks.pos >= buf.length) return buf.length;
      if (n === out.length / 3) {
        i = ks.pos; // `out` was full: go on with the kernel
        continue;
      }
      return this.recordsStop(buf, ks.pos);
    }
  }

  /** One element the kernel found whole: [start, end) in buf (start -1: it began in an earlier chunk). */
  private element(buf: Buffer, start: number, end: number, candidate: boolean): void {
    let bytes: Buffer;
    if (start < 0) {
      this.keepPiece(buf, 0, end);
      bytes = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.pieceBytes);
      this.pieces = [];
      this.pieceBytes = 0;
      // The kernel only sees a buffer at a time: check the whole element here.
      candidate = isCandidateBytes(bytes);
    } else {
      this.checkSize(end - start);
      bytes = buf.subarray(start, end);
      // The kernel's flag is a superset (any `\u`): narrow it before the element is decoded and parsed.
      if (candidate) candidate = isCandidateBytes(bytes);
    }
    if (bytes[0] !== LBRACE) this.handler.notObject(this.records, 'an array');
    else if (candidate) {
      this.candidates++;
      this.handler.candidate(bytes.toString('utf8'), this.records);
    }
    this.records++;
  }

  /** The kernel stopped at buf[i], a byte it does not handle (depth 0, between elements). */
  private recordsStop(buf: Buffer, i: number): number {
    const c = buf[i];
    const afterElement = this.ks.afterElement;
    if (c === RBRACKET) {
      // `[]` is fine; `[1,]` is not.
      if (!afterElement && this.records > 0) this.fail('trailing comma in Records', c);
      this.state = S.AfterValue;
      return i + 1;
    }
    if (afterElement) return this.fail(`expected , or ] after record ${this.records}`, c);
    if (c === COMMA || c === COLON || c === RBRACE) return this.fail(`expected record ${this.records}`, c);
    // A scalar element (string, number, literal): never a record, walked here.
    this.handler.notObject(this.records, describe(c));
    this.state = S.ScalarElement;
    return this.value.start(buf, i, this.fail);
  }

  private scalarElementFrom(buf: Buffer, i: number): number {
    const end = this.value.walk(buf, i, this.fail);
    if (end < 0) return buf.length;
    this.records++;
    this.ks.afterElement = true;
    this.state = S.Records;
    return end;
  }

  private keepPiece(buf: Buffer, start: number, end: number): void {
    if (end <= start) return;
    this.pieceBytes += end - start;
    this.checkSize(this.pieceBytes);
    this.pieces.push(buf.subarray(start, end));
  }

  private checkSize(bytes: number): void {
    if (bytes > this.maxRecordBytes) {
      throw new InputError(
        `record ${this.records} is larger than the ${this.maxRecordBytes}-byte record limit (CloudTrail events are at most 256 KB)`,
      );
    }
  }

  // ---- the outer object: rarely visited, so plain code ----

  private top(buf: Buffer, i: number): number {
    const c = buf[i];
    switch (this.state) {
      case S.Begin: {
        // A UTF-8 byte order mark, only as the document's first bytes (RFC 8259 lets parsers ignore it).
        const offset = this.bytes - buf.length + i;
        if (offset < 3 && offset === this.bom && c === UTF8_BOM[offset]) {
          this.bom++;
          return i + 1;
        }
        if (this.bom > 0 && this.bom < 3) return this.fail('incomplete byte order mark', c);
        if (isSpace(c)) return i + 1;
        if (c !== LBRACE) {
          throw new InputError(
            c === LBRACKET
              ? 'not a CloudTrail log file: the document is a JSON array, not an object with "Records"'
              : `not a CloudTrail log file: expected a JSON object, found ${describe(c)}`,
          );
        }
        this.state = S.Key;
        return i + 1;
      }
      case S.Key:
        if (isSpace(c)) return i + 1;
        if (c === QUOTE) {
          this.key = [];
          this.keyEscape = false;
          this.afterComma = false;
          this.state = S.KeyString;
          return i + 1;
        }
        // `{}` is a valid (empty) document; `{"a":1,}` is not.
        if (c === RBRACE && !this.afterComma) {
          this.state = S.Done;
          return i + 1;
        }
        return this.fail('expected a key in the top-level object', c);
      case S.KeyString:
        for (; i < buf.length; i++) {
          const k = buf[i];
          if (this.keyEscape) this.keyEscape = false;
          else if (k === BACKSLASH) this.keyEscape = true;
          else if (k === QUOTE) {
            this.keyIsRecords = this.decodedKey() === RECORDS;
            this.state = S.Colon;
            return i + 1;
          }
          // Only the first bytes matter: a longer key is not Records.
          if (this.key.length <= MAX_RECORDS_KEY_BYTES) this.key.push(k);
        }
        return i;
      case S.Colon:
        if (isSpace(c)) return i + 1;
        if (c !== COLON) return this.fail('expected : after a top-level key', c);
        this.state = S.Value;
        return i + 1;
      case S.Value:
        if (isSpace(c)) return i + 1;
        if (this.keyIsRecords) {
          if (this.sawRecords) {
            throw new InputError(
              'not a CloudTrail log file: the top-level object has more than one "Records" key (refused: JSON.parse would keep only the last)',
            );
          }
          if (c !== LBRACKET) throw new InputError(`not a CloudTrail log file: "Records" is ${describe(c)}, not an array`);
          this.sawRecords = true;
          this.state = S.Records;
          return i + 1;
        }
        this.state = S.SkipValue;
        return this.value.start(buf, i, this.fail);
      case S.SkipValue: {
        const end = this.value.walk(buf, i, this.fail);
        if (end < 0) return buf.length;
        this.state = S.AfterValue;
        return end;
      }
      case S.AfterValue:
        if (isSpace(c)) return i + 1;
        if (c === COMMA) {
          this.afterComma = true;
          this.state = S.Key;
          return i + 1;
        }
        if (c === RBRACE) {
          this.state = S.Done;
          return i + 1;
        }
        return this.fail('expected , or } in the top-level object', c);
      case S.Done:
        if (isSpace(c)) return i + 1;
        return this.fail('unexpected data after the end of the JSON document', c);
      default:
        throw new Error(`scanner state ${this.state}`);
    }
  }

  /** The key just read, decoded as JSON.parse would (escapes included); only needed up to Records' length. */
  private decodedKey(): string {
    const raw = Buffer.from(this.key);
    if (raw.length > MAX_RECORDS_KEY_BYTES) return '';
    if (raw.indexOf(BACKSLASH) < 0) return raw.toString('utf8');
    try {
      const decoded: unknown = JSON.parse(`"${raw.toString('utf8')}"`);
      return typeof decoded === 'string' ? decoded : '';
    } catch {
      return this.fail('invalid escape in a top-level key');
    }
  }

  // An arrow function: handed to the value walker, which reports errors the same way.
  private readonly fail = (what: string, c?: number): never => {
    const at = c === undefined ? '' : ` (found ${describe(c)})`;
    throw new InputError(`invalid JSON: ${what}${at} near byte ${this.bytes}`);
  };
}

type Fail = (what: string, c?: number) => never;

/**
 * Walks one JSON value that the scanner skips (a top-level value other than Records, or a scalar element):
 * brackets matched by type at any depth (the stack grows as needed: one byte a level), strings with any
 * escapes, across chunks.
 */
class ValueWalker {
  private stack = new Uint8Array(64);
  private depth = 0;
  private inString = false;
  private escape = false;
  /** The first byte of a scalar being walked (number, true, false, null); 0 for strings and containers. */
  private scalar = 0;

  /** Begins the value whose first byte is buf[i]; returns where to go on (`walk` from there). */
  start(buf: Buffer, i: number, fail: Fail): number {
    const c = buf[i];
    this.depth = 0;
    this.inString = false;
    this.escape = false;
    this.scalar = 0;
    if (c === LBRACE || c === LBRACKET) {
      this.stack[0] = c;
      this.depth = 1;
      return i + 1;
    }
    if (c === QUOTE) {
      this.inString = true;
      return i + 1;
    }
    if (c === RBRACE || c === RBRACKET || c === COMMA || c === COLON) return fail('expected a value', c);
    this.scalar = c;
    return i;
  }

  /** Goes on from buf[i]; returns the index just past the value's end, or -1 if buf ends first. */
  walk(buf: Buffer, i: number, fail: Fail): number {
    const len = buf.length;
    if (this.scalar !== 0) {
      for (; i < len; i++) {
        const c = buf[i];
        if (c === COMMA || c === RBRACKET || c === RBRACE || isSpace(c)) return i;
        if (c === QUOTE || c === LBRACE || c === LBRACKET || c === COLON) fail('invalid JSON value', c);
      }
      return -1;
    }
    while (i < len) {
      if (this.inString) {
        for (; i < len; i++) {
          const d = buf[i];
          if (this.escape) this.escape = false;
          else if (d === BACKSLASH) this.escape = true;
          else if (d === QUOTE) break;
        }
        if (i === len) return -1;
        this.inString = false;
        i++;
        if (this.depth === 0) return i;
        continue;
      }
      const c = buf[i++];
      if (c === QUOTE) this.inString = true;
      else if (c === LBRACE || c === LBRACKET) this.push(c);
      else if (c === RBRACE || c === RBRACKET) {
        // `}` is `{` + 2, `]` is `[` + 2.
        if (this.stack[this.depth - 1] !== c - 2) fail('mismatched brackets', c);
        if (--this.depth === 0) return i;
      }
    }
    return -1;
  }

  private push(c: number): void {
    if (this.depth === this.stack.length) {
      const grown = new Uint8Array(this.stack.length * 2);
      grown.set(this.stack);
      this.stack = grown;
    }
    this.stack[this.depth++] = c;
  }
}

function describe(c: number): string {
  if (c === LBRACE) return 'an object';
  if (c === LBRACKET) return 'an array';
  if (c === QUOTE) return 'a string';
  if (c === 0x74 || c === 0x66) return 'a boolean';
  if (c === 0x6e) return 'null';
  if (c === 0x2d || (c >= 0x30 && c <= 0x39)) return 'a number';
  if (c >= 0x21 && c < 0x7f) return `'${String.fromCharCode(c)}'`;
  return `byte 0x${c.toString(16).padStart(2, '0')}`;
}
