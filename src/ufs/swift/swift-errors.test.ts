import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DoraError } from '../../common/errors.js';
import { SwiftHttpError, SwiftProtocolError, fromSwiftError } from './swift-errors.js';

const attempt = 'Cannot read "swift://c/k" at offset 0';

describe('fromSwiftError()', () => {
  it('maps Swift\'s statuses to dora\'s codes, in one voice', () => {
    const cases: [number, string, DoraError['code'], boolean][] = [
      [404, '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>', 'NOT_FOUND', false],
      [401, '', 'PERMISSION_DENIED', false],
      [403, 'Forbidden', 'PERMISSION_DENIED', false],
      [409, 'Conflict', 'FAILED_PRECONDITION', false],
      [412, '', 'FAILED_PRECONDITION', false],
      [416, '', 'OUT_OF_RANGE', false],
      [422, '', 'DATA_LOSS', true],
      [400, 'Metadata value longer than 256', 'INVALID_ARGUMENT', false],
      [413, 'Your request is too large.', 'INVALID_ARGUMENT', false],
      [413, 'Upload exceeds quota.', 'RESOURCE_EXHAUSTED', false],
      [429, '', 'UNAVAILABLE', true],
      [498, '', 'UNAVAILABLE', true],
      [500, '', 'UNAVAILABLE', true],
      [503, '', 'UNAVAILABLE', true],
      [504, '', 'DEADLINE_EXCEEDED', true],
      [507, '', 'RESOURCE_EXHAUSTED', false],
    ];
    for (const [status, body, code, retryable] of cases) {
      const error = fromSwiftError(new SwiftHttpError(status, body), attempt);
      assert.equal(error.code, code, `HTTP ${status}`);
      assert.equal(error.retryable, retryable, `HTTP ${status} retryable`);
      assert.ok(error.message.startsWith(`${attempt}: `), error.message);
      assert.ok(error.message.includes(`HTTP ${status}`), error.message);
    }
    assert.equal(fromSwiftError(new SwiftHttpError(404, '<html><h1>Not Found</h1><p>The resource could not be found.</p></html>'), attempt).message,
      `${attempt}: no such container or object (HTTP 404: Not Found The resource could not be found.)`);
  });

  it('names the identity service that refused the credentials', () => {
    const refused = fromSwiftError(new SwiftHttpError(401, 'Unauthorized', 'TempAuth at http://s/auth/v1.0 for user "a:b"'), attempt);
    assert.equal(refused.code, 'PERMISSION_DENIED');
    assert.equal(refused.message, `${attempt}: TempAuth at http://s/auth/v1.0 for user "a:b" refused the credentials (HTTP 401: Unauthorized)`);
    const down = fromSwiftError(new SwiftHttpError(503, '', 'Keystone at http://k/v3 for user "u"'), attempt);
    assert.equal(down.code, 'UNAVAILABLE');
    assert.equal(down.message, `${attempt}: Keystone at http://k/v3 for user "u" failed (HTTP 503)`);
  });

  it('maps network failures, timeouts and aborts', () => {
    const refused = fromSwiftError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), attempt);
    assert.deepEqual([refused.code, refused.retryable], ['UNAVAILABLE', true]);
    const aggregate = new AggregateError([Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })], 'connect failed');
    assert.equal(fromSwiftError(Object.assign(new Error('fetch failed'), { cause: aggregate }), attempt).code, 'UNAVAILABLE');
    assert.equal(fromSwiftError(Object.assign(new Error('socket'), { code: 'UND_ERR_SOCKET' }), attempt).code, 'UNAVAILABLE');
    assert.equal(fromSwiftError(Object.assign(new Error('headers'), { code: 'UND_ERR_HEADERS_TIMEOUT' }), attempt).code, 'DEADLINE_EXCEEDED');
    assert.equal(fromSwiftError(Object.assign(new Error('closed'), { code: 'UND_ERR_DESTROYED' }), attempt).code, 'FAILED_PRECONDITION');
    assert.equal(fromSwiftError(new DOMException('aborted', 'AbortError'), attempt).code, 'CANCELLED');
    assert.equal(fromSwiftError(new DOMException('timed out', 'TimeoutError'), attempt).code, 'DEADLINE_EXCEEDED');
    assert.equal(fromSwiftError(new Error('odd'), attempt).code, 'INTERNAL');
  });

  it('keeps DoraErrors and gives protocol errors their code', () => {
    const dora = new DoraError('NOT_FOUND', 'as it was');
    assert.equal(fromSwiftError(dora, attempt), dora);
    const protocol = fromSwiftError(new SwiftProtocolError('INVALID_ARGUMENT', 'the catalog has no object store'), attempt);
    assert.deepEqual([protocol.code, protocol.message], ['INVALID_ARGUMENT', `${attempt}: the catalog has no object store`]);
  });
});
