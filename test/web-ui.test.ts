import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { DoraClient } from '../src/client/dora-client.js';
import type { ClusterSummary } from '../src/client/cluster-summary-types.js';
import type { JobRecord } from '../src/job/job-types.js';
import { startLocalCluster, type LocalCluster } from '../src/testing/local-cluster.js';

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
/** test-output/screenshots at the repository root (this file runs compiled, from dist/test/). */
const SCREENSHOTS = fileURLToPath(new URL('../../test-output/screenshots/', import.meta.url));
/** The cluster totals the overview shows, by data-testid. */
const TOTALS = [
  ['workers', 'total-workers'],
  ['live', 'total-live'],
  ['capacityBytes', 'total-capacity'],
  ['usedBytes', 'total-used'],
  ['pages', 'total-pages'],
  ['hits', 'total-hits'],
  ['misses', 'total-misses'],
  ['hitRatio', 'total-hit-ratio'],
  ['bytesFromCache', 'total-bytes-from-cache'],
  ['bytesFromStore', 'total-bytes-from-store'],
] as const;
const KiB = 1024;
const MiB = 1024 * KiB;

/** Polls `read` every 100 ms until it deep-equals what `expected` answers then; fails showing both after `timeoutMs`. */
async function settles<T>(read: () => Promise<T>, expected: () => Promise<T>, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const [shown, wanted] = await Promise.all([read(), expected()]);
    if (JSON.stringify(shown) === JSON.stringify(wanted)) return shown;
    if (Date.now() > deadline) assert.deepEqual(shown, wanted, `${what}: not as expected after ${timeoutMs} ms`);
    await sleep(100);
  }
}

