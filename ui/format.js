// How numbers read in the console: binary sizes ("1.5 GiB"), percentages, counts, times.
// Pure functions without the DOM, so tests can call them through the page.

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];
const MULTIPLIERS = { '': 1, k: 1e3, m: 1e6, g: 1e9, t: 1e12, p: 1e15, ki: 2 ** 10, mi: 2 ** 20, gi: 2 ** 30, ti: 2 ** 40, pi: 2 ** 50 };

/** One decimal place at most, none when it is zero: 1.5, 2, 512.3. */
function short(value) {
  const text = value.toFixed(1);
  return text.endsWith('.0') ? text.slice(0, -2) : text;
}

/** 0 B, 512 B, 1.5 KiB, 12.3 MiB, 2 GiB. */
export function bytes(n) {
  if (!Number.isFinite(n)) return '—';
  let value = Math.abs(n);
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit += 1;
  }
  if (short(value) === '1024' && unit < UNITS.length - 1) {
    value = 1;
    unit += 1;
  }
  return `${n < 0 ? '-' : ''}${unit === 0 ? Math.round(value) : short(value)} ${UNITS[unit]}`;
}

/** Bytes per second: "12.3 MiB/s". */
export function rate(n) {
  return `${bytes(n)}/s`;
}

/** A ratio 0..1 as a percentage: "95.2%"; null (nothing to divide yet) as a dash. */
export function percent(ratio) {
  if (ratio === null || ratio === undefined || !Number.isFinite(ratio)) return '—';
  if (ratio > 0 && ratio < 0.0005) return '<0.1%';
  return `${short(ratio * 100)}%`;
}

/** A whole number with thousands separators: "12,345". */
export function count(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en-US') : '—';
}

/** Local clock time: "14:03:09". */
export function clock(ms) {
  const d = new Date(ms);
  return [d.getHours(), d.getMinutes(), d.getSeconds()].map((v) => String(v).padStart(2, '0')).join(':');
}

/** Local date and time: "2024-05-01 14:03:09". */
export function dateTime(ms) {
  const d = new Date(ms);
  const date = [d.getFullYear(), d.getMonth() + 1, d.getDate()].map((v, i) => String(v).padStart(i === 0 ? 4 : 2, '0')).join('-');
  return `${date} ${clock(ms)}`;
}

/** A span of time: "0.4 s", "45 s", "3 min 20 s", "2 h 5 min", "3 d 4 h". */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '—';
  if (ms < 10_000) return `${short(ms / 1000)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** How long ago: "12 s ago". */
export function ago(ms, now = Date.now()) {
  return `${duration(Math.max(0, now - ms))} ago`;
}

/**
 * A size typed by an operator ("64KiB", "10 MB/s", "1.5G", "1048576") in bytes; binary units for
 * "Ki", "Mi"…, decimal for "k", "M"…. Throws Error for anything else.
 */
export function parseBytes(text) {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgtp]i?)?b?\s*(?:\/\s*s)?\s*$/i.exec(text);
  if (match === null) throw new Error(`"${text}" is not a size: try 64KiB, 10MiB/s or 1048576`);
  const value = Number(match[1]) * MULTIPLIERS[(match[2] ?? '').toLowerCase()];
  if (!(value > 0)) throw new Error(`"${text}" must be more than 0 bytes`);
  return Math.round(value);
}
