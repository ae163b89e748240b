/**
 * The ways of reading one trail file that the benchmark compares. Each runs in a fresh child process
 * (bench/worker.ts) so that its peak memory is its own.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createGunzip, gunzipSync } from 'node:zlib';
import chain from 'stream-chain';
import { parser } from 'stream-json';
import { pick } from 'stream-json/filters/pick.js';
import { streamArray } from 'stream-json/streamers/stream-array.js';
import { processTrail } from '../src/pipeline.js';
import { recordToRows } from '../src/ses/rows.js';

export interface MethodResult {
  /** SES rows produced (0 for gunzip alone). */
  rows: number;
  /** Decompressed bytes. */
  bytes: number;
}

const READ_CHUNK = 1024 * 1024;
const ctx = { sourceObject: 'bench', ingestedAt: new Date(0).toISOString() };

export const METHODS: Record<string, (file: string) => Promise<MethodResult>> = {
  /** Node's own streaming gunzip, bytes counted and dropped: the floor for any streaming reader. */
  async gunzip(file) {
    let bytes = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK }).pipe(createGunzip({ chunkSize: 256 * 1024 }))) {
      // A gunzip stream yields Buffers; its async iterator is typed any.
      bytes += (chunk as Buffer).length;
    }
    return { rows: 0, bytes };
  },

  /** gunzip, and the SHA-256 of every decompressed byte: the cost of the ledger's hash on its own. */
  async 'gunzip+sha256'(file) {
    let bytes = 0;
    const hash = createHash('sha256');
    for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK }).pipe(createGunzip({ chunkSize: 256 * 1024 }))) {
      bytes += (chunk as Buffer).length;
      hash.update(chunk as Buffer);
    }
    hash.digest();
    return { rows: 0, bytes };
  },

  /** This project: the streaming reader (with the ledger's hash), SES filter and row building, rows counted. */
  async 'ses-audit'(file) {
    let rows = 0;
    const s = await processTrail(createReadStream(file, { highWaterMark: READ_CHUNK }), {
      config: { maxUncompressedBytes: 2 ** 40, maxRecordBytes: 1 << 20 },
      sourceObject: 'bench',
      sink: (r) => {
        rows += r.length;
      },
    });
    return { rows, bytes: s.bytes };
  },

  /** Read it all, gunzip it all, JSON.parse it all: what a naive Lambda does. */
  async 'JSON.parse'(file) {
    const text = gunzipSync(await readFile(file)).toString('utf8');
    // A trail file's document.
    const doc = JSON.parse(text) as { Records: unknown[] };
    let rows = 0;
    for (const r of doc.Records) {
      const out = recordToRows(r, ctx);
      if (out.kind === 'rows') rows += out.rows.length;
    }
    return { rows, bytes: Buffer.byteLength(text) };
  },

  /** stream-json: a well-known streaming parser, every record assembled into an object. */
  async 'stream-json'(file) {
    let rows = 0;
    let bytes = 0;
    const gunzip = createGunzip({ chunkSize: 256 * 1024 });
    gunzip.on('data', (c: Buffer) => (bytes += c.length));
    const pipeline = chain([createReadStream(file, { highWaterMark: READ_CHUNK }), gunzip, parser(), pick({ filter: 'Records' }), streamArray()]);
    pipeline.on('data', ({ value }: { value: unknown }) => {
      const out = recordToRows(value, ctx);
      if (out.kind === 'rows') rows += out.rows.length;
    });
    await new Promise<void>((resolve, reject) => {
      pipeline.on('end', resolve);
      pipeline.on('error', reject);
    });
    return { rows, bytes };
  },
};
