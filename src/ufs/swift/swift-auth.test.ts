import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { SwiftSessions, type SwiftSession } from './swift-auth.js';
import { SwiftHttpError } from './swift-errors.js';
import { objectStoreUrl } from './swift-keystone.js';

/** A login that counts its calls and hands out tokens t1, t2…, each after `delayMs`. */
function countingLogin(options: { delayMs?: number; lifeMs?: number; fail?: () => boolean } = {}): { login: (signal: AbortSignal) => Promise<SwiftSession>; calls: () => number } {
  let calls = 0;
  return {
    calls: () => calls,
    login: async () => {
      const n = ++calls;
      await sleep(options.delayMs ?? 5);
      if (options.fail?.() === true) throw new SwiftHttpError(401, 'no', 'TempAuth');
      return { token: `t${n}`, storageUrl: 'http://swift/v1/AUTH_a', expiresAtMs: options.lifeMs === undefined ? undefined : Date.now() + options.lifeMs };
    },
  };
}

describe('SwiftSessions', () => {
  it('logs in once for every call waiting at that moment', async () => {
    const { login, calls } = countingLogin();
    const sessions = new SwiftSessions(login);
    const got = await Promise.all(Array.from({ length: 10 }, () => sessions.session(undefined)));
    assert.equal(calls(), 1);
    assert.ok(got.every((s) => s.token === 't1'));
    assert.equal((await sessions.session(undefined)).token, 't1', 'and keeps the token');
  });

  it('keeps no failed login: the next call tries again', async () => {
    let failing = true;
    const { login, calls } = countingLogin({ fail: () => failing });
    const sessions = new SwiftSessions(login);
    await assert.rejects(sessions.session(undefined), SwiftHttpError);
    failing = false;
    assert.equal((await sessions.session(undefined)).token, 't2');
    assert.equal(calls(), 2);
  });

  it('renews a refused token once, however many calls saw it refused', async () => {
    const { login, calls } = countingLogin();
    const sessions = new SwiftSessions(login);
    const stale = await sessions.session(undefined);
    assert.equal(sessions.refused(stale), true);
    assert.equal(sessions.refused(stale), true);
    const renewed = await Promise.all([sessions.session(undefined), sessions.session(undefined)]);
    assert.deepEqual(renewed.map((s) => s.token), ['t2', 't2']);
    assert.equal(sessions.refused(stale), true, 'a late refusal of the old token');
    assert.equal((await sessions.session(undefined)).token, 't2', 'does not drop the new one');
    assert.equal(calls(), 2);
  });

  it('never renews a fixed token', async () => {
    const fixed = { token: 'premade', storageUrl: 'http://swift/v1/AUTH_a' };
    const sessions = new SwiftSessions(fixed);
    assert.equal(await sessions.session(undefined), fixed);
    assert.equal(sessions.refused(fixed), false);
    assert.equal(await sessions.session(undefined), fixed);
  });

  it('renews a token near its expiry before using it', async () => {
    const { login, calls } = countingLogin({ lifeMs: 400 });
    const sessions = new SwiftSessions(login);
    assert.equal((await sessions.session(undefined)).token, 't1');
    assert.equal((await sessions.session(undefined)).token, 't1');
    await sleep(250); // past half of its life
    assert.equal((await sessions.session(undefined)).token, 't2');
    assert.equal(calls(), 2);
  });

  it('lets an aborted caller go while the login goes on for the others', async () => {
    const { login, calls } = countingLogin({ delayMs: 50 });
    const sessions = new SwiftSessions(login);
    const controller = new AbortController();
    const gaveUp = sessions.session(controller.signal);
    const waited = sessions.session(undefined);
    controller.abort(new Error('caller gave up'));
    await assert.rejects(gaveUp, /caller gave up/);
    assert.equal((await waited).token, 't1');
    assert.equal(calls(), 1);
  });
});

describe('objectStoreUrl()', () => {
  const catalog = [
    { type: 'identity', endpoints: [{ interface: 'public', region_id: 'RegionOne', url: 'http://keystone/v3' }] },
    {
      type: 'object-store',
      endpoints: [
        { interface: 'public', region_id: 'RegionOne', region: 'RegionOne', url: 'https://one.example/v1/AUTH_p' },
        { interface: 'internal', region_id: 'RegionOne', region: 'RegionOne', url: 'http://10.0.0.1/v1/AUTH_p' },
        { interface: 'public', region: 'RegionTwo', url: 'https://two.example/v1/AUTH_p' },
      ],
    },
  ];

  it('picks the object store of the wanted interface and region', () => {
    assert.equal(objectStoreUrl(catalog, { interface: 'public' }, 'Keystone'), 'https://one.example/v1/AUTH_p');
    assert.equal(objectStoreUrl(catalog, { interface: 'internal' }, 'Keystone'), 'http://10.0.0.1/v1/AUTH_p');
    assert.equal(objectStoreUrl(catalog, { interface: 'public', region: 'RegionTwo' }, 'Keystone'), 'https://two.example/v1/AUTH_p');
  });

  it('names what the catalog offers when nothing fits', () => {
    assert.throws(() => objectStoreUrl(catalog, { interface: 'internal', region: 'RegionTwo' }, 'Keystone'), {
      code: 'INVALID_ARGUMENT',
      message: /has no object-store endpoint with interface "internal" in region "RegionTwo" \(it lists: public in RegionOne, internal in RegionOne, public in RegionTwo\)/,
    });
    assert.throws(() => objectStoreUrl([], { interface: 'public' }, 'Keystone'), { message: /it lists no object store/ });
  });
});
