/**
 * The client's HTTP handling against a small server that speaks docs/worker-api.md (coordinator
 * and worker routes on one port), serving files from a real local store. Lets failure modes
 * the real servers rarely show (resets mid-body, ABORTED answers) be staged exactly.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, mkdir, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { DoraError, isDoraError } from '../common/errors.js';
import { readAll } from '../common/streams.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import type { UnderFileSystem } from '../ufs/under-file-system.js';
import type { FileStatus } from './client-types.js';
import { DoraClient } from './dora-client.js';
import { ConsistentHashSelector } from '../hash/consistent-hash-selector.js';
import { refusingAddress } from '../testing/free-port.js';

type Hook = (req: IncomingMessage, res: ServerResponse, url: URL) => boolean | Promise<boolean>;

interface FakeCluster {
  url: string;
  server: Server;
  ufs: UnderFileSystem;
  connections: number;
  requests: string[];
  /** Runs before the normal handling; returning true means it answered. */
  hook: Hook | undefined;
  /** Workers listed by /api/v1/nodes; default this server. */
  workers: { id: string; address: string; state: string }[] | undefined;
  close(): Promise<void>;
}

async function startFakeCluster(root: string): Promise<FakeCluster> {
  const ufs = await createDefaultUfsRegistry().create(`file://${root}`);
  const toStatus = (s: { path: string; kind: 'file' | 'directory'; size: number; mtimeMs: number; version: string }): FileStatus => ({
    path: `/${s.path}`,
    name: s.path.slice(s.path.lastIndexOf('/') + 1),
    kind: s.kind,
    size: s.size,
    mtimeMs: s.mtimeMs,
    version: s.version,
    mount: '/',
  });
  const fail = (res: ServerResponse, error: unknown): void => {
    const e = isDoraError(error) ? error : new DoraError('INTERNAL', String(error));
    const status = { NOT_FOUND: 404, INVALID_ARGUMENT: 400, UNAVAILABLE: 503, ABORTED: 409, OUT_OF_RANGE: 416, RESOURCE_EXHAUSTED: 507 }[e.code as string] ?? 500;
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error: e.toJSON() }));
  };
  const json = (res: ServerResponse, status: number, body: unknown): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  };
  const cluster: FakeCluster = {
    url: '',
    server: createServer(),
    ufs,
    connections: 0,
    requests: [],
    hook: undefined,
    workers: undefined,
    close: async () => {
      cluster.server.closeAllConnections();
      await new Promise((resolve) => cluster.server.close(resolve));
      await ufs.close();
    },
  };
  cluster.server.on('connection', () => cluster.connections++);
  cluster.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    cluster.requests.push(`${req.method} ${url.pathname}${url.search}`);
    const path = (url.searchParams.get('path') ?? '/').slice(1);
    void (async () => {
      try {
        if (cluster.hook !== undefined && (await cluster.hook(req, res, url))) return;
        switch (`${req.method} ${url.pathname}`) {
          case 'GET /api/v1/nodes':
            return json(res, 200, { workers: cluster.workers ?? [{ id: 'w1', address: cluster.url, state: 'live' }] });
          case 'GET /api/v1/mounts':
            return json(res, 200, { mounts: [{ path: '/', uri: `file://${root}/`, readOnly: false, writeType: 'CACHE_THROUGH', options: {} }] });
          case 'GET /v1/stat':
            return json(res, 200, toStatus(await ufs.stat(path)));
          case 'GET /v1/list': {
            const limit = Number(url.searchParams.get('limit') ?? 1000);
            const after = url.searchParams.get('startAfter');
            const entries: FileStatus[] = [];
            let more = false;
            const listing = ufs.list(path, { recursive: url.searchParams.get('recursive') === 'true', startAfter: after === null ? undefined : after.slice(1) });
            for await (const entry of listing) {
              if (entries.length === limit) {
                more = true;
                break;
              }
              entries.push(toStatus(entry));
            }
            return json(res, 200, { entries, ...(more ? { next: entries.at(-1)?.path } : {}) });
          }
          case 'GET /v1/read': {
            const offset = Number(url.searchParams.get('offset') ?? 0);
            const lengthParam = url.searchParams.get('length');
            const { stream, status } = await ufs.read(path, { offset, length: lengthParam === null ? undefined : Number(lengthParam) });
            const length = Math.min(lengthParam === null ? Infinity : Number(lengthParam), status.size - offset);
            res.writeHead(200, { 'content-length': length, 'x-dora-version': status.version, 'x-dora-size': status.size });
            stream.pipe(res);
            return;
          }
          case 'PUT /v1/write':
            return json(res, 200, toStatus(await ufs.write(path, req)));
          case 'POST /v1/mkdir':
            await ufs.mkdir(path);
            return void res.writeHead(204).end();
          default:
            return json(res, 404, { error: { code: 'NOT_FOUND', message: `no route ${url.pathname}`, retryable: false } });
        }
      } catch (error) {
        fail(res, error);
      }
    })();
  });
  await new Promise<void>((resolve) => cluster.server.listen(0, '127.0.0.1', resolve));
  cluster.url = `http://127.0.0.1:${(cluster.server.address() as AddressInfo).port}`;
  return cluster;
}

