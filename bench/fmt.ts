import { readFileSync } from 'node:fs';
/** Number formatting shared by the suites' tables. */
export const ms = (x: number): string =>
  !Number.isFinite(x) ? '-' : Math.abs(x) >= 10_000 ? `${(x / 1000).toFixed(1)} s` : Math.abs(x) >= 100 ? `${x.toFixed(0)} ms` : `${x.toFixed(1)} ms`;
export const mib = (x: number): string => `${x.toFixed(0)} MiB`;
export const int = (x: number): string => Math.round(x).toLocaleString('en-US');
export const rate = (n: number, msTaken: number): string => (msTaken > 0 ? int(n / (msTaken / 1000)) : '-');
export const kib = (bytes: number): string => `${(bytes / 1024).toFixed(0)} KiB`;

/**
 * This process's peak RSS in MiB: VmHWM of its own address space. Not process.resourceUsage().maxRSS: on Linux
 * that also counts the parent's RSS at fork (the pre-exec copy), and the bench process hosting the local
 * servers is often larger than any worker.
 */
export function peakRssMiB(): number {
  try {
    const m = /^VmHWM:\s+(\d+) kB/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (m) return Number(m[1]) / 1024;
  } catch {
    // not Linux
  }
  return process.resourceUsage().maxRSS / 1024;
}
