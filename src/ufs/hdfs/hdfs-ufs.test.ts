import { after } from 'node:test';
import { freePort } from '../../testing/free-port.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';
import { startWebHdfsTestServer } from '../../testing/webhdfs-test-server.js';
import { DEFAULT_UFS_TUNING } from '../ufs-registry.js';
import { parseStoreUri } from '../../common/store-uri.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { createHdfsUfs } from './hdfs-ufs-factory.js';

// Pages of 100 entries: the 1,100-entry listing of the suite takes eleven of them.
const server = await startWebHdfsTestServer({ pageLimit: 100, readOnlyUsers: ['reader'] });
after(() => server.stop());

let stores = 0;
const open = (uri: string, options: Record<string, string>): UnderFileSystem => createHdfsUfs(parseStoreUri(uri), options, DEFAULT_UFS_TUNING);

runUfsConformance('hdfs:// on the WebHDFS test server', {
  create: async () => {
    const ufs = open(`hdfs://127.0.0.1:${server.namenodePort}/conformance/t${++stores}`, { user: 'dora' });
    await ufs.mkdir('');
    return ufs;
  },
  unreachable: async () => open(`webhdfs://127.0.0.1:${await freePort()}/x`, { user: 'dora' }),
  denied: async () => {
    const root = `/denied/t${++stores}`;
    const owner = open(`webhdfs://127.0.0.1:${server.namenodePort}${root}`, { user: 'dora' });
    await owner.mkdir('');
    await owner.close();
    return open(`webhdfs://127.0.0.1:${server.namenodePort}${root}`, { user: 'reader' });
  },
  multipartThreshold: 5 * 1024 * 1024,
});
