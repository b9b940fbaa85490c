import type { UfsStatus } from '../under-file-system.js';
import { firstHeader, type HttpAnswer } from './http-client.js';

/**
 * A file's status from the headers of an answer for it; `size` is the whole file's (not the
 * answer's, for a range). The version is the ETag as sent, strong or weak (`"abc"`, `W/"abc"`);
 * without one, Last-Modified in ms and the size (`1700000000000-42`); without either, the size
 * alone (`42`): such a file is still readable, but a change that keeps its size goes unnoticed.
 * `etag` is a strong ETag without its quotes.
 */
export function fileStatus(path: string, headers: HttpAnswer['headers'], size: number): UfsStatus {
  const tag = firstHeader(headers, 'etag')?.trim();
  const modified = firstHeader(headers, 'last-modified');
  const mtimeMs = modified === undefined ? 0 : Date.parse(modified) || 0;
  const version = tag !== undefined && tag !== '' ? tag : mtimeMs > 0 ? `${mtimeMs}-${size}` : `${size}`;
  const strong = tag !== undefined && /^"[^"]*"$/.test(tag) ? tag.slice(1, -1) : undefined;
  return { path, kind: 'file', size, mtimeMs, version, ...(strong === undefined || strong === '' ? {} : { etag: strong }) };
}

/** A directory's status: HTTP servers keep nothing about one dora uses. */
export function directoryStatus(path: string): UfsStatus {
  return { path, kind: 'directory', size: 0, mtimeMs: 0, version: '' };
}

/** Whether a version is a strong ETag, which `If-Match` can check (weak ones never match there). */
export function isStrongETag(version: string): boolean {
  return version.startsWith('"');
}

/** The byte range an answer carries: where its body starts in the file, and the file's whole size. */
export interface AnswerRange {
  readonly start: number;
  /** Bytes in the body. */
  readonly length: number;
  /** The whole file's size. */
  readonly size: number;
}

/**
 * What part of the file a 200 or 206 answer's body is: a 206's `Content-Range: bytes a-b/size`,
 * or a 200's whole content of `Content-Length` bytes. Undefined when the headers do not say.
 */
export function answerRange(answer: Pick<HttpAnswer, 'status' | 'headers'>): AnswerRange | undefined {
  if (answer.status === 206) {
    const match = /^bytes\s+(\d+)-(\d+)\/(\d+)$/.exec(firstHeader(answer.headers, 'content-range')?.trim() ?? '');
    if (match === null) return undefined;
    const [start, end, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
    return end < start || end >= size ? undefined : { start, length: end - start + 1, size };
  }
  const length = contentLength(answer.headers);
  return length === undefined ? undefined : { start: 0, length, size: length };
}

/** The Content-Length header as a number, or undefined. */
export function contentLength(headers: HttpAnswer['headers']): number | undefined {
  const text = firstHeader(headers, 'content-length')?.trim();
  if (text === undefined || !/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : undefined;
}
