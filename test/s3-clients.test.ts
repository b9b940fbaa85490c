import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { sha256 } from '../src/testing/assertions.js';

const run = promisify(execFile);

/** s3cmd and rclone (Debian packages .ci/run installs) against the S3 API, anonymous on loopback. */
describe('the S3 API with s3cmd and rclone', () => {
  let dir: string;
  let dora: Embedded;
  let data: Buffer;
  let file: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-s3clients-'));
    dora = await startEmbedded({ dataDir: join(dir, 'dora') });
    data = randomBytes(6 * 1024 * 1024 + 7);
    await mkdir(join(dir, 'src'));
    file = join(dir, 'src', 'data.bin');
    await writeFile(file, data);
  });
  after(async () => {
    await dora.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('s3cmd makes a bucket, puts, lists, gets and deletes', async () => {
    const hostPort = new URL(dora.s3Url).host;
    const config = join(dir, 's3cfg');
    await writeFile(config, ['[default]', 'access_key = any', 'secret_key = any', `host_base = ${hostPort}`, `host_bucket = ${hostPort}`, 'use_https = False', 'signature_v2 = False', ''].join('\n'));
    const s3cmd = (...args: string[]) => run('s3cmd', ['-c', config, ...args]);
    await s3cmd('mb', 's3://viacmd');
    await s3cmd('put', file, 's3://viacmd/in/data.bin');
    assert.match((await s3cmd('ls', 's3://viacmd/in/')).stdout, /6291463\s+s3:\/\/viacmd\/in\/data.bin/);
    await s3cmd('get', '--force', 's3://viacmd/in/data.bin', join(dir, 'data.cmd'));
    assert.equal(sha256(await readFile(join(dir, 'data.cmd'))), sha256(data));
    await s3cmd('del', 's3://viacmd/in/data.bin');
    await s3cmd('rb', 's3://viacmd');
  });

  it('rclone copies up and down, lists and checks', async () => {
    // rclone's AWS SDK refuses a CA bundle setting on a plain-http endpoint: leave it out.
    const { AWS_CA_BUNDLE: _bundle, ...inherited } = process.env;
    const env = {
      ...inherited,
      RCLONE_CONFIG: '/dev/null',
      RCLONE_CONFIG_DORA_TYPE: 's3',
      RCLONE_CONFIG_DORA_PROVIDER: 'Other',
      RCLONE_CONFIG_DORA_ENDPOINT: dora.s3Url,
      RCLONE_CONFIG_DORA_ACCESS_KEY_ID: 'any',
      RCLONE_CONFIG_DORA_SECRET_ACCESS_KEY: 'any',
      RCLONE_CONFIG_DORA_FORCE_PATH_STYLE: 'true',
    };
    const rclone = (...args: string[]) => run('rclone', args, { env });
    await rclone('mkdir', 'dora:viarclone');
    await rclone('copy', file, 'dora:viarclone/up/');
    assert.match((await rclone('ls', 'dora:viarclone')).stdout, /6291463 up\/data.bin/);
    // --download compares content: ETags of objects on file:// mounts are not MD5s yet.
    await rclone('check', '--download', join(dir, 'src'), 'dora:viarclone/up/');
    await rclone('copy', 'dora:viarclone/up/data.bin', join(dir, 'down'));
    assert.equal(sha256(await readFile(join(dir, 'down', 'data.bin'))), sha256(data));
    await rclone('purge', 'dora:viarclone');
  });
});
