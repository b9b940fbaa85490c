// Where a process spent its CPU: the functions with the most self time in V8 CPU profiles (the
// .cpuprofile files `node --cpu-prof` writes, e.g. from a benchmark's --cpu-prof DIR option),
// summed over every profile given.
//
//   node dist/bench/cpu-profile-summary.js [--top N] FILE|DIR...
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { parseArgs } from 'node:util';
import { table } from './bench-stats.js';
import { positiveInt } from './bench-tools.js';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

async function profiles(paths: readonly string[]): Promise<string[]> {
  const out: string[] = [];
  for (const path of paths) {
    if ((await stat(path)).isDirectory()) {
      for (const entry of await readdir(path, { recursive: true })) if (entry.endsWith('.cpuprofile')) out.push(join(path, entry));
    } else out.push(path);
  }
  return out;
}

/** `functionName (file:line)`, with node_modules and node: internals kept short. */
function frameName(frame: ProfileNode['callFrame']): string {
  const name = frame.functionName === '' ? '(anonymous)' : frame.functionName;
  if (frame.url === '') return name;
  const url = frame.url.replace(/^file:\/\//, '');
  const short = url.includes('/node_modules/') ? url.slice(url.lastIndexOf('/node_modules/') + 14) : url.startsWith('node:') ? url : relative(process.cwd(), url);
  return `${name} (${short}:${frame.lineNumber + 1})`;
}

async function main(): Promise<void> {
  const { values, positionals } = parseArgs({ args: process.argv.slice(2), allowPositionals: true, options: { top: { type: 'string', default: '25' } } });
  const files = await profiles(positionals);
  if (files.length === 0) throw new Error('Cannot summarize: no .cpuprofile files given');
  const selfUs = new Map<string, number>();
  let totalUs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(file, 'utf8')) as Profile;
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    profile.samples.forEach((id, i) => {
      const us = profile.timeDeltas[i] ?? 0;
      const node = byId.get(id);
      if (node === undefined) return;
      const name = frameName(node.callFrame);
      selfUs.set(name, (selfUs.get(name) ?? 0) + us);
      totalUs += us;
    });
  }
  const idle = ['(idle)', '(program)', '(garbage collector)'].map((n) => selfUs.get(n) ?? 0);
  const rows = [...selfUs.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, positiveInt('top', values.top))
    .map(([name, us]) => [name, `${(us / 1000).toFixed(0)} ms`, `${((100 * us) / totalUs).toFixed(1)}%`, `${((100 * us) / Math.max(1, totalUs - idle[0]!)).toFixed(1)}%`]);
  console.log(`${files.length} profile(s), ${(totalUs / 1e6).toFixed(2)} s sampled, ${(idle[0]! / 1e6).toFixed(2)} s idle, ${(idle[2]! / 1e6).toFixed(2)} s GC\n`);
  console.log(table([['function (self time)', 'self', '% of all', '% of busy'], ...rows]));
}

await main();
