import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DoraError } from '../../common/errors.js';
import { fromAzureError } from './azure-errors.js';
import { decodeMetadata, decodeMetadataName, encodeMetadata, encodeMetadataName, isFolderBlob } from './azure-metadata.js';

const ATTEMPT = 'Cannot read "wasbs://c@acct/k" at offset 0';

/** An error shaped as the SDK's RestError for an answer of the store. */
function restError(statusCode: number, code: string | undefined, message = 'the store said no'): Error {
  return Object.assign(new Error(message), { name: 'RestError', statusCode, ...(code === undefined ? {} : { code, details: { errorCode: code } }) });
}

describe('fromAzureError()', () => {
  it('maps the store\'s error codes and statuses to dora codes', () => {
    for (const [error, code, retryable] of [
      [restError(404, 'BlobNotFound'), 'NOT_FOUND', false],
      [restError(404, 'ContainerNotFound'), 'NOT_FOUND', false],
      [restError(403, 'AuthenticationFailed'), 'PERMISSION_DENIED', false],
      [restError(403, 'AuthorizationFailure'), 'PERMISSION_DENIED', false],
      [restError(403, undefined), 'PERMISSION_DENIED', false],
      [restError(412, 'ConditionNotMet'), 'FAILED_PRECONDITION', false],
      [restError(412, undefined), 'FAILED_PRECONDITION', false],
      [restError(416, 'InvalidRange'), 'OUT_OF_RANGE', false],
      [restError(416, undefined), 'OUT_OF_RANGE', false],
      [restError(409, 'BlobArchived'), 'FAILED_PRECONDITION', false],
      [restError(400, 'InvalidBlockList'), 'ABORTED', true],
      [restError(400, 'InvalidMetadata'), 'INVALID_ARGUMENT', false],
      [restError(409, 'BlockCountExceedsLimit'), 'RESOURCE_EXHAUSTED', false],
      [restError(503, 'ServerBusy'), 'UNAVAILABLE', true],
      [restError(500, 'InternalError'), 'UNAVAILABLE', true],
      [restError(503, 'SlowDown'), 'UNAVAILABLE', true],
      [restError(429, undefined), 'UNAVAILABLE', true],
      [restError(500, 'OperationTimedOut'), 'DEADLINE_EXCEEDED', true],
      [restError(400, 'SomethingNew'), 'INVALID_ARGUMENT', false],
    ] as const) {
      const translated = fromAzureError(error, ATTEMPT);
      assert.equal(translated.code, code, `${error.message} (${(error as { code?: string }).code})`);
      assert.equal(translated.retryable, retryable);
      assert.ok(translated.message.startsWith(`${ATTEMPT}: `), translated.message);
      assert.equal(translated.cause, error);
    }
  });

  it('names the cause in one voice', () => {
    assert.equal(fromAzureError(restError(403, 'AuthenticationFailed'), ATTEMPT).message, `${ATTEMPT}: authentication failed (check the account key or SAS token)`);
    assert.equal(fromAzureError(restError(418, 'Teapot'), ATTEMPT).message, `${ATTEMPT}: the store answered HTTP 418 Teapot`);
  });

  it('maps network failures to UNAVAILABLE and aborts to CANCELLED', () => {
    const refused = fromAzureError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { name: 'RestError', code: 'ECONNREFUSED' }), ATTEMPT);
    assert.equal(refused.code, 'UNAVAILABLE');
    assert.equal(refused.retryable, true);
    assert.equal(fromAzureError(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }), ATTEMPT).code, 'UNAVAILABLE');
    assert.equal(fromAzureError(Object.assign(new Error('no send'), { code: 'REQUEST_SEND_ERROR' }), ATTEMPT).code, 'UNAVAILABLE');
    const cut = fromAzureError(new Error('Data corruption failure: received less data than required and reached maxRetires limitation.'), ATTEMPT);
    assert.equal(cut.code, 'UNAVAILABLE');
    assert.equal(cut.retryable, true);
    assert.equal(fromAzureError(Object.assign(new Error('The operation was aborted.'), { name: 'AbortError' }), ATTEMPT).code, 'CANCELLED');
    assert.equal(fromAzureError(Object.assign(new TypeError('Invalid character in header content'), { code: 'ERR_INVALID_CHAR' }), ATTEMPT).code, 'INVALID_ARGUMENT');
    assert.equal(fromAzureError(new Error('something odd'), ATTEMPT).code, 'INTERNAL');
  });

  it('passes a DoraError through unchanged', () => {
    const error = new DoraError('INVALID_ARGUMENT', 'Cannot write "x": too short');
    assert.equal(fromAzureError(error, ATTEMPT), error);
  });
});

describe('metadata names', () => {
  it('keeps C# identifiers and encodes any other name reversibly', () => {
    for (const [name, stored] of [
      ['owner', 'owner'],
      ['snake_case', 'snake_case'],
      ['x-note', 'dora_x_2dnote'],
      ['2nd', 'dora_2nd'],
      ['a.b_c', 'dora_a_2eb_5fc'],
      ['dora_tag', 'dora_dora_5ftag'],
      ['ünï', 'dora__c3_bcn_c3_af'],
    ] as const) {
      assert.equal(encodeMetadataName(name), stored);
      assert.match(stored, /^[A-Za-z_][A-Za-z0-9_]*$/);
      assert.equal(decodeMetadataName(stored), name);
      assert.equal(decodeMetadataName(stored.toUpperCase()), name, 'Azure may return names in another case');
    }
    assert.deepEqual(decodeMetadata(encodeMetadata({ 'x-note': 'a', owner: 'b' })), { 'x-note': 'a', owner: 'b' });
    assert.deepEqual(decodeMetadata({ OtherTool: 'v' }), { othertool: 'v' });
  });

  it('recognises directories of a hierarchical namespace', () => {
    assert.equal(isFolderBlob({ hdi_isfolder: 'true' }), true);
    assert.equal(isFolderBlob({ Hdi_IsFolder: 'TRUE' }), true);
    assert.equal(isFolderBlob({ owner: 'x' }), false);
    assert.equal(isFolderBlob(undefined), false);
  });
});
