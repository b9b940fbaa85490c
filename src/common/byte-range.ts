import { DoraError } from './errors.js';

/**
 * The half-open byte range [start, end) that a read of `length` bytes at `offset` covers in a
 * file of `size` bytes, clamped to its end. Throws INVALID_ARGUMENT for negative or fractional
 * numbers and OUT_OF_RANGE when `offset` is past the end (reading at exactly the end is empty).
 */
export function byteRange(size: number, range: { offset?: number | undefined; length?: number | undefined }, attempt: string): [number, number] {
  const offset = range.offset ?? 0;
  const length = range.length ?? Number.MAX_SAFE_INTEGER;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    throw new DoraError('INVALID_ARGUMENT', `${attempt}: offset and length must be whole numbers ≥ 0 (got ${offset}, ${length})`);
  }
  if (offset > size) throw new DoraError('OUT_OF_RANGE', `${attempt}: the file has only ${size} bytes`);
  return [offset, offset + Math.min(length, size - offset)];
}
