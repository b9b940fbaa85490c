import { fromByteString, type QueryParameter } from './sigv4-canonical.js';
import { S3AuthError, type S3AuthErrorCode } from './s3-auth-error.js';

export const SIGV4_ALGORITHM = 'AWS4-HMAC-SHA256';

/** The longest validity S3 allows a presigned URL: seven days. */
export const MAX_PRESIGNED_EXPIRES_SECONDS = 604_800;

export interface CredentialScope {
  /** yyyymmdd */
  date: string;
  region: string;
  service: string;
}

/** What a SigV4 request says about its own signature, from the Authorization header or the query. */
export interface SigV4Params {
  form: 'header' | 'presigned';
  accessKeyId: string;
  scope: CredentialScope;
  signedHeaders: string[];
  signature: string;
  /** Presigned only: X-Amz-Date, still to be validated. */
  presignedDate: string | undefined;
  /** Presigned only: validity in seconds, 0…604800. */
  expiresSeconds: number | undefined;
}

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;

/**
 * Parses `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
 * @throws S3AuthError InvalidRequest for other mechanisms (SigV2, SigV4a), AuthorizationHeaderMalformed otherwise.
 */
export function parseAuthorizationHeader(value: string): SigV4Params {
  const malformed = (cause: string): S3AuthError =>
    new S3AuthError('AuthorizationHeaderMalformed', `Cannot parse the Authorization header "${value}": ${cause}`);
  const match = /^(\S+)\s+(.*)$/s.exec(value.trim());
  if (match === null) throw malformed('expected "AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…"');
  const [, algorithm = '', rest = ''] = match;
  if (algorithm !== SIGV4_ALGORITHM) throw unsupportedMechanism(algorithm);

  const fields = new Map<string, string>();
  for (const field of rest.split(',')) {
    const trimmed = field.trim();
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw malformed(`"${trimmed}" is not a key=value pair`);
    const key = trimmed.slice(0, eq);
    if (fields.has(key)) throw malformed(`${key} appears twice`);
    fields.set(key, trimmed.slice(eq + 1));
  }
  const credential = fields.get('Credential');
  const signedHeaders = fields.get('SignedHeaders');
  const signature = fields.get('Signature');
  if (credential === undefined || signedHeaders === undefined || signature === undefined) {
    throw malformed('Credential, SignedHeaders and Signature are all required');
  }
  return {
    form: 'header',
    ...parseCredential(credential, 'AuthorizationHeaderMalformed'),
    signedHeaders: parseSignedHeaders(signedHeaders, 'AuthorizationHeaderMalformed'),
    signature: parseSignature(signature, 'AuthorizationHeaderMalformed'),
    presignedDate: undefined,
    expiresSeconds: undefined,
  };
}

const PRESIGN_PARAMS = ['X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature'] as const;

/**
 * Parses the X-Amz-* parameters of a presigned URL.
 * @throws S3AuthError AuthorizationQueryParametersError when one is missing, repeated or malformed.
 */
export function parsePresignedQuery(params: readonly QueryParameter[]): SigV4Params {
  const values = new Map<string, string>();
  for (const { name, value } of params) {
    if (!(PRESIGN_PARAMS as readonly string[]).includes(name)) continue;
    if (values.has(name)) throw queryError(`${name} appears twice`);
    values.set(name, fromByteString(value));
  }
  const get = (name: (typeof PRESIGN_PARAMS)[number]): string => {
    const value = values.get(name);
    if (value === undefined) {
      throw queryError(`query-string authentication version 4 requires the ${PRESIGN_PARAMS.join(', ')} parameters; ${name} is missing`);
    }
    return value;
  };
  const algorithm = get('X-Amz-Algorithm');
  if (algorithm !== SIGV4_ALGORITHM) throw queryError(`X-Amz-Algorithm only supports "${SIGV4_ALGORITHM}", got "${algorithm}"`);
  const expires = get('X-Amz-Expires');
  if (!/^\d{1,9}$/.test(expires)) throw queryError(`X-Amz-Expires must be a non-negative number of seconds, got "${expires}"`);
  const expiresSeconds = Number(expires);
  if (expiresSeconds > MAX_PRESIGNED_EXPIRES_SECONDS) {
    throw queryError(`X-Amz-Expires must be less than a week (in seconds) that is ${MAX_PRESIGNED_EXPIRES_SECONDS}, got ${expires}`);
  }
  return {
    form: 'presigned',
    ...parseCredential(get('X-Amz-Credential'), 'AuthorizationQueryParametersError'),
    signedHeaders: parseSignedHeaders(get('X-Amz-SignedHeaders'), 'AuthorizationQueryParametersError'),
    signature: parseSignature(get('X-Amz-Signature'), 'AuthorizationQueryParametersError'),
    presignedDate: get('X-Amz-Date'),
    expiresSeconds,
  };
}

/** The error for an Authorization scheme other than SigV4 with HMAC-SHA256. */
export function unsupportedMechanism(scheme: string): S3AuthError {
  return new S3AuthError(
    'InvalidRequest',
    `Cannot authenticate with "${scheme}": the authorization mechanism is not supported; use ${SIGV4_ALGORITHM}`,
  );
}

/** `<access key>/<yyyymmdd>/<region>/<service>/aws4_request`; the key is what precedes the last four parts. */
function parseCredential(credential: string, s3Code: S3AuthErrorCode): { accessKeyId: string; scope: CredentialScope } {
  const parts = credential.split('/');
  const malformed = (cause: string): S3AuthError => new S3AuthError(s3Code, `Cannot parse the credential "${credential}": ${cause}`);
  if (parts.length < 5) throw malformed('expected <access key>/<yyyymmdd>/<region>/<service>/aws4_request');
  const [date = '', region = '', service = '', terminal = ''] = parts.slice(-4);
  const accessKeyId = parts.slice(0, -4).join('/');
  if (terminal !== 'aws4_request') throw malformed(`incorrect terminal "${terminal}"; this endpoint uses "aws4_request"`);
  if (!/^\d{8}$/.test(date)) throw malformed(`the date "${date}" is not yyyymmdd`);
  if (accessKeyId === '' || region === '' || service === '') throw malformed('the access key, region and service must not be empty');
  return { accessKeyId, scope: { date, region, service } };
}

function parseSignedHeaders(list: string, s3Code: S3AuthErrorCode): string[] {
  const names = list.split(';');
  const seen = new Set<string>();
  for (const name of names) {
    if (!HEADER_NAME.test(name)) throw new S3AuthError(s3Code, `Cannot parse the signed headers "${list}": "${name}" is not a lower-case header name`);
    if (seen.has(name)) throw new S3AuthError(s3Code, `Cannot parse the signed headers "${list}": "${name}" appears twice`);
    seen.add(name);
  }
  if (!seen.has('host')) throw new S3AuthError(s3Code, `Cannot accept the signed headers "${list}": the host header must be signed`);
  return names;
}

function parseSignature(signature: string, s3Code: S3AuthErrorCode): string {
  if (!/^[0-9a-fA-F]{64}$/.test(signature)) {
    throw new S3AuthError(s3Code, `Cannot parse the signature "${signature}": expected 64 hex digits`);
  }
  return signature.toLowerCase();
}

function queryError(cause: string): S3AuthError {
  return new S3AuthError('AuthorizationQueryParametersError', `Cannot parse the presigned URL parameters: ${cause}`);
}
