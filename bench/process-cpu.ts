// CPU time from /proc, for benchmarks that must say what bounds them: one process's user + system
// seconds (every thread), the whole machine's busy seconds, and the pids of processes found by
// their command line (LocalCluster does not hand out its processes' pids).
import { readdir, readFile } from 'node:fs/promises';
import { runCommand } from './bench-tools.js';

let ticksPerSecond: Promise<number> | undefined;

/** The kernel's clock ticks per second (`getconf CLK_TCK`, almost always 100). */
function clockTicks(): Promise<number> {
  ticksPerSecond ??= runCommand('getconf', ['CLK_TCK']).then(
    ({ stdout }) => Number(stdout.trim()) || 100,
    () => 100,
  );
  return ticksPerSecond;
}

/** User + system CPU seconds a process has used so far (fields 14 and 15 of /proc/<pid>/stat); 0 once it is gone. */
export async function processCpuSeconds(pid: number): Promise<number> {
  const text = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined);
  if (text === undefined) return 0;
  // The command name (field 2) may hold spaces and parentheses: count fields after its last ')'.
  const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / (await clockTicks());
}

/** CPU seconds summed over processes. */
export async function totalCpuSeconds(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(pids.map((pid) => processCpuSeconds(pid)));
  return each.reduce((sum, s) => sum + s, 0);
}

/** Busy CPU seconds of the whole machine so far, over every core (/proc/stat: all but idle and iowait). */
export async function machineBusySeconds(): Promise<number> {
  const line = (await readFile('/proc/stat', 'utf8')).split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) throw new Error('Cannot read the CPU time of the machine: /proc/stat has no "cpu" line');
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = line.trim().split(/\s+/).slice(1).map(Number);
  return (user + nice + system + irq + softirq + steal) / (await clockTicks());
}

/** Pids of this user's processes whose arguments (NUL-separated in /proc/<pid>/cmdline) satisfy `match`. */
export async function pidsByCommandLine(match: (argv: readonly string[]) => boolean): Promise<number[]> {
  const pids: number[] = [];
  for (const name of await readdir('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const argv = await readFile(`/proc/${name}/cmdline`, 'utf8').then(
      (text) => text.split('\0').filter((a) => a !== ''),
      () => [],
    );
    if (argv.length > 0 && match(argv)) pids.push(Number(name));
  }
  return pids;
}
