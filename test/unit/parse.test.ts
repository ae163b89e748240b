import { InvalidArgumentError } from '@commander-js/extra-typings';
import { describe, expect, it } from 'vitest';
import { day, duration, integer, parseTime } from '../../src/cli/parse.js';

const NOW = new Date('2026-11-24T15:45:30.750Z');

describe('integer', () => {
  const limit = integer(1, 100);
  it.each([['1', 1], ['100', 100], [' 42 ', 42], ['007', 7]])('%s is %d', (raw, n) => {
    expect(limit(raw)).toBe(n);
  });
  it.each(['0', '101', '-1', '1.5', '1e2', 'ten', '', '0x10', '9007199254740993'])('%j is refused, with the bounds', (raw) => {
    expect(() => limit(raw)).toThrow(InvalidArgumentError);
    expect(() => limit(raw)).toThrow('expected a whole number from 1 to 100');
  });
});

describe('duration', () => {
  const timeout = duration({ minMs: 1000, maxMs: 900_000 });
  it.each([
    ['300', 300_000],
    ['90s', 90_000],
    ['15m', 900_000],
    ['1.5m', 90_000],
    ['2 minutes', 120_000],
    ['1 sec', 1000],
  ])('%s is %d ms', (raw, ms) => {
    expect(timeout(raw)).toBe(ms);
  });
  it('bounds and shapes', () => {
    expect(() => timeout('0.5')).toThrow('expected a duration from 1 s to 900 s');
    expect(() => timeout('16m')).toThrow('expected a duration from 1 s to 900 s');
    expect(() => timeout('soon')).toThrow('expected a duration like 90s, 15m, 2h or 1d');
    expect(() => timeout('5y')).toThrow('expected a duration like');
    expect(duration({ minMs: 0, maxMs: 86_400_000 })('0')).toBe(0);
    expect(duration({ minMs: 0, maxMs: 86_400_000, bareUnit: 'h' })('2')).toBe(7_200_000);
  });
});

describe('parseTime', () => {
  it.each([
    ['2026-11-20', '2026-11-20T00:00:00Z', true],
    ['2026-11-20T10:15Z', '2026-11-20T10:15:00Z', false],
    ['2026-11-20t10:15:09z', '2026-11-20T10:15:09Z', false],
    ['2026-11-20 10:15:09Z', '2026-11-20T10:15:09Z', false],
    ['2026-11-20T00:30:00+01:00', '2026-11-19T23:30:00Z', false],
    ['2026-11-20T23:30:00-0130', '2026-11-21T01:00:00Z', false],
    ['2026-11-20T12:00:00.999Z', '2026-11-20T12:00:00Z', false],
    ['now', '2026-11-24T15:45:30Z', false],
    ['today', '2026-11-24T00:00:00Z', true],
    ['Yesterday', '2026-11-23T00:00:00Z', true],
    ['2h', '2026-11-24T13:45:30Z', false],
    ['7d', '2026-11-17T15:45:30Z', false],
    ['7 days ago', '2026-11-17T15:45:30Z', false],
    ['30m', '2026-11-24T15:15:30Z', false],
    ['2w', '2026-11-10T15:45:30Z', false],
    ['90s', '2026-11-24T15:44:00Z', false],
  ])('%s', (raw, utc, isDate) => {
    expect(parseTime(raw, NOW)).toEqual({ utc, isDate });
  });

  it.each([
    ['2026-02-30', 'no such date'],
    ['2026-11-20T25:00:00Z', 'no such date or time'],
    ['2026-11-20T10:15:00', 'add a time zone (Z or +HH:MM)'],
    ['2026-11-20T10:15:00+24:00', 'bad time zone offset'],
    ['20261120', 'expected a date'],
    ['last tuesday', 'expected a date'],
    ['', 'expected a date'],
    ['7y', 'expected a date'],
  ])('%j is refused: %s', (raw, reason) => {
    expect(() => parseTime(raw, NOW)).toThrow(InvalidArgumentError);
    expect(() => parseTime(raw, NOW)).toThrow(reason);
  });
});

describe('day', () => {
  it('reduces any time to its UTC day', () => {
    const at = day(() => NOW);
    expect(at('2026-11-20')).toBe('2026-11-20');
    expect(at('2026-11-20T23:30:00-02:00')).toBe('2026-11-21');
    expect(at('yesterday')).toBe('2026-11-23');
    expect(at('7d')).toBe('2026-11-17');
    expect(() => at('2026-13-01')).toThrow('no such date');
  });
});
