/**
 * Text tables for a terminal: columns aligned by display width (CJK and most emoji take two columns, combining
 * marks none: measured by string-width), values from logs escaped so they cannot drive the terminal, and a
 * table that fits the width it is given by, in order: using the columns' short forms, dropping the least
 * needed columns (which may first shrink to a comfortable width), then cutting the columns that always stay
 * to a comfortable width, then to the bare minimum. Without a
 * width (stdout is a pipe or a file) nothing is shortened or dropped: every value is there for grep and awk.
 */
import stringWidth from 'string-width';

export interface Column<R> {
  header: string;
  /** The full value (escaped by the table). */
  value(row: R): string;
  /** A shorter form of the same value, used when the table does not fit. */
  short?(row: R): string;
  /** Narrowest width before dropping columns is considered (default: never shrunk, its widest value). */
  soft?: number;
  /** Narrowest width at all (default: `soft`). */
  min?: number;
  /** Where the cut goes when a value is too wide: `end` (default), or `middle` to keep both ends of an ARN. */
  ellipsis?: 'end' | 'middle';
  /** Columns the table may drop, lowest first; undefined: always shown. */
  drop?: number;
}

const SEPARATOR = '  ';
const ELLIPSIS = '…';

/** C0/C1 controls and bidi overrides could rewrite the terminal or disguise a value: shown as `\uXXXX`. */
export function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069]/g, (c) =>
    `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
  );
}

/** Columns a string takes on a terminal. */
export function displayWidth(text: string): number {
  return stringWidth(text);
}

const segmenter = new Intl.Segmenter(undefined, { granularity: 'grapheme' });

function graphemes(text: string): string[] {
  return Array.from(segmenter.segment(text), (s) => s.segment);
}

/** The longest run of whole graphemes from the start (or, `fromEnd`, the end) that fits `width` columns. */
function take(parts: string[], width: number, fromEnd: boolean): string {
  const out: string[] = [];
  let used = 0;
  for (let i = 0; i < parts.length; i++) {
    const g = parts[fromEnd ? parts.length - 1 - i : i];
    const w = stringWidth(g);
    if (used + w > width) break;
    out.push(g);
    used += w;
  }
  return (fromEnd ? out.reverse() : out).join('');
}

/** `text` cut to at most `width` columns with `…` where it was cut; never splits a character. */
export function fitWidth(text: string, width: number, where: 'end' | 'middle' = 'end'): string {
  if (stringWidth(text) <= width) return text;
  if (width <= 0) return '';
  if (width === 1) return ELLIPSIS;
  const parts = graphemes(text);
  if (where === 'end') return take(parts, width - 1, false) + ELLIPSIS;
  const tail = take(parts, Math.ceil((width - 1) / 2), true);
  return take(parts, width - 1 - stringWidth(tail), false) + ELLIPSIS + tail;
}

function padTo(text: string, width: number): string {
  return text + ' '.repeat(Math.max(0, width - stringWidth(text)));
}

/** Shrinks the widest columns first, never below `floors`, until the total fits (or nothing can shrink). */
function shrink(widths: number[], floors: number[], target: number): number[] {
  const w = [...widths];
  let total = w.reduce((a, b) => a + b, 0);
  while (total > target) {
    let widest = -1;
    for (let i = 0; i < w.length; i++) {
      if (w[i] > floors[i] && (widest < 0 || w[i] - floors[i] > w[widest] - floors[widest])) widest = i;
    }
    if (widest < 0) break;
    w[widest]--;
    total--;
  }
  return w;
}

/**
 * The table as lines of text, each ending in `\n`. `width` is the terminal's width in columns; undefined
 * means no limit. The last column is not padded (no trailing spaces).
 */
export function renderTable<R>(columns: Column<R>[], rows: R[], width?: number): string {
  const full = columns.map((c) => rows.map((r) => printable(c.value(r))));
  const natural = (cells: string[][], i: number) => Math.max(stringWidth(columns[i].header), ...cells[i].map((text) => stringWidth(text)));
  let cells = full;
  let shown = columns.map((_, i) => i);
  let widths = columns.map((_, i) => natural(full, i));

  const spaceFor = (n: number) => (width === undefined ? Infinity : width - SEPARATOR.length * Math.max(0, n - 1));
  const sum = (idx: number[], w: number[]) => idx.reduce((a, i) => a + w[i], 0);
  if (width !== undefined && sum(shown, widths) > spaceFor(shown.length)) {
    cells = columns.map((c, i) => {
      const short = c.short;
      return short ? rows.map((r) => printable(short(r))) : full[i];
    });
    widths = columns.map((_, i) => natural(cells, i));
    const floorOf = (i: number, key: 'soft' | 'min') => {
      const c = columns[i];
      const floor = key === 'soft' ? c.soft : (c.min ?? c.soft);
      return floor === undefined ? widths[i] : Math.min(widths[i], Math.max(floor, c.min ?? 0, stringWidth(c.header)));
    };
    const droppable = columns.map((c, i) => i).filter((i) => columns[i].drop !== undefined);
    droppable.sort((a, b) => (columns[a].drop ?? 0) - (columns[b].drop ?? 0));
    const fitWith = (idx: number[], floors: (i: number) => number): number[] | undefined => {
      const sub = shrink(idx.map((i) => widths[i]), idx.map(floors), spaceFor(idx.length));
      return sub.reduce((a, b) => a + b, 0) <= spaceFor(idx.length) ? sub : undefined;
    };
    // Dropping a column comes before cutting the values of the columns that always stay; droppable
    // columns shrink to their comfortable width first.
    const whileDropping = (i: number) => (columns[i].drop === undefined ? widths[i] : floorOf(i, 'soft'));
    let fitted: number[] | undefined;
    for (let dropped = 0; dropped <= droppable.length && !fitted; dropped++) {
      const gone = new Set(droppable.slice(0, dropped));
      const idx = columns.map((_, i) => i).filter((i) => !gone.has(i));
      fitted = fitWith(idx, whileDropping);
      if (fitted) shown = idx;
    }
    if (!fitted) {
      shown = columns.map((_, i) => i).filter((i) => columns[i].drop === undefined);
      fitted =
        fitWith(shown, (i) => floorOf(i, 'soft')) ??
        fitWith(shown, (i) => floorOf(i, 'min')) ??
        shrink(shown.map((i) => widths[i]), shown.map((i) => floorOf(i, 'min')), 0);
    }
    const next = [...widths];
    shown.forEach((i, k) => (next[i] = fitted[k]));
    widths = next;
  }

  const line = (texts: string[]) =>
    shown
      .map((i, k) => {
        const text = fitWidth(texts[i], widths[i], columns[i].ellipsis);
        return k === shown.length - 1 ? text : padTo(text, widths[i]);
      })
      .join(SEPARATOR)
      .trimEnd() + '\n';
  const header = line(columns.map((c) => c.header));
  return header + rows.map((_, r) => line(columns.map((_, i) => cells[i][r]))).join('');
}

/**
 * The width a table may use on this output: the terminal's, else `COLUMNS` when set (as shells and other
 * tools honour it), else none (a pipe or a file gets every value in full).
 */
export function tableWidth(columns: number | undefined, env: Record<string, string | undefined>): number | undefined {
  if (columns !== undefined && columns > 0) return columns;
  const fromEnv = Number(env.COLUMNS);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : undefined;
}
