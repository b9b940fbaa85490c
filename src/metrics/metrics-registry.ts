import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One process's Prometheus metrics (never the library's global registry): the only file that
 * imports prom-client. Series are created through it and exposed at `/metrics`.
 */
export class MetricsRegistry {
  readonly #registry = new Registry();

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics !== false) collectDefaultMetrics({ register: this.#registry, prefix: 'dora_' });
  }

  counter<L extends string>(name: string, help: string, labelNames: readonly L[] = []): Counter<L> {
    return new Counter({ name, help, labelNames, registers: [this.#registry] });
  }

  histogram<L extends string>(name: string, help: string, labelNames: readonly L[], buckets: number[]): Histogram<L> {
    return new Histogram({ name, help, labelNames, buckets, registers: [this.#registry] });
  }

  /** A gauge whose values are read at scrape time from `collect`, as [labels, value] pairs. */
  gauge<L extends string>(name: string, help: string, labelNames: readonly L[], collect: () => Iterable<[Partial<Record<L, string>>, number]>): Gauge<L> {
    return new Gauge({
      name,
      help,
      labelNames,
      registers: [this.#registry],
      collect() {
        this.reset();
        for (const [labels, value] of collect()) this.set(labels, value);
      },
    });
  }

  /** The Prometheus text exposition. */
  async text(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.#registry.contentType, body: await this.#registry.metrics() };
  }

  /** The current value of a counter or gauge summed over its labels matching `labels` (for tests and summaries). */
  async value(name: string, labels: Record<string, string> = {}): Promise<number> {
    const metric = this.#registry.getSingleMetric(name);
    if (metric === undefined) return 0;
    const { values } = await metric.get();
    return values
      .filter((v) => Object.entries(labels).every(([k, want]) => String((v.labels as Record<string, unknown>)[k]) === want))
      .reduce((sum, v) => sum + v.value, 0);
  }
}
