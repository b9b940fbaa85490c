import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isDoraError } from '../common/errors.js';
import { runMembershipConformance, workerRecord } from '../testing/membership-conformance.js';
import { StaticMembership } from './static-membership.js';

runMembershipConformance('StaticMembership', { create: async () => new StaticMembership([]), settleMs: 0 });

describe('StaticMembership', () => {
  it('lists the configured workers sorted by id, whatever order the configuration gives', () => {
    const workers = ['w2', 'w3', 'w1'].map((id) => workerRecord(id));
    const a = new StaticMembership(workers);
    const b = new StaticMembership([...workers].reverse());
    assert.deepEqual(a.members().map((m) => m.id), ['w1', 'w2', 'w3']);
    assert.deepEqual(a.members(), b.members());
  });

  it('refuses a malformed list or an id listed twice', () => {
    assert.throws(() => new StaticMembership([workerRecord('w1'), workerRecord('w1')]), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT') && /"w1" is listed twice/.test(e.message));
    assert.throws(() => new StaticMembership([{ ...workerRecord('w1'), startedAt: Number.NaN }]), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT') && /startedAt/.test(e.message));
  });

  it('a configured worker joining replaces its listed record; leaving removes it from this process only', async () => {
    const membership = new StaticMembership([workerRecord('w1'), workerRecord('w2')]);
    const registration = await membership.join(workerRecord('w1', { address: 'http://127.0.0.1:1' }));
    assert.equal(membership.members()[0]?.address, 'http://127.0.0.1:1');
    await registration.leave();
    assert.deepEqual(membership.members().map((m) => m.id), ['w2']);
    await membership.close();
  });
});
