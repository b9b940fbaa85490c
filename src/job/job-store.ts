import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomically } from '../cache/write-file-atomically.js';
import type { JobRecord } from './job-types.js';

/** Where jobs are kept across coordinator restarts. */
export interface JobStore {
  save(job: JobRecord): Promise<void>;
  /** Forgets a job; a no-op for one not kept. */
  delete(id: string): Promise<void>;
  /** Every job saved, in no particular order. */
  all(): Promise<JobRecord[]>;
}

/** Jobs as JSON files in a directory (the embedded default: `<dataDir>/jobs`), each replaced atomically. */
export class FileJobStore implements JobStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  async save(job: JobRecord): Promise<void> {
    await mkdir(this.#dir, { recursive: true });
    await writeFileAtomically(join(this.#dir, `${job.id}.json`), [Buffer.from(JSON.stringify(job))]);
  }

  async delete(id: string): Promise<void> {
    await rm(join(this.#dir, `${id}.json`), { force: true });
  }

  async all(): Promise<JobRecord[]> {
    const names = await readdir(this.#dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const jobs = await Promise.all(names.filter((n) => n.endsWith('.json')).map(async (n) => JSON.parse(await readFile(join(this.#dir, n), 'utf8')) as JobRecord));
    return jobs;
  }
}
