import type { ConfigKey } from './config-keys.js';
import type { ConfigSource } from './config-types.js';

/** Where each key's value came from. */
export type ConfigProvenance = Readonly<Record<ConfigKey, ConfigSource>>;

/** Held by the resolved config itself (non-enumerable, so it stays out of JSON and spreads). */
const PROVENANCE = Symbol('dora.configProvenance');

/** Records `provenance` on `config`, which must not be frozen yet. */
export function attachProvenance(config: object, provenance: ConfigProvenance): void {
  Object.defineProperty(config, PROVENANCE, { value: Object.freeze({ ...provenance }) });
}

/** The provenance `resolveConfig()` recorded, or undefined for an object it did not produce. */
export function provenanceOf(config: object): ConfigProvenance | undefined {
  return (config as { [PROVENANCE]?: ConfigProvenance })[PROVENANCE];
}
