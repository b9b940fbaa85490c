import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { rejectsAuth } from '../../testing/s3-auth-assertions.js';
import { CredentialStore } from './s3-credentials.js';
import { verifyRequest, type SigV4Request } from './sigv4-verifier.js';

const rejects = rejectsAuth;

describe('verifyRequest with malformed authorization', () => {
  const store = CredentialStore.from({ AK: { secret: 'SK' } });
  const options = { now: new Date('2024-01-01T00:00:00Z') };
  const sig = 'a'.repeat(64);
  const base: SigV4Request = { method: 'GET', path: '/b/k', query: '', headers: { host: 'h', 'x-amz-date': '20240101T000000Z' } };
  const withAuth = (authorization: string): SigV4Request => ({ ...base, headers: { ...base.headers, authorization } });

  it('answers AuthorizationHeaderMalformed for broken Authorization headers', () => {
    const broken = [
      'AWS4-HMAC-SHA256',
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3, SignedHeaders=host, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/2024-01-01/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=Host, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=x-amz-date, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host;host, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=xyz`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, garbage, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20231231/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`,
      `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/sqs/aws4_request, SignedHeaders=host, Signature=${sig}`,
    ];
    for (const header of broken) assert.throws(() => verifyRequest(withAuth(header), store, options), rejects('AuthorizationHeaderMalformed'), header);
  });

  it('answers InvalidRequest for signature version 2 and SigV4a', () => {
    assert.throws(() => verifyRequest(withAuth('AWS AK:c2lnbmF0dXJl'), store, options), rejects('InvalidRequest', /not supported/));
    assert.throws(() => verifyRequest(withAuth(`AWS4-ECDSA-P256-SHA256 Credential=AK/20240101/s3/aws4_request, SignedHeaders=host, Signature=${sig}`), store, options), rejects('InvalidRequest'));
    assert.throws(() => verifyRequest({ ...base, query: 'AWSAccessKeyId=AK&Expires=1&Signature=abc' }, store, options), rejects('InvalidRequest'));
  });

  it('answers AccessDenied when no valid request time is given', () => {
    const header = `AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=${sig}`;
    const { 'x-amz-date': _, ...noDate } = withAuth(header).headers;
    assert.throws(() => verifyRequest({ ...base, headers: noDate }, store, options), rejects('AccessDenied', /Date or x-amz-date/));
    assert.throws(() => verifyRequest({ ...base, headers: { ...noDate, 'x-amz-date': '20240132T000000Z' } }, store, options), rejects('AccessDenied'));
    // A Date header is fine instead, and then it is the timestamp of the string to sign.
    assert.throws(() => verifyRequest({ ...base, headers: { ...noDate, date: 'Mon, 01 Jan 2024 00:00:00 GMT' } }, store, options), rejects('SignatureDoesNotMatch'));
  });

  it('answers AuthorizationQueryParametersError for broken presigned parameters', () => {
    const good = new URLSearchParams({
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AK/20240101/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20240101T000000Z',
      'X-Amz-Expires': '60',
      'X-Amz-SignedHeaders': 'host',
      'X-Amz-Signature': sig,
    });
    const base = { method: 'GET', path: '/b/k', headers: { host: 'h' } };
    assert.throws(() => verifyRequest({ ...base, query: good.toString() }, store, options), rejects('SignatureDoesNotMatch'));
    const variants: Array<[string, string | undefined]> = [
      ['X-Amz-Algorithm', 'AWS4-HMAC-SHA1'],
      ['X-Amz-Credential', undefined],
      ['X-Amz-Date', '2024-01-01T00:00:00Z'],
      ['X-Amz-Expires', '-5'],
      ['X-Amz-Expires', 'soon'],
      ['X-Amz-SignedHeaders', ''],
      ['X-Amz-Signature', 'short'],
    ];
    for (const [name, value] of variants) {
      const params = new URLSearchParams(good);
      if (value === undefined) params.delete(name);
      else params.set(name, value);
      assert.throws(() => verifyRequest({ ...base, query: params.toString() }, store, options), rejects('AuthorizationQueryParametersError'), `${name}=${value}`);
    }
    assert.throws(() => verifyRequest({ ...base, query: `${good.toString()}&X-Amz-Date=20240101T000000Z` }, store, options), rejects('AuthorizationQueryParametersError', /twice/));
  });
});
