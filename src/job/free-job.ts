import { describeCause, isDoraError } from '../common/errors.js';
import type { FreeSpec, JobFailure, JobProgress, JobState } from './job-types.js';
import { withRetries, type JobRunOptions } from './tree-runner.js';

/**
 * A free: every live worker drops the cached pages and metadata under the path (from what it
 * holds, so files deleted from the store go too). Progress counts the files and bytes dropped; a
 * worker that cannot be reached after retries is a failure naming it.
 */
export async function runFree(options: JobRunOptions<FreeSpec>): Promise<JobState> {
  const { client, spec, signal } = options;
  let progress: JobProgress = { ...options.from, listed: false };
  let failed = 0;
  const report = (state: JobState, failure?: JobFailure): JobState => {
    options.report(state, progress, failure);
    return state;
  };
  try {
    const workers = await client.workers({ signal });
    await Promise.all(
      workers.map(async (worker) => {
        try {
          const freed = await withRetries(() => client.free(spec.path, { worker, signal }), options, signal);
          if (freed === 'gone') return;
          progress = {
            ...progress,
            filesListed: progress.filesListed + freed.files,
            bytesListed: progress.bytesListed + freed.bytes,
            filesDone: progress.filesDone + freed.files,
            bytesDone: progress.bytesDone + freed.bytes,
          };
          report('running');
        } catch (error) {
          if (signal.aborted) throw error;
          failed += 1;
          report('running', { path: `${spec.path} on worker ${worker.id}`, code: isDoraError(error) ? error.code : 'INTERNAL', message: describeCause(error) });
        }
      }),
    );
  } catch (error) {
    if (signal.aborted) return report('stopped');
    return report('failed', { path: spec.path, code: isDoraError(error) ? error.code : 'INTERNAL', message: describeCause(error) });
  }
  progress = { ...progress, listed: true };
  return report(failed > 0 ? 'failed' : 'succeeded');
}
