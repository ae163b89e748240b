/**
 * Streaming reader: bytes in (a file or an S3 body), gzip recognised by its magic bytes and inflated on the
 * fly, Records elements out through the scanner. Memory holds a few chunks and at most one record.
 *
 * zlib inflates on libuv's thread pool, so while JavaScript scans one chunk the next is being inflated:
 * the stream is read with a high-water mark of several chunks to keep zlib busy.
 *
 * The SHA-256 of exactly the bytes parsed (every gzip member: data appended after the first member is
 * content too) is computed on the way, for the ledger to compare with CloudTrail's digest.
 */
import { createHash } from 'node:crypto';
import { Readable, pipeline } from 'node:stream';
import { createGunzip, gunzipSync } from 'node:zlib';
import type { ReaderLimits } from '../config.js';
import { InputError } from '../errors.js';
import { TrailScanner, type ScanHandler } from './scanner.js';

export interface ReadResult {
  records: number;
  candidates: number;
  /** Decompressed bytes. */
  bytes: number;
  /** Bytes read from the source (compressed size for gzip). */
  sourceBytes: number;
  gzip: boolean;
  /** Hex SHA-256 of the decompressed content. */
  sha256: string;
}

/** Bytes from a file or an S3 body. `destroy` closes it at once (a stream's destroy), even mid-read. */
export interface ByteSource extends AsyncIterable<Uint8Array> {
  destroy?(): void;
}

const INFLATE_CHUNK = 256 * 1024;

/**
 * Reads a trail document from `source`, calling `handler` for each candidate record. `afterChunk` runs
 * after each decompressed chunk and is awaited: the place for backpressure from slow writes. On any failure
 * the source is closed before the error is thrown: an S3 body left open would keep its keep-alive socket
 * checked out for the rest of a warm Lambda's life.
 */
export async function readTrail(
  source: ByteSource,
  limits: ReaderLimits,
  handler: ScanHandler,
  afterChunk?: () => Promise<void> | void,
): Promise<ReadResult> {
  const scanner = new TrailScanner(handler, limits);
  const hash = createHash('sha256');
  const input = source[Symbol.asyncIterator]();
  let sourceBytes = 0;
  /** The next non-empty chunk of the source, or undefined at its end. */
  const pull = async (): Promise<Buffer | undefined> => {
    for (;;) {
      const next = await input.next();
      if (next.done) return undefined;
      const chunk = toBuffer(next.value);
      sourceBytes += chunk.length;
      if (chunk.length > 0) return chunk;
    }
  };
  const scan = async (chunk: Buffer): Promise<void> => {
    if (scanner.bytes + chunk.length > limits.maxUncompressedBytes) {
      throw new InputError(
        `uncompressed size exceeds the ${limits.maxUncompressedBytes}-byte limit (gzip bomb guard; CloudTrail files are at most 50 MB)`,
      );
    }
    hash.update(chunk);
    scanner.write(chunk);
    if (afterChunk) await afterChunk();
  };

  let done = false;
  try {
    // Sniff the first bytes for gzip's magic number (0x1f 0x8b).
    let first = await pull();
    if (!first) throw new InputError('empty file: no bytes');
    if (first.length < 2) {
      const second = await pull();
      if (second) first = Buffer.concat([first, second]);
    }
    const gzip = first[0] === 0x1f && first[1] === 0x8b;
    if (gzip) {
      await inflate(first, pull, scan);
    } else {
      for (let chunk: Buffer | undefined = first; chunk; chunk = await pull()) await scan(chunk);
    }
    scanner.end();
    done = true;
    const { records, candidates, bytes } = scanner;
    return { records, candidates, bytes, sourceBytes, gzip, sha256: hash.digest('hex') };
  } finally {
    if (!done) close(source, input);
  }
}

/**
 * Closes a source that failed: destroy() reaches the socket even while a read is pending (an async
 * iterator's return() would wait for that read, which on a stalled socket never comes); return() is still
 * called, not awaited, for sources that only have that.
 */
function close(source: ByteSource, input: AsyncIterator<Uint8Array>): void {
  source.destroy?.();
  input.return?.().catch(() => undefined);
}

/** Inflates the compressed chunks (`first`, then `pull` until undefined) into `scan`, one chunk at a time. */
async function inflate(
  first: Buffer,
  pull: () => Promise<Buffer | undefined>,
  scan: (chunk: Buffer) => Promise<void>,
): Promise<void> {
  const compressed = async function* (): AsyncGenerator<Buffer> {
    for (let chunk: Buffer | undefined = first; chunk; chunk = await pull()) yield chunk;
  };
  // Boundary: @types/node's ZlibOptions lacks highWaterMark, which createGunzip passes on to its stream.
  const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK, highWaterMark: 4 * INFLATE_CHUNK } as object);
  let sourceError: unknown;
  // Object mode: the high-water mark counts chunks, so a few compressed chunks are read ahead of zlib.
  pipeline(Readable.from(compressed(), { objectMode: true, highWaterMark: 8 }), gunzip, (err) => {
    if (err) sourceError = err;
  });
  try {
    for await (const chunk of gunzip) await scan(toBuffer(chunk));
  } catch (err) {
    throw gzipError(err);
  }
  if (sourceError) throw gzipError(sourceError);
}

function toBuffer(chunk: unknown): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  throw new InputError(`the source gave ${typeof chunk}, not bytes`);
}

/** zlib's errors as one-line reasons; anything else (our own, the source's) passes through. */
function gzipError(err: unknown): unknown {
  const code = err instanceof Error && 'code' in err ? err.code : undefined;
  if (code === 'Z_BUF_ERROR') return new InputError('truncated gzip: the file ends before the compressed stream does', err);
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR' || code === 'Z_NEED_DICT') {
    return new InputError(`corrupt gzip: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  return err;
}

/**
 * A whole small file (a digest: a few KB) in memory, decompressed when it is gzip; at most `maxBytes`
 * decompressed. The source is closed on failure, as readTrail closes it.
 */
export async function readWhole(source: ByteSource, maxBytes: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  let done = false;
  const input = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await input.next();
      if (next.done) break;
      const chunk = toBuffer(next.value);
      size += chunk.length;
      if (size > maxBytes) throw new InputError(`larger than ${maxBytes} bytes`);
      parts.push(chunk);
    }
    const raw = Buffer.concat(parts);
    done = true;
    if (raw[0] !== 0x1f || raw[1] !== 0x8b) return raw;
    try {
      return gunzipSync(raw, { maxOutputLength: maxBytes });
    } catch (err) {
      if (err instanceof RangeError) throw new InputError(`larger than ${maxBytes} bytes uncompressed`, err);
      throw gzipError(err);
    }
  } finally {
    if (!done) close(source, input);
  }
}
