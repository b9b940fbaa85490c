/**
 * The canonical request of AWS Signature Version 4, as S3 defines it.
 *
 * Everything here works on *byte strings*: strings whose every character is one byte of the request
 * as it went over the wire, which is how Node's http module hands out URLs and header values. The
 * canonical request is hashed as latin1, so each character becomes exactly the byte the client hashed.
 */

/** Request headers with lower-cased names; arrays (Node's `headersDistinct`) keep repeated headers apart. */
export type RequestHeaders = Readonly<Record<string, string | readonly string[] | undefined>>;

/** One query parameter, split at its first `=` and percent-decoded into byte strings. */
export interface QueryParameter {
  readonly name: string;
  readonly value: string;
}

export interface CanonicalRequestParts {
  method: string;
  canonicalUri: string;
  canonicalQuery: string;
  headers: RequestHeaders;
  signedHeaders: readonly string[];
  payloadHash: string;
}

/** The unreserved characters SigV4 never encodes: A-Z a-z 0-9 - . _ ~ */
function isUnreserved(byte: number): boolean {
  return (
    (byte >= 0x41 && byte <= 0x5a) ||
    (byte >= 0x61 && byte <= 0x7a) ||
    (byte >= 0x30 && byte <= 0x39) ||
    byte === 0x2d ||
    byte === 0x2e ||
    byte === 0x5f ||
    byte === 0x7e
  );
}

const HEX = '0123456789ABCDEF';

/** SigV4's UriEncode over bytes: every byte but the unreserved ones as %XX with upper-case hex. */
export function uriEncode(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) {
    out += isUnreserved(byte) ? String.fromCharCode(byte) : `%${HEX[byte >> 4]}${HEX[byte & 15]}`;
  }
  return out;
}

/**
 * Decodes %XX escapes into bytes. A `%` not followed by two hex digits stays a literal `%`; `+` stays
 * `+` (SigV4 clients encode spaces as %20). Characters above U+00FF, which a byte string cannot hold,
 * are taken as text and contribute their UTF-8 bytes.
 */
export function percentDecode(text: string): Buffer {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code === 0x25 && i + 2 < text.length && isHexDigit(text.charCodeAt(i + 1)) && isHexDigit(text.charCodeAt(i + 2))) {
      bytes.push(parseInt(text.slice(i + 1, i + 3), 16));
      i += 2;
    } else if (code <= 0xff) {
      bytes.push(code);
    } else {
      const end = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? i + 2 : i + 1;
      bytes.push(...Buffer.from(text.slice(i, end), 'utf8'));
      i = end - 1;
    }
  }
  return Buffer.from(bytes);
}

function isHexDigit(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

/** A string as a byte string: unchanged if it already is one, its UTF-8 bytes otherwise. */
export function toByteString(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /^[\u0000-\u00ff]*$/.test(text) ? text : Buffer.from(text, 'utf8').toString('latin1');
}

/** A byte string read as UTF-8 text (for values such as an access key taken from the query). */
export function fromByteString(bytes: string): string {
  return Buffer.from(bytes, 'latin1').toString('utf8');
}

/**
 * The canonical URIs a client may have signed for a raw path. S3 signs the path encoded exactly once
 * and never normalised, so the first candidate is the path exactly as sent. The second, tried only
 * when it differs, decodes and re-encodes each segment the way SigV4 encodes a key, for clients that
 * put characters on the wire (`!`, `*`, lower-case escapes…) that they encoded differently when
 * signing. Segments are re-encoded separately so `%2F` and `/` stay distinct.
 */
export function canonicalUris(rawPath: string): string[] {
  const path = rawPath === '' ? '/' : toByteString(rawPath);
  const normalized = path
    .split('/')
    .map((segment) => uriEncode(percentDecode(segment)))
    .join('/');
  return normalized === path ? [path] : [path, normalized];
}

/** Splits a raw query string (with or without its leading `?`) into decoded parameters, in order. */
export function parseQuery(rawQuery: string): QueryParameter[] {
  const query = rawQuery.startsWith('?') ? rawQuery.slice(1) : rawQuery;
  const params: QueryParameter[] = [];
  for (const part of query.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    const value = eq === -1 ? '' : part.slice(eq + 1);
    params.push({ name: percentDecode(name).toString('latin1'), value: percentDecode(value).toString('latin1') });
  }
  return params;
}

/** Sorted `name=value` pairs, each side UriEncoded, joined by `&`; `omit` drops one parameter name. */
export function canonicalQueryString(params: readonly QueryParameter[], omit?: string): string {
  const pairs: Array<[string, string]> = [];
  for (const { name, value } of params) {
    if (name === omit) continue;
    pairs.push([uriEncode(Buffer.from(name, 'latin1')), uriEncode(Buffer.from(value, 'latin1'))]);
  }
  pairs.sort(([n1, v1], [n2, v2]) => (n1 < n2 ? -1 : n1 > n2 ? 1 : v1 < v2 ? -1 : v1 > v2 ? 1 : 0));
  return pairs.map(([name, value]) => `${name}=${value}`).join('&');
}

// Only ASCII whitespace is folded: in a byte string, U+00A0 is half of a UTF-8 character, not a space.
const EDGE_SPACES = /^[ \t\n\v\f\r]+|[ \t\n\v\f\r]+$/g;
const INNER_SPACES = /[ \t\n\v\f\r]+/g;

/** A header's canonical value: each value trimmed with inner whitespace runs folded, joined by `,`. */
export function canonicalHeaderValue(value: string | readonly string[] | undefined): string {
  const values = value === undefined ? [] : typeof value === 'string' ? [value] : value;
  return values.map((v) => toByteString(v).replace(EDGE_SPACES, '').replace(INNER_SPACES, ' ')).join(',');
}

/**
 * The canonical request: method, URI, query, one `name:value` line per signed header (in the order
 * the client listed them; a listed header that is absent canonicalises to an empty value and so fails
 * the signature unless the client really signed it empty), the signed header list, and the payload hash.
 */
export function createCanonicalRequest(parts: CanonicalRequestParts): string {
  let headerLines = '';
  for (const name of parts.signedHeaders) headerLines += `${name}:${canonicalHeaderValue(parts.headers[name])}\n`;
  return [
    parts.method.toUpperCase(),
    parts.canonicalUri,
    parts.canonicalQuery,
    headerLines,
    parts.signedHeaders.join(';'),
    parts.payloadHash,
  ].join('\n');
}
