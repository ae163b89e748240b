/**
 * Streaming reader: bytes in (a file or an S3 body), gzip recognised by its magic bytes and inflated on the
 * fly, Records elements out through the scanner. Memory holds a few chunks and at most one record.
 *
 * zlib inflates on libuv's thread pool, so while JavaScript scans one chunk the next is being inflated:
 * the stream is read with a high-water mark of several chunks to keep zlib busy.
 */
import { Readable, pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
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
}

export type ByteSource = AsyncIterable<Uint8Array>;

const INFLATE_CHUNK = 256 * 1024;

/**
 * Reads a trail document from `source`, calling `handler` for each SES candidate record. `afterChunk`
 * runs after each decompressed chunk and is awaited: the place for backpressure from slow writes.
 */
export async function readTrail(
  source: ByteSource,
  limits: ReaderLimits,
  handler: ScanHandler,
  afterChunk?: () => Promise<void> | void,
): Promise<ReadResult> {
  const scanner = new TrailScanner(handler, limits);
  const input = source[Symbol.asyncIterator]();
  let sourceBytes = 0;

  // Sniff the first bytes for gzip's magic number (0x1f 0x8b).
  let first: Buffer | undefined;
  for (;;) {
    const next = await input.next();
    if (next.done) break;
    const chunk = toBuffer(next.value);
    sourceBytes += chunk.length;
    if (chunk.length === 0) continue;
    first = first ? Buffer.concat([first, chunk]) : chunk;
    if (first.length >= 2) break;
  }
  if (!first) throw new InputError('empty file: no bytes');
  const gzip = first[0] === 0x1f && first[1] === 0x8b;

  const scan = async (chunk: Buffer): Promise<void> => {
    if (scanner.bytes + chunk.length > limits.maxUncompressedBytes) {
      throw new InputError(
        `uncompressed size exceeds the ${limits.maxUncompressedBytes}-byte limit (gzip bomb guard; CloudTrail files are at most 50 MB)`,
      );
    }
    scanner.write(chunk);
    if (afterChunk) await afterChunk();
  };

  if (!gzip) {
    await scan(first);
    for (;;) {
      const next = await input.next();
      if (next.done) break;
      const chunk = toBuffer(next.value);
      sourceBytes += chunk.length;
      await scan(chunk);
    }
  } else {
    const counted = async function* (): AsyncGenerator<Buffer> {
      yield first!;
      for (;;) {
        const next = await input.next();
        if (next.done) return;
        const chunk = toBuffer(next.value);
        sourceBytes += chunk.length;
        yield chunk;
      }
    };
    const gunzip = createGunzip({ chunkSize: INFLATE_CHUNK, highWaterMark: 4 * INFLATE_CHUNK } as object);
    let sourceError: unknown;
    // Object mode: the high-water mark counts chunks, so a few compressed chunks are read ahead of zlib.
    pipeline(Readable.from(counted(), { objectMode: true, highWaterMark: 8 }), gunzip, (err) => {
      if (err) sourceError = err;
    });
    try {
      for await (const chunk of gunzip) await scan(chunk as Buffer);
    } catch (err) {
      throw gzipError(err);
    }
    if (sourceError) throw gzipError(sourceError);
  }
  scanner.end();
  return { records: scanner.records, candidates: scanner.candidates, bytes: scanner.bytes, sourceBytes, gzip };
}

function toBuffer(chunk: Uint8Array | string): Buffer {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (typeof chunk === 'string') return Buffer.from(chunk);
  return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

/** zlib's errors as one-line reasons; anything else (our own, the source's) passes through. */
function gzipError(err: unknown): unknown {
  const code = (err as { code?: string } | null)?.code;
  const message = (err as Error | null)?.message ?? String(err);
  if (code === 'Z_BUF_ERROR') return new InputError('truncated gzip: the file ends before the compressed stream does', err);
  if (code === 'Z_DATA_ERROR' || code === 'Z_STREAM_ERROR' || code === 'Z_NEED_DICT') {
    return new InputError(`corrupt gzip: ${message}`, err);
  }
  return err;
}
