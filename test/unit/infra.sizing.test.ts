import { describe, expect, it } from 'vitest';
import { heapLimits, heapOptions } from '../../infra/sizing.js';

describe('heapOptions', () => {
  it('gives the measured flags for the default 256 MB', () => {
    // The bench's measurement: these flags kept a warm 256 MB function at 149 MiB on a 50 MB file.
    expect(heapOptions(256)).toBe('--max-semi-space-size=8 --max-old-space-size=160');
  });

  it.each([
    // memoryMb, semi space (1/32 as a power of two, 1..64), old space (3/4 - 32)
    [128, 4, 64],
    [300, 8, 193],
    [512, 16, 352],
    [1024, 32, 736],
    [1769, 32, 1294],
    [2048, 64, 1504],
    [10_240, 64, 7648],
  ])('sizes %i MB as semi %i MB, old %i MB', (memoryMb, semiSpaceMb, oldSpaceMb) => {
    expect(heapLimits(memoryMb)).toEqual({ semiSpaceMb, oldSpaceMb });
    expect(heapOptions(memoryMb)).toBe(`--max-semi-space-size=${semiSpaceMb} --max-old-space-size=${oldSpaceMb}`);
  });

  it('leaves room outside the heap at every size Lambda allows, and never shrinks as memory grows', () => {
    let previous = { semiSpaceMb: 0, oldSpaceMb: 0 };
    for (let memoryMb = 128; memoryMb <= 10_240; memoryMb++) {
      const limits = heapLimits(memoryMb);
      // The young generation is three semi spaces; 32 MB and 15% of the memory at least stay outside the heap.
      const outside = memoryMb - (limits.oldSpaceMb + 3 * limits.semiSpaceMb);
      expect(outside, `${memoryMb} MB`).toBeGreaterThanOrEqual(32 + memoryMb * 0.15);
      expect(limits.oldSpaceMb).toBeGreaterThanOrEqual(previous.oldSpaceMb);
      expect(limits.semiSpaceMb).toBeGreaterThanOrEqual(previous.semiSpaceMb);
      previous = limits;
    }
  });

  it.each([127, 10_241, 256.5, Number.NaN])('refuses %s MB', (memoryMb) => {
    expect(() => heapOptions(memoryMb)).toThrow(/memoryMb=.* must be a whole number from 128 to 10240/);
  });
});
