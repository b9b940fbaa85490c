import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { isDoraError, type ErrorCode } from '../common/errors.js';
import { CONFIG_KEYS } from './config-keys.js';
import { describeConfig } from './describe-config.js';
import { CONFIG_KEY_NAMES } from './config-keys.js';
import { resolveConfig, type ConfigSources } from './resolve-config.js';
import { MiB, SECOND } from './units.js';

let dir = '';
let fileCount = 0;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'dora-conf-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh YAML file holding `text`. */
async function configFile(text: string): Promise<string> {
  const path = join(dir, `dora-${++fileCount}.yaml`);
  await writeFile(path, text);
  return path;
}

function resolve(sources: Partial<ConfigSources>): ReturnType<typeof resolveConfig> {
  return resolveConfig({ env: {}, flags: {}, ...sources });
}

/** Expects a DoraError with `code` whose message equals, matches or satisfies `message`. */
async function assertRejects(promise: Promise<unknown>, code: ErrorCode, message: string | RegExp | ((text: string) => boolean)): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(isDoraError(error, code), `expected ${code}, got ${String(error)}`);
    if (typeof message === 'string') assert.equal(error.message, message);
    else if (message instanceof RegExp) assert.match(error.message, message);
    else assert.ok(message(error.message), error.message);
    return true;
  });
}

