import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Membership } from '../membership/membership.js';
import type { WorkerRecord } from '../membership/worker-record.js';
import { rejectsWith } from './assertions.js';

/** What a membership's test file provides to run the shared suite. */
export interface MembershipFixture {
  /** A new membership over an empty cluster of its own; each call gets a separate cluster. */
  create(): Promise<Membership>;
  /** Another process's view of the same cluster as `membership`; only where views share state. */
  peer?(membership: Membership): Promise<Membership>;
  /** How long changes may take to echo back (an etcd watch); a no-op must not fire within it. */
  readonly settleMs: number;
  /** Called once after every test. */
  teardown?(): Promise<void>;
}

/** A record for worker `id`, with an address derived from it. */
export function workerRecord(id: string, changes: Partial<WorkerRecord> = {}): WorkerRecord {
  return { id, address: `http://127.0.0.1:${29_000 + id.length}/${id}`, state: 'live', startedAt: 1_700_000_000_000, ...changes };
}

/** Polls `check` until it returns true; fails naming `what` after `timeoutMs`. */
export async function waitFor(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`timed out after ${timeoutMs} ms waiting until ${what}`);
    await sleep(20);
  }
}

const ids = (membership: Membership): string[] => membership.members().map((m) => m.id);

/** Every behaviour of the Membership contract, run unchanged by every implementation. */
export function runMembershipConformance(name: string, fixture: MembershipFixture): void {
  describe(`Membership conformance: ${name}`, () => {
    const opened: Membership[] = [];
    const fresh = async (): Promise<Membership> => {
      const membership = await fixture.create();
      opened.push(membership);
      return membership;
    };
    after(async () => {
      await Promise.all(opened.map((m) => m.close()));
      await fixture.teardown?.();
    });

    it('join() lists the worker in members() by the time it resolves', async () => {
      const membership = await fresh();
      assert.deepEqual(membership.members(), []);
      const registration = await membership.join(workerRecord('w1', { s3Address: 'http://127.0.0.1:29998', capacityBytes: 1024 }));
      assert.deepEqual(membership.members(), [workerRecord('w1', { s3Address: 'http://127.0.0.1:29998', capacityBytes: 1024 })]);
      assert.deepEqual(registration.record, membership.members()[0]);
    });

    it('leave() removes the worker, and leaving again is a no-op', async () => {
      const membership = await fresh();
      const one = await membership.join(workerRecord('w1'));
      await membership.join(workerRecord('w2'));
      await one.leave();
      assert.deepEqual(ids(membership), ['w2']);
      await one.leave();
      await sleep(fixture.settleMs);
      assert.deepEqual(ids(membership), ['w2']);
      await rejectsWith(one.update({ state: 'decommissioning' }), 'FAILED_PRECONDITION', 'w1');
    });

    it('members() is sorted by id, so the same workers joined in any order give the same list', async () => {
      const [a, b] = [await fresh(), await fresh()];
      for (const id of ['w3', 'w1', 'w2']) await a.join(workerRecord(id));
      for (const id of ['w2', 'w3', 'w1']) await b.join(workerRecord(id));
      await sleep(fixture.settleMs);
      assert.deepEqual(ids(a), ['w1', 'w2', 'w3']);
      assert.deepEqual(a.members(), b.members());
    });

    it('watch() fires once per change of the live set, and not for no-ops', async () => {
      const membership = await fresh();
      const seen: string[][] = [];
      const stop = membership.watch((members) => seen.push(members.map((m) => `${m.id}:${m.state}`)));
      const registration = await membership.join(workerRecord('w1'));
      await sleep(fixture.settleMs);
      assert.deepEqual(seen, [['w1:live']], 'join, and nothing when the registration echoes back');
      await registration.update({});
      await registration.update({ startedAt: 1, capacityBytes: 5 });
      await sleep(fixture.settleMs);
      assert.deepEqual(seen, [['w1:live']], 'identical record, start time and capacity are not live-set changes');
      assert.equal(membership.members()[0]?.capacityBytes, 5, 'but members() shows them');
      await registration.update({ state: 'decommissioning' });
      await sleep(fixture.settleMs);
      assert.deepEqual(seen, [['w1:live'], ['w1:decommissioning']]);
      stop();
      stop();
      await registration.leave();
      await sleep(fixture.settleMs);
      assert.equal(seen.length, 2, 'no calls after unsubscribing');
    });

    it('update() changes the record in members() and keeps the id', async () => {
      const membership = await fresh();
      const registration = await membership.join(workerRecord('w1'));
      const updated = await registration.update({ state: 'decommissioning', address: 'http://127.0.0.1:1/moved', id: 'other' } as Partial<WorkerRecord>);
      assert.equal(updated.id, 'w1');
      assert.deepEqual(membership.members(), [updated]);
      assert.deepEqual(registration.record, updated);
      await rejectsWith(registration.update({ state: 'gone' as 'live' }), 'INVALID_ARGUMENT', 'state "gone"');
      assert.deepEqual(membership.members(), [updated]);
    });

    it('join() refuses a malformed record and a second registration of one id', async () => {
      const membership = await fresh();
      await rejectsWith(membership.join(workerRecord('bad/id')), 'INVALID_ARGUMENT', 'bad/id');
      await rejectsWith(membership.join({ ...workerRecord('w1'), address: '' }), 'INVALID_ARGUMENT', 'address');
      await membership.join(workerRecord('w1'));
      await rejectsWith(membership.join(workerRecord('w1')), 'ALREADY_EXISTS', 'w1');
      await rejectsWith(membership.join(workerRecord('w2'), { signal: AbortSignal.abort() }), 'CANCELLED');
      assert.deepEqual(ids(membership), ['w1']);
    });

    it('close() leaves its registrations and refuses new ones', async () => {
      const membership = await fresh();
      const observer = fixture.peer === undefined ? membership : await fixture.peer(membership);
      if (observer !== membership) opened.push(observer);
      await membership.join(workerRecord('w1'));
      await waitFor(() => ids(observer).includes('w1'), 'the peer lists w1');
      await membership.close();
      await membership.close();
      await rejectsWith(membership.join(workerRecord('w2')), 'FAILED_PRECONDITION', 'closed');
      if (observer !== membership) await waitFor(() => ids(observer).length === 0, 'the peer lists nobody');
    });

    if (fixture.peer !== undefined) {
      const peerOf = fixture.peer.bind(fixture);
      it('another view of the cluster sees joins, updates and leaves, and is told of them', async () => {
        const membership = await fresh();
        const peer = await peerOf(membership);
        opened.push(peer);
        const seen: string[][] = [];
        peer.watch((members) => seen.push(members.map((m) => `${m.id}:${m.state}`)));
        const registration = await membership.join(workerRecord('w1'));
        await waitFor(() => ids(peer).includes('w1'), 'the peer lists w1');
        await registration.update({ state: 'decommissioning' });
        await waitFor(() => peer.members()[0]?.state === 'decommissioning', 'the peer sees w1 decommissioning');
        await registration.leave();
        await waitFor(() => ids(peer).length === 0, 'the peer lists nobody');
        assert.deepEqual(seen, [['w1:live'], ['w1:decommissioning'], []]);
      });
    }
  });
}
