/**
 * Node.js heap limits for the function, derived from its memory size. The deployed function gets them as
 * NODE_OPTIONS and the bench runs with the very same flags, so what is measured is what runs.
 *
 * Lambda's Node.js runtime sizes V8 from the memory setting itself (old space at about 90% of it) unless
 * NODE_OPTIONS names both limits. V8 then lets garbage pile up close to that limit: a warm 256 MB function
 * reached 240-299 MiB RSS on a 50 MB log file, while `--max-semi-space-size=8 --max-old-space-size=160`
 * kept it at 149 MiB. On Node 24 the bench's lambda suite (`npm run bench -- --suite lambda`, the shipped
 * handler, 50 MB at 50% SES) measures 132-143 MiB with these flags and 287-293 MiB without; the flags buy
 * that with more major collections (docs/cost.md, "The function"). The rule below reproduces that point and
 * scales it:
 * - old space: three quarters of the memory less 32 MB, leaving the rest to what lives outside the V8 heap
 *   (code, zlib windows, socket and stream buffers), which matters most in small functions;
 * - semi space: 1/32 of the memory as a power of two, 1 to 64 MB. A larger young generation means fewer
 *   scavenges (faster), and the young generation (three semi spaces) still fits beside the old space.
 */

export const MIN_MEMORY_MB = 128;
export const MAX_MEMORY_MB = 10_240;

export interface HeapLimits {
  /** `--max-semi-space-size`, in MB. */
  semiSpaceMb: number;
  /** `--max-old-space-size`, in MB. */
  oldSpaceMb: number;
}

export function heapLimits(memoryMb: number): HeapLimits {
  if (!Number.isInteger(memoryMb) || memoryMb < MIN_MEMORY_MB || memoryMb > MAX_MEMORY_MB) {
    throw new RangeError(`memoryMb=${memoryMb} must be a whole number from ${MIN_MEMORY_MB} to ${MAX_MEMORY_MB} (Lambda's range)`);
  }
  const semiSpaceMb = Math.min(64, Math.max(1, 2 ** Math.floor(Math.log2(memoryMb / 32))));
  const oldSpaceMb = Math.floor((memoryMb * 3) / 4) - 32;
  return { semiSpaceMb, oldSpaceMb };
}

/** The limits as Node.js options, for NODE_OPTIONS or a `node` command line. */
export function heapOptions(memoryMb: number): string {
  const { semiSpaceMb, oldSpaceMb } = heapLimits(memoryMb);
  return `--max-semi-space-size=${semiSpaceMb} --max-old-space-size=${oldSpaceMb}`;
}
