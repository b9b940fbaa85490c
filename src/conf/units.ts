/**
 * Sizes (bytes) and durations (milliseconds) as people write them in configuration: `64MiB`,
 * `1.5GiB`, `30s`, `500ms`. Parsing is exact (decimal arithmetic, no float rounding) and every
 * result is a whole, non-negative, safe integer; `formatSize()`/`formatDuration()` produce text
 * that parses back to the same number.
 */
import { DoraError } from '../common/errors.js';

export const KiB = 1024;
export const MiB = 1024 ** 2;
export const GiB = 1024 ** 3;
export const TiB = 1024 ** 4;
export const SECOND = 1000;
export const MINUTE = 60 * SECOND;
export const HOUR = 60 * MINUTE;
export const DAY = 24 * HOUR;

/** Unit spellings (lower case; sizes match case-insensitively) and their factors. */
const SIZE_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1], ['b', 1],
  ['kib', KiB], ['mib', MiB], ['gib', GiB], ['tib', TiB],
  ['kb', 1000], ['mb', 1000 ** 2], ['gb', 1000 ** 3], ['tb', 1000 ** 4],
]);
/** Duration units are case-sensitive: `5M` is more likely a mistake than five minutes. */
const DURATION_UNITS: ReadonlyMap<string, number> = new Map([
  ['', 1], ['ms', 1], ['s', SECOND], ['m', MINUTE], ['h', HOUR], ['d', DAY],
]);

type UnitFamily = readonly (readonly [unit: string, factor: number])[];

/** Units for formatting, largest first; a size uses binary units unless decimal ones are shorter. */
const SIZE_FAMILIES: readonly UnitFamily[] = [
  [['TiB', TiB], ['GiB', GiB], ['MiB', MiB], ['KiB', KiB], ['B', 1]],
  [['TB', 1000 ** 4], ['GB', 1000 ** 3], ['MB', 1000 ** 2], ['KB', 1000], ['B', 1]],
];
const DURATION_FAMILIES: readonly UnitFamily[] = [[['d', DAY], ['h', HOUR], ['m', MINUTE], ['s', SECOND], ['ms', 1]]];

interface Quantity {
  readonly noun: string;
  readonly examples: string;
  readonly base: string;
  readonly units: ReadonlyMap<string, number>;
  readonly caseInsensitive: boolean;
  readonly unitList: string;
  readonly families: readonly UnitFamily[];
  /** Between number and unit when formatting. */
  readonly gap: string;
}

const SIZE: Quantity = {
  noun: 'size', examples: '512MiB, 64MB, 4096', base: 'bytes', units: SIZE_UNITS, caseInsensitive: true,
  unitList: 'B, KiB, MiB, GiB, TiB, KB, MB, GB or TB', families: SIZE_FAMILIES, gap: ' ',
};
const DURATION: Quantity = {
  noun: 'duration', examples: '30s, 500ms', base: 'milliseconds', units: DURATION_UNITS, caseInsensitive: false,
  unitList: 'ms, s, m, h or d', families: DURATION_FAMILIES, gap: '',
};

const QUANTITY_PATTERN = /^(-?)(\d+)(?:\.(\d+))?\s*([A-Za-z]*)$/;
const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Bytes in `text`: a number with an optional unit — binary KiB/MiB/GiB/TiB (1024^n), decimal
 * KB/MB/GB/TB (1000^n) or B — case-insensitive, e.g. `512MiB`, `1.5GiB`, `4096`, `64 MB`.
 * Throws INVALID_ARGUMENT for garbage, negative values, fractions of a byte and values past
 * Number.MAX_SAFE_INTEGER; the message is the bare cause, ready to follow a colon.
 */
export function parseSize(text: string): number {
  return parseQuantity(text, SIZE);
}

/**
 * Milliseconds in `text`: a number with an optional unit ms, s, m, h or d (a bare number is
 * milliseconds), e.g. `30s`, `1.5s`, `500ms`, `2d`. Throws like `parseSize()`.
 */
export function parseDuration(text: string): number {
  return parseQuantity(text, DURATION);
}

/**
 * `bytes` in the largest unit it fills exactly (at most three decimals), binary unless the
 * decimal form is shorter: `64 MiB`, `1.5 GiB`, `1 KB`, `100 B`. `parseSize()` reads it back.
 * Throws INVALID_ARGUMENT unless `bytes` is a non-negative safe integer.
 */
export function formatSize(bytes: number): string {
  return formatQuantity(bytes, SIZE);
}

/**
 * `ms` in the largest unit it fills exactly (at most three decimals): `30s`, `1.5s`, `100ms`,
 * `1h`. `parseDuration()` reads it back. Throws like `formatSize()`.
 */
export function formatDuration(ms: number): string {
  return formatQuantity(ms, DURATION);
}

function parseQuantity(text: string, quantity: Quantity): number {
  const quoted = JSON.stringify(text);
  const match = QUANTITY_PATTERN.exec(text.trim());
  if (match === null) throw invalid(`${quoted} is not a ${quantity.noun} (e.g. ${quantity.examples})`);
  const [, sign = '', whole = '', fraction = '', unit = ''] = match;
  const factor = quantity.units.get(quantity.caseInsensitive ? unit.toLowerCase() : unit);
  if (factor === undefined) throw invalid(`${quoted} has an unknown unit "${unit}" (use ${quantity.unitList})`);
  const scaled = BigInt(whole + fraction) * BigInt(factor);
  const divisor = 10n ** BigInt(fraction.length);
  if (scaled % divisor !== 0n) throw invalid(`${quoted} is not a whole number of ${quantity.base}`);
  const value = scaled / divisor;
  if (sign === '-' && value !== 0n) throw invalid(`${quoted} is negative; a ${quantity.noun} must be 0 or more`);
  if (value > MAX_SAFE) {
    throw invalid(`${quoted} is too large (the limit is ${Number.MAX_SAFE_INTEGER} ${quantity.base})`);
  }
  return Number(value);
}

function formatQuantity(value: number, quantity: Quantity): string {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw invalid(`Cannot format ${value} as a ${quantity.noun}: expected a whole number of ${quantity.base}, 0 or more`);
  }
  let best: string | undefined;
  for (const family of quantity.families) {
    const text = formatInFamily(value, family, quantity.gap);
    if (best === undefined || text.length < best.length) best = text;
  }
  return best ?? String(value);
}

/** `value` in the largest unit of `family` that it fills at least once, exactly, with at most three decimals. */
function formatInFamily(value: number, family: UnitFamily, gap: string): string {
  const thousandths = BigInt(value) * 1000n;
  for (const [unit, factor] of family) {
    if (value < factor && factor !== 1) continue;
    if (thousandths % BigInt(factor) !== 0n) continue;
    const scaled = thousandths / BigInt(factor);
    const decimals = String(scaled % 1000n).padStart(3, '0').replace(/0+$/, '');
    return `${scaled / 1000n}${decimals === '' ? '' : `.${decimals}`}${gap}${unit}`;
  }
  return `${value}${gap}${family[family.length - 1]?.[0] ?? ''}`;
}

function invalid(message: string): DoraError {
  return new DoraError('INVALID_ARGUMENT', message);
}
