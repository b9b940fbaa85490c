import type { ClientEvent, IoEvent } from '../client/client-options.js';
import { METRICS } from './catalogue.js';
import type { MetricsRegistry } from './metrics-registry.js';

/** The interface applications use a client through. */
export type Interface = 'sdk' | 's3' | 'fuse';

/**
 * What one interface does, in a process's registry: whole reads and writes (latency and bytes)
 * and how its client routed calls. Pass `observe` and `observeIo` to a DoraClient.
 */
export class ClientMetrics {
  readonly registry: MetricsRegistry;
  readonly #interface: Interface;
  readonly #latency;
  readonly #bytes;
  readonly #routing;

  constructor(registry: MetricsRegistry, iface: Interface) {
    this.registry = registry;
    this.#interface = iface;
    this.#latency = registry.histogram(METRICS.ioLatency);
    this.#bytes = registry.counter(METRICS.ioBytes);
    this.#routing = registry.counter(METRICS.routing);
  }

  /** For DoraClient's `observe`. */
  readonly observe = (event: ClientEvent): void => {
    this.#routing.inc({ event });
  };

  /** A whole read or write, ended (failed ones count for latency only). */
  readonly observeIo = (event: IoEvent): void => {
    const labels = { interface: this.#interface, op: event.op };
    this.#latency.observe(labels, event.seconds);
    if (event.bytes > 0) this.#bytes.inc(labels, event.bytes);
  };
}
