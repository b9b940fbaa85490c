/**
 * Calls every listener with `value`. A listener that throws does not stop the others, nor the
 * watch that called it (whose state would be left half-updated): its error is rethrown on its
 * own, as an uncaught exception, the way a throwing EventEmitter listener surfaces.
 */
export function callListeners<T>(listeners: Iterable<(value: T) => void>, value: T): void {
  for (const listener of [...listeners]) {
    try {
      listener(value);
    } catch (error) {
      queueMicrotask(() => {
        throw error;
      });
    }
  }
}
