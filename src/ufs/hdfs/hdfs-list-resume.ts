import type { UfsListOptions, UfsStatus } from '../under-file-system.js';
import { compareKeys, listingKey } from '../ufs-path.js';

/** A listing as opened: its entries, and the call context whose signal a resuming call replaces. */
export interface OpenedListing {
  readonly entries: AsyncGenerator<UfsStatus>;
  readonly context: { signal: AbortSignal | undefined };
}

interface Parked extends OpenedListing {
  readonly path: string;
  readonly recursive: boolean;
  /** The last entries handed out, oldest first: a caller resumes after one of them. */
  readonly recent: readonly UfsStatus[];
  readonly parkedAt: number;
}

/** Entries remembered per listing; a page's caller takes one entry past its page and resumes before it. */
const RECENT = 8;
const MAX_PARKED = 16;
const PARKED_MS = 30_000;

/**
 * Keeps listings a caller stopped early, to continue them when the caller comes back for the
 * next page (`startAfter` = an entry it was given). HDFS cannot start a listing at a point of
 * dora's order (see `HdfsReorder`), so a fresh listing with `startAfter` reads each directory on
 * the way from its start; continuing a stopped one reads on from where HDFS left off, as HDFS's
 * own paging would. A parked listing holds no connection; it is dropped after 30 s, when 16
 * others are parked, or on `close`. A listing that has failed is never parked.
 */
export class ParkedListings {
  #parked: Parked[] = [];

  list(path: string, options: UfsListOptions, open: (signal: AbortSignal | undefined) => OpenedListing): AsyncIterable<UfsStatus> {
    return this.#run(path, options, open);
  }

  /** Drops every parked listing. */
  close(): void {
    for (const parked of this.#parked.splice(0)) drop(parked.entries);
  }

  async *#run(path: string, options: UfsListOptions, open: (signal: AbortSignal | undefined) => OpenedListing): AsyncGenerator<UfsStatus> {
    const recursive = options.recursive === true;
    const { startAfter } = options;
    const keyOf = (entry: UfsStatus): string => (recursive ? entry.path : listingKey(entry));
    const after = (entry: UfsStatus): boolean => startAfter === undefined || compareKeys(keyOf(entry), startAfter) > 0;
    const resumed = startAfter === undefined ? undefined : this.#take(path, recursive, startAfter, keyOf);
    const listing = resumed ?? { ...open(options.signal), recent: [] };
    listing.context.signal = options.signal;
    const recent: UfsStatus[] = [];
    let stoppedEarly = true;
    try {
      for (const entry of listing.recent.filter(after)) {
        remember(recent, entry);
        yield entry;
      }
      for (;;) {
        const next = await listing.entries.next();
        if (next.done === true) break;
        if (!after(next.value)) continue;
        remember(recent, next.value);
        yield next.value;
      }
      stoppedEarly = false;
    } catch (error) {
      stoppedEarly = false;
      throw error;
    } finally {
      if (stoppedEarly && recent.length > 0) this.#park({ path, recursive, recent, entries: listing.entries, context: listing.context, parkedAt: Date.now() });
      else if (stoppedEarly) drop(listing.entries);
    }
  }

  /** A parked listing of `path` that has handed out the entries up to `startAfter` (and maybe a few more). */
  #take(path: string, recursive: boolean, startAfter: string, keyOf: (entry: UfsStatus) => string): Parked | undefined {
    this.#expire();
    const i = this.#parked.findIndex((p) => p.path === path && p.recursive === recursive && p.recent[0] !== undefined && compareKeys(keyOf(p.recent[0]), startAfter) <= 0);
    if (i < 0) return undefined;
    return this.#parked.splice(i, 1)[0];
  }

  #park(parked: Parked): void {
    this.#expire();
    this.#parked.push(parked);
    for (const dropped of this.#parked.splice(0, Math.max(0, this.#parked.length - MAX_PARKED))) drop(dropped.entries);
  }

  #expire(): void {
    const now = Date.now();
    const [kept, expired] = [this.#parked.filter((p) => now - p.parkedAt < PARKED_MS), this.#parked.filter((p) => now - p.parkedAt >= PARKED_MS)];
    this.#parked = kept;
    for (const parked of expired) drop(parked.entries);
  }
}

function remember(recent: UfsStatus[], entry: UfsStatus): void {
  recent.push(entry);
  if (recent.length > RECENT) recent.shift();
}

/** Ends a listing's generator (it holds no connection: nothing to wait for). */
function drop(entries: AsyncGenerator<UfsStatus>): void {
  entries.return(undefined).catch(() => undefined);
}