/** An address nothing listens on: connections are refused. */
const sha256 = (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');

describe('DoraClient over HTTP', () => {
  let root: string;
  let cluster: FakeCluster;
  const big = Buffer.alloc(3 * 1024 * 1024 + 17, 'abcdefghijklmnopqrstuvwxyz');

  before(async () => {
    root = await mkdtemp(join(tmpdir(), 'dora-client-http-'));
    await mkdir(join(root, 'many'));
    await Promise.all(Array.from({ length: 2345 }, (_, i) => writeFile(join(root, 'many', `f${String(i).padStart(5, '0')}`), String(i))));
    await writeFile(join(root, 'big.bin'), big);
    await writeFile(join(root, 'hello.txt'), 'hello, dora\n');
    cluster = await startFakeCluster(root);
  });

  after(async () => {
    await cluster.close();
    await rm(root, { recursive: true, force: true });
  });

  const withClient = async <T>(run: (client: DoraClient) => Promise<T>, options: ConstructorParameters<typeof DoraClient>[0] = {}): Promise<T> => {
    const client = new DoraClient({ address: cluster.url, ...options });
    try {
      return await run(client);
    } finally {
      await client.close();
    }
  };

  it('stat() answers the FileStatus the worker sends', async () => {
    await withClient(async (client) => {
      const status = await client.stat('/hello.txt');
      assert.equal(status.path, '/hello.txt');
      assert.equal(status.kind, 'file');
      assert.equal(status.size, 12);
    });
  });

  it('turns an error body back into a DoraError with the same code, message and retryable flag', async () => {
    await withClient(async (client) => {
      await assert.rejects(client.stat('/missing'), (error: unknown) => {
        assert.ok(isDoraError(error, 'NOT_FOUND'));
        assert.match(error.message, /missing/);
        assert.equal(error.retryable, false);
        return true;
      });
      cluster.hook = (_req, res) => {
        res.writeHead(507, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'RESOURCE_EXHAUSTED', message: 'Cannot write "/x": slow down', retryable: true } }));
        return true;
      };
      try {
        await assert.rejects(client.mkdir('/x'), (error: unknown) => isDoraError(error, 'RESOURCE_EXHAUSTED') && error.retryable && error.message === 'Cannot write "/x": slow down');
      } finally {
        cluster.hook = undefined;
      }
    });
  });

  it('gives an answer that is not JSON the code of its HTTP status', async () => {
    cluster.hook = (req, res) => {
      if (!req.url?.startsWith('/v1/')) return false;
      res.writeHead(502).end('bad gateway');
      return true;
    };
    try {
      await withClient(async (client) => {
        await assert.rejects(client.stat('/hello.txt'), (error: unknown) => isDoraError(error, 'UNAVAILABLE') && /HTTP 502/.test(error.message));
        assert.equal(client.stats().fallbacks, 0, 'an answer, even an error, is not a reason to fall back');
      });
    } finally {
      cluster.hook = undefined;
    }
  });

  it('list() pages with `next` past 1,000 entries, in order', async () => {
    await withClient(async (client) => {
      const before = cluster.requests.filter((r) => r.startsWith('GET /v1/list')).length;
      const names: string[] = [];
      for await (const entry of client.list('/many')) names.push(entry.name);
      assert.equal(names.length, 2345);
      assert.deepEqual(names, [...names].sort());
      assert.equal(names[0], 'f00000');
      assert.equal(cluster.requests.filter((r) => r.startsWith('GET /v1/list')).length - before, 3);
    });
  });

  it('list() resumes after startAfter', async () => {
    await withClient(async (client) => {
      const names: string[] = [];
      for await (const entry of client.list('/many', { startAfter: '/many/f02340' })) names.push(entry.name);
      assert.deepEqual(names, ['f02341', 'f02342', 'f02343', 'f02344']);
    });
  });

  it('read() streams a byte range', async () => {
    await withClient(async (client) => {
      const part = await readAll(await client.read('/big.bin', { offset: 1_000_000, length: 100_000 }));
      assert.deepEqual(part, big.subarray(1_000_000, 1_100_000));
      const whole = await client.readFile('/big.bin');
      assert.equal(sha256(whole), sha256(big));
      const tail = await readAll(await client.read('/big.bin', { offset: big.length - 10 }));
      assert.deepEqual(tail, big.subarray(big.length - 10));
    });
  });

  it('reuses one kept-alive connection for sequential calls', async () => {
    await withClient(async (client) => {
      await client.stat('/hello.txt');
      const before = cluster.connections;
      for (let i = 0; i < 20; i++) await client.stat('/hello.txt');
      await client.readFile('/hello.txt');
      assert.equal(cluster.connections - before, 0);
    });
  });

  it('write() sends a stream and answers the written FileStatus', async () => {
    await withClient(async (client) => {
      async function* chunks(): AsyncGenerator<Uint8Array> {
        for (let i = 0; i < 10; i++) yield Buffer.alloc(100_000, i);
      }
      const status = await client.write('/written/ten.bin', chunks(), { size: 1_000_000 });
      assert.equal(status.size, 1_000_000);
      assert.equal((await client.readFile('/written/ten.bin')).length, 1_000_000);
      await assert.rejects(client.write('/written/short.bin', chunks(), { size: 5 }), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
    });
  });

  it('retries a read once when the worker answers ABORTED before any byte', async () => {
    let aborts = 0;
    cluster.hook = (req, res) => {
      if (!req.url?.startsWith('/v1/read') || aborts >= 1) return false;
      aborts++;
      res.writeHead(409, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { code: 'ABORTED', message: 'Cannot read "/hello.txt": changed', retryable: true } }));
      return true;
    };
    try {
      await withClient(async (client) => {
        assert.equal((await client.readFile('/hello.txt')).toString(), 'hello, dora\n');
        assert.equal(client.stats().readRetries, 1);
        aborts = -1; // two ABORTED answers in a row: the second is the caller's
        await assert.rejects(client.readFile('/hello.txt'), (e: unknown) => isDoraError(e, 'ABORTED'));
      });
    } finally {
      cluster.hook = undefined;
    }
  });

  it('a cancelled call fails with CANCELLED', async () => {
    await withClient(async (client) => {
      const controller = new AbortController();
      controller.abort();
      await assert.rejects(client.stat('/hello.txt', { signal: controller.signal }), (e: unknown) => isDoraError(e, 'CANCELLED'));
    });
  });

  describe('when the worker cannot be reached', () => {
    let dead: string;
    before(async () => {
      dead = await refusingAddress();
    });
    const deadWorker = () => new ConsistentHashSelector([{ id: 'dead', address: dead, state: 'live' }]);

    it('stat, list and read are served from the store and counted', async () => {
      await withClient(
        async (client) => {
          assert.equal((await client.stat('/hello.txt')).size, 12);
          let count = 0;
          for await (const entry of client.list('/many')) {
            assert.equal(entry.mount, '/');
            count++;
          }
          assert.equal(count, 2345);
          assert.deepEqual(await readAll(await client.read('/big.bin', { offset: 5, length: 10 })), big.subarray(5, 15));
          assert.equal(client.stats().fallbacks, 3);
          await assert.rejects(client.stat('/missing'), (e: unknown) => isDoraError(e, 'NOT_FOUND'));
        },
        { selector: deadWorker },
      );
    });

    it('uses the coordinator mount table when no fallbackMounts are given', async () => {
      await withClient(async (client) => assert.equal((await client.readFile('/hello.txt')).toString(), 'hello, dora\n'), { selector: deadWorker });
    });

    it('writes fail with UNAVAILABLE, retryable', async () => {
      await withClient(
        async (client) => {
          await assert.rejects(client.write('/new.txt', Buffer.from('x')), (e: unknown) => isDoraError(e, 'UNAVAILABLE') && e.retryable && e.message.includes(dead));
        },
        { selector: deadWorker },
      );
    });

    it('with fallback off, reads fail with UNAVAILABLE', async () => {
      await withClient(async (client) => assert.rejects(client.stat('/hello.txt'), (e: unknown) => isDoraError(e, 'UNAVAILABLE')), { selector: deadWorker, fallback: false });
    });

    it('the coordinator listing no worker also falls back', async () => {
      cluster.workers = [];
      try {
        await withClient(async (client) => {
          assert.equal((await client.stat('/hello.txt')).size, 12);
          assert.equal(client.stats().fallbacks, 1);
        });
      } finally {
        cluster.workers = undefined;
      }
    });
  });

  describe('placement on the ring', () => {
    it('fails over to the next worker of the file before the store, and counts it', async () => {
      const dead = await refusingAddress();
      // Two workers: whichever owns the file, the other one answers (this server plays both).
      const workers = [
        { id: 'dead', address: dead, state: 'live' },
        { id: 'alive', address: cluster.url, state: 'live' },
      ];
      cluster.workers = workers;
      try {
        await withClient(async (client) => {
          const files = Array.from({ length: 40 }, (_, i) => `/many/f${String(i).padStart(5, '0')}`);
          const deadOwned = [];
          for (const file of files) if ((await client.owners(file))[0]?.id === 'dead') deadOwned.push(file);
          assert.ok(deadOwned.length > 0 && deadOwned.length < files.length, 'both workers own some of 40 files');
          for (const file of deadOwned) assert.equal((await client.readFile(file)).toString(), String(Number(file.slice(-5))));
          assert.ok(client.stats().failovers >= 1, 'the first file owned by the dead worker failed over');
          assert.equal(client.stats().fallbacks, 0, 'another worker answered: the store was not needed');
        });
      } finally {
        cluster.workers = undefined;
      }
    });

    it('fails over a read waiting on a hung worker as soon as the cluster stops listing it', async () => {
      const hung = createServer(() => undefined); // accepts, never answers: a frozen process
      await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
      const address = `http://127.0.0.1:${(hung.address() as AddressInfo).port}`;
      cluster.workers = [
        { id: 'hung', address, state: 'live' },
        { id: 'alive', address: cluster.url, state: 'live' },
      ];
      try {
        await withClient(async (client) => {
          let file = '';
          for (let i = 0; i < 200 && file === ''; i++) {
            const candidate = `/many/f${String(i).padStart(5, '0')}`;
            if ((await client.owners(candidate))[0]?.id === 'hung') file = candidate;
          }
          assert.ok(file !== '', 'some file is owned by the hung worker');
          const started = Date.now();
          const reading = client.readFile(file);
          await new Promise((r) => setTimeout(r, 300));
          cluster.workers = [{ id: 'alive', address: cluster.url, state: 'live' }]; // its lease ran out
          assert.equal((await reading).toString(), String(Number(file.slice(-5))));
          assert.ok(Date.now() - started < 5000, `done ${Date.now() - started} ms after it started, not after the idle timeout`);
          assert.equal(client.stats().failovers, 1);
        }, { clusterTtlMs: 100, idleTimeoutMs: 60_000 });
      } finally {
        cluster.workers = undefined;
        hung.closeAllConnections();
        await new Promise((r) => hung.close(r));
      }
    });

    it('rebuilds the ring only when the live set changes, and leaves decommissioning workers off it', async () => {
      cluster.workers = [{ id: 'w1', address: cluster.url, state: 'live' }];
      try {
        await withClient(async (client) => {
          await client.stat('/hello.txt');
          await new Promise((r) => setTimeout(r, 30));
          await client.stat('/hello.txt');
          assert.equal(client.stats().membershipChanges, 0, 'the same set: the same ring');
          cluster.workers = [
            { id: 'w1', address: cluster.url, state: 'live' },
            { id: 'w2', address: cluster.url, state: 'decommissioning' },
          ];
          await new Promise((r) => setTimeout(r, 30));
          assert.deepEqual((await client.owners('/hello.txt', { replicas: 2 })).map((w) => w.id), ['w1'], 'a decommissioning worker is off the ring');
          assert.equal(client.stats().membershipChanges, 0, 'a decommissioning worker does not change the live set');
          cluster.workers = [...cluster.workers, { id: 'w3', address: cluster.url, state: 'live' }];
          await new Promise((r) => setTimeout(r, 30));
          assert.equal((await client.owners('/hello.txt', { replicas: 2 })).length, 2);
          assert.equal(client.stats().membershipChanges, 1);
        }, { clusterTtlMs: 10 });
      } finally {
        cluster.workers = undefined;
      }
    });
  });

  it('a worker that dies mid-read is replaced by the store from the first missing byte', async () => {
    let served = false;
    cluster.hook = (req, res) => {
      if (!req.url?.startsWith('/v1/')) return false;
      if (served) {
        res.socket?.destroy(); // dead from now on: connections close unanswered
        return true;
      }
      served = true;
      void (async () => {
        const status = await cluster.ufs.stat('big.bin');
        res.writeHead(200, { 'content-length': big.length, 'x-dora-version': status.version, 'x-dora-size': big.length });
        res.write(big.subarray(0, 1_000_000), () => res.socket?.destroy());
      })();
      return true;
    };
    try {
      await withClient(async (client) => {
        const whole = await client.readFile('/big.bin');
        assert.equal(whole.length, big.length);
        assert.equal(sha256(whole), sha256(big));
        assert.ok(client.stats().fallbacks >= 1);
      }, { fallbackMounts: [{ path: '/', uri: `file://${root}` }] });
    } finally {
      cluster.hook = undefined;
    }
  });

  it('a file that changed while a worker died mid-read fails with ABORTED, never mixing versions', async () => {
    await writeFile(join(root, 'changing.bin'), Buffer.alloc(2_000_000, 1));
    cluster.hook = (req, res) => {
      if (!req.url?.startsWith('/v1/read')) return false;
      void (async () => {
        const status = await cluster.ufs.stat('changing.bin');
        res.writeHead(200, { 'content-length': 2_000_000, 'x-dora-version': status.version, 'x-dora-size': 2_000_000 });
        res.write(Buffer.alloc(500_000, 1), () => {
          void writeFile(join(root, 'changing.bin'), Buffer.alloc(2_000_000, 2)).then(() => res.socket?.destroy());
        });
      })();
      return true;
    };
    try {
      await withClient(async (client) => {
        await assert.rejects(client.readFile('/changing.bin'), (e: unknown) => isDoraError(e, 'ABORTED'));
      });
    } finally {
      cluster.hook = undefined;
    }
  });

  it('keeps using the last worker list while the coordinator is down', async () => {
    const other = await startFakeCluster(root);
    const client = new DoraClient({ address: other.url, clusterTtlMs: 1 });
    try {
      assert.equal((await client.stat('/hello.txt')).size, 12);
      other.hook = (req, res) => {
        if (!req.url?.startsWith('/api/')) return false;
        res.socket?.destroy();
        return true;
      };
      await new Promise((resolve) => setTimeout(resolve, 5));
      assert.equal((await client.stat('/hello.txt')).size, 12);
      assert.equal(client.stats().fallbacks, 0);
    } finally {
      await client.close();
      await other.close();
    }
  });

  it('connect() fails with UNAVAILABLE when no coordinator answers', async () => {
    await assert.rejects(DoraClient.connect({ address: await refusingAddress() }), (e: unknown) => isDoraError(e, 'UNAVAILABLE') && /coordinator/.test(e.message));
  });

  it('rejects a malformed address with INVALID_ARGUMENT', () => {
    assert.throws(() => new DoraClient({ address: 'ftp://x' }), (e: unknown) => isDoraError(e, 'INVALID_ARGUMENT'));
    assert.equal(new DoraClient({ address: '127.0.0.1:1234' }).address, 'http://127.0.0.1:1234');
  });
});
