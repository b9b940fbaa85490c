import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { connect, createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcess, waitUntilReady, type ManagedProcess } from './child-process.js';
import { freePort } from './free-port.js';

/** A real single-node etcd on free ports of 127.0.0.1, its data in a temp directory. */
export interface EtcdServer {
  /** Client URLs, e.g. ['http://127.0.0.1:40123']; the same across kill() and restart(). */
  readonly endpoints: readonly string[];
  /** Ends etcd with SIGKILL, keeping its data: an outage, for restart() to end. Idempotent. */
  kill(): Promise<void>;
  /** Starts etcd again on the same ports and data (killing it first if it runs); resolves once healthy. */
  restart(): Promise<void>;
  /** Ends etcd and removes its data directory. Idempotent; the handle is unusable afterwards. */
  stop(): Promise<void>;
}

export interface EtcdServerOptions {
  /** The etcd binary. Default /usr/bin/etcd (Debian's etcd-server package). */
  binary?: string;
  /** How long to wait for etcd to report healthy. Default 20 s. */
  timeoutMs?: number;
}

const INSTALL_COMMAND = 'apt-get install -y etcd-server';

/**
 * Starts etcd and waits until `/health` answers true. Raft timings are cut to a few
 * milliseconds so a start or restart takes about 100 ms. Throws, after cleaning up, if etcd is
 * not installed (naming the apt-get command) or does not come up (with its output).
 */
export async function startEtcdServer(options: EtcdServerOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? '/usr/bin/etcd';
  if (!(await isExecutable(binary))) throw new Error(`Cannot start etcd: "${binary}" is not installed; run \`${INSTALL_COMMAND}\``);
  const dataDir = await mkdtemp(join(tmpdir(), 'dora-etcd-'));
  const timeoutMs = options.timeoutMs ?? 20_000;
  let ports = { client: 0, peer: 0 };
  let proc: ManagedProcess | undefined;
  let stopped = false;

  const kill = async (): Promise<void> => {
    const child = proc?.child;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, 'exit');
    child.kill('SIGKILL');
    await exited;
  };
  const launch = async (): Promise<void> => {
    const args = etcdArgs(dataDir, ports.client, ports.peer);
    const started = startProcess(binary, args, { env: etcdEnv() });
    proc = started;
    try {
      await waitUntilReady(started, () => healthy(ports.client), `etcd on port ${ports.client}`, timeoutMs);
    } catch (error) {
      await kill();
      throw error;
    }
  };

  try {
    // A port probed free can be taken before etcd binds it (another test starting a server): try fresh ports.
    for (let attempt = 1; ; attempt++) {
      ports = { client: await freePort(), peer: await freePort() };
      try {
        await launch();
        break;
      } catch (error) {
        if (attempt >= 3 || !(proc?.output() ?? '').includes('address already in use')) throw error;
      }
    }
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true });
    throw error;
  }

  return {
    endpoints: [`http://127.0.0.1:${ports.client}`],
    kill,
    async restart() {
      if (stopped) throw new Error('Cannot restart etcd: it was stopped');
      await kill();
      await launch();
    },
    async stop() {
      stopped = true;
      await kill(); // its data is about to go: no need to shut down cleanly
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** A TCP relay in front of etcd that a test can cut: its clients lose etcd while everyone else keeps it. */
export interface EtcdLink {
  /** Client URLs through the relay. */
  readonly endpoints: readonly string[];
  /** Drops every connection through the relay and refuses new ones (a partition) until mend(). */
  cut(): void;
  mend(): void;
  /** Ends the relay and its connections. Idempotent. */
  close(): Promise<void>;
}

/** Starts a relay to `server` on a free port of 127.0.0.1. */
export async function startEtcdLink(server: EtcdServer): Promise<EtcdLink> {
  const target = new URL(server.endpoints[0] ?? '');
  const sockets = new Set<Socket>();
  let cut = false;
  const relay = createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = connect(Number(target.port), target.hostname);
    const drop = (): void => {
      for (const socket of [client, upstream]) {
        socket.destroy();
        sockets.delete(socket);
      }
    };
    for (const socket of [client, upstream]) socket.on('error', drop).on('close', drop);
    sockets.add(client).add(upstream);
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve, reject) => relay.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = relay.address() as { port: number };
  const dropAll = (): void => {
    for (const socket of sockets) socket.destroy();
    sockets.clear();
  };
  return {
    endpoints: [`http://127.0.0.1:${port}`],
    cut() {
      cut = true;
      dropAll();
    },
    mend() {
      cut = false;
    },
    async close() {
      dropAll();
      await new Promise<void>((resolve) => relay.close(() => resolve()));
    },
  };
}

function etcdArgs(dataDir: string, clientPort: number, peerPort: number): string[] {
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return [
    '--name', 'dora-test',
    '--data-dir', dataDir,
    '--listen-client-urls', client,
    '--advertise-client-urls', client,
    '--listen-peer-urls', peer,
    '--initial-advertise-peer-urls', peer,
    '--initial-cluster', `dora-test=${peer}`,
    '--initial-cluster-state', 'new',
    // One member elects itself; short timings make that, and a restart, take milliseconds.
    '--heartbeat-interval', '10',
    '--election-timeout', '100',
    '--logger', 'zap',
    '--log-level', 'warn',
  ];
}

/** etcd 3.4 refuses to run on architectures other than amd64 (and s390x, ppc64le) unless told this. */
function etcdEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env['ETCD_UNSUPPORTED_ARCH'];
  if (process.arch !== 'x64') env['ETCD_UNSUPPORTED_ARCH'] = process.arch;
  return env;
}

async function isExecutable(path: string): Promise<boolean> {
  return access(path, constants.X_OK).then(
    () => true,
    () => false,
  );
}

function healthy(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/health', timeout: 1000 }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(res.statusCode === 200 && body.includes('"true"')));
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
