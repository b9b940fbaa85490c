import { BlockList, isIP } from 'node:net';
import { parseQuery, type RequestHeaders } from './sigv4-canonical.js';
import { declaredPayloadHash, describePayload, type RequestPayload } from './request-payload.js';
import { S3AuthError } from './s3-auth-error.js';

export interface AnonymousPolicyOptions {
  /** Accept anonymous requests from any address, not only from this machine. */
  allowAnonymousRemote?: boolean;
}

export interface AnonymousRequest {
  accessKeyId: undefined;
  payload: RequestPayload;
}

// 127.0.0.0/8 and ::1; BlockList also matches their IPv4-mapped IPv6 forms (::ffff:127.0.0.1).
const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');

/** Whether an address (as in `socket.remoteAddress`) is this machine's loopback. */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (address === undefined) return false;
  const family = isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Admits a request to an S3 API that has no credentials configured. Any signature the client sent is
 * ignored (SDKs sign with whatever keys they were given), but the body is still checked as far as
 * possible without a secret: its SHA-256 when declared, its aws-chunked framing and trailer checksums.
 * @throws S3AuthError AccessDenied when `remoteAddress` is not loopback and remote anonymous access is not
 *   allowed; the errors of describePayload for a malformed payload declaration.
 */
export function acceptAnonymousRequest(
  request: { query: string; headers: RequestHeaders },
  remoteAddress: string | undefined,
  options: AnonymousPolicyOptions = {},
): AnonymousRequest {
  if (options.allowAnonymousRemote !== true && !isLoopbackAddress(remoteAddress)) {
    throw new S3AuthError(
      'AccessDenied',
      `Cannot accept an anonymous request from "${remoteAddress ?? 'an unknown address'}": without configured credentials ` +
        'only loopback clients are served unless anonymous remote access is allowed',
    );
  }
  const declared = declaredPayloadHash(request.headers, parseQuery(request.query), 'anonymous');
  return { accessKeyId: undefined, payload: describePayload(declared, request.headers, undefined) };
}
