import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startProcess, waitUntilReady } from './child-process.js';
import { freePort } from './free-port.js';

const NGINX = '/usr/sbin/nginx';

export interface NginxServerOptions {
  /** More directives for the one `server {}` block, e.g. `location /denied/ { deny all; }`. */
  readonly serverConfig?: string;
  /** Also listen with TLS, on a certificate made for the run (self-signed, for 127.0.0.1). */
  readonly tls?: boolean;
}

export interface NginxServer {
  /** `http://127.0.0.1:<port>` (no trailing slash). */
  readonly url: string;
  /** `https://127.0.0.1:<port>` when started with `tls`. */
  readonly httpsUrl: string | undefined;
  /** The directory the server serves; write files here. */
  readonly root: string;
  /** The temp directory of the run (config, logs, certificate): for `serverConfig` paths such as an htpasswd file. */
  readonly dir: string;
  stop(): Promise<void>;
}

/**
 * Starts Debian's nginx (`apt-get install -y nginx-light` or `nginx`) on a free 127.0.0.1 port,
 * serving a temp directory with `autoindex on; autoindex_format json;`: the real web server a
 * read-only HTTP store is tested against. One foreground process (`daemon off; master_process
 * off;`); config, pid, logs and temp files live in the run's temp directory, removed by `stop`.
 */
export async function startNginxServer(options: NginxServerOptions = {}): Promise<NginxServer> {
  await access(NGINX).catch(() => {
    throw new Error(`Cannot start nginx: ${NGINX} is not installed; run \`apt-get install -y nginx\``);
  });
  const dir = await mkdtemp(join(tmpdir(), 'dora-nginx-'));
  const root = join(dir, 'root');
  await Promise.all([mkdir(root), mkdir(join(dir, 'temp'))]);
  const port = await freePort();
  const tlsPort = options.tls === true ? await freePort() : undefined;
  if (tlsPort !== undefined) await makeCertificate(dir);
  await writeFile(join(dir, 'nginx.conf'), config(dir, root, port, tlsPort, options.serverConfig ?? ''));
  const proc = startProcess(NGINX, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', join(dir, 'error.log'), '-g', 'daemon off; master_process off;']);
  const url = `http://127.0.0.1:${port}`;
  const httpsUrl = tlsPort === undefined ? undefined : `https://127.0.0.1:${tlsPort}`;
  const stop = async (): Promise<void> => {
    await proc.stop();
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitUntilReady(proc, async () => (await answers(url)) && (httpsUrl === undefined || (await answers(httpsUrl))), `nginx on port ${port}`);
  } catch (error) {
    const log = await readFile(join(dir, 'error.log'), 'utf8').catch(() => '');
    await stop();
    throw new Error(`${(error as Error).message}\n${log}`, { cause: error });
  }
  return { url, httpsUrl, root, dir, stop };
}

function config(dir: string, root: string, port: number, tlsPort: number | undefined, serverConfig: string): string {
  const temp = join(dir, 'temp');
  const tls = tlsPort === undefined ? '' : `
    listen 127.0.0.1:${tlsPort} ssl;
    ssl_certificate ${join(dir, 'cert.pem')};
    ssl_certificate_key ${join(dir, 'key.pem')};`;
  return `pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 1024; }
http {
  access_log ${join(dir, 'access.log')};
  client_body_temp_path ${temp}/body;
  proxy_temp_path ${temp}/proxy;
  fastcgi_temp_path ${temp}/fastcgi;
  uwsgi_temp_path ${temp}/uwsgi;
  scgi_temp_path ${temp}/scgi;
  types { text/plain txt; application/json json; }
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};${tls}
    root ${root};
    autoindex on;
    autoindex_format json;
${serverConfig}
  }
}
`;
}

/** A self-signed certificate for 127.0.0.1, by the openssl command. */
async function makeCertificate(dir: string): Promise<void> {
  await promisify(execFile)('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
  ]);
}

function answers(url: string): Promise<boolean> {
  const request = url.startsWith('https:') ? httpsRequest : httpRequest;
  return new Promise((resolve) => {
    const req = request(`${url}/`, { method: 'HEAD', timeout: 1000, rejectUnauthorized: false }, (res) => {
      res.resume();
      resolve(res.statusCode !== undefined);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
