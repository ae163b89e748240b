/**
 * A push scanner over the bytes of a CloudTrail log document (`{"Records":[...]}`): it finds the elements
 * of the top-level `Records` array without parsing them, and hands on only those whose bytes mention
 * `"ses.amazonaws.com"`. The caller parses those few and checks `eventSource` for real.
 *
 * Why not a JSON parser: a trail file is mostly other services' records; building objects for them is most
 * of the cost of `JSON.parse`. Here the only per-byte work is structural (brackets, quotes, escapes), done
 * for the elements of Records by the SIMD kernel (kernel.ts) a whole chunk at a time, so the scan costs a
 * fraction of what zlib does. What the kernel does not handle (scalar elements, the closing `]`, anything
 * malformed between elements, the outer object) goes through the plain state machine below.
 *
 * What is validated: the outer object and the Records array exactly; inside an element only that strings
 * and brackets balance. Elements that are kept are then parsed with JSON.parse, so an SES record is always
 * fully checked; other services' records are never parsed, by design.
 *
 * It holds no more than the record being cut (bounded by `maxRecordBytes`): chunks are released as soon as
 * the records in them are handed on. Strings may contain any bytes, including braces, quotes escaped with
 * any number of backslashes, and multi-byte UTF-8 split across chunks (text is decoded only once a whole
 * record is in hand).
 */
import { InputError } from '../errors.js';
import { NEEDLE, newRecordsState, scanRecords } from './kernel.js';

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

const RECORDS_KEY = Buffer.from('Records');
const MAX_DEPTH = 4096;
const MAX_TOP_KEY_BYTES = 1024;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

// Scanner states. "TOP" is the outer object, "REC" the Records array.
const enum S {
  Begin, // before the outer `{`
  TopKey, // expecting a key or `}`
  TopKeyString, // inside a top-level key
  TopColon,
  TopValue, // expecting the value of a top-level key
  TopSkip, // inside a value that is not Records
  TopAfter, // expecting `,` or `}`
  RecBegin, // expecting an element or `]`
  RecValue, // inside a scalar element (the JS walker)
  RecContainer, // inside an object or array element (the kernel)
  RecAfter, // expecting `,` or `]`
  Done,
}

export interface ScanHandler {
  /** A whole element that mentions `"ses.amazonaws.com"`: its text, and its position in Records (0-based). */
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
  private sawRecords = false;
  private state = S.Begin;
  private readonly maxRecordBytes: number;

  // Value walker: bracket stack, string state, backslashes carried over a chunk boundary.
  private readonly stack = new Uint8Array(MAX_DEPTH);
  private depth = 0;
  private inString = false;
  private escCarry = 0;
  /** 0: container or string value; otherwise the first byte of a scalar (number, true, false, null). */
  private scalar = 0;

  // The element being cut, when it spans chunks.
  private pieces: Buffer[] = [];
  private pieceBytes = 0;

  // The kernel's state across chunks, its output ((start, end, has NEEDLE) triples), and whether the next
  // byte is the JS state machine's (the kernel stopped there).
  private readonly ks = newRecordsState();
  private readonly out = new Int32Array(3 * 4096);
  private jsStep = false;

  // Top-level key being read (may span chunks; keys are short).
  private key: number[] = [];
  private keyEsc = false;
  private keyIsRecords = false;

  constructor(
    private readonly handler: ScanHandler,
    options: { maxRecordBytes: number },
  ) {
    this.maxRecordBytes = options.maxRecordBytes;
  }

