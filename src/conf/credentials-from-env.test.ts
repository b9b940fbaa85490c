import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { credentialsFromEnv } from './credentials-from-env.js';

describe('credentialsFromEnv()', () => {
  it('reads a named pair of keys, and the session token when set', () => {
    const resolve = credentialsFromEnv({ DORA_CREDENTIALS_PROD_EU_ACCESS_KEY_ID: 'AK', DORA_CREDENTIALS_PROD_EU_SECRET_ACCESS_KEY: 'SK' });
    assert.deepEqual(resolve('prod-eu'), { accessKeyId: 'AK', secretAccessKey: 'SK' });
  });

  it('names the variables to set when the keys are missing', () => {
    assert.throws(() => credentialsFromEnv({ DORA_CREDENTIALS_X_ACCESS_KEY_ID: 'AK' })('x'), (e: unknown) =>
      isDoraError(e, 'NOT_FOUND') && e.message.includes('DORA_CREDENTIALS_X_SECRET_ACCESS_KEY'));
  });

  it('reads the secrets of other stores under the same name', () => {
    const resolve = credentialsFromEnv({ DORA_CREDENTIALS_AZ_ACCOUNT_KEY: 'AZ==', DORA_CREDENTIALS_SW_USER: 'test:tester', DORA_CREDENTIALS_SW_KEY: 'testing' });
    assert.deepEqual(resolve('az'), { accountKey: 'AZ==' });
    assert.deepEqual(resolve('sw'), { user: 'test:tester', key: 'testing' });
    assert.throws(() => resolve('none'), (e: unknown) => isDoraError(e, 'NOT_FOUND') && e.message.includes('DORA_CREDENTIALS_NONE_ACCOUNT_KEY'));
  });
});
