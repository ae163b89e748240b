/**
 * Captures what a real Powertools Logger and Metrics print. Both write through their own `node:console`
 * Console bound to `process.stdout` / `process.stderr` (outside POWERTOOLS_DEV), so spying on the streams'
 * `write` sees every structured log line and every EMF document, exactly as CloudWatch would.
 */
import { vi, type MockInstance } from 'vitest';

export interface LogLine {
  level: string;
  message: string;
  [key: string]: unknown;
}

export interface EmfDoc {
  _aws: { Timestamp: number; CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string; Unit: string }[] }[] };
  [key: string]: unknown;
}

export interface Captured {
  /** Every line written, raw. */
  raw: string[];
  /** Structured log lines (JSON objects with `level` and `message`). */
  logs(message?: string): LogLine[];
  /** EMF documents printed by publishStoredMetrics. */
  emf(): EmfDoc[];
  /** Every value recorded for a metric over all EMF documents (a metric added n times has n values). */
  metric(name: string): number[];
  /** Sum of `metric(name)`. */
  total(name: string): number;
  /** The unit a metric is declared with in the EMF metadata, if present. */
  unit(name: string): string | undefined;
  clear(): void;
  restore(): void;
}

export function captureOutput(): Captured {
  const raw: string[] = [];
  const grab = (chunk: unknown): boolean => {
    // write() takes a string or bytes; the spy sees its first argument untyped.
    raw.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'));
    return true;
  };
  const spies: MockInstance[] = [
    vi.spyOn(process.stdout, 'write').mockImplementation(grab as never),
    vi.spyOn(process.stderr, 'write').mockImplementation(grab as never),
  ];
  const parsed = (): Record<string, unknown>[] => {
    const out: Record<string, unknown>[] = [];
    for (const chunk of raw) {
      for (const line of chunk.split('\n')) {
        if (!line.startsWith('{')) continue;
        try {
          // A line that starts with `{`: a JSON object when it parses.
          out.push(JSON.parse(line) as Record<string, unknown>);
        } catch {
          // not JSON: ignore
        }
      }
    }
    return out;
  };
  // Objects with `_aws` are the EMF documents Powertools Metrics prints.
  const emf = (): EmfDoc[] => parsed().filter((o) => typeof o._aws === 'object') as EmfDoc[];
  const metric = (name: string): number[] =>
    emf().flatMap((doc) => {
      const declared = doc._aws.CloudWatchMetrics.some((m) => m.Metrics.some((x) => x.Name === name));
      if (!declared) return [];
      const v = doc[name];
      return Array.isArray(v) ? (v as number[]) : typeof v === 'number' ? [v] : [];
    });
  return {
    raw,
    logs: (message) =>
      parsed().filter((o): o is LogLine => typeof o.level === 'string' && typeof o.message === 'string' && (message === undefined || o.message === message)),
    emf,
    metric,
    total: (name) => metric(name).reduce((a, b) => a + b, 0),
    unit: (name) => {
      for (const doc of emf()) {
        for (const m of doc._aws.CloudWatchMetrics) {
          const hit = m.Metrics.find((x) => x.Name === name);
          if (hit) return hit.Unit;
        }
      }
      return undefined;
    },
    clear: () => {
      raw.length = 0;
    },
    restore: () => {
      for (const s of spies) s.mockRestore();
    },
  };
}
