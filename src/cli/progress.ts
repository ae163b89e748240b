/**
 * Progress for long commands, on stderr. On a terminal: one line redrawn in place (`\r` + clear line),
 * with messages printed above it. Elsewhere (logs, CI): a plain line every `intervalMs`, so logs stay readable.
 */

import { displayWidth, fitWidth } from './table.js';

const CLEAR_LINE = '\r\x1b[2K';

/** A terminal stream's width (a tty.WriteStream has `columns`); undefined for other streams. */
function columnsOf(stream: NodeJS.WritableStream): number | undefined {
  return 'columns' in stream && typeof stream.columns === 'number' ? stream.columns : undefined;
}

export interface ProgressOptions {
  stream: NodeJS.WritableStream;
  /** Redraw one line in place (a terminal) instead of printing periodic lines. */
  tty: boolean;
  /** Not a terminal: milliseconds between progress lines; 0 prints none. */
  intervalMs: number;
  /**
   * A terminal: milliseconds between redraws (default 250); events redraw at most every 100 ms, or every
   * `redrawMs` when that is shorter (0: every event, no timer; tests use it to be independent of speed).
   */
  redrawMs?: number;
  /**
   * The progress text: `bar` for the terminal line (given the terminal's width, to fit it), `line` for a
   * periodic log line.
   */
  render: (mode: 'bar' | 'line', columns?: number) => string;
}

export class Progress {
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private drawn = false;
  private stopped = true;

  constructor(private readonly o: ProgressOptions) {}

  start(): void {
    this.stopped = false;
    const every = this.o.tty ? (this.o.redrawMs ?? 250) : this.o.intervalMs;
    if (every > 0) {
      this.timer = setInterval(() => (this.o.tty ? this.draw() : this.line()), every);
      // Progress never keeps the process alive by itself.
      this.timer.unref();
    }
    if (this.o.tty) this.draw();
  }

  /** Something changed (a file finished): redraw the terminal line, at most every 100 ms. */
  tick(): void {
    const gap = Math.min(100, this.o.redrawMs ?? 100);
    if (this.o.tty && !this.stopped && Date.now() - this.lastDraw >= gap) this.draw();
  }

  /** A message line (an error, a warning): above the bar on a terminal, as is elsewhere. */
  log(text: string): void {
    if (this.o.tty && this.drawn) {
      this.o.stream.write(`${CLEAR_LINE}${text}\n`);
      this.drawn = false;
      if (!this.stopped) this.draw();
    } else {
      this.o.stream.write(`${text}\n`);
    }
  }

  /** Stops the timer and clears the bar, so that a summary can follow on a clean line. */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    if (this.o.tty && this.drawn) this.o.stream.write(CLEAR_LINE);
    this.drawn = false;
  }

  private draw(): void {
    this.lastDraw = Date.now();
    const columns = columnsOf(this.o.stream);
    let text = this.o.render('bar', columns);
    // A line wider than the terminal wraps, and `\r` would then redraw only its last part.
    if (columns && columns > 1 && displayWidth(text) >= columns) text = fitWidth(text, columns - 1);
    this.o.stream.write(`${CLEAR_LINE}${text}`);
    this.drawn = true;
  }

  private line(): void {
    if (!this.stopped) this.o.stream.write(`${this.o.render('line')}\n`);
  }
}

/** `[██████░░░░░░]` for a fraction 0..1. */
export function bar(fraction: number, width = 20): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}]`;
}

/** `850 ms`, `12.3 s`, `4m05s`, `2h03m`. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
  const minutes = Math.round(total / 60);
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}

/** A rate per second with sensible precision: `0.42`, `8.8`, `153`. */
export function formatRate(perSecond: number): string {
  if (!Number.isFinite(perSecond) || perSecond <= 0) return '0';
  if (perSecond < 1) return perSecond.toFixed(2);
  if (perSecond < 100) return perSecond.toFixed(1);
  return perSecond.toFixed(0);
}
