import { after } from 'node:test';
import { freePort } from '../../testing/free-port.js';
import { startKeystoneTestServer } from '../../testing/keystone-test-server.js';
import { createSwiftContainer, swiftTempAuthOptions } from '../../testing/swift-fixture.js';
import { startSwiftS3Server } from '../../testing/swift-s3-server.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

// A real Swift (Debian's packages: proxy with tempauth and slo, account, container and object
// servers). A 5 MiB threshold and 2 MiB segments make the multipart-sized files static large objects.
const swift = await startSwiftS3Server();
// Keystone v3 is the documented subset in src/testing/keystone-test-server.ts; the tokens it
// issues are the real Swift's, so every object call below still goes to the real Swift.
const keystone = await startKeystoneTestServer({
  tempAuth: swiftTempAuthOptions(swift) as { authUrl: string; user: string; key: string },
  users: [{ name: 'dora', password: 'secret', project: 'analytics' }],
});
after(async () => {
  await keystone.stop();
  await swift.stop();
});

const registry = createDefaultUfsRegistry();
const sizes = { multipartThreshold: '5MiB', partSize: '2MiB' };
const tempAuth = { ...swiftTempAuthOptions(swift), ...sizes };
const keystoneAuth = { authUrl: keystone.authUrl, user: 'dora', password: 'secret', project: 'analytics', ...sizes };
let n = 0;

async function freshContainer(): Promise<string> {
  const container = `conformance-${n++}`;
  await createSwiftContainer(swift, container);
  return container;
}

runUfsConformance('swift:// on OpenStack Swift (TempAuth)', {
  multipartThreshold: 5 * 1024 * 1024,
  create: async () => registry.create(`swift://${await freshContainer()}/some/prefix`, tempAuth),
  unreachable: async () => registry.create('swift://conformance-0/', { ...tempAuth, authUrl: `http://127.0.0.1:${await freePort()}/auth/v1.0` }),
  denied: async () => registry.create('swift://conformance-0/', { ...tempAuth, key: 'wrong-key' }),
});

runUfsConformance('swift:// on OpenStack Swift (Keystone v3)', {
  multipartThreshold: 5 * 1024 * 1024,
  create: async () => registry.create(`swift://${await freshContainer()}`, keystoneAuth),
  unreachable: async () => registry.create('swift://conformance-0/', { ...keystoneAuth, authUrl: `http://127.0.0.1:${await freePort()}/v3` }),
  denied: async () => registry.create('swift://conformance-0/', { ...keystoneAuth, password: 'wrong-password' }),
});
