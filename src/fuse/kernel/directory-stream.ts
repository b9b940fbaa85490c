import { createHash } from 'node:crypto';
import type { DoraFs } from '../dora-fs.js';
import { dirent } from './fuse-abi.js';
import type { NodeTable } from './node-table.js';

interface Entry {
  readonly name: string;
  readonly directory: boolean;
}

/**
 * An open directory read in pages: the kernel asks from an offset (the entry after the last it
 * took) for as many entries as fit its buffer; the listing is fetched from dora as the kernel
 * advances, and only the entries fetched but not yet taken are held. An offset behind that
 * (rewinddir) lists again from the start.
 */
export class DirectoryStream {
  readonly #fs: DoraFs;
  readonly #path: string;
  readonly #id: number;
  readonly #nodes: NodeTable;
  #entries: AsyncGenerator<Entry> | undefined;
  /** Entries fetched and not yet taken; the first is entry number `#position` (. and .. are 0 and 1). */
  #pending: Entry[] = [];
  #position = 0;
  #fetched = 0;
  #done = false;

  constructor(fs: DoraFs, path: string, id: number, nodes: NodeTable) {
    this.#fs = fs;
    this.#path = path;
    this.#id = id;
    this.#nodes = nodes;
  }

  /** The dirents from entry `offset` on that fit in `size` bytes (none at the end). */
  async read(offset: number, size: number): Promise<Buffer> {
    if (offset < this.#position) await this.#restart();
    while (this.#position < offset && (await this.#ensure(1))) {
      this.#pending.shift();
      this.#position++;
    }
    const out: Buffer[] = [];
    let room = size;
    for (let i = 0; await this.#ensure(i + 1); i++) {
      const entry = this.#pending[i];
      if (entry === undefined) break;
      const encoded = dirent(this.#ino(entry.name), this.#position + i + 1, entry.name, entry.directory, room);
      if (encoded === undefined) break;
      out.push(encoded);
      room -= encoded.length;
    }
    return Buffer.concat(out);
  }

  async close(): Promise<void> {
    await this.#entries?.return(undefined);
  }

  /** Whether `count` entries are pending, fetching more as needed. */
  async #ensure(count: number): Promise<boolean> {
    while (this.#pending.length < count && !this.#done) {
      if (this.#fetched < 2) {
        this.#pending.push({ name: this.#fetched === 0 ? '.' : '..', directory: true });
        this.#fetched++;
        continue;
      }
      this.#entries ??= this.#fs.list(this.#path);
      const next = await this.#entries.next();
      if (next.done === true) this.#done = true;
      else this.#pending.push(next.value);
    }
    return this.#pending.length >= count;
  }

  async #restart(): Promise<void> {
    await this.close();
    this.#entries = undefined;
    this.#pending = [];
    this.#position = 0;
    this.#fetched = 0;
    this.#done = false;
  }

  /** The inode number shown: the node's id where the kernel knows it, else one derived from the path. */
  #ino(name: string): number {
    if (name === '.') return this.#id;
    if (name === '..') return 1;
    return this.#nodes.peek(this.#id, name) ?? Number(createHash('md5').update(`${this.#path}/${name}`).digest().readBigUInt64LE(0) >> 12n) + 2 ** 20;
  }
}
