import type { FileStatus } from '../client/client-types.js';

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];

/** Bytes for people: `512 B`, `1.5 KiB`, `34 MiB` (one decimal below 10). */
export function humanSize(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  if (unit === 0) return `${bytes} B`;
  const rounded = value < 10 ? value.toFixed(1) : String(Math.round(value));
  return `${rounded === '1024' && unit < UNITS.length - 1 ? `1.0 ${UNITS[unit + 1]}` : `${rounded} ${UNITS[unit]}`}`;
}

/** A modification time as `YYYY-MM-DD HH:MM` in local time; `-` when the store keeps none. */
export function shortTime(ms: number): string {
  if (ms <= 0) return '-';
  const d = new Date(ms);
  const two = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/**
 * One `ls -l`-like line: kind (`d` or `-`), size, mtime, then `name` (a directory's ends in `/`).
 * Columns have fixed widths so a streamed listing lines up without being held in memory.
 */
export function listingLine(entry: FileStatus, name: string): string {
  const directory = entry.kind === 'directory';
  const size = directory ? '-' : humanSize(entry.size);
  return `${directory ? 'd' : '-'}  ${size.padStart(9)}  ${shortTime(entry.mtimeMs).padEnd(16)}  ${name}${directory && !name.endsWith('/') ? '/' : ''}\n`;
}

/** Rows as left-aligned columns separated by two spaces (the last column unpadded). */
export function table(rows: readonly (readonly string[])[]): string {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => `${row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i] ?? 0))).join('  ')}\n`).join('');
}

/** The text after the last '/' of a dora path ('/' for the root). */
export function baseName(path: string): string {
  return path === '/' ? '/' : path.slice(path.lastIndexOf('/') + 1);
}
