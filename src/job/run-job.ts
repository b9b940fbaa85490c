import { copyWork } from './copy-job.js';
import { runFree } from './free-job.js';
import type { CopySpec, FreeSpec, JobState, LoadSpec } from './job-types.js';
import { loadWork } from './load-job.js';
import { runOverTree, type JobRunOptions } from './tree-runner.js';

/** Runs a job of any kind to its final state (see runOverTree and runFree). */
export function runJob(options: JobRunOptions): Promise<JobState> {
  const { spec } = options;
  switch (spec.kind) {
    case 'load':
      return runOverTree(options, loadWork({ ...options, spec } as JobRunOptions<LoadSpec>));
    case 'free':
      return runFree({ ...options, spec } as JobRunOptions<FreeSpec>);
    case 'copy':
    case 'move':
      return runOverTree(options, copyWork({ ...options, spec } as JobRunOptions<CopySpec>));
  }
}
