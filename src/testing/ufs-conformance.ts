import assert from 'node:assert/strict';
import { rejectsWith, sha256 } from './assertions.js';
import { createHash, randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { readAll } from '../common/streams.js';
import type { UfsStatus, UnderFileSystem } from '../ufs/under-file-system.js';
import { compareKeys, listingKey } from '../ufs/ufs-path.js';
import { runReadOnlyRefusals } from './ufs-read-only-conformance.js';

/** What a backend's test file provides to run the shared suite. */
export interface UfsFixture {
  /** A new, empty store root; each test gets its own. */
  create(): Promise<UnderFileSystem>;
  /** A store whose server cannot be reached. */
  unreachable(): Promise<UnderFileSystem>;
  /**
   * A store that refuses this client's writes (wrong credentials, an immutable directory); for a
   * read-only fixture, one that refuses its reads (a location the server denies).
   */
  denied?(): Promise<UnderFileSystem>;
  /** Bytes above which the backend switches to multipart uploads (to write objects past it). */
  readonly multipartThreshold: number;
  /** Called once after every test. */
  teardown?(): Promise<void>;
  /**
   * Set for a store dora only reads (an HTTP server): every capability false and every change
   * refused with PERMISSION_DENIED. The suite then puts content in with `seed` instead of writing
   * it, skips the tests of writing, and checks that every change is refused and changes nothing.
   */
  readonly readOnly?: ReadOnlyFixture;
}

/** How the suite puts content into a store it cannot write through dora. */
export interface ReadOnlyFixture {
  /**
   * Puts files (and, for 'directory', empty directories) at these paths into the store behind
   * `ufs` (a store `create` returned) by other means, as someone outside dora would; a file
   * already there is replaced. Missing parent directories are created.
   */
  seed(ufs: UnderFileSystem, entries: Readonly<Record<string, SeedEntry>>): Promise<void>;
}

/** A file's content, or an empty directory. */
export type SeedEntry = Uint8Array | 'directory';

const MiB = 1024 * 1024;

/** Every behaviour of the UnderFileSystem contract, run unchanged by every backend. */
export function runUfsConformance(name: string, fixture: UfsFixture): void {
  describe(`UnderFileSystem conformance: ${name}`, () => {
    const opened: UnderFileSystem[] = [];
    const fresh = async (): Promise<UnderFileSystem> => {
      const ufs = await fixture.create();
      opened.push(ufs);
      return ufs;
    };
    after(async () => {
      await Promise.all(opened.map((u) => u.close()));
      await fixture.teardown?.();
    });
    const { readOnly } = fixture;
    /** Options of a test of writing: skipped for a read-only store. */
    const writes = { skip: readOnly === undefined ? false : 'the store is read-only' };
    /** Puts content in: by writing (`parallel` at a time, in order), or for a read-only store by seeding. */
    const put = async (ufs: UnderFileSystem, entries: Readonly<Record<string, SeedEntry>>, parallel = 1): Promise<void> => {
      if (readOnly !== undefined) return readOnly.seed(ufs, entries);
      await inParallel(Object.entries(entries), parallel, ([p, c]) => (c === 'directory' ? ufs.mkdir(p) : ufs.write(p, c)));
    };
    /** Puts one file in and returns its status: what the write answered, or the seeded file's. */
    const putFile = async (ufs: UnderFileSystem, path: string, data: Uint8Array): Promise<UfsStatus> => {
      if (readOnly === undefined) return ufs.write(path, data);
      await readOnly.seed(ufs, { [path]: data });
      return ufs.stat(path);
    };

    it('round-trips empty, 1-byte, page-sized and multipart-sized files', async () => {
      const ufs = await fresh();
      for (const size of [0, 1, MiB, fixture.multipartThreshold + MiB + 3]) {
        const data = randomBytes(size);
        const written = await putFile(ufs, `sizes/f${size}`, data);
        assert.equal(written.size, size);
        assert.equal(written.kind, 'file');
        const status = await ufs.stat(`sizes/f${size}`);
        assert.equal(status.size, size);
        assert.equal(status.version, written.version);
        assert.equal(sha256(await readAll((await ufs.read(`sizes/f${size}`)).stream)), sha256(data), `content of ${size} bytes`);
      }
    });

    it('writes streams of unknown size, above and below the multipart threshold', writes, async () => {
      const ufs = await fresh();
      for (const size of [10, fixture.multipartThreshold * 2 + 5]) {
        const data = randomBytes(size);
        await ufs.write(`stream/${size}`, chunked(data, 64 * 1024));
        assert.equal(sha256(await readAll((await ufs.read(`stream/${size}`)).stream)), sha256(data));
        assert.equal((await ufs.stat(`stream/${size}`)).size, size);
      }
    });

    it('write() with a declared size the source does not match fails and writes nothing', writes, async () => {
      const ufs = await fresh();
      await rejectsWith(ufs.write('short', chunked(Buffer.from('abc'), 1), { size: 10 }), 'INVALID_ARGUMENT');
      await rejectsWith(ufs.write('long', chunked(Buffer.from('abcdef'), 2), { size: 2 }), 'INVALID_ARGUMENT');
      await rejectsWith(ufs.stat('short'), 'NOT_FOUND');
      await rejectsWith(ufs.stat('long'), 'NOT_FOUND');
      await ufs.write('kept', Buffer.from('old'));
      await rejectsWith(ufs.write('kept', chunked(Buffer.from('new!'), 1), { size: 9 }), 'INVALID_ARGUMENT');
      assert.equal((await readAll((await ufs.read('kept')).stream)).toString(), 'old');
    });

    it('keeps keys with spaces, unicode, +, %, # and ? exactly', async () => {
      const ufs = await fresh();
      const names = ['with space', 'ünïcødé-日本語', 'plus+sign', 'per%25cent', 'hash#tag', 'question?mark&amp', 'emoji-😀'];
      await put(ufs, Object.fromEntries(names.map((n) => [`odd/${n}`, Buffer.from(n)])));
      for (const n of names) {
        assert.equal((await ufs.stat(`odd/${n}`)).size, Buffer.byteLength(n));
        assert.equal((await readAll((await ufs.read(`odd/${n}`)).stream)).toString(), n);
      }
      const listed = await paths(ufs.list('odd'));
      assert.deepEqual(listed, names.map((n) => `odd/${n}`).sort(compareKeys));
    });

    it('lists more than 1,000 entries in byte order, one level and recursively, and resumes after any entry', async () => {
      const ufs = await fresh();
      const files = Array.from({ length: 1100 }, (_, i) => `many/f${String(i).padStart(4, '0')}`);
      const nested = ['many/sub/a', 'many/sub/deeper/b', 'many/sub-x', 'many/zz/c'];
      await put(ufs, Object.fromEntries([...files, ...nested].map((p) => [p, Buffer.from(p)])), 16);

      const oneLevel = await collect(ufs.list('many'));
      assert.equal(oneLevel.filter((e) => e.kind === 'file').length, 1101);
      assert.deepEqual(oneLevel.filter((e) => e.kind === 'directory').map((e) => e.path), ['many/sub', 'many/zz']);
      assertSorted(oneLevel.map(listingKey));

      const all = await paths(ufs.list('many', { recursive: true }));
      assert.deepEqual(all, [...files, ...nested].sort(compareKeys));

      const resumed = await paths(ufs.list('many', { recursive: true, startAfter: all[549] }));
      assert.deepEqual(resumed, all.slice(550));
      const afterDir = await collect(ufs.list('many', { startAfter: listingKey({ path: 'many/sub', kind: 'directory' }) }));
      assert.deepEqual(afterDir.map((e) => e.path), ['many/zz']); // 'sub-x' sorts before 'sub/'
      const tail = await collect(ufs.list('many', { startAfter: 'many/f1099' }));
      assert.deepEqual(tail.map((e) => e.path), ['many/sub-x', 'many/sub', 'many/zz']);
    });

    it('lists directories made by mkdir and by files below them, once each', async () => {
      const ufs = await fresh();
      await put(ufs, { 'd/empty': 'directory' });
      if (readOnly === undefined) await ufs.mkdir('d/empty'); // idempotent
      await put(ufs, { 'd/implied/x': Buffer.from('x'), 'd/file': Buffer.from('f') });
      const entries = await collect(ufs.list('d'));
      assert.deepEqual(entries.map((e) => [e.path, e.kind]), [['d/empty', 'directory'], ['d/file', 'file'], ['d/implied', 'directory']]);
      assert.equal((await ufs.stat('d/empty')).kind, 'directory');
      assert.equal((await ufs.stat('d/implied')).kind, 'directory');
      assert.deepEqual(await paths(ufs.list('d/empty')), []);
      assert.equal((await ufs.stat('')).kind, 'directory');
    });

    it('reads ranges at every boundary, clamps past the end and refuses offsets beyond it', async () => {
      const ufs = await fresh();
      const page = 4096;
      const data = randomBytes(3 * page + 17);
      await put(ufs, { ranges: data });
      const cases: [number, number | undefined][] = [
        [0, 0], [0, 1], [0, page], [page - 1, 2], [page, page], [page + 1, page - 1], [2 * page, undefined],
        [data.length - 1, 1], [data.length - 1, 100], [data.length, 10], [data.length, undefined], [5, undefined],
      ];
      for (const [offset, length] of cases) {
        const { stream, status } = await ufs.read('ranges', { offset, length });
        const expected = data.subarray(offset, length === undefined ? undefined : offset + length);
        assert.ok((await readAll(stream)).equals(expected), `range ${offset}+${length}`);
        assert.equal(status.size, data.length);
      }
      await rejectsWith(ufs.read('ranges', { offset: data.length + 1 }), 'OUT_OF_RANGE');
      await rejectsWith(ufs.read('ranges', { offset: -1 }), 'INVALID_ARGUMENT');
    });

    it('overwrites a file with a new version and refuses reads of the old one', async () => {
      const ufs = await fresh();
      const first = await putFile(ufs, 'over', Buffer.from('first version'));
      const second = await putFile(ufs, 'over', Buffer.from('second, longer version'));
      assert.notEqual(second.version, first.version);
      assert.equal((await readAll((await ufs.read('over')).stream)).toString(), 'second, longer version');
      await rejectsWith(ufs.read('over', { expectVersion: first.version }), 'FAILED_PRECONDITION');
      const { status } = await ufs.read('over', { expectVersion: second.version, offset: 7 });
      assert.equal(status.version, second.version);
    });

    it('deletes idempotently, refuses non-empty directories and the root', writes, async () => {
      const ufs = await fresh();
      await ufs.delete('never-existed');
      await ufs.write('del/a', Buffer.from('a'));
      await rejectsWith(ufs.delete('del'), 'DIRECTORY_NOT_EMPTY');
      await ufs.delete('del/a');
      await ufs.delete('del/a');
      await rejectsWith(ufs.stat('del/a'), 'NOT_FOUND');
      await ufs.mkdir('empty');
      await ufs.delete('empty');
      await rejectsWith(ufs.stat('empty'), 'NOT_FOUND');
      await rejectsWith(ufs.delete(''), 'INVALID_ARGUMENT');
    });

    it('lets concurrent writers of different keys all succeed', writes, async () => {
      const ufs = await fresh();
      const keys = Array.from({ length: 32 }, (_, i) => `conc/k${i}`);
      await Promise.all(keys.map((k) => ufs.write(k, chunked(Buffer.alloc(100_000, k), 8192))));
      for (const k of keys) assert.ok((await readAll((await ufs.read(k)).stream)).equals(Buffer.alloc(100_000, k)));
    });

    it('reports missing paths, directories read as files and files listed as directories', async () => {
      const ufs = await fresh();
      await put(ufs, { 'dir/file': Buffer.from('x') });
      await rejectsWith(ufs.stat('nope'), 'NOT_FOUND');
      await rejectsWith(ufs.read('nope'), 'NOT_FOUND');
      await rejectsWith(paths(ufs.list('nope')), 'NOT_FOUND');
      await rejectsWith(ufs.read('dir'), 'IS_A_DIRECTORY');
      await rejectsWith(paths(ufs.list('dir/file')), 'NOT_A_DIRECTORY');
      if (readOnly === undefined) await rejectsWith(ufs.mkdir('dir/file'), 'ALREADY_EXISTS');
    });

    it('rejects non-canonical and escaping paths without touching the store', async () => {
      const ufs = await fresh();
      for (const bad of ['../escape', 'a/../../b', '/etc/passwd', 'a//b', './a', 'a/.', 'trailing/', 'nul\0byte']) {
        await rejectsWith(ufs.write(bad, Buffer.from('x')), 'INVALID_ARGUMENT');
        await rejectsWith(ufs.stat(bad), 'INVALID_ARGUMENT');
        await rejectsWith(ufs.read(bad), 'INVALID_ARGUMENT');
        await rejectsWith(ufs.delete(bad), 'INVALID_ARGUMENT');
      }
      await rejectsWith(ufs.write('x'.repeat(1025), Buffer.from('x')), 'INVALID_ARGUMENT');
      assert.deepEqual(await paths(ufs.list('')), []);
    });

    it('stops a cancelled call with CANCELLED and leaves nothing half-written', async () => {
      const ufs = await fresh();
      await rejectsWith(ufs.stat('x', { signal: AbortSignal.abort() }), 'CANCELLED');
      if (readOnly !== undefined) {
        await rejectsWith(paths(ufs.list('', { signal: AbortSignal.abort() })), 'CANCELLED');
        return;
      }
      const controller = new AbortController();
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield Buffer.alloc(1000, 1);
        controller.abort();
        await new Promise((r) => setTimeout(r, 20));
        yield Buffer.alloc(1000, 2);
      }
      await rejectsWith(ufs.write('cancelled', slow(), { signal: controller.signal }), 'CANCELLED');
      await rejectsWith(ufs.stat('cancelled'), 'NOT_FOUND');
      assert.deepEqual(await paths(ufs.list('')), []);
    });

    it('renames files and directories atomically when it can', async (t) => {
      const ufs = await fresh();
      if (ufs.rename === undefined) return t.skip('capabilities.rename is false');
      assert.equal(ufs.capabilities.rename, true);
      await ufs.write('r/a', Buffer.from('a'));
      await ufs.write('r/b', Buffer.from('b'));
      await ufs.rename('r/a', 'r/b');
      assert.equal((await readAll((await ufs.read('r/b')).stream)).toString(), 'a');
      await rejectsWith(ufs.stat('r/a'), 'NOT_FOUND');
      await ufs.rename('r', 'moved/r');
      assert.deepEqual(await paths(ufs.list('moved', { recursive: true })), ['moved/r/b']);
      await rejectsWith(ufs.rename('missing', 'x'), 'NOT_FOUND');
    });

    it('assembles multipart uploads in order and aborts idempotently when it can', async (t) => {
      const ufs = await fresh();
      const mp = ufs.multipart;
      if (mp === undefined) return t.skip('capabilities.multipart is false');
      const one = randomBytes(5 * MiB);
      const two = randomBytes(1234);
      const uploadId = await mp.create('mp/file');
      const parts = [
        await mp.uploadPart('mp/file', { uploadId, partNumber: 1 }, one),
        await mp.uploadPart('mp/file', { uploadId, partNumber: 2 }, chunked(two, 100), { size: two.length }),
      ];
      await rejectsWith(ufs.stat('mp/file'), 'NOT_FOUND'); // invisible until complete
      const done = await mp.complete('mp/file', uploadId, parts);
      assert.equal(done.size, one.length + two.length);
      assert.equal(sha256(await readAll((await ufs.read('mp/file')).stream)), sha256(Buffer.concat([one, two])));
      const aborted = await mp.create('mp/aborted');
      await mp.uploadPart('mp/aborted', { uploadId: aborted, partNumber: 1 }, two);
      await mp.abort('mp/aborted', aborted);
      await mp.abort('mp/aborted', aborted);
      await rejectsWith(ufs.stat('mp/aborted'), 'NOT_FOUND');
    });

    it('keeps content type and user metadata, and gives single-PUT files their MD5 as ETag', writes, async () => {
      const ufs = await fresh();
      const data = Buffer.from('{"hello": "world"}');
      const md5 = createHash('md5').update(data).digest('hex');
      const written = await ufs.write('attrs/doc.json', data, { contentType: 'application/json', metadata: { owner: 'ana', 'x-note': 'with spaces' } });
      assert.equal(written.etag, md5);
      const status = await ufs.stat('attrs/doc.json');
      assert.equal(status.etag, md5);
      assert.deepEqual(status.attributes, { contentType: 'application/json', metadata: { owner: 'ana', 'x-note': 'with spaces' } });
      const [listed] = await collect(ufs.list('attrs'));
      assert.equal(listed?.etag, md5, 'listings carry the same ETag as stat');
      await ufs.write('attrs/doc.json', Buffer.from('plain'));
      const replaced = await ufs.stat('attrs/doc.json');
      assert.equal(replaced.etag, createHash('md5').update('plain').digest('hex'));
      assert.deepEqual(replaced.attributes?.metadata, {}, 'an overwrite replaces the metadata');
      assert.deepEqual(await paths(ufs.list('', { recursive: true })), ['attrs/doc.json'], 'no sidecar shows in listings');
    });

    it('tags files and directories, replaces and removes tags, and forgets them with the file', async (t) => {
      const ufs = await fresh();
      const tagging = ufs.tagging;
      if (tagging === undefined) return t.skip('capabilities.tagging is false');
      assert.equal(ufs.capabilities.tagging, true);
      await ufs.write('tags/file', Buffer.from('x'), { tags: { team: 'data', stage: 'raw' } });
      assert.deepEqual(await tagging.get('tags/file'), { team: 'data', stage: 'raw' });
      await tagging.put('tags/file', { stage: 'clean' });
      assert.deepEqual(await tagging.get('tags/file'), { stage: 'clean' });
      assert.equal((await ufs.stat('tags/file')).size, 1, 'tagging leaves the content alone');
      await tagging.put('tags/file', {});
      assert.deepEqual(await tagging.get('tags/file'), {});
      await tagging.put('tags', { kind: 'folder' });
      assert.deepEqual(await tagging.get('tags'), { kind: 'folder' });
      await tagging.put('', { root: 'yes' });
      assert.deepEqual(await tagging.get(''), { root: 'yes' });
      await tagging.put('tags/file', { again: '1' });
      await ufs.delete('tags/file');
      await ufs.write('tags/file', Buffer.from('new'));
      assert.deepEqual(await tagging.get('tags/file'), {}, 'a new file starts untagged');
      await rejectsWith(tagging.get('tags/missing'), 'NOT_FOUND');
      await rejectsWith(tagging.put('tags/missing', { a: 'b' }), 'NOT_FOUND');
      assert.deepEqual(await paths(ufs.list('', { recursive: true })), ['tags/file']);
    });

    it('reports an unreachable store as UNAVAILABLE, retryable', async () => {
      const ufs = await fixture.unreachable();
      opened.push(ufs);
      const error = await rejectsWith(ufs.stat('x'), 'UNAVAILABLE');
      assert.equal(error.retryable, true);
      if (readOnly === undefined) {
        await rejectsWith(ufs.write('x', Buffer.from('x')), 'UNAVAILABLE');
      } else {
        await rejectsWith(ufs.read('x'), 'UNAVAILABLE');
        await rejectsWith(paths(ufs.list('')), 'UNAVAILABLE');
      }
    });

    it(`reports a refused ${readOnly === undefined ? 'write' : 'read'} as PERMISSION_DENIED, not retryable`, async (t) => {
      if (fixture.denied === undefined) return t.skip('the fixture has no store that refuses this client');
      const ufs = await fixture.denied();
      opened.push(ufs);
      if (readOnly === undefined) {
        const error = await rejectsWith(ufs.write('refused', Buffer.from('x')), 'PERMISSION_DENIED');
        assert.equal(error.retryable, false);
        return;
      }
      const error = await rejectsWith(ufs.stat('refused'), 'PERMISSION_DENIED');
      assert.equal(error.retryable, false);
      await rejectsWith(ufs.read('refused'), 'PERMISSION_DENIED');
      await rejectsWith(paths(ufs.list('')), 'PERMISSION_DENIED');
    });

    if (readOnly !== undefined) runReadOnlyRefusals(fresh, readOnly);
  });
}



async function collect(listing: AsyncIterable<UfsStatus>): Promise<UfsStatus[]> {
  const out: UfsStatus[] = [];
  for await (const entry of listing) out.push(entry);
  return out;
}

async function paths(listing: AsyncIterable<UfsStatus>): Promise<string[]> {
  return (await collect(listing)).map((e) => e.path);
}

function assertSorted(keys: string[]): void {
  for (let i = 1; i < keys.length; i++) assert.ok(compareKeys(keys[i - 1] ?? '', keys[i] ?? '') < 0, `${keys[i - 1]} before ${keys[i]}`);
}

async function* chunked(data: Buffer, size: number): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.length; i += size) yield data.subarray(i, i + size);
}


async function inParallel<T>(items: readonly T[], limit: number, run: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: limit }, async () => {
    while (next < items.length) await run(items[next++] as T);
  }));
}
