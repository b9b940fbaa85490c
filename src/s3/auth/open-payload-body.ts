import { AwsChunkedDecoder, type AwsChunkedDecoderOptions } from './aws-chunked-decoder.js';
import type { RequestPayload } from './request-payload.js';
import { verifySha256Payload } from './verify-sha256-payload.js';

/** A request body reduced to the object's bytes, checked as its payload declaration requires. */
export interface PayloadBody extends AsyncIterable<Uint8Array> {
  /** Verified trailing headers (aws-chunked only), complete once iteration has finished; otherwise empty. */
  readonly trailers: Readonly<Record<string, string>>;
}

export interface OpenPayloadBodyOptions extends AwsChunkedDecoderOptions {
  /** The Content-Length of a body that is not aws-chunked, for the sha256 check's length test. */
  contentLength?: number;
}

/**
 * The one way handlers read an authenticated body: decodes aws-chunked bodies, verifies signatures,
 * hashes and checksums as `payload` (from verifyRequest or acceptAnonymousRequest) demands. The body is
 * trustworthy only once iteration completes without throwing, so commit the object only then.
 * @throws S3AuthError, while iterating, as AwsChunkedDecoder and verifySha256Payload do.
 */
export function openPayloadBody(body: AsyncIterable<Uint8Array>, payload: RequestPayload, options: OpenPayloadBodyOptions = {}): PayloadBody {
  const { contentLength, signal, ...chunkOptions } = options;
  switch (payload.kind) {
    case 'unsigned':
      return { trailers: {}, [Symbol.asyncIterator]: () => body[Symbol.asyncIterator]() };
    case 'sha256': {
      const verifyOptions = {
        ...(contentLength === undefined ? {} : { contentLength }),
        ...(signal === undefined ? {} : { signal }),
      };
      return { trailers: {}, [Symbol.asyncIterator]: () => verifySha256Payload(body, payload.hex, verifyOptions) };
    }
    default:
      return new AwsChunkedDecoder(body, payload, signal === undefined ? chunkOptions : { ...chunkOptions, signal });
  }
}