describe('resolveConfig()', () => {
  it('resolveConfig() returns the declared defaults when no source sets anything', async () => {
    const config = await resolve({});
    assert.equal(config.dataDir, './dora-data');
    assert.equal(config.mountTable.file, '');
    assert.deepEqual(config.ufs.retry, { maxAttempts: 5, baseDelay: 100, maxDelay: 5 * SECOND, maxElapsed: 60 * SECOND });
    assert.equal(config.ufs.timeout, 30 * SECOND);
    assert.equal(config.ufs.idleTimeout, 60 * SECOND);
    assert.deepEqual(config.ufs.s3, { multipartThreshold: 5 * 1024 * MiB, partSize: 16 * MiB, uploadConcurrency: 4, maxSockets: 64 });
    assert.equal(config.host, '127.0.0.1');
    assert.deepEqual([config.web.port, config.worker.port, config.s3.port], [19999, 29999, 29998]);
    const level: 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'silent' = config.log.level; // the type follows the declaration
    assert.equal(level, 'info');
  });

  it('resolveConfig() lets env override the file and flags override both', async () => {
    const file = await configFile('ufs:\n  timeout: 10s\n  retry:\n    maxAttempts: 3\nlog:\n  level: debug\n');
    const config = await resolve({
      file,
      env: { DORA_UFS_TIMEOUT: '20s', DORA_LOG_LEVEL: 'warn' },
      flags: { 'ufs.timeout': '40s' },
    });
    assert.equal(config.ufs.timeout, 40 * SECOND);
    assert.equal(config.log.level, 'warn');
    assert.equal(config.ufs.retry.maxAttempts, 3);
    assert.equal(config.ufs.retry.baseDelay, 100);
  });

  it('resolveConfig() reads nested, dotted and mixed keys from the file', async () => {
    const file = await configFile(
      ['ufs.retry.maxAttempts: 7', 'ufs.s3:', '  partSize: 8MiB', 'web:', '  port: 0', 'worker: { port: 1234 }'].join('\n'),
    );
    const config = await resolve({ file });
    assert.equal(config.ufs.retry.maxAttempts, 7);
    assert.equal(config.ufs.s3.partSize, 8 * MiB);
    assert.equal(config.web.port, 0);
    assert.equal(config.worker.port, 1234);
  });

  it('resolveConfig() reads YAML numbers as bytes and milliseconds, and quoted numbers as text', async () => {
    const file = await configFile('ufs:\n  s3:\n    partSize: 8388608\n  timeout: 2500\n  retry:\n    maxAttempts: "9"\n');
    const config = await resolve({ file });
    assert.equal(config.ufs.s3.partSize, 8 * MiB);
    assert.equal(config.ufs.timeout, 2500);
    assert.equal(config.ufs.retry.maxAttempts, 9);
  });

  it('resolveConfig() accepts an empty file and empty sections', async () => {
    const empty = await resolve({ file: await configFile('') });
    assert.equal(empty.ufs.timeout, 30 * SECOND);
    const comments = await resolve({ file: await configFile('# nothing yet\nufs:\n  # timeout: 1s\nlog:\n') });
    assert.equal(comments.ufs.timeout, 30 * SECOND);
  });

  it('resolveConfig() follows YAML anchors and aliases', async () => {
    const file = await configFile('web:\n  port: &port 8080\ns3:\n  port: *port\n');
    const config = await resolve({ file });
    assert.equal(config.s3.port, 8080);
  });

  it('resolveConfig() accepts kebab-case flags', async () => {
    const config = await resolve({ flags: { 'ufs.retry.max-attempts': '2', 'data-dir': '/var/dora', 'ufs.s3.part-size': '32MiB' } });
    assert.equal(config.ufs.retry.maxAttempts, 2);
    assert.equal(config.dataDir, '/var/dora');
    assert.equal(config.ufs.s3.partSize, 32 * MiB);
  });

  it('resolveConfig() ignores unrelated and allow-listed DORA_* environment variables', async () => {
    const env = {
      PATH: '/usr/bin',
      HOME: '/root',
      DORA_ADDRESS: 'localhost:29999',
      DORA_CONFIG: '/etc/dora.yaml',
      DORA_TEST_CONCURRENCY: '2',
      DORA_WEB_PORT: undefined,
    };
    const config = await resolve({ env });
    assert.equal(config.web.port, 19999);
  });

  it('resolveConfig() reads only the environment it is given, never process.env', async () => {
    process.env['DORA_WEB_PORT'] = '1';
    try {
      assert.equal((await resolve({})).web.port, 19999);
    } finally {
      delete process.env['DORA_WEB_PORT'];
    }
  });

  it('resolveConfig() returns a deeply frozen object; assigning throws', async () => {
    const config = await resolve({});
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.ufs) && Object.isFrozen(config.ufs.retry));
    assert.throws(() => {
      (config.ufs.retry as { maxAttempts: number }).maxAttempts = 1;
    }, TypeError);
    assert.throws(() => {
      (config as unknown as Record<string, unknown>).extra = 1;
    }, TypeError);
    assert.equal(config.ufs.retry.maxAttempts, 5);
  });

  it('resolveConfig() keeps bookkeeping out of the visible object', async () => {
    const config = await resolve({ env: { DORA_LOG_LEVEL: 'debug' } });
    const topLevel = [...new Set(CONFIG_KEY_NAMES.map((k) => k.split('.')[0]))];
    assert.deepEqual(Object.keys(config), topLevel);
    assert.equal(JSON.parse(JSON.stringify(config)).log.level, 'debug');
  });

  it('resolveConfig() stops with CANCELLED when the signal has aborted', async () => {
    const file = await configFile('log.level: debug\n');
    await assertRejects(resolveConfig({ file, env: {}, flags: {} }, { signal: AbortSignal.abort() }), 'CANCELLED', /cancelled/);
  });
});

