import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DoraError } from '../../common/errors.js';
import { GcsHttpError, GcsTokenError, fromGcsError } from './gcs-errors.js';

const body = (code: number, message: string, reason: string): string => JSON.stringify({ error: { code, message, errors: [{ domain: 'global', reason, message }] } });

describe('fromGcsError', () => {
  it('maps HTTP statuses to dora codes, with the store\'s message after the cause', () => {
    const cases: [number, string, boolean][] = [
      [400, 'INVALID_ARGUMENT', false],
      [401, 'PERMISSION_DENIED', false],
      [403, 'PERMISSION_DENIED', false],
      [404, 'NOT_FOUND', false],
      [412, 'FAILED_PRECONDITION', false],
      [416, 'OUT_OF_RANGE', false],
      [429, 'UNAVAILABLE', true],
      [500, 'UNAVAILABLE', true],
      [502, 'UNAVAILABLE', true],
      [503, 'UNAVAILABLE', true],
    ];
    for (const [status, code, retryable] of cases) {
      const error = fromGcsError(new GcsHttpError(status, body(status, `message ${status}`, 'r')), 'Cannot read "gs://b/k" at offset 0');
      assert.equal(error.code, code, `HTTP ${status}`);
      assert.equal(error.retryable, retryable, `HTTP ${status} retryable`);
      assert.match(error.message, new RegExp(`^Cannot read "gs://b/k" at offset 0: .*\\(message ${status}\\)$`));
    }
  });

  it('keeps the reason of a JSON error body and copes with bodies that are not JSON', () => {
    const parsed = new GcsHttpError(403, body(403, 'x does not have storage.objects.create access', 'forbidden'));
    assert.equal(parsed.reason, 'forbidden');
    assert.equal(fromGcsError(parsed, 'Cannot write "gs://b/k"').message, 'Cannot write "gs://b/k": access denied (x does not have storage.objects.create access)');
    assert.equal(fromGcsError(new GcsHttpError(502, '<html>Bad Gateway</html>'), 'a').message, 'a: the store answered HTTP 502 (<html>Bad Gateway</html>)');
    assert.equal(fromGcsError(new GcsHttpError(404, ''), 'a').message, 'a: not found');
  });

  it('names the service account a token endpoint refused; an overloaded endpoint is retryable', () => {
    const refused = fromGcsError(new GcsTokenError(400, '{"error":"invalid_grant","error_description":"Invalid JWT Signature."}', 'sa@p.iam'), 'Cannot stat "gs://b/k"');
    assert.equal(refused.code, 'PERMISSION_DENIED');
    assert.equal(refused.message, 'Cannot stat "gs://b/k": the token endpoint refused service account "sa@p.iam" (invalid_grant: Invalid JWT Signature.)');
    assert.equal(fromGcsError(new GcsTokenError(503, '', 'sa@p.iam'), 'a').code, 'UNAVAILABLE');
  });

  it('translates network failures and aborts, and passes DoraErrors through', () => {
    const refused = fromGcsError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }), 'a');
    assert.equal(refused.code, 'UNAVAILABLE');
    assert.equal(refused.retryable, true);
    const socket = fromGcsError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }), 'a');
    assert.deepEqual([socket.code, socket.retryable, socket.message], ['UNAVAILABLE', true, 'a: the connection broke']);
    const wrapped = fromGcsError(Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error('x'), { code: 'ECONNRESET' }) }), 'a');
    assert.equal(wrapped.code, 'UNAVAILABLE');
    assert.equal(fromGcsError(new DOMException('aborted', 'AbortError'), 'a').code, 'CANCELLED');
    const own = new DoraError('INVALID_ARGUMENT', 'b: too long');
    assert.equal(fromGcsError(own, 'a'), own);
    assert.equal(fromGcsError(new Error('the store sent media without an x-goog-generation header'), 'a').code, 'INTERNAL');
  });
});
