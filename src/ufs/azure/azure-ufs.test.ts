import { after } from 'node:test';
import { startAzurite } from '../../testing/azurite-server.js';
import { freePort } from '../../testing/free-port.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';
import { AzureApi } from './azure-api.js';

const MiB = 1024 * 1024;
const azurite = await startAzurite();
after(() => azurite.stop());

const registry = createDefaultUfsRegistry({ multipartThreshold: 5 * MiB, partSize: 2 * MiB, uploadConcurrency: 3 });
const options = { endpoint: azurite.endpoint, accountKey: azurite.accountKey };
const run = Date.now().toString(36);
let n = 0;

runUfsConformance('wasbs:// on azurite', {
  multipartThreshold: 5 * MiB,
  // A fresh container per test; every other one mounted below a prefix.
  async create() {
    const container = `conformance-${run}-${n++}`;
    const api = new AzureApi({ endpoint: azurite.endpoint, container, credentials: { kind: 'sharedKey', account: azurite.account, accountKey: azurite.accountKey }, maxSockets: 2 });
    await api.createContainer();
    api.close();
    return registry.create(`wasbs://${container}@${azurite.account}/${n % 2 === 0 ? 'mounted/here/' : ''}`, options);
  },
  unreachable: async () => registry.create(`wasbs://nowhere@${azurite.account}/`, { ...options, endpoint: `http://127.0.0.1:${await freePort()}/${azurite.account}` }),
  // Signed with another key: Azurite refuses every request with 403.
  denied: async () => registry.create(`wasbs://nowhere@${azurite.account}/`, { ...options, accountKey: Buffer.alloc(64, 7).toString('base64') }),
});
