import { scrape } from '../testing/prometheus-text.js';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DoraClient } from '../client/dora-client.js';
import { startEmbedded } from '../server/embedded.js';
import { CATALOGUE_END, CATALOGUE_START, renderCatalogue } from './catalogue-markdown.js';
import { METRICS, PROCESS_METRICS_EXAMPLES, type MetricSpec } from './catalogue.js';

/** The repository root, from dist/src/metrics/. */
const ROOT = new URL('../../../', import.meta.url);
const SPECS: readonly MetricSpec[] = Object.values(METRICS);
const BY_NAME = new Map(SPECS.map((s) => [s.name, s]));
const isProcessMetric = (name: string): boolean => name.startsWith('dora_process_') || name.startsWith('dora_nodejs_');

/** Catalogue entries the dashboard leaves out on purpose. */
const NOT_ON_DASHBOARD = new Set([
  // A ratio since the worker started: the dashboard shows a recent one, from rate() of the page requests.
  'dora_cache_hit_ratio',
]);

interface Panel {
  readonly title?: string;
  readonly panels?: readonly Panel[];
  readonly targets?: readonly { readonly expr?: string }[];
}

interface Dashboard {
  readonly panels?: readonly Panel[];
  readonly templating?: { readonly list?: readonly { readonly name?: string }[] };
}

async function readDashboard(): Promise<Dashboard> {
  return JSON.parse(await readFile(new URL('deploy/grafana/dora-dashboard.json', ROOT), 'utf8')) as Dashboard;
}

/** Every metric a dashboard's panels query, histogram series (`_bucket`, `_sum`, `_count`) under the histogram's name. */
function dashboardMetrics(dashboard: Dashboard): Map<string, string[]> {
  const used = new Map<string, string[]>();
  const walk = (panels: readonly Panel[] = []): void => {
    for (const panel of panels) {
      for (const target of panel.targets ?? []) {
        for (const [token] of (target.expr ?? '').matchAll(/dora_[a-z0-9_]+/g)) {
          const base = token.replace(/_(bucket|count|sum)$/, '');
          const name = base !== token && BY_NAME.get(base)?.type === 'histogram' ? base : token;
          used.set(name, [...(used.get(name) ?? []), panel.title ?? '(untitled)']);
        }
      }
      walk(panel.panels);
    }
  };
  walk(dashboard.panels);
  return used;
}

describe('the metrics catalogue', () => {
  it('docs/metrics.md holds exactly the rendered catalogue between its markers', async () => {
    const doc = await readFile(new URL('docs/metrics.md', ROOT), 'utf8');
    const start = doc.indexOf(CATALOGUE_START);
    const end = doc.indexOf(CATALOGUE_END);
    assert.ok(start >= 0 && end > start, `docs/metrics.md must hold ${CATALOGUE_START} then ${CATALOGUE_END}`);
    const block = doc.slice(start + CATALOGUE_START.length, end);
    assert.equal(block, `\n\n${renderCatalogue()}\n`, 'docs/metrics.md is out of date with src/metrics/catalogue.ts: run `npm run docs:metrics`');
  });

  it('names are unique and snake_case under dora_, counters end in _total, histograms in a unit, labels are snake_case', () => {
    assert.equal(BY_NAME.size, SPECS.length, 'two entries share a name');
    for (const spec of SPECS) {
      assert.match(spec.name, /^dora_[a-z][a-z0-9_]*$/, spec.name); // digits too: dora_s3_requests_total
      if (spec.type === 'counter') assert.match(spec.name, /_total$/, `counter ${spec.name} must end in _total`);
      else assert.doesNotMatch(spec.name, /_total$/, `${spec.type} ${spec.name} must not end in _total`);
      if (spec.type === 'histogram') {
        assert.match(spec.name, /_(seconds|bytes)$/, `histogram ${spec.name} must end in its unit`);
        assert.ok((spec.buckets ?? []).length > 0, `histogram ${spec.name} has no buckets`);
      }
      for (const label of spec.labels) assert.match(label, /^[a-z][a-z0-9_]*$/, `label "${label}" of ${spec.name}`);
      assert.equal(new Set(spec.labels).size, spec.labels.length, `${spec.name} repeats a label`);
      assert.ok(spec.on.length > 0, `${spec.name} is exported by no process`);
      assert.ok(spec.help.length > 0, `${spec.name} has no help`);
    }
  });

  describe('the Grafana dashboard', () => {
    it('queries only metrics of the catalogue and the process metrics', async () => {
      const used = dashboardMetrics(await readDashboard());
      assert.ok(used.size > 0, 'the dashboard queries nothing');
      const unknown = [...used].filter(([name]) => !BY_NAME.has(name) && !isProcessMetric(name)).map(([name, panels]) => `${name} (${panels.join(', ')})`);
      assert.deepEqual(unknown, [], 'the dashboard queries metrics the catalogue does not declare');
    });

    it('shows every catalogue entry but the few left out on purpose', async () => {
      const used = dashboardMetrics(await readDashboard());
      const missing = SPECS.map((s) => s.name).filter((name) => !used.has(name) && !NOT_ON_DASHBOARD.has(name));
      assert.deepEqual(missing, [], 'no dashboard panel shows these metrics: add a panel, or add them to NOT_ON_DASHBOARD with a reason');
      for (const name of NOT_ON_DASHBOARD) assert.ok(BY_NAME.has(name), `NOT_ON_DASHBOARD names ${name}, which the catalogue does not declare`);
    });

    it('has datasource, instance and mount variables', async () => {
      const names = (await readDashboard()).templating?.list?.map((v) => v.name);
      assert.deepEqual(names, ['datasource', 'instance', 'mount']);
    });
  });

  it('the coordinator and the worker of `dora start` export every entry declared for them, with its type', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'dora-metrics-'));
    const dora = await startEmbedded({ dataDir: join(dir, 'data') });
    const client = new DoraClient({ address: dora.coordinatorUrl });
    try {
      await client.write('/metrics/f.bin', Buffer.alloc(300_000, 7));
      assert.equal((await client.readFile('/metrics/f.bin')).length, 300_000);
      const dashboardProcessMetrics = [...dashboardMetrics(await readDashboard()).keys()].filter(isProcessMetric);
      const worker = await scrape(dora.workerUrl);
      const exported = { worker: worker.types, coordinator: (await scrape(dora.coordinatorUrl)).types };
      for (const role of ['worker', 'coordinator'] as const) {
        const wrong = SPECS.filter((s) => s.on.includes(role))
          .filter((s) => exported[role].get(s.name) !== s.type)
          .map((s) => `${s.name}: declared ${s.type}, exported ${exported[role].get(s.name) ?? 'not at all'}`);
        assert.deepEqual(wrong, [], `the ${role}'s /metrics`);
        const undeclared = [...exported[role].keys()].filter((name) => !BY_NAME.has(name) && !isProcessMetric(name));
        assert.deepEqual(undeclared, [], `the ${role} exports metrics the catalogue does not declare`);
        assert.deepEqual(
          [...PROCESS_METRICS_EXAMPLES, ...dashboardProcessMetrics].filter((name) => !exported[role].has(name)),
          [],
          `the ${role} lacks process metrics that the catalogue names or the dashboard shows`,
        );
      }
      assert.ok(worker.value('dora_cache_page_requests_total', { mount: '/' }) > 0, 'the read counted its pages');
    } finally {
      await client.close();
      await dora.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
