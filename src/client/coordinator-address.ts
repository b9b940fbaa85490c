import { DoraError, describeCause } from '../common/errors.js';

/** A coordinator address as a URL without a trailing slash: `host:port` means `http://host:port`. */
export function normalizeAddress(address: string): string {
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(address) ? address : `http://${address}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `Invalid coordinator address ${JSON.stringify(address)}: ${describeCause(error)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new DoraError('INVALID_ARGUMENT', `Invalid coordinator address ${JSON.stringify(address)}: use http:// or https://`);
  }
  return url.href.replace(/\/+$/, '');
}
