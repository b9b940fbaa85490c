import {
  canonicalHeaderValue,
  canonicalQueryString,
  canonicalUris,
  createCanonicalRequest,
  parseQuery,
  type QueryParameter,
  type RequestHeaders,
} from './sigv4-canonical.js';
import { deriveSigningKey, hmacSha256, sha256Hex, signatureMatches } from './sigv4-crypto.js';
import { parseAuthorizationHeader, parsePresignedQuery, SIGV4_ALGORITHM, unsupportedMechanism, type SigV4Params } from './sigv4-params.js';
import { declaredPayloadHash, describePayload, type RequestPayload } from './request-payload.js';
import { S3AuthError, type S3AuthErrorCode } from './s3-auth-error.js';

/** The parts of an HTTP request that SigV4 covers, as the server received them. */
export interface SigV4Request {
  method: string;
  /** The path exactly as received, still percent-encoded, without the query. */
  path: string;
  /** The raw query string, with or without its leading `?`. */
  query: string;
  /**
   * Lower-cased header names. Values as Node's http module gives them (one character per byte on the
   * wire); pass `headersDistinct` rather than `headers` so repeated headers canonicalise exactly.
   */
  headers: RequestHeaders;
}

export interface VerifyOptions {
  /** The server's clock. */
  now: Date;
  /** How far the request time may be from `now` (header auth), or ahead of it (presigned). Default 15 minutes. */
  maxSkewMs?: number;
  /** When set, the region the credential scope must name; otherwise any region is accepted. */
  region?: string;
  /** The service the credential scope must name. Default `s3`. */
  service?: string;
}

/** Where secrets come from; CredentialStore is one. */
export interface SecretLookup {
  secretFor(accessKeyId: string): string | undefined;
}

export interface VerifiedRequest {
  accessKeyId: string;
  /** How the body must be read: handlers use this, never the x-amz-content-sha256 header itself. */
  payload: RequestPayload;
}

const DEFAULT_MAX_SKEW_MS = 15 * 60 * 1000;

/**
 * Authenticates a request signed with AWS Signature Version 4, in the Authorization header or as a
 * presigned URL. Verifies everything but the body, and says in `payload` how the body must be checked
 * (openPayloadBody does it). Pure: no I/O, the same input gives the same answer. For an S3 API without
 * configured credentials, call acceptAnonymousRequest instead.
 * @throws S3AuthError — AccessDenied (unsigned request, unsigned x-amz-* header, presigned URL expired or
 *   not yet valid), InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed,
 *   AuthorizationHeaderMalformed / AuthorizationQueryParametersError, InvalidRequest (other mechanisms),
 *   InvalidArgument (two mechanisms at once, bad x-amz-content-sha256), MissingSecurityHeader, MissingContentLength.
 */
