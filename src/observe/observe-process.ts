import type { DoraConfig } from '../conf/config-keys.js';
import type { Role } from '../metrics/catalogue.js';
import { configureLog, flushLog, log } from './log.js';
import { startTracing, stopTracing } from './tracing.js';

/**
 * Starts what a dora server process observes itself with, from its configuration: the JSON log
 * on stderr at `log.level`, and tracing when `trace.exporter` names one. Returns the function to
 * call before the process exits (sends buffered spans, flushes the log).
 */
export function observeProcess(config: DoraConfig, role: Role | 'embedded'): () => Promise<void> {
  configureLog({ level: config.log.level, role });
  startTracing(`dora-${role}`, config.trace);
  if (config.trace.exporter !== 'none') log.info({ exporter: config.trace.exporter, endpoint: config.trace.endpoint, samplePercent: config.trace.samplePercent }, 'tracing on');
  return async () => {
    await stopTracing().catch((error: unknown) => log.warn({ err: String(error) }, 'cannot send the last spans'));
    flushLog();
  };
}
