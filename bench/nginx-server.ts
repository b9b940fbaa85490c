// nginx serving a directory, as the baseline a cache's reads are held up against.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '../src/testing/free-port.js';
import { startProcess, waitUntilReady } from '../src/testing/child-process.js';
import { commandVersion, httpStatus } from './bench-tools.js';

export interface NginxServer {
  /** e.g. `http://127.0.0.1:41234`: files of the root are at `/<name>`. */
  readonly url: string;
  /** `nginx version: nginx/1.22.1`. */
  readonly version: string;
  readonly masterPid: number;
  stop(): Promise<void>;
}

export const NGINX_INSTALL = 'apt-get install -y nginx';

/**
 * Starts nginx in the foreground (`daemon off`) on a free port of 127.0.0.1, serving `root`
 * with sendfile and keep-alive, with a minimal generated configuration and every file it writes
 * in a temp prefix. `workers` worker processes (default 1: the same single thread of work as a
 * node process). On Linux the master dies with this process (`setpriv --pdeathsig`).
 */
export async function startNginx(root: string, options: { workers?: number } = {}): Promise<NginxServer> {
  const version = await commandVersion('nginx', ['-v'], NGINX_INSTALL);
  const prefix = await mkdtemp(join(tmpdir(), 'dora-bench-nginx-'));
  const port = await freePort();
  for (const dir of ['logs', 'temp']) await mkdir(join(prefix, dir));
  const conf = join(prefix, 'nginx.conf');
  await writeFile(conf, config(root, prefix, port, options.workers ?? 1));
  const command = ['nginx', '-c', conf, '-p', prefix];
  const usePdeathsig = (await commandVersion('setpriv', ['--version'], '').catch(() => '')) !== '';
  const proc = usePdeathsig ? startProcess('setpriv', ['--pdeathsig', 'SIGKILL', '--', ...command]) : startProcess(command[0]!, command.slice(1));
  const url = `http://127.0.0.1:${port}`;
  const stop = async (): Promise<void> => {
    await proc.stop(); // SIGTERM: nginx's fast shutdown, workers included
    await rm(prefix, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(proc, async () => (await httpStatus(`${url}/`)) !== undefined, `nginx on port ${port}`, 10_000);
  } catch (error) {
    await stop();
    throw error;
  }
  return { url, version, masterPid: proc.child.pid ?? 0, stop };
}

function config(root: string, prefix: string, port: number, workers: number): string {
  // As root, workers would switch to "nobody", which cannot read a 0700 temp directory.
  const user = process.getuid?.() === 0 ? 'user root;\n' : '';
  return `${user}daemon off;
worker_processes ${workers};
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'logs', 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  keepalive_requests 1000000;
  keepalive_timeout 60s;
  default_type application/octet-stream;
  client_body_temp_path ${join(prefix, 'temp', 'body')};
  proxy_temp_path ${join(prefix, 'temp', 'proxy')};
  fastcgi_temp_path ${join(prefix, 'temp', 'fastcgi')};
  uwsgi_temp_path ${join(prefix, 'temp', 'uwsgi')};
  scgi_temp_path ${join(prefix, 'temp', 'scgi')};
  server {
    listen 127.0.0.1:${port};
    root ${root};
  }
}
`;
}
