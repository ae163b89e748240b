/**
 * Writes test/golden/<sample file>.rows.json: the rows of each sample trail file in events/trail, as the
 * table holds them (the attributes of DESIGN.md), sorted by identity and eventKey, without `ingestedAt` and
 * with `sourceObject` as `s3://BUCKET/KEY`. Run `npx tsx scripts/make-golden.ts` after changing the samples
 * or the row builder, then REVIEW THE DIFF BY HAND: the tests compare the pipeline, the handler and the table
 * with these files, so they are only as right as that review.
 */
import { readdir, readFile, mkdir, writeFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import { processTrail } from '../src/pipeline.js';
import { DEFAULT_LIMITS } from '../src/config.js';
import type { AuditRow } from '../src/ses/row.js';

const ROOT = join(import.meta.dirname, '..');
const TRAIL = join(ROOT, 'events', 'trail');
const OUT = join(ROOT, 'test', 'golden');

async function files(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...(await files(p)));
    else if (e.name.endsWith('.json.gz')) out.push(p);
  }
  return out.sort();
}

await mkdir(OUT, { recursive: true });
for (const path of await files(TRAIL)) {
  const key = relative(TRAIL, path).split(sep).join('/');
  const body = await readFile(path);
  const rows: AuditRow[] = [];
  await processTrail((async function* () { yield body; })(), {
    config: DEFAULT_LIMITS,
    sourceObject: `s3://BUCKET/${key}`,
    sink: (r) => void rows.push(...r),
  });
  const golden = rows
    .map(({ ingestedAt: _i, ...rest }) => rest)
    .sort((a, b) => `${a.identity}|${a.eventKey}`.localeCompare(`${b.identity}|${b.eventKey}`));
  const file = join(OUT, `${basename(path, '.json.gz')}.rows.json`);
  await writeFile(file, `${JSON.stringify(golden, null, 2)}\n`);
  console.log(`${relative(ROOT, file)}: ${golden.length} rows`);
}
