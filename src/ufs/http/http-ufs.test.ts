import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { after } from 'node:test';
import { freePort } from '../../testing/free-port.js';
import { startNginxServer } from '../../testing/nginx-server.js';
import { startPythonHttpServer } from '../../testing/python-http-server.js';
import { seedFiles } from '../../testing/seed-files.js';
import { runUfsConformance, type UfsFixture } from '../../testing/ufs-conformance.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

const registry = createDefaultUfsRegistry();
const nginx = await startNginxServer({ serverConfig: '    location /denied/ { deny all; }' });
const python = await startPythonHttpServer();
after(async () => {
  await Promise.all([nginx.stop(), python.stop()]);
});

/** A read-only fixture over a web server serving `root` at `url`: each store a fresh directory, seeded by writing files there. */
function webServerFixture(server: { url: string; root: string }, denied?: () => Promise<UnderFileSystem>): UfsFixture {
  const directories = new Map<string, string>();
  let created = 0;
  return {
    create: async () => {
      const name = `t${++created}`;
      await mkdir(join(server.root, name));
      const ufs = await registry.create(`${server.url}/${name}/`);
      directories.set(ufs.uri, join(server.root, name));
      return ufs;
    },
    unreachable: async () => registry.create(`http://127.0.0.1:${await freePort()}/data/`),
    ...(denied === undefined ? {} : { denied }),
    multipartThreshold: 5 * 1024 * 1024,
    readOnly: {
      seed: async (ufs, entries) => {
        const dir = directories.get(ufs.uri);
        if (dir === undefined) throw new Error(`no served directory for "${ufs.uri}"`);
        await seedFiles(dir, entries);
      },
    },
  };
}

runUfsConformance('http:// on nginx (read-only, JSON autoindex, ranges, ETags)', webServerFixture(nginx, () => registry.create(`${nginx.url}/denied/`)));
runUfsConformance('http:// on python3 -m http.server (read-only, HTML index, no ranges, Last-Modified)', webServerFixture(python));