export function verifyRequest(request: SigV4Request, credentials: SecretLookup, options: VerifyOptions): VerifiedRequest {
  const { headers } = request;
  const query = parseQuery(request.query);
  const params = readSigV4Params(headers, query);
  const malformedCode: S3AuthErrorCode = params.form === 'header' ? 'AuthorizationHeaderMalformed' : 'AuthorizationQueryParametersError';
  const { scope } = params;
  const service = options.service ?? 's3';
  if (scope.service !== service) {
    throw new S3AuthError(malformedCode, `Cannot authenticate for service "${scope.service}": this endpoint serves "${service}"`);
  }
  if (options.region !== undefined && scope.region !== options.region) {
    throw new S3AuthError(malformedCode, `Cannot authenticate for region "${scope.region}": the region is wrong; expecting "${options.region}"`, {
      details: { Region: options.region },
    });
  }

  const amzDate = params.form === 'header' ? headerTimestamp(headers) : presignedTimestamp(params.presignedDate ?? '');
  if (amzDate.slice(0, 8) !== scope.date) {
    throw new S3AuthError(malformedCode, `Cannot authenticate with credential date "${scope.date}": it is not the date of the request time "${amzDate}"`);
  }
  checkTime(params, amzDate, options);

  const secret = credentials.secretFor(params.accessKeyId);
  if (secret === undefined) {
    throw new S3AuthError('InvalidAccessKeyId', `Cannot authenticate as "${params.accessKeyId}": the access key does not exist`, {
      details: { AWSAccessKeyId: params.accessKeyId },
    });
  }
  checkAmzHeadersSigned(headers, params.signedHeaders);

  const declared = declaredPayloadHash(headers, query, params.form);
  const scopeString = `${scope.date}/${scope.region}/${scope.service}/aws4_request`;
  const signingKey = deriveSigningKey(secret, scope);
  const payload = describePayload(declared, headers, { seedSignature: params.signature, signingKey, scope: scopeString, amzDate });

  const canonicalQuery = canonicalQueryString(query, params.form === 'presigned' ? 'X-Amz-Signature' : undefined);
  let firstAttempt: { canonicalRequest: string; stringToSign: string } | undefined;
  for (const canonicalUri of canonicalUris(request.path)) {
    const canonicalRequest = createCanonicalRequest({
      method: request.method,
      canonicalUri,
      canonicalQuery,
      headers,
      signedHeaders: params.signedHeaders,
      payloadHash: declared,
    });
    const stringToSign = [SIGV4_ALGORITHM, amzDate, scopeString, sha256Hex(Buffer.from(canonicalRequest, 'latin1'))].join('\n');
    if (signatureMatches(params.signature, hmacSha256(signingKey, stringToSign).toString('hex'))) {
      return { accessKeyId: params.accessKeyId, payload };
    }
    firstAttempt ??= { canonicalRequest, stringToSign };
  }
  throw new S3AuthError(
    'SignatureDoesNotMatch',
    `Cannot authenticate ${request.method} "${request.path}" as "${params.accessKeyId}": the request signature does not match ` +
      'the one calculated; check the secret key and signing method',
    {
      details: {
        AWSAccessKeyId: params.accessKeyId,
        SignatureProvided: params.signature,
        StringToSign: firstAttempt?.stringToSign ?? '',
        CanonicalRequest: firstAttempt?.canonicalRequest ?? '',
      },
    },
  );
}

/** Picks the authentication mechanism and parses its parameters; exactly one must be present. */
function readSigV4Params(headers: RequestHeaders, query: readonly QueryParameter[]): SigV4Params {
  const header = headers.authorization;
  const authorization = header === undefined ? undefined : typeof header === 'string' ? header : header[0];
  const has = (name: string): boolean => query.some((p) => p.name === name);
  const presignedV4 = has('X-Amz-Algorithm') || has('X-Amz-Credential') || has('X-Amz-Signature');
  const presignedV2 = has('AWSAccessKeyId') && has('Signature');
  if (authorization !== undefined && (presignedV4 || presignedV2)) {
    throw new S3AuthError(
      'InvalidArgument',
      'Cannot authenticate with two mechanisms: only one of the X-Amz-Algorithm query parameter, the Signature query parameter or the Authorization header may be given',
    );
  }
  if (authorization !== undefined) return parseAuthorizationHeader(authorization);
  if (presignedV4) return parsePresignedQuery(query);
  if (presignedV2) throw unsupportedMechanism('AWS (signature version 2, presigned)');
  throw new S3AuthError('AccessDenied', 'Cannot accept an anonymous request: credentials are configured, so requests must be signed');
}

