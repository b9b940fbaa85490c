import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { constants } from 'node:fs';
import { access, mkdir, mkdtemp, open, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, type ManagedProcess } from './child-process.js';
import { freePort } from './free-port.js';
import type { S3ServerHandle } from './s3-server-handle.js';

/** A Swift all-in-one: an S3 endpoint (s3api), and Swift's own API behind TempAuth. */
export interface SwiftServerHandle extends S3ServerHandle {
  /** TempAuth's v1 auth URL, `http://127.0.0.1:<port>/auth/v1.0`. */
  readonly authUrl: string;
  /** TempAuth's user (`account:user`, the same as accessKeyId) and key (the same as secretAccessKey). */
  readonly user: string;
  readonly key: string;
}

export interface SwiftS3ServerOptions {
  /** Aborts start-up; whatever was started so far is stopped and removed. */
  signal?: AbortSignal;
  /** How long to wait for every Swift process to answer. Default 60 s. */
  timeoutMs?: number;
}

/** What to run when Swift is missing; memcached is needed because tempauth keeps S3 auth state in a cache. */
const SWIFT_INSTALL_COMMAND = 'apt-get install -y swift swift-proxy swift-account swift-container swift-object memcached';

const REGION = 'us-east-1';
const ACCOUNT = 'test';
const USER = 'tester';
const SECRET = 'testing';
const BACKENDS = ['account', 'container', 'object'] as const;
type Backend = (typeof BACKENDS)[number];

/**
 * Python run before every process: on Linux the process is killed when the Node process that
 * started it dies, so a crashed or killed test run leaves nothing behind (Swift's servers call
 * setsid(), so they would otherwise outlive it).
 */
const DIE_WITH_PARENT = `
import ctypes, signal
try:
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
except (AttributeError, OSError):
    pass
`;

/** Runs another program (memcached) with DIE_WITH_PARENT in effect; it survives execve. */
const EXEC = `${DIE_WITH_PARENT}
import os, sys
os.execvp(sys.argv[1], sys.argv[1:])
`;

/**
 * Runs one Swift WSGI server in the foreground (workers = 0) with swift.conf taken from the
 * directory of its own config file: Swift otherwise reads the hash prefix/suffix, storage
 * policies and constraints from /etc/swift/swift.conf, which tests must not depend on. The
 * path is set before anything that reads it at import time is imported.
 */
const RUN_SERVER = `${DIE_WITH_PARENT}
import os, sys
from swift.common import utils
app, conf = sys.argv[1], sys.argv[2]
utils.SWIFT_CONF_FILE = os.path.join(os.path.dirname(conf), 'swift.conf')
from swift.common.wsgi import run_wsgi
options = {'verbose': True}
if app == 'object-server':
    from swift.obj import server
    options['global_conf_callback'] = server.global_conf_callback
sys.exit(run_wsgi(conf, app, **options))
`;

/**
 * Runs swift-ring-builder's commands (a JSON list of argument lists) in one Python process,
 * which takes a third of the time of one process per command.
 */
const BUILD_RINGS = `
import json, sys
from swift.cli.ringbuilder import main
for args in json.loads(sys.argv[1]):
    try:
        main(['swift-ring-builder'] + args)
        code = 0
    except SystemExit as e:
        code = e.code
    if code:
        sys.exit('swift-ring-builder %s: exited with %s' % (' '.join(args), code))
`;

/**
 * Starts an OpenStack Swift "all in one" (proxy with s3api + tempauth + slo, account, container
 * and object servers, and a memcached for tempauth) from this machine's Debian packages, on free
 * ports of 127.0.0.1, with every file in a fresh temp directory. Throws, after cleaning up, if
 * Swift is not installed or any process fails to come up; the error carries the process output.
 */
