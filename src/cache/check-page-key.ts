import { DoraError } from '../common/errors.js';
import type { PageKey } from './page-store.js';

/** The largest page index: the largest JavaScript array index (stores index pages in arrays). */
export const MAX_PAGE_INDEX = 2 ** 32 - 2;

/** Throws INVALID_ARGUMENT unless the key's index is a whole number from 0 to MAX_PAGE_INDEX. */
export function checkPageKey(key: PageKey, verb: 'read' | 'cache' | 'delete'): void {
  if (!Number.isInteger(key.index) || key.index < 0 || key.index > MAX_PAGE_INDEX) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot ${verb} ${describePage(key)}: a page index must be a whole number from 0 to ${MAX_PAGE_INDEX}`);
  }
}

/** How messages name a page: `page 3 of "s3://b/k" version "etag"`. */
export function describePage(key: PageKey): string {
  return `page ${key.index} of ${JSON.stringify(key.fileId)} version ${JSON.stringify(key.version)}`;
}