/** x-amz-date, else the Date header, as yyyymmddThhmmssZ. */
function headerTimestamp(headers: RequestHeaders): string {
  const missing = (): S3AuthError => new S3AuthError('AccessDenied', 'Cannot authenticate: AWS authentication requires a valid Date or x-amz-date header');
  const amzDate = headers['x-amz-date'];
  if (amzDate !== undefined) {
    const value = canonicalHeaderValue(amzDate);
    if (parseAmzDate(value) === undefined) throw missing();
    return value;
  }
  const date = headers.date;
  if (date === undefined) throw missing();
  const millis = Date.parse(canonicalHeaderValue(date));
  if (Number.isNaN(millis)) throw missing();
  return formatAmzDate(new Date(millis));
}

function presignedTimestamp(value: string): string {
  if (parseAmzDate(value) === undefined) {
    throw new S3AuthError('AuthorizationQueryParametersError', `Cannot parse X-Amz-Date "${value}": it must be in the ISO8601 basic format yyyyMMdd'T'HHmmss'Z'`);
  }
  return value;
}

function checkTime(params: SigV4Params, amzDate: string, options: VerifyOptions): void {
  const requestTime = parseAmzDate(amzDate) ?? 0;
  const now = options.now.getTime();
  const maxSkewMs = options.maxSkewMs ?? DEFAULT_MAX_SKEW_MS;
  // S3 reports ServerTime and Expires in ISO 8601 extended form; SDKs parse ServerTime to correct their clock.
  const serverTime = isoSeconds(options.now);
  if (params.form === 'header') {
    if (Math.abs(now - requestTime) > maxSkewMs) {
      throw new S3AuthError('RequestTimeTooSkewed', `Cannot accept a request made at ${amzDate}: the difference from the server time ${serverTime} is too large`, {
        details: { RequestTime: amzDate, ServerTime: serverTime, MaxAllowedSkewMilliseconds: String(maxSkewMs) },
      });
    }
    return;
  }
  if (requestTime - now > maxSkewMs) {
    throw new S3AuthError('AccessDenied', `Cannot accept a presigned URL dated ${amzDate}: request is not valid yet (server time ${serverTime})`);
  }
  const expiresAt = requestTime + (params.expiresSeconds ?? 0) * 1000;
  if (now > expiresAt) {
    throw new S3AuthError('AccessDenied', `Cannot accept a presigned URL dated ${amzDate}: request has expired`, {
      details: { 'X-Amz-Expires': String(params.expiresSeconds ?? 0), Expires: isoSeconds(new Date(expiresAt)), ServerTime: serverTime },
    });
  }
}

// x-amz-content-sha256 is bound anyway (its value is the last line of the canonical request);
// x-amz-user-agent only describes the client, and not every SDK signs it.
const MAY_BE_UNSIGNED = new Set(['x-amz-content-sha256', 'x-amz-user-agent']);

/** Every other x-amz-* header must be signed, or a third party could add one (x-amz-copy-source, x-amz-meta-…). */
function checkAmzHeadersSigned(headers: RequestHeaders, signedHeaders: readonly string[]): void {
  const signed = new Set(signedHeaders);
  const unsigned = Object.keys(headers).filter(
    (name) => name.startsWith('x-amz-') && !MAY_BE_UNSIGNED.has(name) && headers[name] !== undefined && !signed.has(name),
  );
  if (unsigned.length > 0) {
    throw new S3AuthError('AccessDenied', `Cannot accept headers ${unsigned.map((n) => `"${n}"`).join(', ')}: they are present in the request but not signed`, {
      details: { HeadersNotSigned: unsigned.join(', ') },
    });
  }
}

/** Milliseconds since the epoch for a valid yyyymmddThhmmssZ, else undefined. */
export function parseAmzDate(value: string): number | undefined {
  const match = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(value);
  if (match === null) return undefined;
  const [year, month, day, hour, minute, second] = match.slice(1).map(Number) as [number, number, number, number, number, number];
  const millis = Date.UTC(year, month - 1, day, hour, minute, second);
  return formatAmzDate(new Date(millis)) === value ? millis : undefined;
}

function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** yyyymmddThhmmssZ */
export function formatAmzDate(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace(/\.\d{3}/, '');
}
