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

/** A word as a POSIX shell reads it back: as is when safe, else single-quoted. */
export function shellQuote(word: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * An ARN as short as it stays clear: within `account` (the row's own) the resource alone, without an IAM
 * path (`arn:aws:iam::111122223333:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_1` gives
 * `role/AWSReservedSSO_Admin_1`); another account's keeps its account (`444455556666:role/x`). Anything
 * that is not an ARN (a service name, a principal ID) is returned as it is.
 */
export function shortArn(arn: string, account?: string): string {
  const m = /^arn:[\w-]+:[\w-]+:[^:]*:(\d*):(.+)$/s.exec(arn);
  if (!m) return arn;
  const [, owner, resource] = m;
  const parts = resource.split('/');
  // IAM paths sit between the type and the name; other ARNs' segments are all meaningful (assumed-role/ROLE/SESSION).
  const iamPath = (parts[0] === 'role' || parts[0] === 'user') && parts.length > 2;
  const short = iamPath ? `${parts[0]}/${parts[parts.length - 1]}` : resource;
  return owner && owner !== account ? `${owner}:${short}` : short;
}
