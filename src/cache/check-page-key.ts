import { DoraError } from '../common/errors.js';
import type { PageKey } from './page-store.js';

/** Throws INVALID_ARGUMENT unless the key's index is a whole number ≥ 0 (it names files and map keys). */
export function checkPageKey(key: PageKey, verb: 'read' | 'cache' | 'delete'): void {
  if (!Number.isSafeInteger(key.index) || key.index < 0) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot ${verb} ${describePage(key)}: a page index must be a whole number ≥ 0`);
  }
}

/** How messages name a page: `page 3 of "s3://b/k" version "etag"`. */
export function describePage(key: PageKey): string {
  return `page ${key.index} of ${JSON.stringify(key.fileId)} version ${JSON.stringify(key.version)}`;
}
