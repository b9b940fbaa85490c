import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { JobStore } from '../job/job-store.js';
import { NO_PROGRESS, type JobRecord } from '../job/job-types.js';

/** What a job store's test file provides to run the shared suite. */
export interface JobStoreFixture {
  /** A new store over empty storage of its own. */
  create(): Promise<JobStore>;
  /** Another store over the same storage as `store`: another coordinator, or the same after a restart. */
  reopen(store: JobStore): Promise<JobStore>;
  teardown?(): Promise<void>;
}

const job = (id: string, extra: Partial<JobRecord> = {}): JobRecord => ({
  id,
  spec: { kind: 'load', path: `/data/${id}`, replicas: 2, bandwidth: 1024, verify: true },
  state: 'running',
  progress: { ...NO_PROGRESS, filesListed: 3, bytesListed: 30, checkpoint: '/data/x/b', atCheckpoint: { filesListed: 2, bytesListed: 20, filesDone: 2, bytesDone: 20, filesSkipped: 0, filesFailed: 0 } },
  failures: [{ path: '/data/x/c', code: 'UNAVAILABLE', message: 'no worker answered' }],
  submittedAt: 1000,
  updatedAt: 2000,
  ...extra,
});

/** Every behaviour of the JobStore contract, run unchanged by every implementation. */
export function runJobStoreConformance(name: string, fixture: JobStoreFixture): void {
  describe(`JobStore conformance: ${name}`, () => {
    after(async () => {
      await fixture.teardown?.();
    });

    it('a store never saved to has no jobs', async () => {
      assert.deepEqual(await (await fixture.create()).all(), []);
    });

    it('saves jobs whole (spec, progress, checkpoint, failures), and a later save of a job replaces it', async () => {
      const store = await fixture.create();
      await store.save(job('a'));
      await store.save(job('b'));
      await store.save(job('a', { state: 'succeeded', endedAt: 3000 }));
      const all = (await store.all()).sort((x, y) => x.id.localeCompare(y.id));
      assert.deepEqual(all, [job('a', { state: 'succeeded', endedAt: 3000 }), job('b')]);
    });

    it('deletes a job (again, or one never saved: nothing happens)', async () => {
      const store = await fixture.create();
      await store.save(job('gone'));
      await store.save(job('stays'));
      await store.delete('gone');
      await store.delete('gone');
      await store.delete('never-saved');
      assert.deepEqual((await (await fixture.reopen(store)).all()).map((j) => j.id), ['stays']);
    });

    it('another store over the same storage finds them (a restarted or another coordinator)', async () => {
      const store = await fixture.create();
      await store.save(job('kept'));
      assert.deepEqual(await (await fixture.reopen(store)).all(), [job('kept')]);
    });
  });
}
