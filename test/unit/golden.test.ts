/**
 * The pipeline against the reviewed golden rows of every sample trail file (test/golden/): identities,
 * kinds, actors, findings and every attribute, as a person checked them.
 */
import { readdirSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { DEFAULT_LIMITS } from '../../src/config.js';
import { processTrail } from '../../src/pipeline.js';
import type { AuditRow } from '../../src/ses/row.js';
import { comparable, goldenRows, sampleFile } from '../helpers/trail.js';

const TRAIL = join(import.meta.dirname, '..', '..', 'events', 'trail');

function logFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? logFiles(join(dir, e.name)) : e.name.endsWith('.json.gz') ? [join(dir, e.name)] : [],
  );
}

describe('golden rows of the sample trail', () => {
  const keys = logFiles(TRAIL).map((p) => relative(TRAIL, p).split(sep).join('/'));

  it('covers every sample log file', () => {
    expect(keys.length).toBe(5);
  });

  for (const key of keys) {
    it(key.slice(key.lastIndexOf('/') + 1), async () => {
      const rows: AuditRow[] = [];
      const uri = `s3://trail-bucket/${key}`;
      await processTrail(Readable.from([sampleFile(key)]), { config: DEFAULT_LIMITS, sourceObject: uri, sink: (r) => void rows.push(...r) });
      expect(comparable(rows)).toEqual(goldenRows(key, uri));
    });
  }
});
