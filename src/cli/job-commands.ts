import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { DoraClient } from '../client/dora-client.js';
import { DoraError } from '../common/errors.js';
import { parseSize } from '../conf/units.js';
import { describeJob, isActive, type JobRecord, type JobSpec } from '../job/job-types.js';
import type { CliContext, CommandModule } from './cli-context.js';
import { humanSize, table } from './output.js';

/** How often `--wait` and `status --watch` ask the coordinator. */
const POLL_MS = 500;

/** One line of a job: id, state, kind and path, files and bytes done of those known, failures. */
function summary(job: JobRecord): string {
  const p = job.progress;
  const known = p.listed ? '' : '+';
  const failed = p.filesFailed > 0 ? `, ${p.filesFailed} failed` : '';
  const skipped = p.filesSkipped > 0 ? `, ${p.filesSkipped} skipped` : '';
  return `${job.id}  ${job.state}  ${describeJob(job.spec)}  ${p.filesDone}/${p.filesListed}${known} files, ${humanSize(p.bytesDone)}/${humanSize(p.bytesListed)}${known}${failed}${skipped}`;
}

/** Follows a job until it ends, telling its progress on stderr (stdout keeps the answer): a bar on a terminal, a line a second otherwise. Answers the job as it ended. */
async function follow(context: CliContext, client: DoraClient, id: string): Promise<JobRecord> {
  const bar = context.interactive
    ? new SingleBar({ format: '{bar} {percentage}% | {files} files | {bytes} | {rate}/s | {state}', stream: context.io.stderr, hideCursor: true, clearOnComplete: true }, Presets.shades_classic)
    : undefined;
  const started = Date.now();
  let job = await client.jobs.status(id, { signal: context.signal });
  bar?.start(Math.max(1, job.progress.bytesListed), 0);
  let lastLine = 0;
  while (isActive(job.state)) {
    const p = job.progress;
    const rate = humanSize(Math.round(p.bytesDone / Math.max(0.001, (Date.now() - started) / 1000)));
    if (bar !== undefined) {
      bar.setTotal(Math.max(1, p.bytesListed));
      bar.update(p.bytesDone, { files: `${p.filesDone}/${p.filesListed}${p.listed ? '' : '+'}`, bytes: `${humanSize(p.bytesDone)}/${humanSize(p.bytesListed)}`, rate, state: job.state });
    } else if (Date.now() - lastLine >= 1000) {
      lastLine = Date.now();
      context.io.stderr.write(`${summary(job)}, ${rate}/s\n`);
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    job = await client.jobs.status(id, { signal: context.signal });
  }
  bar?.stop();
  return job;
}

/** Prints a job (its failures too). */
async function print(context: CliContext, job: JobRecord, format: string): Promise<void> {
  if (format === 'json') return context.json(job);
  await context.write(`${summary(job)}\n`);
  for (const failure of job.failures) await context.write(`  failed: ${failure.path}: ${failure.code}: ${failure.message}\n`);
}

/** After `--wait`: a job that did not succeed makes the command fail (exit status 1). */
function succeeded(job: JobRecord): void {
  if (job.state !== 'succeeded') throw new DoraError('FAILED_PRECONDITION', `job ${job.id} ended ${job.state}`);
}

/** `dora job load|free|copy|move|list|status|stop`: jobs the coordinator runs over whole directories. */
export const jobCommands: CommandModule = {
  register(program, context) {
    const job = program.command('job').description('load, free, copy and move whole directories across the cluster, and follow or stop the jobs doing it');
    /** Submits a job, then prints it, or follows it to its end with `--wait`. */
    const submit = async (spec: JobSpec, options: { wait?: boolean; format: string }): Promise<void> => {
      const client = await context.client();
      const submitted = await client.jobs.submit(spec, { signal: context.signal });
      if (options.wait !== true) return print(context, submitted, options.format);
      const done = await follow(context, client, submitted.id);
      await print(context, done, options.format);
      succeeded(done);
    };
    const bandwidth = (value: string | undefined): { bandwidth?: number } => (value === undefined ? {} : { bandwidth: parseSize(value.replace(/\/s$/, '')) });
    const submitted = (command: Command): Command =>
      command.option('--wait', 'follow the job until it ends, then exit 0 only if it succeeded').option('--format <format>', 'text or json', 'text');
    submitted(
      job
        .command('load')
        .description('cache every file under a path on its owner worker(s)')
        .argument('<path>', 'dora path (a directory or a file)')
        .option('--replicas <n>', 'cache each file on this many workers')
        .option('--bandwidth <size>', 'most bytes per second the job fetches, e.g. 200MiB')
        .option('--verify', 'check at the end that every file is cached at its current version, loading what is not')
        .option('--metadata-only', 'cache file statuses only'),
    ).action(async (path: string, options: { replicas?: string; bandwidth?: string; verify?: boolean; metadataOnly?: boolean; wait?: boolean; format: string }) => {
      const replicas = options.replicas === undefined ? {} : { replicas: Number(options.replicas) };
      await submit({ kind: 'load', path, ...replicas, ...bandwidth(options.bandwidth), verify: options.verify, metadataOnly: options.metadataOnly }, options);
    });
    submitted(
      job
        .command('free')
        .description('drop the cached pages and metadata of every file under a path, on every worker')
        .argument('<path>', 'dora path (a directory or a file)'),
    ).action(async (path: string, options: { wait?: boolean; format: string }) => submit({ kind: 'free', path }, options));
    for (const kind of ['copy', 'move'] as const) {
      submitted(
        job
          .command(kind)
          .description(
            kind === 'copy'
              ? 'copy every file under a path to another (any two mounts), checking size and checksum'
              : 'move every file under a path to another (any two mounts): each source is deleted once its copy is verified',
          )
          .argument('<src>', 'dora path (a directory or a file)')
          .argument('<dst>', 'dora path: files keep their path relative to <src>')
          .option('--overwrite', 'replace destination files that differ (else they fail with ALREADY_EXISTS)')
          .option('--check-content', 'read each copy back and compare; compare content, not just size, with files already there')
          .option('--bandwidth <size>', 'most bytes per second the job copies, e.g. 200MiB'),
      ).action(async (from: string, to: string, options: { overwrite?: boolean; checkContent?: boolean; bandwidth?: string; wait?: boolean; format: string }) =>
        submit({ kind, from, to, overwrite: options.overwrite, checkContent: options.checkContent, ...bandwidth(options.bandwidth) }, options),
      );
    }
    job
      .command('list')
      .description('every job the coordinator knows, oldest first')
      .option('--format <format>', 'text or json', 'text')
      .action(async (options: { format: string }) => {
        const jobs = await (await context.client()).jobs.list({ signal: context.signal });
        if (options.format === 'json') await context.json(jobs);
        else await context.write(jobs.length === 0 ? 'no jobs\n' : `${table(jobs.map((j) => summary(j).split('  ')))}\n`);
      });
    job
      .command('status')
      .description("a job's state, progress and failures")
      .argument('<id>', 'job id')
      .option('--watch', 'follow it until it ends')
      .option('--format <format>', 'text or json', 'text')
      .action(async (id: string, options: { watch?: boolean; format: string }) => {
        const client = await context.client();
        const current = options.watch === true ? await follow(context, client, id) : await client.jobs.status(id, { signal: context.signal });
        await print(context, current, options.format);
        if (options.watch === true) succeeded(current);
      });
    job
      .command('stop')
      .description('stop a running job; it keeps what it did')
      .argument('<id>', 'job id')
      .action(async (id: string) => {
        await context.write(`${summary(await (await context.client()).jobs.stop(id, { signal: context.signal }))}\n`);
      });
  },
};
