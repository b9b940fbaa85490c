import { DoraError } from '../common/errors.js';
import { throwIfAborted } from '../common/system-errors.js';
import { MemberSet } from './member-set.js';
import type { Membership, MembershipListener, Signalled, WorkerRecordChanges, WorkerRegistration } from './membership.js';
import { checkWorkerRecord, type WorkerRecord } from './worker-record.js';

/**
 * Membership from a list in the configuration: every process is given the same list and so
 * builds the same ring. join, update and leave change only this process's copy (a single-process
 * cluster, or a test); nothing is shared, nothing expires.
 */
export class StaticMembership implements Membership {
  readonly #set = new MemberSet();
  readonly #joined = new Set<StaticRegistration>();
  #closed = false;

  /** Throws INVALID_ARGUMENT for a malformed record or an id listed twice. */
  constructor(workers: readonly WorkerRecord[]) {
    const records = workers.map((w) => checkWorkerRecord(w, 'Cannot use the static worker list'));
    const ids = new Set<string>();
    for (const { id } of records) {
      if (ids.has(id)) throw new DoraError('INVALID_ARGUMENT', `Cannot use the static worker list: worker id "${id}" is listed twice`);
      ids.add(id);
    }
    this.#set.replace(records);
  }

  async join(self: WorkerRecord, options: Signalled = {}): Promise<WorkerRegistration> {
    const attempt = `Cannot register worker ${JSON.stringify((self as Partial<WorkerRecord> | null)?.id)}`;
    throwIfAborted(options.signal, attempt);
    if (this.#closed) throw new DoraError('FAILED_PRECONDITION', `${attempt}: the membership is closed`);
    const record = checkWorkerRecord(self, attempt);
    if ([...this.#joined].some((r) => r.record.id === record.id)) throw new DoraError('ALREADY_EXISTS', `${attempt}: it has already joined through this membership`);
    this.#set.put(record);
    const registration = new StaticRegistration(this.#set, record, () => this.#joined.delete(registration));
    this.#joined.add(registration);
    return registration;
  }

  members(): readonly WorkerRecord[] {
    return this.#set.list();
  }

  watch(listener: MembershipListener): () => void {
    return this.#set.watch(listener);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#set.clearListeners();
    await Promise.all([...this.#joined].map((r) => r.leave()));
  }
}

class StaticRegistration implements WorkerRegistration {
  readonly #set: MemberSet;
  readonly #onLeave: () => void;
  #record: WorkerRecord;
  #left = false;

  constructor(set: MemberSet, record: WorkerRecord, onLeave: () => void) {
    this.#set = set;
    this.#record = record;
    this.#onLeave = onLeave;
  }

  get record(): WorkerRecord {
    return this.#record;
  }

  async update(changes: WorkerRecordChanges, options: Signalled = {}): Promise<WorkerRecord> {
    const attempt = `Cannot update worker "${this.#record.id}"`;
    throwIfAborted(options.signal, attempt);
    if (this.#left) throw new DoraError('FAILED_PRECONDITION', `${attempt}: it has left`);
    this.#record = checkWorkerRecord({ ...this.#record, ...changes, id: this.#record.id }, attempt);
    this.#set.put(this.#record);
    return this.#record;
  }

  async leave(): Promise<void> {
    if (this.#left) return;
    this.#left = true;
    this.#set.remove(this.#record.id);
    this.#onLeave();
  }
}
