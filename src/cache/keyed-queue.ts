/**
 * Runs tasks one at a time per key, in the order they were queued; tasks of different keys run
 * concurrently. A disk page store queues every change to one file (write + rename, unlink) under
 * the file's path, so an unlink of an evicted page can never remove a newer copy written after it.
 */
export class KeyedQueue {
  readonly #tails = new Map<string, Promise<void>>();

  /** Runs `task` after every task queued before it under `key`; settles as `task` does. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#tails.get(key);
    const result = previous === undefined ? task() : previous.then(task);
    const tail = result.then(noop, noop);
    this.#tails.set(key, tail);
    void tail.then(() => {
      if (this.#tails.get(key) === tail) this.#tails.delete(key);
    });
    return result;
  }

  /** Keys with queued or running tasks. */
  get size(): number {
    return this.#tails.size;
  }

  /** Resolves once no task is queued or running under any key, including tasks queued meanwhile. */
  async idle(): Promise<void> {
    while (this.#tails.size > 0) await Promise.all(this.#tails.values());
  }
}

function noop(): void {}
