import { DoraError } from '../common/errors.js';
import type { UfsTags } from '../ufs/under-file-system.js';

/**
 * A write's content type, user metadata and tags cross the worker API in one header: URL-encoded
 * JSON, so any UTF-8 survives (docs/worker-api.md).
 */
export const WRITE_ATTRIBUTES_HEADER = 'x-dora-write-attributes';

export interface WriteAttributes {
  contentType?: string | undefined;
  metadata?: Readonly<Record<string, string>> | undefined;
  tags?: UfsTags | undefined;
}

/** The header's value for `attributes`; undefined when there is nothing to send. */
export function encodeWriteAttributes(attributes: WriteAttributes): string | undefined {
  const { contentType, metadata, tags } = attributes;
  if (contentType === undefined && metadata === undefined && tags === undefined) return undefined;
  return encodeURIComponent(JSON.stringify({ contentType, metadata, tags }));
}

/** Reads the header back. Throws INVALID_ARGUMENT naming `path`. */
export function parseWriteAttributes(header: string | string[] | undefined, path: string): WriteAttributes {
  if (header === undefined) return {};
  const fail = (why: string): DoraError => new DoraError('INVALID_ARGUMENT', `Cannot write "${path}": the ${WRITE_ATTRIBUTES_HEADER} header ${why}`);
  let value: unknown;
  try {
    value = JSON.parse(decodeURIComponent(Array.isArray(header) ? header.join(',') : header));
  } catch {
    throw fail('is not URL-encoded JSON');
  }
  if (typeof value !== 'object' || value === null) throw fail('is not an object');
  const { contentType, metadata, tags } = value as Record<string, unknown>;
  if (contentType !== undefined && typeof contentType !== 'string') throw fail('has a contentType that is not a string');
  return {
    ...(contentType === undefined ? {} : { contentType }),
    ...(metadata === undefined ? {} : { metadata: stringMap(metadata, () => fail('has metadata that is not an object of strings')) }),
    ...(tags === undefined ? {} : { tags: stringMap(tags, () => fail('has tags that are not an object of strings')) }),
  };
}

/** A `{ "tags": { key: value } }` request body. Throws INVALID_ARGUMENT naming `path`. */
export function parseTags(body: unknown, path: string): UfsTags {
  const tags = typeof body === 'object' && body !== null ? (body as Record<string, unknown>)['tags'] : undefined;
  return stringMap(tags, () => new DoraError('INVALID_ARGUMENT', `Cannot tag "${path}": the body must be {"tags": {key: value, …}} with string values`));
}

function stringMap(value: unknown, fail: () => DoraError): Record<string, string> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw fail();
  const entries = Object.entries(value);
  if (!entries.every(([, v]) => typeof v === 'string')) throw fail();
  return Object.fromEntries(entries) as Record<string, string>;
}
