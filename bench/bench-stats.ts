// Small helpers shared by the benchmarks: timing, summary statistics and plain-text tables.
import { performance } from 'node:perf_hooks';

/** The result of a timed call and how long it took in milliseconds. */
export interface Timed<T> {
  readonly ms: number;
  readonly value: T;
}

/** Runs `fn` and measures its wall-clock time with the monotonic clock. */
export async function timeIt<T>(fn: () => Promise<T> | T): Promise<Timed<T>> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/** The middle value (mean of the two middle values for an even count). Throws for no values. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('Cannot take the median of no values');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * The nearest-rank `p`th percentile (0 < p ≤ 100): the smallest value with at least p % of the
 * values at or below it. Throws for no values.
 */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) throw new RangeError('Cannot take a percentile of no values');
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length))) - 1]!;
}

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly n: number;
}

/** Median, minimum and maximum of some measurements. Throws for no values. */
export function summarize(values: readonly number[]): Summary {
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), n: values.length };
}

/** `1234.5` → `"1.23 s"`, `12.34` → `"12.3 ms"`: three significant figures, unit chosen to fit. */
export function formatMs(ms: number): string {
  if (ms >= 1000) return `${(ms / 1000).toPrecision(3)} s`;
  if (ms >= 1) return `${ms.toPrecision(3)} ms`;
  return `${(ms * 1000).toPrecision(3)} µs`;
}

/** `count` things done in `ms` as a rate per second: `formatRate(256e6, 2000, 'MB')` → `"128 MB/s"`. */
export function formatRate(count: number, ms: number, unit: string): string {
  const perSecond = (count * 1000) / ms;
  const text = perSecond >= 1000 ? Math.round(perSecond).toLocaleString('en-US') : perSecond.toPrecision(3);
  return `${text} ${unit}/s`;
}

/** A ratio to two decimals with a trailing "x": `formatRatio(3, 2)` → `"1.50x"`. */
export function formatRatio(numerator: number, denominator: number): string {
  return `${(numerator / denominator).toFixed(2)}x`;
}

/**
 * Lays out rows (the first is the header) as a Markdown table with padded columns, so the
 * same text reads well in a terminal and pastes into a .md file.
 */
export function table(rows: readonly (readonly string[])[]): string {
  const columns = Math.max(0, ...rows.map((row) => row.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(3, ...rows.map((row) => (row[c] ?? '').length)));
  const line = (cells: readonly string[]): string => `| ${widths.map((w, c) => (cells[c] ?? '').padEnd(w)).join(' | ')} |`;
  const [header, ...body] = rows;
  if (header === undefined) return '';
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n');
}
