/** Small formatting helpers shared by the commands. */
import type { TrailSummary } from '../pipeline.js';

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v.toFixed(1)} ${units[u]}`;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** `120 records, 3 SES events, 4 rows, 117 skipped[, ...]` */
export function formatSummary(s: TrailSummary): string {
  const parts = [plural(s.records, 'record'), plural(s.sesEvents, 'SES event'), plural(s.rows, 'row'), `${s.skipped} skipped`];
  if (s.filtered) parts.push(`${s.filtered} filtered`);
  if (s.duplicates) parts.push(plural(s.duplicates, 'repeated event'));
  if (s.badRecords) parts.push(plural(s.badRecords, 'bad record'));
  return parts.join(', ');
}

/** `warning: INPUT: record N: reason` lines for a file's bad records, and how many more there were. */
export function badRecordWarnings(input: string, s: Pick<TrailSummary, 'badRecords' | 'badRecordReasons'>): string[] {
  const lines = s.badRecordReasons.map((reason) => `warning: ${input}: ${reason}`);
  const more = s.badRecords - s.badRecordReasons.length;
  if (more > 0) lines.push(`warning: ${input}: ${more} more bad records`);
  return lines;
}
