import type { Dispatcher } from 'undici';

const META = 'x-object-meta-';
/** Marks an entry whose name (base32) and value (percent-encoded) were encoded to survive HTTP and Swift. */
const ENCODED = 'dora-enc-';
/**
 * Names Swift gives back as written, once lower-cased: it title-cases names and turns '_' into
 * '-', and HTTP allows only a few characters in names.
 */
const PLAIN_NAME = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;
/** Values HTTP gives back as written: printable ASCII without a space at either end. */
const PLAIN_VALUE = /^(?:[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?)?$/;
const BASE32 = 'abcdefghijklmnopqrstuvwxyz234567';

/**
 * User metadata as `X-Object-Meta-*` headers. A name of lower-case letters, digits and single
 * dashes with a printable-ASCII value goes as it is; any other entry goes as
 * `X-Object-Meta-Dora-Enc-<base32 of the name>: <percent-encoded value>`, which
 * `metadataFromHeaders` decodes, so every name and value comes back exactly.
 */
export function metadataHeaders(metadata: Readonly<Record<string, string>> | undefined): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(metadata ?? {})) {
    if (PLAIN_NAME.test(name) && !name.startsWith(ENCODED) && PLAIN_VALUE.test(value)) headers[META + name] = value;
    else headers[META + ENCODED + base32(Buffer.from(name, 'utf8'))] = encodeURIComponent(value);
  }
  return headers;
}

/** Content type and user metadata (lower-case names) from an object's response headers. */
export function attributesFromHeaders(headers: Dispatcher.ResponseData['headers']): { contentType: string | undefined; metadata: Record<string, string> } {
  const metadata: Record<string, string> = {};
  for (const [key, raw] of Object.entries(headers)) {
    if (!key.startsWith(META) || raw === undefined) continue;
    const value = Array.isArray(raw) ? raw.join(',') : raw;
    const name = key.slice(META.length).toLowerCase();
    const decoded = name.startsWith(ENCODED) ? decodeEntry(name.slice(ENCODED.length), value) : undefined;
    if (decoded !== undefined) metadata[decoded[0]] = decoded[1];
    else metadata[name] = utf8(value);
  }
  const contentType = headers['content-type'];
  return { contentType: Array.isArray(contentType) ? contentType[0] : contentType, metadata };
}

function decodeEntry(encodedName: string, value: string): [string, string] | undefined {
  const name = fromBase32(encodedName);
  if (name === undefined) return undefined;
  try {
    return [name, decodeURIComponent(value)];
  } catch {
    return undefined;
  }
}

/**
 * undici reads header values as Latin-1; other Swift clients (python-swiftclient) send UTF-8.
 * Gives the UTF-8 reading where the bytes are valid UTF-8, else the value as read.
 */
function utf8(value: string): string {
  if (!/[\x80-\xff]/.test(value)) return value;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(value, 'latin1'));
  } catch {
    return value;
  }
}

/** RFC 4648 base32 in lower case, without padding. */
export function base32(bytes: Uint8Array): string {
  let out = '';
  let bits = 0;
  let buffer = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(buffer << (5 - bits)) & 31];
  return out;
}

/** The text base32 stands for, or undefined when it is not base32 of UTF-8. */
export function fromBase32(text: string): string | undefined {
  const bytes: number[] = [];
  let bits = 0;
  let buffer = 0;
  for (const char of text) {
    const digit = BASE32.indexOf(char);
    if (digit < 0) return undefined;
    buffer = ((buffer << 5) | digit) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bytes.push((buffer >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes));
  } catch {
    return undefined;
  }
}
