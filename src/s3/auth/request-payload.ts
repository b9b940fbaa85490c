import { canonicalHeaderValue, fromByteString, type QueryParameter, type RequestHeaders } from './sigv4-canonical.js';
import { EMPTY_SHA256 } from './sigv4-crypto.js';
import { S3AuthError } from './s3-auth-error.js';

/** What a streaming (aws-chunked) body needs besides its kind. */
export interface StreamingFields {
  /** x-amz-decoded-content-length: the object's size once the framing is removed. */
  decodedContentLength: number;
  /** x-amz-trailer, lower-cased: the trailing headers the client announced (e.g. x-amz-checksum-crc32). */
  trailerNames: readonly string[];
}

/** What chunk signatures chain from: the request's own signature and its signing material. */
export interface ChunkSigningContext {
  seedSignature: string;
  signingKey: Buffer;
  /** `<yyyymmdd>/<region>/<service>/aws4_request` */
  scope: string;
  /** The request timestamp, yyyymmddThhmmssZ. */
  amzDate: string;
}

/**
 * How the body of an authenticated request must be read and checked.
 * - `unsigned`: pass through (UNSIGNED-PAYLOAD, or any body of an anonymous request without a hash).
 * - `sha256`: the body must hash to `hex` (see verifySha256Payload).
 * - `streaming-signed`: aws-chunked with chunk signatures chained from the seed (STREAMING-AWS4-HMAC-SHA256-PAYLOAD,
 *   and with `trailer` the …-TRAILER variant whose trailers are signed too).
 * - `streaming-unsigned-trailer`: aws-chunked without signatures, checksums in trailers (STREAMING-UNSIGNED-PAYLOAD-TRAILER).
 * - `streaming-unverified`: a signed aws-chunked body of an anonymous request: framed and counted, but there is no
 *   secret to check its signatures against.
 */
export type RequestPayload =
  | { kind: 'unsigned' }
  | { kind: 'sha256'; hex: string }
  | ({ kind: 'streaming-signed'; trailer: boolean } & ChunkSigningContext & StreamingFields)
  | ({ kind: 'streaming-unsigned-trailer' } & StreamingFields)
  | ({ kind: 'streaming-unverified'; trailer: boolean } & StreamingFields);

export type StreamingPayload = Extract<RequestPayload, { decodedContentLength: number }>;

const UNSIGNED_PAYLOAD = 'UNSIGNED-PAYLOAD';
const STREAMING_SIGNED = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD';
const STREAMING_SIGNED_TRAILER = 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER';
const STREAMING_UNSIGNED_TRAILER = 'STREAMING-UNSIGNED-PAYLOAD-TRAILER';

/**
 * The payload hash a request declares, which is the last line of its canonical request: the
 * x-amz-content-sha256 header for header authentication (the hash of nothing when absent and the
 * request has no body); for presigned URLs X-Amz-Content-Sha256 from the query, else the header,
 * else UNSIGNED-PAYLOAD. Anonymous requests read the same places, defaulting to UNSIGNED-PAYLOAD.
 * @throws S3AuthError MissingSecurityHeader when header authentication sends a body without the header.
 */
export function declaredPayloadHash(
  headers: RequestHeaders,
  query: readonly QueryParameter[],
  form: 'header' | 'presigned' | 'anonymous',
): string {
  const header = headers['x-amz-content-sha256'];
  const fromHeader = header === undefined ? undefined : canonicalHeaderValue(header);
  // Matched regardless of case: SignatureV4.presign hoists the header under whatever name it was given.
  const fromQuery = (query.find((p) => p.name === 'X-Amz-Content-Sha256') ?? query.find((p) => p.name.toLowerCase() === 'x-amz-content-sha256'))?.value;
  if (form === 'header') {
    if (fromHeader !== undefined) return fromHeader;
    if (hasBody(headers)) {
      throw new S3AuthError('MissingSecurityHeader', 'Cannot authenticate a request with a body: the x-amz-content-sha256 header is required');
    }
    return EMPTY_SHA256;
  }
  const declared = form === 'presigned' ? (fromQuery ?? fromHeader) : (fromHeader ?? fromQuery);
  return declared === undefined ? UNSIGNED_PAYLOAD : fromByteString(declared);
}

/**
 * Turns a declared payload hash into the way the body must be read. `signing` is the request's signing
 * context, or undefined for anonymous requests (whose signed streams become `streaming-unverified`).
 * @throws S3AuthError InvalidArgument for an unknown declaration or a malformed x-amz-decoded-content-length,
 *   InvalidRequest for SigV4a streams, MissingContentLength when a stream lacks x-amz-decoded-content-length.
 */
export function describePayload(declared: string, headers: RequestHeaders, signing: ChunkSigningContext | undefined): RequestPayload {
  if (/^[0-9a-fA-F]{64}$/.test(declared)) return { kind: 'sha256', hex: declared.toLowerCase() };
  switch (declared) {
    case UNSIGNED_PAYLOAD:
      return { kind: 'unsigned' };
    case STREAMING_SIGNED:
    case STREAMING_SIGNED_TRAILER: {
      const trailer = declared === STREAMING_SIGNED_TRAILER;
      const fields = streamingFields(headers);
      return signing === undefined
        ? { kind: 'streaming-unverified', trailer, ...fields }
        : { kind: 'streaming-signed', trailer, ...signing, ...fields };
    }
    case STREAMING_UNSIGNED_TRAILER:
      return { kind: 'streaming-unsigned-trailer', ...streamingFields(headers) };
    default:
      if (declared.startsWith('STREAMING-AWS4-ECDSA-P256-SHA256-PAYLOAD')) {
        throw new S3AuthError('InvalidRequest', `Cannot read a body sent as "${declared}": SigV4a is not supported; use ${STREAMING_SIGNED}`);
      }
      throw new S3AuthError(
        'InvalidArgument',
        `Cannot read a body sent as "${declared}": x-amz-content-sha256 must be ${UNSIGNED_PAYLOAD}, ${STREAMING_SIGNED}, ` +
          `${STREAMING_SIGNED_TRAILER}, ${STREAMING_UNSIGNED_TRAILER} or a SHA-256 in hex`,
      );
  }
}

function streamingFields(headers: RequestHeaders): StreamingFields {
  const length = headers['x-amz-decoded-content-length'];
  if (length === undefined) {
    throw new S3AuthError('MissingContentLength', 'Cannot read an aws-chunked body: the x-amz-decoded-content-length header is required');
  }
  const text = canonicalHeaderValue(length);
  const decodedContentLength = Number(text);
  if (!/^\d{1,16}$/.test(text) || !Number.isSafeInteger(decodedContentLength)) {
    throw new S3AuthError('InvalidArgument', `Cannot read an aws-chunked body with x-amz-decoded-content-length "${text}": not a byte count`);
  }
  const trailer = headers['x-amz-trailer'];
  const trailerNames = trailer === undefined
    ? []
    : canonicalHeaderValue(trailer).split(',').map((name) => name.trim().toLowerCase()).filter((name) => name !== '');
  return { decodedContentLength, trailerNames };
}

function hasBody(headers: RequestHeaders): boolean {
  if (headers['transfer-encoding'] !== undefined) return true;
  const length = headers['content-length'];
  return length !== undefined && canonicalHeaderValue(length) !== '0';
}
