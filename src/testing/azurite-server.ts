import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { startProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

export interface AzuriteServer {
  /** The blob service endpoint, path-style: `http://127.0.0.1:<port>/devstoreaccount1`. */
  readonly endpoint: string;
  readonly account: string;
  readonly accountKey: string;
  /** A connection string for the same account and endpoint. */
  readonly connectionString: string;
  stop(): Promise<void>;
}

/** Azurite's well-known development account and key (published in its documentation). */
const ACCOUNT = 'devstoreaccount1';
const ACCOUNT_KEY = 'Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==';

/**
 * Starts Azurite's blob service (from node_modules) on a free port of 127.0.0.1, keeping blobs in
 * memory; it runs in a scratch directory, removed on stop. Any API version is accepted
 * (`--skipApiVersionCheck`), as the SDK may be newer than the emulator.
 */
export async function startAzurite(): Promise<AzuriteServer> {
  const main = join(dirname(createRequire(import.meta.url).resolve('azurite/package.json')), 'dist', 'src', 'blob', 'main.js');
  const port = await freePort();
  const workspace = await mkdtemp(join(tmpdir(), 'dora-azurite-'));
  const args = [main, '--blobHost', '127.0.0.1', '--blobPort', String(port), '--inMemoryPersistence', '--skipApiVersionCheck', '--loose', '--silent', '--disableTelemetry'];
  const proc = startProcess(process.execPath, args, { cwd: workspace });
  const stop = async (): Promise<void> => {
    await proc.stop();
    await rm(workspace, { recursive: true, force: true });
  };
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(proc, () => answers(base), `azurite on port ${port}`);
  } catch (error) {
    await stop();
    throw error;
  }
  const endpoint = `${base}/${ACCOUNT}`;
  return {
    endpoint,
    account: ACCOUNT,
    accountKey: ACCOUNT_KEY,
    connectionString: `DefaultEndpointsProtocol=http;AccountName=${ACCOUNT};AccountKey=${ACCOUNT_KEY};BlobEndpoint=${endpoint};`,
    stop,
  };
}

function answers(base: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${base}/`, { method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