describe('resolveConfig() errors', () => {
  it('reports a missing file as NOT_FOUND', async () => {
    const file = join(dir, 'missing.yaml');
    await assertRejects(resolve({ file }), 'NOT_FOUND', `Cannot load configuration "${file}": no such file`);
  });

  it('reports malformed YAML with its line', async () => {
    const file = await configFile('log:\n  level: info\n bad: : x\n');
    const prefix = `Cannot load configuration "${file}": malformed YAML on line 3: `;
    await assertRejects(resolve({ file }), 'INVALID_ARGUMENT', (message: string) => message.startsWith(prefix));
    const twoDocuments = await configFile('log.level: info\n---\nlog.level: debug\n');
    await assertRejects(resolve({ file: twoDocuments }), 'INVALID_ARGUMENT', /malformed YAML on line 2: it holds more than one document$/);
    const duplicate = await configFile('log:\n  level: info\n  level: debug\n');
    await assertRejects(resolve({ file: duplicate }), 'INVALID_ARGUMENT', /malformed YAML on line 3: map keys must be unique/);
  });

  it('reports an unknown key in the file, suggesting the closest known key', async () => {
    const file = await configFile('log.level: info\nufs:\n  retri:\n    maxAttempts: 5\n');
    await assertRejects(
      resolve({ file }),
      'INVALID_ARGUMENT',
      `Cannot load configuration "${file}": unknown key "ufs.retri.maxAttempts" on line 4 (did you mean "ufs.retry.maxAttempts"?)`,
    );
  });

  it('suggests the full key for a key written at the wrong level', async () => {
    const file = await configFile('maxAttempts: 5\n');
    await assertRejects(resolve({ file }), 'INVALID_ARGUMENT', /unknown key "maxAttempts" on line 1 \(did you mean "ufs.retry.maxAttempts"\?\)$/);
  });

  it('reports an unknown key with no suggestion when nothing is close', async () => {
    const file = await configFile('quota:\n  bananas: 12\n');
    await assertRejects(resolve({ file }), 'INVALID_ARGUMENT', `Cannot load configuration "${file}": unknown key "quota.bananas" on line 2`);
  });

  it('reports a key set twice in the file', async () => {
    const file = await configFile('ufs:\n  timeout: 1s\nufs.timeout: 2s\n');
    await assertRejects(resolve({ file }), 'INVALID_ARGUMENT', `Cannot load configuration "${file}": key "ufs.timeout" is set twice, on lines 2 and 3`);
  });

  it('reports a section given a single value, and a file that is not a mapping', async () => {
    const section = await configFile('log: debug\n');
    await assertRejects(resolve({ file: section }), 'INVALID_ARGUMENT', /: section "log" on line 1 must be a mapping of keys, not a single value$/);
    const list = await configFile('- a\n- b\n');
    const message = `Cannot load configuration "${list}": the file must be a mapping of keys, not a list`;
    await assertRejects(resolve({ file: list }), 'INVALID_ARGUMENT', message);
  });

  it('names the file and line of a bad value in the file', async () => {
    const file = await configFile('ufs:\n  s3:\n    partSize: 1MiB\n');
    await assertRejects(
      resolve({ file }),
      'INVALID_ARGUMENT',
      `Cannot read configuration key "ufs.s3.partSize" from "${file}" line 3: "1MiB" is out of range (5 MiB to 5 GiB)`,
    );
  });

  it('names the environment variable of a bad value', async () => {
    await assertRejects(
      resolve({ env: { DORA_UFS_TIMEOUT: 'abc' } }),
      'INVALID_ARGUMENT',
      'Cannot read configuration key "ufs.timeout" from DORA_UFS_TIMEOUT: "abc" is not a duration (e.g. 30s, 500ms)',
    );
  });

  it('names the flag of a bad value', async () => {
    await assertRejects(
      resolve({ flags: { 'web.port': '65536' } }),
      'INVALID_ARGUMENT',
      'Cannot read configuration key "web.port" from flag --web.port: "65536" is out of range (0 to 65535)',
    );
  });

  it('rejects values outside their declared range or choices', async () => {
    const cases: [Record<string, string>, RegExp][] = [
      [{ 's3.port': '-1' }, /"-1" is out of range \(0 to 65535\)/],
      [{ 'ufs.retry.maxAttempts': '0' }, /"0" is out of range \(at least 1\)/],
      [{ 'ufs.timeout': '0' }, /"0" is out of range \(at least 1ms\)/],
      [{ 'ufs.s3.uploadConcurrency': 'four' }, /"four" is not an integer/],
      [{ 'log.level': 'verbose' }, /"verbose" is not one of trace, debug, info, warn, error/],
    ];
    for (const [flags, message] of cases) await assertRejects(resolve({ flags }), 'INVALID_ARGUMENT', message);
  });

  it('reports a bad value even when a later source overrides it', async () => {
    await assertRejects(
      resolve({ env: { DORA_WEB_PORT: 'x' }, flags: { 'web.port': '1' } }),
      'INVALID_ARGUMENT',
      /from DORA_WEB_PORT: "x" is not an integer/,
    );
  });

  it('reports an unknown DORA_* environment variable, suggesting the closest', async () => {
    await assertRejects(
      resolve({ env: { DORA_UFS_TIMOUT: '1s' } }),
      'INVALID_ARGUMENT',
      'Cannot read environment variable DORA_UFS_TIMOUT: it names no configuration key (did you mean DORA_UFS_TIMEOUT?)'.replace(
        'variable DORA_UFS_TIMEOUT',
        'variable DORA_UFS_TIMOUT',
      ),
    );
    await assertRejects(resolve({ env: { DORA_MAX_ATTEMPTS: '1' } }), 'INVALID_ARGUMENT', /\(did you mean DORA_UFS_RETRY_MAX_ATTEMPTS\?\)$/);
    await assertRejects(resolve({ env: { DORA_WHATEVER_ELSE: '1' } }), 'INVALID_ARGUMENT', /DORA_WHATEVER_ELSE: it names no configuration key$/);
  });

  it('reports an unknown flag, suggesting the closest key', async () => {
    await assertRejects(
      resolve({ flags: { 'ufs.retri.max-attempts': '5' } }),
      'INVALID_ARGUMENT',
      'Cannot read flag --ufs.retri.max-attempts: it names no configuration key (did you mean --ufs.retry.maxAttempts?)',
    );
  });

  it('reports two spellings of the same flag', async () => {
    await assertRejects(
      resolve({ flags: { 'ufs.retry.maxAttempts': '5', 'ufs.retry.max-attempts': '6' } }),
      'INVALID_ARGUMENT',
      'Cannot read flag --ufs.retry.max-attempts: --ufs.retry.maxAttempts already sets "ufs.retry.maxAttempts"',
    );
  });
});