  /** Scans one chunk. The chunk may be reused by the caller afterwards only if no element spans past it. */
  write(buf: Buffer): void {
    this.bytes += buf.length;
    const len = buf.length;
    let i = 0;
    // Start of the current element within `buf` (when the element began in this chunk).
    let recStart = -1;

    while (i < len) {
      const state = this.state;
      if ((state === S.RecBegin || state === S.RecAfter || state === S.RecContainer) && !this.jsStep) {
        const ks = this.ks;
        const out = this.out;
        if (state !== S.RecContainer) {
          ks.depth = 0;
          ks.inString = false;
          ks.escape = false;
          ks.afterElement = state === S.RecAfter;
        }
        const n = scanRecords(buf, i, ks, out);
        for (let k = 0; k < n; k++) {
          const start = out[3 * k];
          const end = out[3 * k + 1];
          if (start < 0) {
            // Began in an earlier chunk: the kernel did not search it; finishPieces does, over the whole.
            this.finishPieces(buf, end);
          } else {
            this.checkSize(end - start);
            if (buf[start] !== LBRACE) this.handler.notObject(this.records, 'an array');
            else if (out[3 * k + 2] !== 0) this.emit(buf.toString('utf8', start, end));
          }
          this.records++;
        }
        if (ks.depth > 0) {
          // The chunk ended inside an element: keep its bytes so far.
          this.keepPiece(buf, ks.start >= 0 ? ks.start : 0, len);
          this.state = S.RecContainer;
          i = len;
        } else {
          this.state = ks.afterElement ? S.RecAfter : S.RecBegin;
          i = ks.pos;
          // Stopped at a byte the kernel does not handle (not because `out` filled up): one JS step.
          if (i < len && n < out.length / 3) this.jsStep = true;
        }
        continue;
      }
      this.jsStep = false;
      switch (state) {
        case S.RecValue: {
          // A scalar element (number, string, literal): never a record, walked in JS.
          const start = recStart >= 0 ? recStart : 0;
          const end = this.walk(buf, i);
          if (end < 0) {
            this.keepPiece(buf, start, len);
            recStart = -1;
            i = len;
            break;
          }
          this.pieces = [];
          this.pieceBytes = 0;
          this.records++;
          recStart = -1;
          this.state = S.RecAfter;
          i = end;
          break;
        }
        case S.RecAfter: {
          const c = buf[i];
          if (c === COMMA) this.state = S.RecBegin;
          else if (c === RBRACKET) this.state = S.TopAfter;
          else if (!isSpace(c)) this.fail(`expected , or ] after record ${this.records}`, c);
          i++;
          break;
        }
        case S.RecBegin: {
          const c = buf[i];
          if (isSpace(c)) {
            i++;
            break;
          }
          if (c === RBRACKET) {
            // `[]` is fine; `[1,]` is not.
            if (this.records > 0) this.fail('trailing comma in Records', c);
            this.state = S.TopAfter;
            i++;
            break;
          }
          // Objects and arrays are the kernel's; here only scalars (and `"strings"`) start.
          this.startValue(c);
          this.handler.notObject(this.records, describe(c));
          recStart = i;
          this.state = S.RecValue;
          if (this.scalar === 0) i++; // a string's opening quote is consumed by startValue
          break;
        }
        default:
          i = this.top(buf, i);
      }
    }
    // An element whose first byte was the chunk's last byte: keep that byte.
    if (this.state === S.RecValue && recStart >= 0) this.keepPiece(buf, recStart, len);
  }

  /** Call at the end of input: throws when the document is incomplete or has no Records array. */
  end(): void {
    if (this.state !== S.Done) {
      if (this.state === S.Begin) throw new InputError('empty file: no JSON document');
      const where = this.state >= S.RecBegin && this.state <= S.RecAfter ? ` inside Records (after ${this.records} records)` : '';
      throw new InputError(`truncated JSON: the file ends before the document closes${where}`);
    }
    if (!this.sawRecords) throw new InputError('not a CloudTrail log file: no top-level "Records" array');
  }

  // ---- the outer object: rarely visited, so plain code ----