export async function startSwiftS3Server(options: SwiftS3ServerOptions = {}): Promise<SwiftServerHandle> {
  const { signal } = options;
  signal?.throwIfAborted();
  const python = await swiftPython();
  const ports = await distinctFreePorts(5);
  const [proxyPort, accountPort, containerPort, objectPort, memcachedPort] = ports as [number, number, number, number, number];
  const backendPorts: Record<Backend, number> = { account: accountPort, container: containerPort, object: objectPort };

  const dir = await mkdtemp(join(tmpdir(), 'dora-swift-'));
  const started: ManagedProcess[] = [];
  const servers: { name: string; proc: ManagedProcess }[] = [];
  const env = { ...process.env, PYTHONUNBUFFERED: '1' };
  const run = (script: string, args: readonly string[]): ManagedProcess => {
    const proc = startProcess(python, ['-c', script, ...args], { env });
    started.push(proc);
    return proc;
  };
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= (async () => {
      await Promise.all(started.map((proc) => proc.stop()));
      await rm(dir, { recursive: true, force: true });
    })();
    return stopped;
  };

  try {
    await mkdir(join(dir, 'devices', 'd1'), { recursive: true });
    await writeFile(join(dir, 'swift.conf'), swiftConf());
    for (const backend of BACKENDS) {
      await writeFile(join(dir, `${backend}-server.conf`), backendConf(dir, backend, backendPorts[backend]));
    }
    await writeFile(join(dir, 'proxy-server.conf'), proxyConf(dir, proxyPort, memcachedPort));
    signal?.throwIfAborted();

    // The backends do not read the rings, so they start while the rings are built; the proxy does.
    const ringBuilder = run(BUILD_RINGS, [JSON.stringify(ringCommands(dir, backendPorts))]);
    const ringsBuilt = once(ringBuilder.child, 'close', signal ? { signal } : {});
    // memcached refuses to run as root unless told which user to be; -U 0 turns off UDP.
    const memcachedArgs = ['-l', '127.0.0.1', '-p', String(memcachedPort), '-U', '0', '-u', userInfo().username, '-m', '64'];
    servers.push({ name: `memcached on port ${memcachedPort}`, proc: run(EXEC, ['memcached', ...memcachedArgs]) });
    for (const backend of BACKENDS) {
      const conf = join(dir, `${backend}-server.conf`);
      servers.push({ name: `Swift's ${backend}-server on port ${backendPorts[backend]}`, proc: run(RUN_SERVER, [`${backend}-server`, conf]) });
    }
    await ringsBuilt;
    if (ringBuilder.child.exitCode !== 0) {
      throw new Error(`Cannot build Swift's rings in "${dir}": swift-ring-builder exited with ${ringBuilder.child.exitCode ?? ringBuilder.child.signalCode}:\n${ringBuilder.output()}`);
    }
    const proxyConfPath = join(dir, 'proxy-server.conf');
    servers.push({ name: `Swift's proxy-server on port ${proxyPort}`, proc: run(RUN_SERVER, ['proxy-server', proxyConfPath]) });

    const probes = [
      ...[...BACKENDS.map((backend) => backendPorts[backend]), proxyPort].map((port) => () => answersHealthcheck(port)),
      () => acceptsConnection(memcachedPort),
    ];
    await waitForAll(servers, probes, { timeoutMs: options.timeoutMs ?? 60_000, signal });
  } catch (error) {
    await stop();
    throw error;
  }

  return {
    endpoint: `http://127.0.0.1:${proxyPort}`,
    region: REGION,
    accessKeyId: `${ACCOUNT}:${USER}`,
    secretAccessKey: SECRET,
    name: 'swift',
    tagging: false,
    authUrl: `http://127.0.0.1:${proxyPort}/auth/v1.0`,
    user: `${ACCOUNT}:${USER}`,
    key: SECRET,
    stop,
  };
}

/**
 * The Python that has Swift's modules: the interpreter named by swift-proxy-server's `#!` line.
 * Throws with the install command if swift-proxy-server or memcached is missing.
 */
async function swiftPython(): Promise<string> {
  const [proxyScript, memcached] = await Promise.all([findOnPath('swift-proxy-server'), findOnPath('memcached')]);
  if (proxyScript === undefined || memcached === undefined) {
    const missing = proxyScript === undefined ? 'swift-proxy-server' : 'memcached';
    throw new Error(`Cannot start Swift: ${missing} is not installed; run \`${SWIFT_INSTALL_COMMAND}\``);
  }
  const file = await open(proxyScript);
  try {
    const { buffer, bytesRead } = await file.read(Buffer.alloc(256), 0, 256, 0);
    const firstLine = buffer.subarray(0, bytesRead).toString('utf8').split('\n')[0] ?? '';
    const interpreter = /^#!\s*(\S+)/.exec(firstLine)?.[1];
    return interpreter === undefined || interpreter.endsWith('/env') ? 'python3' : interpreter;
  } finally {
    await file.close();
  }
}

