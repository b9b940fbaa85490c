import { createHash } from 'node:crypto';
import { ChunkedBodyReader } from './chunked-body-reader.js';
import { checksumAlgorithmOf, createPayloadChecksum, type PayloadChecksum } from './payload-checksum.js';
import type { StreamingPayload } from './request-payload.js';
import { EMPTY_SHA256, hmacSha256, sha256Hex, signatureMatches } from './sigv4-crypto.js';
import { S3AuthError } from './s3-auth-error.js';

export interface AwsChunkedDecoderOptions {
  /** The largest chunk accepted; a signed chunk is held whole until its signature is checked. Default 16 MiB. */
  maxChunkSize?: number;
  /** The longest chunk header or trailer line, in bytes. Default 4 KiB. */
  maxLineLength?: number;
  signal?: AbortSignal;
}

const DEFAULT_MAX_CHUNK_SIZE = 16 * 1024 * 1024;
const DEFAULT_MAX_LINE_LENGTH = 4096;
const MAX_TRAILERS = 16;
const TRAILER_SIGNATURE = 'x-amz-trailer-signature';

/**
 * Decodes an `aws-chunked` body (`<hex size>[;chunk-signature=<sig>]\r\n<data>\r\n` … `0…\r\n`, then
 * trailers and an empty line) into the object's bytes.
 *
 * - `streaming-signed`: every chunk's signature is checked, chained from the request's seed signature,
 *   before any of its bytes are yielded; with `trailer`, the trailer signature too.
 * - `streaming-unsigned-trailer` and `streaming-unverified`: bytes are yielded as they arrive.
 *
 * In every mode the total must equal x-amz-decoded-content-length, announced trailers must arrive, and
 * x-amz-checksum-* trailers must match the data. Those checks end the stream, so the body is
 * trustworthy only once iteration completes without throwing: write it somewhere temporary and commit
 * afterwards. Memory is bounded by one chunk (signed) or one piece of the source (unsigned).
 *
 * Iterate once. Errors are S3AuthError: SignatureDoesNotMatch, IncompleteBody (the body ends early or the
 * sizes disagree with the declared length), InvalidRequest (malformed framing, oversized chunk or line,
 * bytes after the end), MalformedTrailerError, BadDigest. Breaking out of the loop stops reading the source.
 */
export class AwsChunkedDecoder implements AsyncIterable<Buffer> {
  readonly #source: AsyncIterable<Uint8Array>;
  readonly #payload: StreamingPayload;
  readonly #maxChunkSize: number;
  readonly #maxLineLength: number;
  readonly #signal: AbortSignal | undefined;
  readonly #checksums = new Map<string, PayloadChecksum>();
  #trailers: Readonly<Record<string, string>> = {};
  #started = false;

  /** @throws S3AuthError InvalidRequest when x-amz-trailer announces a checksum algorithm dora does not know. */
  constructor(source: AsyncIterable<Uint8Array>, payload: StreamingPayload, options: AwsChunkedDecoderOptions = {}) {
    this.#source = source;
    this.#payload = payload;
    this.#maxChunkSize = options.maxChunkSize ?? DEFAULT_MAX_CHUNK_SIZE;
    this.#maxLineLength = options.maxLineLength ?? DEFAULT_MAX_LINE_LENGTH;
    this.#signal = options.signal;
    for (const name of payload.trailerNames) {
      const algorithm = checksumAlgorithmOf(name);
      if (algorithm !== undefined) this.#checksums.set(name, createPayloadChecksum(algorithm));
      else if (name.startsWith('x-amz-checksum-')) {
        throw new S3AuthError('InvalidRequest', `Cannot verify the trailer "${name}": the checksum algorithm is not supported`);
      }
    }
  }

