import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';
import type { UfsFactory } from '../ufs-registry.js';
import { checkKnownOptions } from '../ufs-options.js';
import { LocalUfs } from './local-ufs.js';

/** `file:///abs/path` (or `file://localhost/abs/path`) → a LocalUfs rooted there. */
export const createLocalUfs: UfsFactory = (uri: StoreUri, options) => {
  checkKnownOptions(uri.text, options, []);
  if (uri.authority !== '' && uri.authority !== 'localhost') {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": a file URI names no host (use file:///absolute/path)`);
  }
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid store URI "${uri.text}": "." and ".." segments are not allowed`);
  }
  return new LocalUfs(`/${segments.join('/')}`);
};
