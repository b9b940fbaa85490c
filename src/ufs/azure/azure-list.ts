import type { ObjectInfo, ObjectListPage } from '../object/object-client.js';
import { compareKeys } from '../ufs-path.js';
import type { AzureApi, AzureListPage } from './azure-api.js';

/** One page as `ObjectClient.list` asks for it. */
export interface ListRequest {
  readonly delimiter?: '/' | undefined;
  readonly startAfter?: string | undefined;
  readonly token?: string | undefined;
  readonly maxKeys: number;
}

/**
 * Where a listing stands, carried from page to page in the token. Azure's continuation markers
 * are opaque and it has no "start after", so a listing that starts after a key either filters a
 * plain listing (`plain`), or, when recursive, walks towards the key one directory level at a
 * time (`walk`): a directory before it costs one rolled-up entry instead of all its blobs.
 */
type ListState =
  | { readonly plain: { readonly marker?: string | undefined; readonly after?: string | undefined } }
  | { readonly walk: Walk };

interface Walk {
  /** Every key yielded sorts after this one. */
  readonly after: string;
  /** The directories on the way to `after`, outermost first; each lists one level. */
  readonly frames: Frame[];
  /** A directory after `after`, listed whole (recursively) before its frame goes on. */
  subtree?: { readonly prefix: string; marker?: string | undefined } | undefined;
}

interface Frame {
  readonly dir: string;
  /** Whether the first page was fetched; then `marker` undefined means the last page was. */
  started: boolean;
  marker?: string | undefined;
  /** What is left of the fetched page, in order: blobs to yield and directories to descend into. */
  items: Item[];
}

type Item = { readonly object: ObjectInfo } | { readonly prefix: string };

/** Names that sort after every name of a directory (dora's directory listing key ends so). */
const DIRECTORY_END = '\u{10FFFF}';

/** One page of names starting with `prefix`, in byte order, honouring `startAfter` as S3 does. */
export async function listPage(api: AzureApi, prefix: string, page: ListRequest, signal: AbortSignal | undefined): Promise<ObjectListPage> {
  const state = page.token === undefined ? firstState(prefix, page) : (JSON.parse(page.token) as ListState | null);
  if (state === null) return { objects: [], prefixes: [], nextToken: undefined };
  if ('walk' in state) return walkPage(api, state.walk, page.maxKeys, signal);
  const { marker, after } = state.plain;
  const got = await api.list({ prefix, delimiter: page.delimiter, marker, maxResults: page.maxKeys }, signal);
  const later = (key: string): boolean => after === undefined || compareKeys(key, after) > 0;
  return {
    objects: got.objects.filter((o) => later(o.key)),
    // Directories of a hierarchical namespace are directories of a one-level listing, and no entries of a recursive one.
    prefixes: page.delimiter === undefined ? [] : [...new Set([...got.prefixes, ...got.folders])].filter(later),
    nextToken: got.nextMarker === undefined ? undefined : JSON.stringify({ plain: { marker: got.nextMarker, after } } satisfies ListState),
  };
}

/** How a listing starts: null when nothing can sort after `startAfter`. */
function firstState(prefix: string, page: ListRequest): ListState | null {
  const after = page.startAfter;
  if (after === undefined || (!after.startsWith(prefix) && compareKeys(after, prefix) < 0)) return { plain: {} };
  if (!after.startsWith(prefix)) return null;
  if (page.delimiter !== undefined) return { plain: { after } };
  return { walk: { after, frames: [{ dir: prefix, started: false, items: [] }] } };
}

/**
 * A page of a recursive listing after `walk.after`: one request at most, then whatever pending
 * entries need none, up to `maxKeys`. Frames list their directory one level deep, keeping only
 * what sorts after `after`: blobs, the directory holding `after` (a new frame), and later
 * directories (listed whole, flat).
 */
async function walkPage(api: AzureApi, walk: Walk, maxKeys: number, signal: AbortSignal | undefined): Promise<ObjectListPage> {
  const objects: ObjectInfo[] = [];
  let requested = false;
  for (;;) {
    const { subtree } = walk;
    const frame = walk.frames.at(-1);
    if (subtree !== undefined) {
      if (requested || objects.length >= maxKeys) break;
      requested = true;
      const got = await api.list({ prefix: subtree.prefix, marker: subtree.marker, maxResults: maxKeys - objects.length }, signal);
      objects.push(...got.objects);
      subtree.marker = got.nextMarker;
      if (got.nextMarker === undefined) walk.subtree = undefined;
    } else if (frame === undefined) {
      return { objects, prefixes: [], nextToken: undefined };
    } else if (frame.items.length === 0) {
      if (frame.started && frame.marker === undefined) {
        walk.frames.pop();
        continue;
      }
      if (requested) break;
      requested = true;
      const got = await api.list({ prefix: frame.dir, delimiter: '/', marker: frame.marker, maxResults: maxKeys }, signal);
      frame.started = true;
      frame.marker = got.nextMarker;
      frame.items = itemsAfter(got, walk.after);
    } else {
      if (objects.length >= maxKeys) break;
      const item = frame.items.shift() as Item;
      if ('object' in item) objects.push(item.object);
      else if (walk.after.startsWith(item.prefix)) walk.frames.push({ dir: item.prefix, started: false, items: [] });
      else walk.subtree = { prefix: item.prefix };
    }
  }
  return { objects, prefixes: [], nextToken: JSON.stringify({ walk } satisfies ListState) };
}

/** A one-level page's blobs and directories in byte order, keeping those that hold or follow `after`. */
function itemsAfter(got: AzureListPage, after: string): Item[] {
  const items: Item[] = [
    ...got.objects.filter((o) => compareKeys(o.key, after) > 0).map((object) => ({ object })),
    ...[...new Set([...got.prefixes, ...got.folders])]
      .filter((p) => (after.startsWith(p) ? !after.slice(p.length).startsWith(DIRECTORY_END) : compareKeys(p, after) > 0))
      .map((prefix) => ({ prefix })),
  ];
  return items.sort((a, b) => compareKeys('object' in a ? a.object.key : a.prefix, 'object' in b ? b.object.key : b.prefix));
}
