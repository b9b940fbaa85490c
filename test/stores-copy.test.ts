import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { credentialsFromEnv } from '../src/conf/credentials-from-env.js';
import { startEmbedded, type Embedded } from '../src/server/embedded.js';
import { startAzurite, type AzuriteServer } from '../src/testing/azurite-server.js';
import { startGcsTestServer, type GcsTestServer } from '../src/testing/gcs-test-server.js';
import { startNginxServer, type NginxServer } from '../src/testing/nginx-server.js';
import { createSwiftContainer, swiftTempAuthOptions } from '../src/testing/swift-fixture.js';
import { startSwiftS3Server, type SwiftServerHandle } from '../src/testing/swift-s3-server.js';
import { startWebHdfsTestServer, type WebHdfsTestServer } from '../src/testing/webhdfs-test-server.js';
import { AzureApi } from '../src/ufs/azure/azure-api.js';
import { dora } from './cli-helpers.js';

const KiB = 1024;
const MiB = 1024 * KiB;

/** Every file below `dir` by relative path, with the SHA-256 of its bytes. */
async function tree(dir: string): Promise<Record<string, string>> {
  const found: Record<string, string> = {};
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile() || entry.name.startsWith('.dora-')) continue;
    const path = join(entry.parentPath, entry.name);
    found[relative(dir, path)] = createHash('sha256').update(await readFile(path)).digest('hex');
  }
  return found;
}

/** A store mounted for the test: the `dora mount add` arguments, and what it needs first. */
interface Store {
  readonly path: string;
  readonly mountArgs: string[];
}

describe('copying a directory from each store to the next with dora job copy', () => {
  let dir: string;
  let embedded: Embedded | undefined;
  let azurite: AzuriteServer | undefined;
  let gcs: GcsTestServer | undefined;
  let hdfs: WebHdfsTestServer | undefined;
  let nginx: NginxServer | undefined;
  let swift: SwiftServerHandle | undefined;
  const stores: Store[] = [];
  const source = (): string => join(dir, 'data', 'root', 'src');

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dora-stores-'));
    // A tree with nested directories, awkward names, an empty file and files across page boundaries.
    const files: Record<string, number> = { 'a.txt': 5, 'empty.bin': 0, 'deep/er/still/x.bin': 300 * KiB, 'big/three-pages.bin': 2 * MiB + 17, 'names/with space+plus%.txt': 11, 'names/ünïcode.csv': 2 * KiB };
    for (let i = 0; i < 30; i++) files[`many/f-${String(i).padStart(2, '0')}.bin`] = 1 * KiB + i;
    for (const [name, size] of Object.entries(files)) {
      await mkdir(join(source(), name, '..'), { recursive: true });
      await writeFile(join(source(), name), randomBytes(size));
    }
    [azurite, gcs, hdfs, nginx, swift] = await Promise.all([startAzurite(), startGcsTestServer(), startWebHdfsTestServer(), startNginxServer(), startSwiftS3Server()]);

    const container = `copies-${Date.now().toString(36)}`;
    const api = new AzureApi({ endpoint: azurite.endpoint, container, credentials: { kind: 'sharedKey', account: azurite.account, accountKey: azurite.accountKey }, maxSockets: 2 });
    await api.createContainer();
    api.close();
    stores.push({ path: '/azure', mountArgs: [`wasbs://${container}@${azurite.account}/dora`, '--option', `endpoint=${azurite.endpoint}`, '--credentials', 'azure'] });

    await createSwiftContainer(swift, 'copies');
    stores.push({ path: '/swift', mountArgs: ['swift://copies/dora', ...Object.entries(swiftTempAuthOptions(swift)).flatMap(([k, v]) => ['--option', `${k}=${v}`])] });

    gcs.createBucket('copies');
    stores.push({ path: '/gcs', mountArgs: ['gs://copies/dora', '--option', `endpoint=${gcs.endpoint}`, '--option', `credentials=${gcs.serviceAccountKey('copier@dora-test.iam.gserviceaccount.com')}`] });

    stores.push({ path: '/hdfs', mountArgs: [`hdfs://127.0.0.1:${hdfs.namenodePort}/`, '--option', 'user=dora'] });

    const env = { DORA_CREDENTIALS_AZURE_ACCOUNT_KEY: azurite.accountKey };
    embedded = await startEmbedded({ dataDir: join(dir, 'data'), flags: { 'cache.pageSize': '1MiB' }, resolveCredentials: credentialsFromEnv(env) });
    for (const store of stores) {
      const mounted = await dora(embedded.coordinatorUrl, ['mount', 'add', store.path, ...store.mountArgs]);
      assert.equal(mounted.code, 0, `dora mount add ${store.path}: ${mounted.stderr}`);
    }
  });
  after(async () => {
    await embedded?.stop();
    await Promise.all([azurite?.stop(), gcs?.stop(), hdfs?.stop(), nginx?.stop(), swift?.stop()]);
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('copies local → Azure → Swift → GCS → HDFS → local with every byte intact, and lists the same tree in each', async () => {
    const address = embedded!.coordinatorUrl;
    const hops = ['/src', ...stores.map((s) => `${s.path}/tree`), '/back'];
    for (let i = 1; i < hops.length; i++) {
      const copied = await dora(address, ['job', 'copy', hops[i - 1]!, hops[i]!, '--check-content', '--wait', '--format', 'json']);
      assert.equal(copied.code, 0, `copy ${hops[i - 1]} → ${hops[i]}: ${copied.stderr}`);
      const job = JSON.parse(copied.stdout) as { state: string; progress: { filesDone: number; filesFailed?: number } };
      assert.equal(job.state, 'succeeded', `copy ${hops[i - 1]} → ${hops[i]}: ${copied.stdout}`);
      assert.equal(job.progress.filesDone, 36, `copy ${hops[i - 1]} → ${hops[i]} copied every file`);
      const listed = await dora(address, ['fs', 'ls', '-R', hops[i]!]);
      assert.equal(listed.code, 0, listed.stderr);
      assert.match(listed.stdout, /names\/with space\+plus%\.txt/);
    }
    assert.deepEqual(await tree(join(dir, 'data', 'root', 'back')), await tree(source()));
  });

  it('copies a directory served by nginx (a read-only http:// mount) to a local one, byte for byte', async () => {
    const address = embedded!.coordinatorUrl;
    await cp(source(), join(nginx!.root, 'site', 'src'), { recursive: true });
    const mounted = await dora(address, ['mount', 'add', '/web', `${nginx!.url}/site/`, '--read-only']);
    assert.equal(mounted.code, 0, mounted.stderr);
    const copied = await dora(address, ['job', 'copy', '/web/src', '/from-web', '--check-content', '--wait', '--format', 'json']);
    assert.equal(copied.code, 0, copied.stderr);
    assert.equal((JSON.parse(copied.stdout) as { state: string }).state, 'succeeded');
    assert.deepEqual(await tree(join(dir, 'data', 'root', 'from-web')), await tree(source()));
    const refused = await dora(address, ['job', 'copy', '/from-web', '/web/back', '--wait']);
    assert.notEqual(refused.code, 0, 'a read-only store takes no copies');
  });
});
