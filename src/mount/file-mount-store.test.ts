import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMountStoreConformance } from '../testing/mount-store-conformance.js';
import { FileMountStore } from './file-mount-store.js';

const dir = await mkdtemp(join(tmpdir(), 'dora-file-mounts-'));
let stores = 0;
const files = new WeakMap<object, string>();
const open = (file: string): FileMountStore => {
  const store = new FileMountStore(file);
  files.set(store, file);
  return store;
};
const fileOf = (store: object): string => files.get(store) ?? '';

runMountStoreConformance('FileMountStore', {
  create: async () => open(join(dir, `${++stores}`, 'mounts.json')),
  reopen: async (store) => open(fileOf(store)),
  corrupt: (store) => writeFile(fileOf(store), '{"format": 1, "mounts": [tru'),
  teardown: () => rm(dir, { recursive: true, force: true }),
});