async function findOnPath(command: string): Promise<string | undefined> {
  const dirs = (process.env['PATH'] ?? '').split(delimiter).filter((dir) => dir !== '');
  for (const dir of dirs) {
    const path = join(dir, command);
    try {
      await access(path, constants.X_OK);
      return path;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

async function distinctFreePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort());
  return [...ports];
}

function swiftConf(): string {
  return `[swift-hash]
swift_hash_path_prefix = ${randomBytes(8).toString('hex')}
swift_hash_path_suffix = ${randomBytes(8).toString('hex')}

[storage-policy:0]
name = gold
default = yes
`;
}

/** Settings every server shares: foreground, one process, this process's user, every file under `dir`. */
function commonConf(dir: string, port: number): string {
  return `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
user = ${userInfo().username}
swift_dir = ${dir}
devices = ${join(dir, 'devices')}
mount_check = false
disable_fallocate = true
log_level = WARNING
`;
}

function backendConf(dir: string, backend: Backend, port: number): string {
  return `${commonConf(dir, port)}
[pipeline:main]
pipeline = healthcheck ${backend}-server

[app:${backend}-server]
use = egg:swift#${backend}

[filter:healthcheck]
use = egg:swift#healthcheck
`;
}

function proxyConf(dir: string, port: number, memcachedPort: number): string {
  return `${commonConf(dir, port)}
[pipeline:main]
pipeline = catch_errors gatekeeper healthcheck cache listing_formats s3api tempauth copy slo dlo proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true

[filter:s3api]
use = egg:swift#s3api
location = ${REGION}

[filter:tempauth]
use = egg:swift#tempauth
user_${ACCOUNT}_${USER} = ${SECRET} .admin

[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcachedPort}

[filter:catch_errors]
use = egg:swift#catch_errors

[filter:gatekeeper]
use = egg:swift#gatekeeper

[filter:healthcheck]
use = egg:swift#healthcheck

[filter:listing_formats]
use = egg:swift#listing_formats

[filter:copy]
use = egg:swift#copy

[filter:slo]
use = egg:swift#slo

[filter:dlo]
use = egg:swift#dlo
`;
}

/** swift-ring-builder's arguments for one ring per backend: one replica on one device, 2^6 partitions. */
function ringCommands(dir: string, ports: Readonly<Record<Backend, number>>): string[][] {
  return BACKENDS.flatMap((backend) => {
    const builder = join(dir, `${backend}.builder`);
    return [
      [builder, 'create', '6', '1', '0'],
      [builder, 'add', `r1z1-127.0.0.1:${ports[backend]}/d1`, '1'],
      [builder, 'rebalance'],
    ];
  });
}

/** Polls until every probe answers; fails as soon as any process exits, with that process's output. */
async function waitForAll(
  processes: readonly { name: string; proc: ManagedProcess }[],
  probes: readonly (() => Promise<boolean>)[],
  options: { timeoutMs: number; signal: AbortSignal | undefined },
): Promise<void> {
  const deadline = Date.now() + options.timeoutMs;
  const pending = new Set(probes);
  for (;;) {
    options.signal?.throwIfAborted();
    for (const { name, proc } of processes) {
      const { exitCode, signalCode } = proc.child;
      if (exitCode !== null || signalCode !== null) {
        // 'exit' can come before the last of the output has been read; 'close' comes after.
        await Promise.race([once(proc.child, 'close'), sleep(500)]);
        throw new Error(`Cannot start ${name}: it exited with ${exitCode ?? signalCode}:\n${proc.output()}`);
      }
    }
    for (const probe of [...pending]) {
      if (await probe()) pending.delete(probe);
    }
    if (pending.size === 0) return;
    if (Date.now() > deadline) {
      const outputs = processes.map(({ name, proc }) => `--- ${name}:\n${proc.output()}`).join('\n');
      throw new Error(`Cannot start Swift: not ready after ${options.timeoutMs} ms:\n${outputs}`);
    }
    await sleep(50);
  }
}

function answersHealthcheck(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/healthcheck', method: 'GET', timeout: 1000 }, (res) => {
      res.resume();
      resolve(res.statusCode === 200);
    });
    req.on('error', () => resolve(false));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}

function acceptsConnection(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