describe('describeConfig()', () => {
  it('describeConfig() reports where each value came from', async () => {
    const file = await configFile('ufs.timeout: 10s\nlog.level: debug\nweb.port: 1\n');
    const config = await resolve({ file, env: { DORA_LOG_LEVEL: 'warn', DORA_WEB_PORT: '2' }, flags: { 'web.port': '3' } });
    const sources = Object.fromEntries(describeConfig(config).map((row) => [row.key, row.source]));
    assert.equal(sources['ufs.timeout'], 'file');
    assert.equal(sources['log.level'], 'env');
    assert.equal(sources['web.port'], 'flag');
    assert.equal(sources['dataDir'], 'default');
  });

  it('describeConfig() lists every key in declaration order with display text', async () => {
    const config = await resolve({ flags: { 'ufs.s3.partSize': '32MiB' } });
    const rows = describeConfig(config);
    assert.deepEqual(rows.map((row) => row.key), Object.keys(CONFIG_KEYS));
    const partSize = rows.find((row) => row.key === 'ufs.s3.partSize');
    assert.deepEqual(partSize, {
      key: 'ufs.s3.partSize',
      value: '32 MiB',
      default: '16 MiB',
      source: 'flag',
      description: CONFIG_KEYS['ufs.s3.partSize'].description,
    });
    const timeout = rows.find((row) => row.key === 'ufs.timeout');
    assert.equal(timeout?.value, '30s');
    assert.equal(rows.find((row) => row.key === 'mountTable.file')?.value, '');
  });

  it('describeConfig() rejects an object resolveConfig() did not produce', async () => {
    const config = await resolve({});
    assert.throws(() => describeConfig({ ...config }), (error: unknown) => isDoraError(error, 'INVALID_ARGUMENT'));
  });
});
