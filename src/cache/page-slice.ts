import { DoraError } from '../common/errors.js';
import { describePage } from './check-page-key.js';
import type { PageKey } from './page-store.js';

/**
 * The part of `key`'s page that a read of `range` covers: [offset, offset + length) clamped to
 * the page, empty when the offset is at or past its end. A view, not a copy. Throws
 * INVALID_ARGUMENT for a negative or fractional offset or length.
 */
export function pageSlice(page: Buffer, range: { offset?: number; length?: number } | undefined, key: PageKey): Buffer {
  if (range === undefined) return page;
  const offset = range.offset ?? 0;
  const length = range.length ?? page.length;
  if (!Number.isSafeInteger(offset) || offset < 0 || !Number.isSafeInteger(length) || length < 0) {
    const got = `got offset ${offset}, length ${length}`;
    throw new DoraError('INVALID_ARGUMENT', `Cannot read ${describePage(key)}: offset and length must be whole numbers ≥ 0 (${got})`);
  }
  const start = Math.min(offset, page.length);
  return page.subarray(start, Math.min(page.length, start + length));
}

/** Throws like `pageSlice` for a range it would refuse, without a page to slice (checked before a lookup). */
export function checkPageRange(range: { offset?: number; length?: number } | undefined, key: PageKey): void {
  if (range !== undefined) pageSlice(EMPTY, range, key);
}

const EMPTY = Buffer.alloc(0);
