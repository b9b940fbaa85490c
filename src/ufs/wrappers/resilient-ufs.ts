import type { RetryPolicy } from '../../common/retry.js';
import type { DoraConfig } from '../../conf/config-keys.js';
import type { UfsTuning } from '../ufs-registry.js';
import type { UnderFileSystem } from '../under-file-system.js';
import { withMetrics, type UfsCallEvent } from './with-metrics.js';
import { withRetry, type WithRetryOptions } from './with-retry.js';
import { withTimeout, type TimeoutPolicy } from './with-timeout.js';

/** The under-storage policies a process runs with, taken from its resolved configuration. */
export interface UfsPolicies {
  readonly retry: RetryPolicy;
  readonly timeout: TimeoutPolicy;
  readonly tuning: UfsTuning;
}

export function ufsPolicies(config: DoraConfig): UfsPolicies {
  const { retry, s3 } = config.ufs;
  return {
    retry: { maxAttempts: retry.maxAttempts, baseDelayMs: retry.baseDelay, maxDelayMs: retry.maxDelay, maxElapsedMs: retry.maxElapsed },
    timeout: { callMs: config.ufs.timeout, idleMs: config.ufs.idleTimeout },
    tuning: { multipartThreshold: s3.multipartThreshold, partSize: s3.partSize, uploadConcurrency: s3.uploadConcurrency, maxSockets: s3.maxSockets },
  };
}

/**
 * A store as dora uses it: every attempt observed (so metrics count real store requests),
 * bounded by a deadline, and retried as a whole when it fails retryably.
 */
export function resilientUfs(
  ufs: UnderFileSystem,
  policies: Pick<UfsPolicies, 'retry' | 'timeout'>,
  options: { observe?: (event: UfsCallEvent) => void; mount?: string } & WithRetryOptions = {},
): UnderFileSystem {
  const observed = options.observe === undefined ? ufs : withMetrics(ufs, options.observe, options.mount);
  return withRetry(withTimeout(observed, policies.timeout), policies.retry, options);
}