  /** The trailing headers (lower-cased names), verified; complete once iteration has finished. */
  get trailers(): Readonly<Record<string, string>> {
    return this.#trailers;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Buffer, void, undefined> {
    if (this.#started) throw new Error('AwsChunkedDecoder can be iterated only once');
    this.#started = true;
    const reader = new ChunkedBodyReader(this.#source, this.#signal);
    try {
      const finalSignature = yield* this.#chunks(reader);
      await this.#readTrailers(reader, finalSignature);
      if (!(await reader.atEnd())) throw malformed('there are bytes after the end of the body');
    } finally {
      await reader.close();
    }
  }

  /** Yields the data of every chunk; returns the last chunk signature (the seed's chain end). */
  async *#chunks(reader: ChunkedBodyReader): AsyncGenerator<Buffer, string, undefined> {
    const payload = this.#payload;
    const signed = payload.kind === 'streaming-signed';
    let previous = signed ? payload.seedSignature : '';
    let decoded = 0;
    for (;;) {
      const line = await reader.readLine(this.#maxLineLength);
      if (line === undefined) throw incomplete(`the body ended after ${decoded} bytes, before its final 0-length chunk`);
      const { size, signature } = parseChunkHeader(line, signed);
      if (size > this.#maxChunkSize) throw malformed(`a chunk of ${size} bytes is larger than the ${this.#maxChunkSize} allowed`);
      if (decoded + size > payload.decodedContentLength) {
        throw incomplete(`the chunks carry more than the ${payload.decodedContentLength} bytes declared by x-amz-decoded-content-length`);
      }
      if (signed) {
        const pieces: Buffer[] = [];
        const hash = createHash('sha256');
        for await (const piece of readExactly(reader, size)) {
          hash.update(piece);
          pieces.push(piece);
        }
        const stringToSign = ['AWS4-HMAC-SHA256-PAYLOAD', payload.amzDate, payload.scope, previous, EMPTY_SHA256, hash.digest('hex')].join('\n');
        const expected = hmacSha256(payload.signingKey, stringToSign).toString('hex');
        if (!signatureMatches(signature ?? '', expected)) throw signatureMismatch(`the signature of the chunk at decoded offset ${decoded}`);
        previous = expected;
        for (const piece of pieces) yield this.#checked(piece);
      } else {
        for await (const piece of readExactly(reader, size)) yield this.#checked(piece);
      }
      decoded += size;
      if (size === 0) break;
      await reader.expectCrlf();
    }
    if (decoded !== payload.decodedContentLength) {
      throw incomplete(`the chunks carry ${decoded} bytes, not the ${payload.decodedContentLength} declared by x-amz-decoded-content-length`);
    }
    return previous;
  }

  #checked(piece: Buffer): Buffer {
    for (const checksum of this.#checksums.values()) checksum.update(piece);
    return piece;
  }

  /** Reads the trailer section up to its empty line (tolerating the end of the body instead) and verifies it. */
  async #readTrailers(reader: ChunkedBodyReader, finalSignature: string): Promise<void> {
    const payload = this.#payload;
    const received = new Map<string, string>();
    let canonical = '';
    let trailerSignature: string | undefined;
    for (;;) {
      const line = await reader.readLine(this.#maxLineLength, true);
      if (line === undefined || line === '') break;
      const colon = line.indexOf(':');
      const name = line.slice(0, Math.max(colon, 0)).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (colon <= 0 || name === '') throw malformedTrailer(`"${line.slice(0, 64)}" is not a name:value line`);
      if (trailerSignature !== undefined) throw malformedTrailer(`"${name}" comes after ${TRAILER_SIGNATURE}, which must be last`);
      if (name === TRAILER_SIGNATURE) {
        trailerSignature = value;
        continue;
      }
      if (!payload.trailerNames.includes(name)) throw malformedTrailer(`"${name}" was not announced in x-amz-trailer`);
      if (received.has(name)) throw malformedTrailer(`"${name}" appears twice`);
      if (received.size >= MAX_TRAILERS) throw malformedTrailer(`more than ${MAX_TRAILERS} trailers`);
      received.set(name, value);
      canonical += `${name}:${value}\n`;
    }
    const missing = payload.trailerNames.filter((name) => !received.has(name));
    if (missing.length > 0) throw malformedTrailer(`${missing.map((n) => `"${n}"`).join(', ')} announced in x-amz-trailer did not arrive`);

    if (payload.kind === 'streaming-signed' && payload.trailer) {
      if (trailerSignature === undefined) throw signatureMismatch(`the trailers: ${TRAILER_SIGNATURE} is missing`);
      const stringToSign = ['AWS4-HMAC-SHA256-TRAILER', payload.amzDate, payload.scope, finalSignature, sha256Hex(Buffer.from(canonical, 'latin1'))].join('\n');
      if (!signatureMatches(trailerSignature, hmacSha256(payload.signingKey, stringToSign).toString('hex'))) {
        throw signatureMismatch('the trailer signature');
      }
    }
    for (const [name, checksum] of this.#checksums) {
      const expected = received.get(name) ?? '';
      const actual = checksum.digest();
      if (actual !== expected) {
        throw new S3AuthError('BadDigest', `Cannot accept the body: the ${name} trailer "${expected}" does not match the calculated checksum "${actual}"`);
      }
    }
    this.#trailers = Object.fromEntries(received);
  }
}

/** Exactly `size` bytes from the reader, in pieces. */
async function* readExactly(reader: ChunkedBodyReader, size: number): AsyncGenerator<Buffer, void, undefined> {
  let remaining = size;
  while (remaining > 0) {
    const piece = await reader.read(remaining);
    if (piece === undefined) throw incomplete(`the body ended ${remaining} bytes before the end of a chunk`);
    remaining -= piece.length;
    yield piece;
  }
}

/** `<hex size>` plus extensions; `chunk-signature=<64 hex>` is required when signed and otherwise ignored. */
function parseChunkHeader(line: string, signed: boolean): { size: number; signature: string | undefined } {
  const [sizeText = '', ...extensions] = line.split(';');
  if (!/^[0-9a-fA-F]{1,16}$/.test(sizeText)) throw malformed(`the chunk header "${line.slice(0, 100)}" does not start with a hex size`);
  let signature: string | undefined;
  for (const extension of extensions) {
    if (extension.startsWith('chunk-signature=')) signature = extension.slice('chunk-signature='.length);
  }
  if (signed && signature === undefined) throw malformed(`the chunk header "${line.slice(0, 100)}" has no chunk-signature`);
  return { size: parseInt(sizeText, 16), signature };
}

function incomplete(cause: string): S3AuthError {
  return new S3AuthError('IncompleteBody', `Cannot decode the aws-chunked body: ${cause}`);
}

function malformed(cause: string): S3AuthError {
  return new S3AuthError('InvalidRequest', `Cannot decode the aws-chunked body: ${cause}`);
}

function malformedTrailer(cause: string): S3AuthError {
  return new S3AuthError('MalformedTrailerError', `Cannot accept the trailers of the aws-chunked body: ${cause}`);
}

function signatureMismatch(what: string): S3AuthError {
  return new S3AuthError('SignatureDoesNotMatch', `Cannot accept the aws-chunked body: ${what} does not match the one calculated`);
}
