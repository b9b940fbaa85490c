import { DoraError } from '../../common/errors.js';
import type { StoreUri } from '../../common/store-uri.js';
import type { UfsFactory, UfsOptions } from '../ufs-registry.js';
import { booleanOption } from '../ufs-options.js';
import { HttpClient } from './http-client.js';
import { HttpUfs } from './http-ufs.js';

const HEADER_PREFIX = 'header.';
const OPTIONS = ['basicAuth', 'insecure', `${HEADER_PREFIX}<Name>`] as const;
/** An HTTP header name (RFC 9110's token). */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Headers dora sets itself, per request, or that would break the exchange. */
const RESERVED = new Set(['host', 'range', 'if-match', 'if-range', 'if-none-match', 'if-modified-since', 'accept-encoding', 'content-length', 'transfer-encoding', 'connection', 'upgrade', 'te', 'expect']);

/**
 * `http://host[:port]/path` or `https://…` → a read-only HttpUfs rooted at that URL (a
 * directory). Options: `basicAuth` (`user:password`), `header.<Name>` (a header sent with every
 * request to the store's origin, e.g. `header.Authorization=Bearer …`), `insecure` (true: accept
 * any TLS certificate, e.g. a self-signed one). Credentials in the URI itself are refused, so
 * they never enter the mount table unredacted.
 */
export const createHttpUfs: UfsFactory = (uri, options, tuning) => {
  const invalid = (why: string): DoraError => new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": ${why}`);
  const headers = headerOptions(uri, options, invalid);
  const root = rootOf(uri, invalid);
  const client = new HttpClient(new URL(root.url).origin, { maxSockets: tuning.maxSockets, headers, insecure: booleanOption(uri.text, options, 'insecure', false) });
  return new HttpUfs(client, root);
};

function headerOptions(uri: StoreUri, options: UfsOptions, invalid: (why: string) => DoraError): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, value] of Object.entries(options)) {
    if (key === 'basicAuth' || key === 'insecure') continue;
    if (!key.startsWith(HEADER_PREFIX)) throw invalid(`unknown option "${key}" (accepted: ${OPTIONS.join(', ')})`);
    const name = key.slice(HEADER_PREFIX.length);
    if (!TOKEN.test(name)) throw invalid(`option "${key}" does not name an HTTP header`);
    if (RESERVED.has(name.toLowerCase())) throw invalid(`option "${key}": dora sets the ${name} header itself`);
    if (/[\r\n\0]/.test(value)) throw invalid(`option "${key}": a header value cannot hold line breaks or NUL`);
    headers[name.toLowerCase()] = value;
  }
  const basicAuth = options['basicAuth'];
  if (basicAuth !== undefined) {
    if (!basicAuth.includes(':')) throw invalid('option "basicAuth" must be user:password');
    if (headers['authorization'] !== undefined) throw invalid('options "basicAuth" and "header.Authorization" cannot go together');
    headers['authorization'] = `Basic ${Buffer.from(basicAuth, 'utf8').toString('base64')}`;
  }
  return headers;
}

/** The root as dora names it (path decoded, ending in '/') and as a URL (path encoded, ending in '/'). */
function rootOf(uri: StoreUri, invalid: (why: string) => DoraError): { uri: string; url: string } {
  if (uri.authority.includes('@')) throw invalid('credentials in the URI are not allowed; use the option basicAuth (or --credentials)');
  if (uri.authority === '') throw invalid(`expected ${uri.scheme}://host[:port]/path`);
  const segments = uri.path.split('/').filter((s) => s !== '');
  if (segments.some((s) => s === '.' || s === '..')) throw invalid('"." and ".." segments are not allowed');
  const prefix = segments.map((s) => `${s}/`).join('');
  let url: URL;
  try {
    url = new URL(`${uri.scheme}://${uri.authority}/${segments.map((s) => `${encodeURIComponent(s)}/`).join('')}`);
  } catch (error) {
    throw new DoraError('INVALID_ARGUMENT', `Cannot open store "${uri.text}": not a valid URL`, { cause: error });
  }
  return { uri: `${uri.scheme}://${uri.authority}/${prefix}`, url: url.href };
}
