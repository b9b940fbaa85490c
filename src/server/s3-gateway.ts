import { join } from 'node:path';
import type { DoraConfig } from '../conf/config-keys.js';
import type { InFlight } from '../http/in-flight.js';
import { loadS3Credentials } from '../s3/load-credentials.js';
import { MultipartStore } from '../s3/multipart/multipart-store.js';
import type { S3Namespace } from '../s3/namespace/s3-namespace.js';
import { S3Server, type S3RequestEvent } from '../s3/s3-server.js';

export interface S3Gateway {
  readonly url: string;
  readonly inFlight: InFlight;
  close(): Promise<void>;
}

/**
 * A worker's S3-compatible API over `namespace`: access keys from `s3.credentialsFile`, multipart
 * uploads staged under `<dataDir>/multipart` and swept when older than `s3.multipartMaxAge`.
 */
export async function startS3Gateway(config: DoraConfig, dataDir: string, namespace: S3Namespace, observe?: (request: S3RequestEvent) => void): Promise<S3Gateway> {
  const credentials = await loadS3Credentials(config.s3.credentialsFile);
  const multipart = new MultipartStore(join(dataDir, 'multipart'));
  const sweep = (): void => void multipart.sweep(config.s3.multipartMaxAge).catch(() => undefined);
  sweep(); // abandoned uploads: at start, then hourly
  const sweeper = setInterval(sweep, Math.min(config.s3.multipartMaxAge, 3600_000)).unref();
  const server = new S3Server(
    { namespace, region: 'us-east-1', multipart, ...(credentials === undefined ? {} : { credentials }) },
    {
      allowAnonymousRemote: config.s3.allowAnonymousRemote,
      slowRequestMs: config.log.slowRequest,
      ...(credentials === undefined ? {} : { credentials }),
      ...(observe === undefined ? {} : { observe }),
    },
  );
  const url = await server.listen(config.s3.port, config.host);
  return {
    url,
    inFlight: server.inFlight,
    async close() {
      clearInterval(sweeper);
      await server.close();
    },
  };
}