describe('the web UI in a cluster of two workers, in headless Chromium', { skip: existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing (apt-get install chromium)` }, () => {
  let cluster: LocalCluster;
  let client: DoraClient;
  let browser: Browser;
  let localDir = '';
  const requested: string[] = [];
  const pageErrors: string[] = [];

  before(async () => {
    localDir = await mkdtemp(join(tmpdir(), 'dora-web-ui-'));
    [cluster, browser] = await Promise.all([
      startLocalCluster({ workers: 2, set: { 'web.historyInterval': '1s' } }),
      chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS }),
      mkdir(SCREENSHOTS, { recursive: true }),
    ]);
    await cluster.mount({ path: '/local', uri: `file://${localDir}` });
    client = cluster.client();
  });
  after(async () => {
    await browser?.close();
    await cluster?.stop();
    if (localDir !== '') await rm(localDir, { recursive: true, force: true });
  });

  const api = async <T>(path: string): Promise<T> => {
    const res = await fetch(`${cluster.coordinatorUrl}${path}`);
    assert.equal(res.status, 200, `GET ${path}: ${await res.clone().text()}`);
    return (await res.json()) as T;
  };
  const open = async (hash: string): Promise<Page> => {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (r) => requested.push(r.url()));
    page.on('pageerror', (e) => pageErrors.push(e.message));
    await page.goto(`${cluster.coordinatorUrl}/${hash}`);
    return page;
  };
  const shot = (page: Page, name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  /** The raw number a console element shows (its data-value); null for a dash. */
  const shown = async (page: Page, testid: string): Promise<number | null> => {
    const value = await page.getByTestId(testid).getAttribute('data-value', { timeout: 10_000 });
    return value === null || value === '' ? null : Number(value);
  };
  const text = (page: Page, testid: string) => page.getByTestId(testid).innerText({ timeout: 10_000 });
  const seed = async (dir: string, count: number, size: number): Promise<void> => {
    await Promise.all(Array.from({ length: count }, (_, i) => client.write(`${dir}/f-${i}.bin`, randomBytes(size))));
    await client.free(dir);
  };
  /** Submits a job through the form; answers its id. */
  const submit = async (page: Page, kind: 'load' | 'free', path: string, bandwidth = ''): Promise<string> => {
    await page.getByTestId('job-kind').selectOption(kind);
    await page.getByTestId('job-path').fill(path);
    if (kind === 'load') await page.getByTestId('job-bandwidth').fill(bandwidth);
    const message = page.getByTestId('job-form-message');
    const before = await message.getAttribute('data-job-id');
    await page.getByTestId('job-submit').click();
    for (const deadline = Date.now() + 15_000; ; await sleep(100)) {
      const id = await message.getAttribute('data-job-id');
      if (id !== null && id !== before) return id;
      if (Date.now() > deadline) assert.fail(`No job id shown after submitting ${kind} ${path}: ${await message.innerText()}`);
    }
  };
  const jobShown = async (page: Page, id: string) => ({
    state: await text(page, `job-${id}-state`),
    filesDone: await shown(page, `job-${id}-files-done`),
    filesListed: await shown(page, `job-${id}-files-listed`),
    bytesDone: await shown(page, `job-${id}-bytes-done`),
    filesFailed: await shown(page, `job-${id}-files-failed`),
  });
  const jobFromApi = async (id: string) => {
    const job = await api<JobRecord>(`/api/v1/jobs/status?id=${encodeURIComponent(id)}`);
    const p = job.progress;
    return { state: job.state, filesDone: p.filesDone, filesListed: p.filesListed, bytesDone: p.bytesDone, filesFailed: p.filesFailed };
  };

  it('overview shows every worker and the totals as GET /api/v1/nodes and /api/v1/cluster do', async () => {
    const page = await open('#/overview');
    const nodes = (await api<{ workers: Array<{ id: string; address: string; state: string }> }>('/api/v1/nodes')).workers;
    assert.equal(nodes.length, 2);
    for (const node of nodes) {
      assert.equal(await text(page, `worker-${node.id}-state`), node.state);
      assert.equal(await text(page, `worker-${node.id}-address`), node.address);
    }
    assert.equal(await page.locator('[data-testid="workers-table"] tbody tr').count(), nodes.length);
    await client.write('/local/overview.bin', randomBytes(2 * MiB));
    await client.readFile('/local/overview.bin'); // some cache figures that are not zero
    const fromApi = async () => {
      const summary = await api<ClusterSummary>('/api/v1/cluster');
      const workers = [...summary.workers].sort((a, b) => a.id.localeCompare(b.id));
      return { totals: [...TOTALS.map(([key]) => summary.totals[key]), summary.mounts], workers: workers.map((w) => [w.id, w.capacityBytes, w.usedBytes, w.pages, w.hitRatio]) };
    };
    const onPage = async () => ({
      totals: await Promise.all([...TOTALS.map(([, testid]) => shown(page, testid)), shown(page, 'mounts-count')]),
      workers: await Promise.all(nodes.map((n) => n.id).sort().map(async (id) => [id, ...(await Promise.all(['capacity', 'used', 'pages', 'hit-ratio'].map((f) => shown(page, `worker-${id}-${f}`))))])),
    });
    const settled = await settles(onPage, fromApi, 'the overview figures');
    const used = settled.totals[3] ?? 0;
    assert.ok(used >= 2 * MiB, 'the 2 MiB read shows as used');
    assert.equal(await text(page, 'total-used'), await page.evaluate(async (n) => ((await import('/ui/format.js' as string)) as { bytes(n: number): string }).bytes(n), used));
    const format = await page.evaluate(async () => {
      const f = (await import('/ui/format.js' as string)) as Record<string, (v: number | string) => string>;
      return [f['bytes']!(1.5 * 2 ** 30), f['bytes']!(0), f['percent']!(0.9512), f['rate']!(2 * 2 ** 20), String(f['parseBytes']!('64KiB/s'))];
    });
    assert.deepEqual(format, ['1.5 GiB', '0 B', '95.1%', '2 MiB/s', '65536']);
    await page.getByTestId('chart-throughput-s-total').waitFor({ state: 'attached', timeout: 10_000 }); // the history has points: a line is drawn
    await page.getByTestId('chart-hit-ratio').waitFor();
    await shot(page, 'overview');
    await page.close();
  });

  it('namespace browses into a directory, shows a file’s owners from the ring and the worker that holds it once read', async () => {
    const file = '/local/web/dir/a.bin';
    await client.write(file, randomBytes(3 * MiB + 5));
    await client.write('/local/web/dir/b.txt', Buffer.from('hello'));
    await client.free('/local/web');
    const page = await open('#/namespace'); // '/': no mount covers it, so it lists the mount points below
    await page.getByTestId('mount-/local').waitFor();
    for (const name of ['local', 'web', 'dir']) await page.getByTestId(`entry-${name}-link`).click();
    await page.getByTestId('entry-a.bin').waitFor();
    const owners = (await client.owners(file)).map((w) => w.id).join(',');
    assert.equal(await page.getByTestId('entry-a.bin-owners').getAttribute('data-value'), owners);
    assert.equal(await shown(page, 'entry-a.bin-size'), 3 * MiB + 5);
    assert.equal(await shown(page, 'entry-b.txt-size'), 5);
    await page.getByTestId('entry-a.bin-link').click();
    assert.equal(await page.getByTestId('file-owners').getAttribute('data-value', { timeout: 10_000 }), owners);
    assert.equal(await shown(page, 'file-size'), 3 * MiB + 5);
    await page.getByTestId('holders-empty').waitFor({ timeout: 10_000 });
    await client.readFile(file);
    const pageSize = (await cluster.workers[0]!.cache()).pageSize;
    const owner = owners.split(',')[0]!;
    await settles(() => shown(page, `holder-${owner}-current`), async () => Math.ceil((3 * MiB + 5) / pageSize), 'the pages the owner holds');
    // The listing's "Cached on" column: the workers GET /api/v1/fs/held names for each entry.
    const heldOn = async (name: string): Promise<string> => {
      const held = await api<{ entries: Array<{ name: string; holders: Array<{ id: string }> }> }>('/api/v1/fs/held?path=/local/web/dir');
      return (held.entries.find((e) => e.name === name)?.holders.map((x) => x.id) ?? []).sort().join(',');
    };
    assert.equal(await heldOn('a.bin'), owner, 'the owner alone holds a.bin');
    assert.equal(await heldOn('b.txt'), '', 'b.txt was never read');
    await settles(async () => page.getByTestId('entry-a.bin-held').getAttribute('data-value', { timeout: 10_000 }), () => heldOn('a.bin'), 'the listing shows who holds a.bin');
    assert.equal(await page.getByTestId('entry-b.txt-held').getAttribute('data-value'), '');
    await shot(page, 'namespace');
    await page.goto(`${cluster.coordinatorUrl}/#/namespace?path=/local/missing`);
    assert.equal(await text(page, 'error-code'), 'NOT_FOUND'); // a REST failure is shown, not a blank page
    assert.match(await text(page, 'listing-error'), /NOT_FOUND: .*\/local\/missing/);
    await shot(page, 'namespace-error');
    await page.close();
  });

  it('jobs: a load submitted from the form runs to succeeded with the counts of GET /api/v1/jobs/status', async () => {
    await seed('/local/web/load', 8, 256 * KiB);
    const page = await open('#/jobs');
    const id = await submit(page, 'load', '/local/web/load');
    await settles(async () => (await jobShown(page, id)).state, async () => 'succeeded', `job ${id} succeeds`, 30_000);
    const final = await settles(() => jobShown(page, id), () => jobFromApi(id), `job ${id} as shown`);
    assert.deepEqual(final, { state: 'succeeded', filesDone: 8, filesListed: 8, bytesDone: 8 * 256 * KiB, filesFailed: 0 });
    await shot(page, 'jobs');
    await page.close();
  });

  it('jobs: a load limited to 64 KiB/s is stopped from its row, and a free from the form drops what the load cached', async () => {
    await seed('/local/web/slow', 4, MiB);
    const page = await open('#/jobs');
    const slow = await submit(page, 'load', '/local/web/slow', '64KiB/s');
    await page.getByTestId(`job-${slow}-stop`).click({ timeout: 10_000 });
    await settles(() => text(page, `job-${slow}-state`), async () => 'stopped', `job ${slow} stops`);
    assert.equal((await jobFromApi(slow)).state, 'stopped');
    const held = async () => (await api<{ holders: unknown[] }>('/api/v1/fs/status?path=/local/web/load/f-0.bin')).holders.length;
    assert.equal(await held(), 1, 'the load before cached f-0.bin on its owner');
    const free = await submit(page, 'free', '/local/web/load');
    await settles(() => text(page, `job-${free}-state`), async () => 'succeeded', `job ${free} succeeds`, 30_000);
    assert.deepEqual(await jobShown(page, free), await jobFromApi(free));
    assert.equal(await held(), 0, 'no worker holds f-0.bin after the free');
    await page.goto(`${cluster.coordinatorUrl}/#/jobs?id=${slow}`);
    assert.equal(await text(page, 'job-detail-state'), 'stopped');
    await shot(page, 'jobs-detail');
    await page.close();
  });

  it('jobs: a copy whose files fail shows them failed in its row, and each failure with its code on its page', async () => {
    await seed('/local/web/copy-src', 3, 4 * KiB);
    await seed('/local/web/copy-dst', 3, 5 * KiB); // the same names, other bytes: each copy is ALREADY_EXISTS
    const res = await fetch(`${cluster.coordinatorUrl}/api/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'copy', from: '/local/web/copy-src', to: '/local/web/copy-dst' }),
    });
    assert.equal(res.status, 201, await res.clone().text());
    const { id } = (await res.json()) as { id: string };
    const page = await open('#/jobs');
    await settles(async () => (await jobShown(page, id)).state, async () => 'failed', `job ${id} fails`, 30_000);
    assert.deepEqual(await jobShown(page, id), await jobFromApi(id));
    assert.equal((await jobFromApi(id)).filesFailed, 3);
    await page.getByTestId(`job-${id}-link`).click();
    await page.getByTestId('job-failures').waitFor({ timeout: 10_000 });
    const failures = (await api<JobRecord>(`/api/v1/jobs/status?id=${encodeURIComponent(id)}`)).failures;
    const rows = await page.locator('[data-testid="job-failures"] tbody tr').allInnerTexts();
    assert.equal(rows.length, failures.length);
    for (const failure of failures) {
      const row = rows.find((r) => r.includes(failure.path));
      assert.ok(row !== undefined && row.includes(failure.code) && failure.code === 'ALREADY_EXISTS', `${failure.path} ${failure.code} among: ${rows.join(' | ')}`);
    }
    await shot(page, 'jobs-failures');
    await page.close();
  });

  it('serves the UI files with an ETag and 304 on revalidation, and nothing outside them', async () => {
    const index = await fetch(`${cluster.coordinatorUrl}/`);
    assert.equal(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.match(await index.text(), /<script type="module" src="\/ui\/app.js">/);
    const app = await fetch(`${cluster.coordinatorUrl}/ui/app.js`);
    assert.equal(app.headers.get('cache-control'), 'no-cache');
    const again = await fetch(`${cluster.coordinatorUrl}/ui/app.js`, { headers: { 'if-none-match': app.headers.get('etag') ?? '' } });
    assert.equal(again.status, 304);
    for (const path of ['/ui/missing.js', '/ui/%2e%2e/package.json', '/ui/..%2fpackage.json']) assert.equal((await fetch(`${cluster.coordinatorUrl}${path}`)).status, 404, path);
  });

  it('asked only the coordinator for anything, and threw no script error', () => {
    const origin = new URL(cluster.coordinatorUrl).origin;
    assert.ok(requested.length > 0);
    assert.deepEqual(requested.filter((url) => new URL(url).origin !== origin), []);
    assert.deepEqual(pageErrors, []);
  });
});
