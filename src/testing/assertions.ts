import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { isDoraError, type DoraError, type ErrorCode } from '../common/errors.js';

/**
 * Awaits `promise` and asserts it failed with a DoraError of `code` whose message contains every
 * fragment; returns the error for further checks.
 */
export async function rejectsWith(promise: Promise<unknown>, code: ErrorCode, ...fragments: string[]): Promise<DoraError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(isDoraError(error), `expected a DoraError ${code}, got ${String(error)}`);
    assert.equal(error.code, code, `expected ${code}, got ${error.code}: ${error.message}`);
    for (const fragment of fragments) assert.ok(error.message.includes(fragment), `${JSON.stringify(error.message)} names ${JSON.stringify(fragment)}`);
    return error;
  }
  assert.fail(`expected ${code}, but the call succeeded`);
}

/** The sha256 of some bytes, in hex: to compare contents without printing them. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
