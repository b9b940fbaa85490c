import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { SeedEntry } from './ufs-conformance.js';

/**
 * Writes files (and, for 'directory', empty directories) at store-relative paths below `dir`,
 * creating parents: how a read-only store's conformance fixture seeds the directory a web server
 * serves.
 */
export async function seedFiles(dir: string, entries: Readonly<Record<string, SeedEntry>>): Promise<void> {
  for (const [path, content] of Object.entries(entries)) {
    const target = join(dir, ...path.split('/'));
    if (content === 'directory') {
      await mkdir(target, { recursive: true });
    } else {
      await mkdir(dirname(target), { recursive: true });
      await writeFile(target, content);
    }
  }
}
