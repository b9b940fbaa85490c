import { describeJob, type JobRecord, type JobSpec } from '../job/job-types.js';
import { CoordinatorCalls, type Signalled } from './coordinator-calls.js';

/** The coordinator's jobs (docs/worker-api.md): `client.jobs`. */
export class JobsApi extends CoordinatorCalls {
  /** Starts a job, or answers the running one that does the same. Throws INVALID_ARGUMENT for a bad spec. */
  submit(spec: JobSpec, options: Signalled = {}): Promise<JobRecord> {
    return this.json({
      method: 'POST',
      path: '/api/v1/jobs',
      body: JSON.stringify(spec),
      headers: { 'content-type': 'application/json' },
      signal: options.signal,
      attempt: `Cannot submit the job ${JSON.stringify(describeJob(spec))}`,
      idempotent: false,
    });
  }

  async list(options: Signalled = {}): Promise<JobRecord[]> {
    return (await this.json<{ jobs: JobRecord[] }>({ method: 'GET', path: '/api/v1/jobs', signal: options.signal, attempt: 'Cannot list the jobs' })).jobs;
  }

  /** Throws NOT_FOUND for an unknown id. */
  status(id: string, options: Signalled = {}): Promise<JobRecord> {
    return this.json({ method: 'GET', path: '/api/v1/jobs/status', query: { id }, signal: options.signal, attempt: `Cannot read job "${id}"` });
  }

  /** Stops a running job and answers it stopped (an ended job as it is). */
  stop(id: string, options: Signalled = {}): Promise<JobRecord> {
    return this.json({ method: 'POST', path: '/api/v1/jobs/stop', query: { id }, signal: options.signal, attempt: `Cannot stop job "${id}"` });
  }
}
