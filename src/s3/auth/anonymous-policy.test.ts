import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { acceptAnonymousRequest, isLoopbackAddress } from './anonymous-policy.js';
import { isS3AuthError } from './s3-auth-error.js';

describe('isLoopbackAddress', () => {
  it('recognises 127.0.0.0/8, ::1 and their IPv4-mapped forms', () => {
    for (const address of ['127.0.0.1', '127.1.2.3', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1', '::FFFF:127.9.9.9']) {
      assert.ok(isLoopbackAddress(address), address);
    }
  });

  it('rejects every other address, and no address at all', () => {
    for (const address of ['128.0.0.1', '10.0.0.1', '::2', '::ffff:10.0.0.1', 'fe80::1', 'localhost', '', undefined]) {
      assert.ok(!isLoopbackAddress(address), String(address));
    }
  });
});

describe('acceptAnonymousRequest', () => {
  const request = { query: '', headers: { host: 'localhost' } };

  it('admits loopback clients and refuses remote ones with AccessDenied', () => {
    assert.deepEqual(acceptAnonymousRequest(request, '127.0.0.1'), { accessKeyId: undefined, payload: { kind: 'unsigned' } });
    assert.throws(() => acceptAnonymousRequest(request, '192.0.2.7'), (error: unknown) => {
      assert.ok(isS3AuthError(error, 'AccessDenied'));
      assert.match(error.message, /"192.0.2.7"/);
      return true;
    });
    assert.throws(() => acceptAnonymousRequest(request, undefined), (error: unknown) => isS3AuthError(error, 'AccessDenied'));
  });

  it('admits remote clients when anonymous remote access is allowed', () => {
    assert.equal(acceptAnonymousRequest(request, '192.0.2.7', { allowAnonymousRemote: true }).payload.kind, 'unsigned');
  });

  it('ignores signatures but still describes the body: its hash, or its aws-chunked framing without signature checks', () => {
    const hex = 'a'.repeat(64);
    const signed = { query: '', headers: { host: 'h', authorization: 'AWS4-HMAC-SHA256 whatever', 'x-amz-content-sha256': hex } };
    assert.deepEqual(acceptAnonymousRequest(signed, '::1').payload, { kind: 'sha256', hex });
    const chunked = {
      query: '',
      headers: { host: 'h', 'x-amz-content-sha256': 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD', 'x-amz-decoded-content-length': '10' },
    };
    assert.deepEqual(acceptAnonymousRequest(chunked, '::1').payload, { kind: 'streaming-unverified', trailer: false, decodedContentLength: 10, trailerNames: [] });
    assert.deepEqual(acceptAnonymousRequest({ query: 'X-Amz-Content-Sha256=UNSIGNED-PAYLOAD', headers: {} }, '::1').payload, { kind: 'unsigned' });
  });
});
