import type { UfsEntryKind } from '../under-file-system.js';

/** One entry of a directory's index page: a name (one path segment) and what it is. */
export interface IndexEntry {
  readonly name: string;
  readonly kind: UfsEntryKind;
}

/**
 * The entries of a directory's index page, in the page's order, each name once: nginx's JSON
 * autoindex (`autoindex_format json`) when the page is JSON, else the links of an HTML page.
 * Throws an Error naming the problem for JSON that is not an index.
 */
export function parseIndex(body: string, contentType: string | undefined): IndexEntry[] {
  const json = contentType === undefined ? /^\s*\[/.test(body) : /[/+]json\b/i.test(contentType);
  return json ? parseJsonIndex(body) : parseHtmlIndex(body);
}

/**
 * nginx's `[{"name": "a", "type": "file" | "directory" | "other", "mtime": "…", "size": 1}, …]`.
 * Names come unencoded; "other" (a socket, a device) is left out.
 */
export function parseJsonIndex(body: string): IndexEntry[] {
  const parsed: unknown = JSON.parse(body);
  if (!Array.isArray(parsed)) throw new Error('the JSON index is not an array');
  const entries: IndexEntry[] = [];
  for (const item of parsed as unknown[]) {
    const { name, type } = (item ?? {}) as { name?: unknown; type?: unknown };
    if (typeof name !== 'string' || (type !== 'file' && type !== 'directory')) continue;
    if (isSegment(name)) entries.push({ name, kind: type });
  }
  return unique(entries);
}

const LINK = /<a\s[^>]*?\bhref\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'>]+))/gi;

/**
 * The links of an HTML index page (nginx's and Apache's autoindex, Python's http.server): a link
 * is an entry when its href is relative and one level deep — `name` a file, `name/` a directory,
 * percent-encoded and HTML-escaped. Links with a scheme, an absolute path, a query or a fragment
 * (Apache's `?C=N;O=D` sort links), and `../` (the parent) are not entries.
 */
export function parseHtmlIndex(body: string): IndexEntry[] {
  const entries: IndexEntry[] = [];
  for (const match of body.matchAll(LINK)) {
    const entry = linkEntry(unescapeHtml(match[1] ?? match[2] ?? match[3] ?? ''));
    if (entry !== undefined) entries.push(entry);
  }
  return unique(entries);
}

function linkEntry(href: string): IndexEntry | undefined {
  let link = href.trim();
  if (link === '' || link.startsWith('/') || /^[a-z][a-z0-9+.-]*:/i.test(link) || /[?#]/.test(link)) return undefined;
  if (link.startsWith('./')) link = link.slice(2);
  const kind: UfsEntryKind = link.endsWith('/') ? 'directory' : 'file';
  if (kind === 'directory') link = link.slice(0, -1);
  let name: string;
  try {
    name = decodeURIComponent(link);
  } catch {
    return undefined; // not percent-encoding: no name of this directory
  }
  return isSegment(name) ? { name, kind } : undefined;
}

/** A name that can be one segment of a dora path. */
function isSegment(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0');
}

/** Each name once, as first seen (Apache links every name twice: its icon and its text). */
function unique(entries: IndexEntry[]): IndexEntry[] {
  const seen = new Set<string>();
  const out: IndexEntry[] = [];
  for (const entry of entries) {
    if (seen.has(entry.name)) continue;
    seen.add(entry.name);
    out.push(entry);
  }
  return out;
}

const NAMED_ENTITIES: Readonly<Record<string, string>> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function unescapeHtml(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, ref: string) => {
    if (ref.startsWith('#')) {
      const code = ref[1] === 'x' || ref[1] === 'X' ? Number.parseInt(ref.slice(2), 16) : Number.parseInt(ref.slice(1), 10);
      return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[ref.toLowerCase()] ?? whole;
  });
}
