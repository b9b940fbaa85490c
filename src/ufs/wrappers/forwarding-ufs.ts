import type {
  UfsCallOptions,
  UfsCapabilities,
  UfsListOptions,
  UfsMultipart,
  UfsReadOptions,
  UfsReadResult,
  UfsStatus,
  UfsTagging,
  UfsWriteOptions,
  UfsWriteSource,
  UnderFileSystem,
} from '../under-file-system.js';

export type UfsOperation =
  | 'stat' | 'read' | 'write' | 'delete' | 'mkdir' | 'rename'
  | 'multipart.create' | 'multipart.uploadPart' | 'multipart.complete' | 'multipart.abort'
  | 'tagging.get' | 'tagging.put';

/** What a wrapper knows about one call. */
export interface UfsCall {
  readonly op: UfsOperation;
  readonly path: string;
  /** Repeating the call has the effect of making it once (a write only with a replayable source). */
  readonly idempotent: boolean;
  /** The call changes the store. */
  readonly mutates: boolean;
}

/**
 * A UnderFileSystem that forwards every call to another, for wrappers to build on: each
 * promise-returning call passes through `call()`, which a wrapper overrides to add retries,
 * timeouts or metrics. `read` and `list` can be overridden too, for what happens after a stream
 * opens. Optional methods exist exactly when the wrapped store has them.
 */
export class ForwardingUfs implements UnderFileSystem {
  readonly uri: string;
  readonly capabilities: UfsCapabilities;
  readonly rename?: (from: string, to: string, options?: UfsCallOptions) => Promise<void>;
  readonly multipart?: UfsMultipart;
  readonly tagging?: UfsTagging;
  protected readonly inner: UnderFileSystem;

  constructor(inner: UnderFileSystem) {
    this.inner = inner;
    this.uri = inner.uri;
    this.capabilities = inner.capabilities;
    const rename = inner.rename?.bind(inner);
    if (rename !== undefined) {
      this.rename = (from, to, o = {}) => this.call(op('rename', from, false, true), o, (x) => rename(from, to, x));
    }
    const mp = inner.multipart;
    if (mp !== undefined) {
      this.multipart = {
        create: (p, o = {}) => this.call(op('multipart.create', p, false, true), o, (x) => mp.create(p, x)),
        uploadPart: (p, u, src, o = {}) => this.call(op('multipart.uploadPart', p, src instanceof Uint8Array, true), o, (x) => mp.uploadPart(p, u, src, x)),
        complete: (p, id, parts, o = {}) => this.call(op('multipart.complete', p, false, true), o, (x) => mp.complete(p, id, parts, x)),
        abort: (p, id, o = {}) => this.call(op('multipart.abort', p, true, true), o, (x) => mp.abort(p, id, x)),
      };
    }
    const tagging = inner.tagging;
    if (tagging !== undefined) {
      this.tagging = {
        get: (p, o = {}) => this.call(op('tagging.get', p, true, false), o, (x) => tagging.get(p, x)),
        put: (p, tags, o = {}) => this.call(op('tagging.put', p, true, true), o, (x) => tagging.put(p, tags, x)),
      };
    }
  }

  stat(path: string, options: UfsCallOptions = {}): Promise<UfsStatus> {
    return this.call(op('stat', path, true, false), options, (o) => this.inner.stat(path, o));
  }

  read(path: string, options: UfsReadOptions = {}): Promise<UfsReadResult> {
    return this.call(op('read', path, true, false), options, (o) => this.inner.read(path, o));
  }

  write(path: string, source: UfsWriteSource, options: UfsWriteOptions = {}): Promise<UfsStatus> {
    return this.call(op('write', path, source instanceof Uint8Array, true), options, (o) => this.inner.write(path, source, o));
  }

  delete(path: string, options: UfsCallOptions = {}): Promise<void> {
    return this.call(op('delete', path, true, true), options, (o) => this.inner.delete(path, o));
  }

  mkdir(path: string, options: UfsCallOptions = {}): Promise<void> {
    return this.call(op('mkdir', path, true, true), options, (o) => this.inner.mkdir(path, o));
  }

  list(path: string, options: UfsListOptions = {}): AsyncIterable<UfsStatus> {
    return this.inner.list(path, options);
  }

  close(): Promise<void> {
    return this.inner.close();
  }

  /** Runs one call. `run` takes the options to pass on (a wrapper may replace the signal). */
  protected call<T, O extends UfsCallOptions>(_call: UfsCall, options: O, run: (options: O) => Promise<T>): Promise<T> {
    return run(options);
  }
}

function op(name: UfsOperation, path: string, idempotent: boolean, mutates: boolean): UfsCall {
  return { op: name, path, idempotent, mutates };
}
