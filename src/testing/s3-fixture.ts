import { freePort } from './free-port.js';
import type { S3ServerHandle } from './s3-server-handle.js';
import type { UfsFixture } from './ufs-conformance.js';
import { S3Api } from '../ufs/s3/s3-api.js';
import type { UfsRegistry} from '../ufs/ufs-registry.js';
import { createDefaultUfsRegistry } from '../ufs/ufs-registry.js';
import type { UnderFileSystem } from '../ufs/under-file-system.js';

const MiB = 1024 * 1024;

/** Options that point the s3:// backend at a test server. */
export function s3Options(server: S3ServerHandle): Record<string, string> {
  return {
    endpoint: server.endpoint,
    region: server.region,
    pathStyle: 'true',
    accessKeyId: server.accessKeyId,
    secretAccessKey: server.secretAccessKey,
    ...(server.tagging === false ? { tagging: 'false' } : {}),
  };
}

/** Creates `bucket` on a test server. */
export async function createBucket(server: S3ServerHandle, bucket: string): Promise<void> {
  const api = new S3Api({
    region: server.region,
    endpoint: server.endpoint,
    forcePathStyle: true,
    credentials: { accessKeyId: server.accessKeyId, secretAccessKey: server.secretAccessKey },
    maxSockets: 4,
  });
  try {
    await api.createBucket(bucket);
  } finally {
    api.destroy();
  }
}

/**
 * A conformance fixture over a running S3 server: each store root is a fresh prefix of one
 * bucket, with a 5 MiB multipart threshold so multipart paths run on small objects.
 */
export async function s3ConformanceFixture(server: S3ServerHandle, extra: { denied?: S3ServerHandle } = {}): Promise<UfsFixture> {
  const bucket = `conformance-${Date.now().toString(36)}`;
  await createBucket(server, bucket);
  const registry: UfsRegistry = createDefaultUfsRegistry({ multipartThreshold: 5 * MiB, partSize: 5 * MiB });
  let n = 0;
  const fixture: UfsFixture = {
    multipartThreshold: 5 * MiB,
    create: () => registry.create(`s3://${bucket}/run-${n++}/`, s3Options(server)),
    unreachable: async () => registry.create(`s3://${bucket}/`, { ...s3Options(server), endpoint: `http://127.0.0.1:${await freePort()}` }),
  };
  const denied = extra.denied;
  if (denied !== undefined) {
    fixture.denied = (): Promise<UnderFileSystem> => registry.create(`s3://${bucket}/`, s3Options(denied));
  }
  return fixture;
}
