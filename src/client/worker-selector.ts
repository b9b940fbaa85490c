import type { WorkerInfo } from './client-types.js';

/**
 * Chooses the worker that serves a path (DESIGN.md section 3: the owner of a file). Selection is
 * pure and cheap: the same path gives the same worker for as long as the selector lives, and a
 * new selector is built whenever the set of workers changes.
 */
export interface WorkerSelector {
  /**
   * The worker for `path`, a canonical dora path. Throws UNAVAILABLE when there is no worker to
   * choose. Idempotent.
   */
  select(path: string): WorkerInfo;
}

/** Builds a selector over the workers the coordinator lists (called again when the list changes). */
export type WorkerSelectorFactory = (workers: readonly WorkerInfo[]) => WorkerSelector;
