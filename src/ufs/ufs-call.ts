import type { DoraError } from '../common/errors.js';
import { abortedError, throwIfAborted } from '../common/system-errors.js';
import type { UfsCallOptions } from './under-file-system.js';

/**
 * Runs one backend call: refused at once when its signal is already aborted, and every failure
 * thrown as a DoraError by the backend's `translate`. An aborted call reports the signal's reason
 * (a deadline, a caller), since the abort's own error says only "aborted".
 */
export async function runUfsCall<T>(
  attempt: string,
  options: UfsCallOptions,
  translate: (error: unknown, attempt: string) => DoraError,
  body: (signal: AbortSignal | undefined) => Promise<T>,
): Promise<T> {
  throwIfAborted(options.signal, attempt);
  try {
    return await body(options.signal);
  } catch (error) {
    if (options.signal?.aborted === true) throw abortedError(attempt, options.signal.reason);
    throw translate(error, attempt);
  }
}
