import { after } from 'node:test';
import { freePort } from '../../testing/free-port.js';
import { startGcsTestServer } from '../../testing/gcs-test-server.js';
import { runUfsConformance } from '../../testing/ufs-conformance.js';
import { createDefaultUfsRegistry } from '../ufs-registry.js';

const server = await startGcsTestServer();
after(() => server.stop());

const writer = server.serviceAccountKey('dora-writer@dora-test.iam.gserviceaccount.com');
const reader = server.serviceAccountKey('dora-reader@dora-test.iam.gserviceaccount.com', { role: 'reader' });
const registry = createDefaultUfsRegistry();
// Small sizes, so that resumable uploads (512 KiB chunks) run on objects of a few MiB.
const options = { endpoint: server.endpoint, multipartThreshold: '2MiB', partSize: '512KiB' };
let n = 0;

runUfsConformance('gs:// on the GCS JSON API test server', {
  multipartThreshold: 2 * 1024 * 1024,
  create: async () => {
    const bucket = `conformance-${n++}`;
    server.createBucket(bucket);
    return registry.create(`gs://${bucket}/some/prefix`, { ...options, credentials: writer });
  },
  unreachable: async () => registry.create('gs://conformance-0/', { ...options, credentials: writer, endpoint: `http://127.0.0.1:${await freePort()}` }),
  denied: async () => registry.create('gs://conformance-0/', { ...options, credentials: reader }),
});