  private top(buf: Buffer, i: number): number {
    const c = buf[i];
    switch (this.state) {
      case S.Begin:
        if (isSpace(c)) return i + 1;
        if (c === 0xef && buf[i + 1] === 0xbb && buf[i + 2] === 0xbf && this.bytes === buf.length && i === 0) return i + 3;
        if (c !== LBRACE) {
          throw new InputError(
            c === LBRACKET
              ? 'not a CloudTrail log file: the document is a JSON array, not an object with "Records"'
              : `not a CloudTrail log file: expected a JSON object, found ${describe(c)}`,
          );
        }
        this.state = S.TopKey;
        return i + 1;
      case S.TopKey:
        if (isSpace(c)) return i + 1;
        if (c === QUOTE) {
          this.key = [];
          this.keyEsc = false;
          this.state = S.TopKeyString;
          return i + 1;
        }
        if (c === RBRACE) {
          this.state = S.Done;
          return i + 1;
        }
        return this.fail('expected a key in the top-level object', c);
      case S.TopKeyString:
        for (; i < buf.length; i++) {
          const k = buf[i];
          if (this.keyEsc) this.keyEsc = false;
          else if (k === BACKSLASH) this.keyEsc = true;
          else if (k === QUOTE) {
            this.keyIsRecords = Buffer.from(this.key).equals(RECORDS_KEY);
            this.state = S.TopColon;
            return i + 1;
          }
          if (this.key.length < MAX_TOP_KEY_BYTES) this.key.push(k);
        }
        return i;
      case S.TopColon:
        if (isSpace(c)) return i + 1;
        if (c !== COLON) return this.fail('expected : after a top-level key', c);
        this.state = S.TopValue;
        return i + 1;
      case S.TopValue:
        if (isSpace(c)) return i + 1;
        if (this.keyIsRecords) {
          if (c !== LBRACKET) throw new InputError(`not a CloudTrail log file: "Records" is ${describe(c)}, not an array`);
          this.sawRecords = true;
          this.state = S.RecBegin;
          return i + 1;
        }
        this.startValue(c);
        this.state = S.TopSkip;
        return this.scalar === 0 ? i + 1 : i;
      case S.TopSkip: {
        const end = this.walk(buf, i);
        if (end < 0) return buf.length;
        this.state = S.TopAfter;
        return end;
      }
      case S.TopAfter:
        if (isSpace(c)) return i + 1;
        if (c === COMMA) {
          this.state = S.TopKey;
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

  // ---- the value walker: the hot loop ----

  /** Prepares to walk a value whose first byte is `c` (consumed here for containers and strings). */
  private startValue(c: number): void {
    this.depth = 0;
    this.inString = false;
    this.escCarry = 0;
    this.scalar = 0;
    if (c === LBRACE || c === LBRACKET) {
      this.stack[0] = c;
      this.depth = 1;
    } else if (c === QUOTE) {
      this.inString = true;
    } else if (c === RBRACE || c === RBRACKET || c === COMMA || c === COLON) {
      this.fail('expected a value', c);
    } else {
      this.scalar = c;
    }
  }

  /** Walks the current value from `i`. Returns the index just past its end, or -1 if `buf` ends first. */
  private walk(buf: Buffer, i: number): number {
    const len = buf.length;
    if (this.scalar !== 0) {
      for (; i < len; i++) {
        const c = buf[i];
        if (c === COMMA || c === RBRACKET || c === RBRACE || isSpace(c)) return i;
        if (c === QUOTE || c === LBRACE || c === LBRACKET || c === COLON) this.fail('invalid JSON value', c);
      }
      return -1;
    }
    const stack = this.stack;
    let depth = this.depth;
    if (this.inString) {
      i = this.skipString(buf, i);
      if (i < 0) return -1;
      this.inString = false;
      if (depth === 0) return i;
    }
    while (i < len) {
      const c = buf[i++];
      if (c === QUOTE) {
        this.escCarry = 0;
        i = this.skipString(buf, i);
        if (i < 0) {
          this.inString = true;
          this.depth = depth;
          return -1;
        }
      } else if (c === LBRACE || c === LBRACKET) {
        if (depth >= MAX_DEPTH) this.fail(`JSON nested deeper than ${MAX_DEPTH} levels`);
        stack[depth++] = c;
      } else if (c === RBRACE || c === RBRACKET) {
        if (stack[depth - 1] !== c - 2) this.fail('mismatched brackets', c);
        if (--depth === 0) {
          this.depth = 0;
          return i;
        }
      }
    }
    this.depth = depth;
    return -1;
  }

  /** From inside a string at `from`: index just past its closing quote, or -1 (state kept in escCarry). */
  private skipString(buf: Buffer, from: number): number {
    for (;;) {
      const q = buf.indexOf(QUOTE, from);
      if (q < 0) {
        let k = buf.length - 1;
        while (k >= from && buf[k] === BACKSLASH) k--;
        const n = buf.length - 1 - k;
        this.escCarry = k < from ? this.escCarry + n : n;
        return -1;
      }
      let k = q - 1;
      while (k >= from && buf[k] === BACKSLASH) k--;
      let n = q - 1 - k;
      if (k < from) n += this.escCarry;
      this.escCarry = 0;
      if ((n & 1) === 0) return q + 1;
      from = q + 1;
    }
  }

  /** An element that began in an earlier chunk ends at `end` in this one. */
  private finishPieces(buf: Buffer, end: number): void {
    this.keepPiece(buf, 0, end);
    const whole = this.pieces.length === 1 ? this.pieces[0] : Buffer.concat(this.pieces, this.pieceBytes);
    this.pieces = [];
    this.pieceBytes = 0;
    if (whole[0] !== LBRACE) this.handler.notObject(this.records, 'an array');
    else if (whole.indexOf(NEEDLE) >= 0) this.emit(whole.toString('utf8'));
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

  private emit(json: string): void {
    this.candidates++;
    this.handler.candidate(json, this.records);
  }

  private fail(what: string, c?: number): never {
    const at = c === undefined ? '' : ` (found ${describe(c)})`;
    throw new InputError(`invalid JSON: ${what}${at} near byte ${this.bytes}`);
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
