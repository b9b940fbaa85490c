import { DoraError } from '../../common/errors.js';
import type { UfsCallOptions, UnderFileSystem } from '../under-file-system.js';
import { ForwardingUfs, type UfsCall } from './forwarding-ufs.js';

/** Refuses every call that would change the store with PERMISSION_DENIED, naming `label` (the mount). */
export function withReadOnly(ufs: UnderFileSystem, label: string): UnderFileSystem {
  return new ReadOnlyUfs(ufs, label);
}

class ReadOnlyUfs extends ForwardingUfs {
  readonly #label: string;

  constructor(inner: UnderFileSystem, label: string) {
    super(inner);
    this.#label = label;
  }

  protected override call<T, O extends UfsCallOptions>(call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    if (call.mutates) return Promise.reject(readOnlyError(`Cannot ${call.op} "${this.uri}${call.path}"`, this.#label));
    return run(options);
  }
}

/** The error of a change refused because `label` (a mount, a store) is read-only: PERMISSION_DENIED, not retryable. */
export function readOnlyError(attempt: string, label: string): DoraError {
  return new DoraError('PERMISSION_DENIED', `${attempt}: ${label} is read-only`);
}
