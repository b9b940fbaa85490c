import { createHash, createHmac, timingSafeEqual, type BinaryLike } from 'node:crypto';

/** The SHA-256 of an empty payload, which SigV4 uses wherever a hash of nothing is needed. */
export const EMPTY_SHA256 = 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855';

export function hmacSha256(key: BinaryLike, data: string | Buffer): Buffer {
  return createHmac('sha256', key).update(data).digest();
}

export function sha256Hex(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

/** kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request"). */
export function deriveSigningKey(secret: string, scope: { date: string; region: string; service: string }): Buffer {
  const dateKey = hmacSha256(Buffer.from(`AWS4${secret}`, 'utf8'), scope.date);
  const regionKey = hmacSha256(dateKey, scope.region);
  const serviceKey = hmacSha256(regionKey, scope.service);
  return hmacSha256(serviceKey, 'aws4_request');
}

/**
 * Whether a signature the client sent equals the one computed, in time independent of where they
 * differ. `provided` is compared case-insensitively; anything but 64 hex digits never matches.
 */
export function signatureMatches(provided: string, expectedHex: string): boolean {
  if (!/^[0-9a-fA-F]{64}$/.test(provided)) return false;
  return timingSafeEqual(Buffer.from(provided.toLowerCase(), 'latin1'), Buffer.from(expectedHex, 'latin1'));
}
