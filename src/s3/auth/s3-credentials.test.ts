import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import { isDoraError } from '../../common/errors.js';
import { CredentialStore } from './s3-credentials.js';
import { isS3AuthError } from './s3-auth-error.js';

describe('CredentialStore', () => {
  const store = CredentialStore.from({
    admin: { secret: 'admin-secret' },
    everything: { secret: 's', buckets: '*' },
    scoped: { secret: 's', buckets: { logs: 'read', data: 'read-write' } },
    defaulted: { secret: 's', buckets: { '*': 'read', mine: 'read-write' } },
  });

  it('secretFor() returns the secret of a configured key and undefined otherwise', () => {
    assert.equal(store.size, 4);
    assert.equal(store.secretFor('admin'), 'admin-secret');
    assert.equal(store.secretFor('nobody'), undefined);
    assert.equal(store.secretFor('toString'), undefined);
    assert.equal(CredentialStore.from({}).size, 0);
  });

  it('allows() grants every bucket read-write without a bucket list or with "*"', () => {
    for (const key of ['admin', 'everything']) {
      assert.ok(store.allows(key, 'any', 'read'));
      assert.ok(store.allows(key, 'any', 'write'));
    }
  });

  it('allows() follows per-bucket permissions, with "*" as the default for unlisted buckets', () => {
    assert.ok(store.allows('scoped', 'logs', 'read'));
    assert.ok(!store.allows('scoped', 'logs', 'write'));
    assert.ok(store.allows('scoped', 'data', 'write'));
    assert.ok(!store.allows('scoped', 'other', 'read'));
    assert.ok(store.allows('defaulted', 'other', 'read'));
    assert.ok(!store.allows('defaulted', 'other', 'write'));
    assert.ok(store.allows('defaulted', 'mine', 'write'));
    assert.ok(store.allows('scoped', undefined, 'read'), 'service-level operations');
    assert.ok(!store.allows('nobody', undefined, 'read'));
  });

  it('authorize() throws AccessDenied naming the key and bucket', () => {
    store.authorize('scoped', 'logs', 'read');
    assert.throws(() => store.authorize('scoped', 'logs', 'write'), (error: unknown) => {
      assert.ok(isS3AuthError(error, 'AccessDenied'));
      assert.equal(error.status, 403);
      assert.match(error.message, /write bucket "logs" as "scoped"/);
      return true;
    });
  });

  it('from() rejects malformed configuration with INVALID_ARGUMENT naming the key', () => {
    const bad: unknown[] = [
      null,
      ['admin'],
      { admin: 'secret' },
      { admin: { secret: '' } },
      { admin: { secret: 1 } },
      { 'has space': { secret: 's' } },
      { 'a,b': { secret: 's' } },
      { admin: { secret: 's', buckets: ['x'] } },
      { admin: { secret: 's', buckets: { x: 'write' } } },
    ];
    for (const plain of bad) {
      assert.throws(() => CredentialStore.from(plain), (error: unknown) => isDoraError(error, 'INVALID_ARGUMENT'), JSON.stringify(plain));
    }
    assert.throws(() => CredentialStore.from({ admin: { secret: '' } }), /access key "admin": secret must be a non-empty string/);
  });

  it('never shows secrets when inspected or serialised', () => {
    assert.doesNotMatch(inspect(store, { depth: 5, showHidden: true }), /admin-secret/);
    assert.doesNotMatch(JSON.stringify(store), /admin-secret/);
  });
});
