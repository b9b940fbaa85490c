import { request } from 'node:http';
import { freePort } from './free-port.js';
import { startProcess, waitUntilReady } from './child-process.js';
import type { S3ServerHandle } from './s3-server-handle.js';

export interface MotoServerOptions {
  /**
   * Requests must be signed by a key the server knows (moto's IAM authentication), so any
   * other key is refused with 403: for testing permission errors.
   */
  requireAuth?: boolean;
}

/** Starts `moto_server` (an in-memory S3 server, on this machine's Python) on a free port. */
export async function startMotoServer(options: MotoServerOptions = {}): Promise<S3ServerHandle> {
  const port = await freePort();
  const env: NodeJS.ProcessEnv = { ...process.env, MOTO_PORT: String(port) };
  if (options.requireAuth === true) env['INITIAL_NO_AUTH_ACTION_COUNT'] = '0';
  // `python3 -m moto.server` finds moto wherever python3 does, with or without its entry script.
  const proc = startProcess('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { env });
  const endpoint = `http://127.0.0.1:${port}`;
  try {
    await waitUntilReady(proc, () => answers(endpoint), `moto_server on port ${port} (is moto installed? pip install 'moto[server]')`);
  } catch (error) {
    await proc.stop();
    throw error;
  }
  return {
    endpoint,
    region: 'us-east-1',
    accessKeyId: 'testing',
    secretAccessKey: 'testing',
    name: 'moto',
    stop: () => proc.stop(),
  };
}

function answers(endpoint: string): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request(`${endpoint}/`, { method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
