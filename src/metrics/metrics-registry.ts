import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { METRICS, PROCESS_METRICS_PREFIX, type MetricSpec, type Role } from './catalogue.js';

/** Values read at scrape time, as [labels, value] pairs. */
export type Collect<L extends string> = () => Iterable<readonly [Partial<Record<L, string>>, number]>;

/** dora's version, for `dora_info`. */
const VERSION = '0.1.0';

/**
 * One process's Prometheus metrics (never the library's global registry): the only file that
 * imports prom-client. Every series comes from an entry of the catalogue; the registry is exposed
 * at `/metrics` by every server of the process.
 */
export class MetricsRegistry {
  readonly #registry = new Registry();

  constructor(options: { role: Role; processMetrics?: boolean }) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.#registry, prefix: PROCESS_METRICS_PREFIX });
    this.gauge(METRICS.info, () => [[{ role: options.role, version: VERSION }, 1]]);
  }

  /** The counter of `spec` (the same one however often asked: several parts of a process may count into it). */
  counter<L extends string>(spec: MetricSpec<L, 'counter'>): Counter<L> {
    const existing = this.#registry.getSingleMetric(spec.name);
    if (existing !== undefined) return existing as Counter<L>;
    return new Counter(this.#named(spec));
  }

  histogram<L extends string>(spec: MetricSpec<L, 'histogram'>): Histogram<L> {
    const existing = this.#registry.getSingleMetric(spec.name);
    if (existing !== undefined) return existing as Histogram<L>;
    return new Histogram({ ...this.#named(spec), buckets: [...(spec.buckets ?? [])] });
  }

  /** A gauge read at scrape time from `collect`. */
  gauge<L extends string>(spec: MetricSpec<L, 'gauge'>, collect: Collect<L>): void {
    new Gauge({
      ...this.#named(spec),
      collect() {
        this.reset();
        for (const [labels, value] of collect()) this.set(labels, value);
      },
    });
  }

  /** A counter whose totals are kept elsewhere (a page store's evictions) and read at scrape time. */
  counterFrom<L extends string>(spec: MetricSpec<L, 'counter'>, collect: Collect<L>): void {
    new Counter({
      ...this.#named(spec),
      collect() {
        this.reset();
        for (const [labels, value] of collect()) this.inc(labels, value);
      },
    });
  }

  #named<L extends string>(spec: MetricSpec<L>): { name: string; help: string; labelNames: readonly L[]; registers: Registry[] } {
    return { name: spec.name, help: spec.help, labelNames: spec.labels, registers: [this.#registry] };
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }

  /**
   * The current value of a counter or gauge, summed over the series whose labels match `labels`;
   * of a histogram, its count of observations (for tests and summaries).
   */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.#registry.getSingleMetric(name);
    if (metric === undefined) return 0;
    const { values, type } = await metric.get();
    return values
      .filter((v) => String(type) !== 'histogram' || (v as { metricName?: string }).metricName === `${name}_count`)
      .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
