import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { MountInfo } from '../mount/mount-info.js';
import type { MountStore } from '../mount/mount-store.js';
import { rejectsWith } from './assertions.js';

/** What a mount store's test file provides to run the shared suite. */
export interface MountStoreFixture {
  /** A new store over empty storage of its own; each test gets its own. */
  create(): Promise<MountStore>;
  /** Another store over the same storage as `store`: another process, or the same after a restart. */
  reopen(store: MountStore): Promise<MountStore>;
  /** Replaces the stored table of `store` with bytes that are not a table. */
  corrupt(store: MountStore): Promise<void>;
  /** Called once after every test. */
  teardown?(): Promise<void>;
}

const ROOT: MountInfo = { path: '/', uri: 'file:///srv/data/', readOnly: false, writeType: 'CACHE_THROUGH', options: {} };
const SALES: MountInfo = {
  path: '/sales',
  uri: 's3://bucket/sales/',
  readOnly: true,
  writeType: 'THROUGH',
  options: { endpoint: 'http://127.0.0.1:9000', region: 'us-east-1', pathStyle: 'true' },
  credentials: 'sales-reader',
  syncIntervalMs: -1,
};

/** Every behaviour of the MountStore contract, run unchanged by every implementation. */
export function runMountStoreConformance(name: string, fixture: MountStoreFixture): void {
  describe(`MountStore conformance: ${name}`, () => {
    after(async () => {
      await fixture.teardown?.();
    });

    it('load() of a store never saved to is an empty table', async () => {
      const store = await fixture.create();
      assert.deepEqual(await store.load(), []);
    });

    it('save() then load() round-trips every field, in order, optional ones included', async () => {
      const store = await fixture.create();
      await store.save([ROOT, SALES]);
      assert.deepEqual(await store.load(), [ROOT, SALES]);
    });

    it('save() replaces the whole table, and is idempotent', async () => {
      const store = await fixture.create();
      await store.save([ROOT, SALES]);
      await store.save([SALES]);
      await store.save([SALES]);
      assert.deepEqual(await store.load(), [SALES]);
      await store.save([]);
      assert.deepEqual(await store.load(), []);
    });

    it('another store over the same storage loads what was saved', async () => {
      const store = await fixture.create();
      await store.save([ROOT]);
      const other = await fixture.reopen(store);
      assert.deepEqual(await other.load(), [ROOT]);
      await other.save([ROOT, SALES]);
      assert.deepEqual(await store.load(), [ROOT, SALES]);
    });

    it('concurrent saves leave one of the tables whole, never a mix', async () => {
      const store = await fixture.create();
      const tables = Array.from({ length: 8 }, (_, i) => Array.from({ length: i + 1 }, (_, j) => ({ ...SALES, path: `/t${i}/m${j}` })));
      await Promise.all(tables.map((table) => store.save(table)));
      const loaded = await store.load();
      assert.ok(tables.some((table) => JSON.stringify(table) === JSON.stringify(loaded)), `loaded one whole table, got ${loaded.length} mounts`);
    });

    it('load() of a damaged table fails with INVALID_ARGUMENT', async () => {
      const store = await fixture.create();
      await store.save([ROOT]);
      await fixture.corrupt(store);
      await rejectsWith(store.load(), 'INVALID_ARGUMENT', 'Cannot load the mount table');
      await store.save([SALES]);
      assert.deepEqual(await store.load(), [SALES], 'a save repairs it');
    });

    it('load() and save() with an aborted signal fail with CANCELLED and change nothing', async () => {
      const store = await fixture.create();
      await store.save([ROOT]);
      const signal = AbortSignal.abort();
      await rejectsWith(store.load({ signal }), 'CANCELLED');
      await rejectsWith(store.save([SALES], { signal }), 'CANCELLED');
      assert.deepEqual(await store.load(), [ROOT]);
    });
  });
}
