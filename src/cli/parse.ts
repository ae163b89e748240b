/**
 * Every value typed on the command line that is not free text, parsed in one place: whole numbers within
 * bounds, times (`--since`/`--until`), days and durations. Each parser is a commander argument parser: it
 * returns the value or throws InvalidArgumentError with a reason, which the CLI prints after the option's
 * name, with exit status 2.
 *
 * Times, as an operator types them (UTC throughout, the time zone of CloudTrail):
 * - `2026-11-20`: a whole day (as --until: through its last second);
 * - `2026-11-20T10:15:00Z`, `2026-11-20T12:15+02:00`: an ISO time with a zone (seconds and fractions optional);
 * - `today`, `yesterday`: whole days; `now`;
 * - `30s`, `15m`, `2h`, `7d`, `2w` (also `7days`, `2 hours`): that long before now, to the second.
 */
import { InvalidArgumentError } from 'commander';
import type { TimeBound } from '../store/history.js';

export type { TimeBound };

/** A whole number from `min` to `max` (decimal digits only: no signs, exponents or fractions). */
export function integer(min: number, max: number): (raw: string) => number {
  return (raw) => {
    const text = raw.trim();
    const n = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}`);
    }
    return n;
  };
}

const UNIT_MS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };
const UNIT_WORDS: Record<string, string> = {
  sec: 's', secs: 's', second: 's', seconds: 's',
  min: 'm', mins: 'm', minute: 'm', minutes: 'm',
  hour: 'h', hours: 'h', day: 'd', days: 'd', week: 'w', weeks: 'w',
};
const AMOUNT_RE = /^(\d+(?:\.\d+)?)\s*([a-z]+)$/;

/** `90s`, `15m`, `2h`, `7d`, `2 weeks` in milliseconds, or undefined when `text` is not such an amount. */
function amountMs(text: string): number | undefined {
  const m = AMOUNT_RE.exec(text.toLowerCase());
  if (!m) return undefined;
  const unit = UNIT_MS[m[2]] !== undefined ? m[2] : UNIT_WORDS[m[2]];
  if (unit === undefined) return undefined;
  return Number(m[1]) * UNIT_MS[unit];
}

/**
 * A duration: `90s`, `15m`, `2h`, `1d`, or a bare number of `bareUnit`s (seconds unless said otherwise),
 * returned in milliseconds, within [minMs, maxMs].
 */
export function duration(o: { minMs: number; maxMs: number; bareUnit?: 's' | 'm' | 'h' }): (raw: string) => number {
  const describe = (ms: number) => (ms % 1000 === 0 ? `${ms / 1000} s` : `${ms} ms`);
  return (raw) => {
    const text = raw.trim();
    const bare = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) * UNIT_MS[o.bareUnit ?? 's'] : undefined;
    const ms = bare ?? amountMs(text);
    if (ms === undefined) throw new InvalidArgumentError(`expected a duration like 90s, 15m, 2h or 1d`);
    if (ms < o.minMs || ms > o.maxMs) {
      throw new InvalidArgumentError(`expected a duration from ${describe(o.minMs)} to ${describe(o.maxMs)}`);
    }
    return Math.round(ms);
  };
}

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/;
const TIME_RE = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,9})?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;

/** `YYYY-MM-DDTHH:MM:SSZ` of an epoch-ms time (whole seconds: CloudTrail's precision, truncated). */
export function utcSecond(ms: number): string {
  return new Date(Math.floor(ms / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}

function startOfUtcDay(ms: number): number {
  return Math.floor(ms / 86_400_000) * 86_400_000;
}

/** Whether the fields survive a round trip through Date.UTC (2026-02-30 does not). */
function realTime(y: number, mo: number, d: number, h = 0, mi = 0, s = 0): number | undefined {
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  const t = new Date(ms);
  const same =
    t.getUTCFullYear() === y && t.getUTCMonth() === mo - 1 && t.getUTCDate() === d &&
    t.getUTCHours() === h && t.getUTCMinutes() === mi && t.getUTCSeconds() === s;
  return same ? ms : undefined;
}

/**
 * A point in time as typed (see the top of this file), resolved against `now` to UTC at second precision.
 * Throws InvalidArgumentError with a one-line reason.
 */
export function parseTime(raw: string, now: Date = new Date()): TimeBound {
  const text = raw.trim();
  const lower = text.toLowerCase();
  const nowMs = now.getTime();
  if (lower === 'now') return { utc: utcSecond(nowMs), isDate: false };
  if (lower === 'today') return { utc: utcSecond(startOfUtcDay(nowMs)), isDate: true };
  if (lower === 'yesterday') return { utc: utcSecond(startOfUtcDay(nowMs) - 86_400_000), isDate: true };
  const ago = amountMs(lower.replace(/\s+ago$/, ''));
  if (ago !== undefined) return { utc: utcSecond(nowMs - ago), isDate: false };

  const date = DATE_RE.exec(text);
  if (date) {
    const ms = realTime(+date[1], +date[2], +date[3]);
    if (ms === undefined) throw new InvalidArgumentError('no such date');
    return { utc: utcSecond(ms), isDate: true };
  }
  const time = TIME_RE.exec(text);
  if (!time) {
    const zoneless = /^\d{4}-\d{2}-\d{2}[Tt ][\d:.]+$/.test(text);
    throw new InvalidArgumentError(
      zoneless
        ? 'add a time zone (Z or +HH:MM)'
        : 'expected a date (2026-11-20), an ISO time (2026-11-20T10:15:00Z), today, yesterday, or an age (2h, 7d)',
    );
  }
  const [, y, mo, d, h, mi, s = '00', z, sign, oh, om] = time;
  const local = realTime(+y, +mo, +d, +h, +mi, +s);
  if (local === undefined) throw new InvalidArgumentError('no such date or time');
  let offsetMinutes = 0;
  if (!z) {
    if (+oh > 23 || +om > 59) throw new InvalidArgumentError('bad time zone offset');
    offsetMinutes = (sign === '-' ? -1 : 1) * (+oh * 60 + +om);
  }
  return { utc: utcSecond(local - offsetMinutes * 60_000), isDate: false };
}

/** An argument parser for --since/--until (times, see parseTime). */
export function time(now: () => Date = () => new Date()): (raw: string) => TimeBound {
  return (raw) => parseTime(raw, now());
}

/**
 * An argument parser for a day (`YYYY-MM-DD`, UTC): anything parseTime takes, reduced to the day it falls
 * in. For commands that select by the dates in S3 keys, which have no finer grain.
 */
export function day(now: () => Date = () => new Date()): (raw: string) => string {
  return (raw) => parseTime(raw, now()).utc.slice(0, 10);
}
