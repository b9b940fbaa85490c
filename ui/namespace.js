// Namespace: the mount table, a browser of the tree (one level a page, 1000 entries at most), and
// for a chosen file its status, its owners on the ring and the workers whose cache holds it.
// Calls GET /api/v1/mounts, /api/v1/fs/list, /api/v1/fs/held and /api/v1/fs/status.

import * as api from './api.js';
import { badge, changed, h, link, num, replace } from './dom.js';
import { bytes, count, dateTime, duration, percent } from './format.js';

/** A console link to a namespace view; slashes left readable. */
export function namespaceHash(params) {
  const query = Object.entries(params)
    .filter(([, v]) => v !== undefined && v !== '')
    .map(([k, v]) => `${k}=${encodeURIComponent(v).replaceAll('%2F', '/')}`)
    .join('&');
  return `#/namespace?${query}`;
}

function parentOf(path) {
  const at = path.lastIndexOf('/');
  return at <= 0 ? '/' : path.slice(0, at);
}

export function create(root, params) {
  const dir = params.get('path') || '/';
  const after = params.get('after') ?? undefined;
  const file = params.get('file') ?? undefined;
  const mounts = h('tbody');
  const listing = h('tbody');
  const paging = h('div', { class: 'paging', 'data-testid': 'listing-paging' });
  const detail = h('section', { class: 'panel', 'data-testid': 'file-detail', hidden: file === undefined });
  const jump = h('input', { type: 'text', value: dir, 'aria-label': 'path', 'data-testid': 'path-input', spellcheck: 'false' });
  const go = (event) => {
    event.preventDefault();
    window.location.hash = namespaceHash({ path: jump.value.trim() || '/' });
  };
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Namespace'), h('p', { class: 'subtitle' }, 'Every store mounted into one tree; each file is owned by the workers the hash ring picks.')),
    h('section', { class: 'panel' }, h('h2', {}, 'Mounts'), table(['Path', 'Store', 'Access', 'Writes', 'Replicas', 'Metadata sync'], mounts, 'mounts-table')),
    h(
      'section',
      { class: 'panel' },
      h(
        'div',
        { class: 'panel-head' },
        breadcrumb(dir),
        h('form', { class: 'inline-form', onsubmit: go }, jump, h('button', { type: 'submit' }, 'Go')),
        link(`#/jobs?path=${encodeURIComponent(dir).replaceAll('%2F', '/')}`, 'Load or free this directory…', { class: 'action-link', 'data-testid': 'job-link' }),
      ),
      table(['Name', 'Size', 'Modified', 'Owners', 'Cached on', 'Mount'], listing, 'listing-table'),
      paging,
    ),
    detail,
  );
  return {
    title: `Namespace ${dir}`,
    async refresh(signal) {
      const [m, l, s, c] = await Promise.allSettled([api.mounts(signal), api.list(dir, after, signal), file === undefined ? undefined : api.status(file, signal), api.held(dir, signal)]);
      if (m.status === 'fulfilled' && changed(mounts, m.value)) renderMounts(mounts, m.value);
      if (l.status === 'fulfilled') {
        // What the caches hold is a figure beside the listing: without it (a directory above the mount points) the column says so.
        const held = c.status === 'fulfilled' ? new Map(c.value.entries.map((e) => [e.name, e.holders])) : undefined;
        if (changed(listing, { page: l.value, held: c.status === 'fulfilled' ? c.value : null })) renderListing(listing, paging, l.value, held, { dir, after, file });
      } else if (l.reason?.code === 'NOT_A_DIRECTORY') {
        window.location.replace(namespaceHash({ path: parentOf(dir), file: dir })); // a file: shown in its directory
        return;
      } else if (changed(listing, { error: l.reason?.message })) replace(listing, errorRow(6, l.reason, 'listing-error'));
      if (file !== undefined) {
        if (s.status === 'fulfilled') {
          if (changed(detail, s.value)) renderDetail(detail, s.value);
        } else if (changed(detail, { error: s.reason?.message })) replace(detail, h('h2', {}, file), h('p', { class: 'cell-error', 'data-testid': 'file-error' }, `${s.reason?.code}: ${s.reason?.message}`));
      }
      const failed = [m, l, s].find((r) => r.status === 'rejected');
      if (failed !== undefined) throw failed.reason;
    },
  };
}

function table(headings, tbody, testid) {
  return h('table', { class: 'table', 'data-testid': testid }, h('thead', {}, h('tr', {}, headings.map((t) => h('th', { class: t === 'Size' || t === 'Replicas' ? 'num' : undefined }, t)))), tbody);
}

function errorRow(span, error, testid) {
  return h('tr', {}, h('td', { colspan: span, class: 'cell-error', 'data-testid': testid }, `${error?.code ?? 'ERROR'}: ${error?.message ?? String(error)}`));
}

function breadcrumb(dir) {
  const parts = dir.split('/').filter(Boolean);
  const crumbs = [link(namespaceHash({ path: '/' }), '/', { 'data-testid': 'crumb-/' })];
  parts.forEach((name, i) => {
    const path = `/${parts.slice(0, i + 1).join('/')}`;
    crumbs.push(i === 0 ? null : h('span', { class: 'sep' }, '/'), link(namespaceHash({ path }), name, { 'data-testid': `crumb-${path}` }));
  });
  return h('nav', { class: 'breadcrumb', 'data-testid': 'breadcrumb' }, crumbs);
}

function renderMounts(tbody, mounts) {
  const sync = (ms) => (ms === undefined ? 'default' : ms === -1 ? 'never' : ms === 0 ? 'always' : `every ${duration(ms)}`);
  replace(
    tbody,
    mounts.map((m) =>
      h(
        'tr',
        { 'data-testid': `mount-${m.path}` },
        h('td', {}, link(namespaceHash({ path: m.path }), m.path, { class: 'mono' })),
        h('td', {}, h('code', {}, m.uri)),
        h('td', {}, m.readOnly ? badge('read-only', 'muted') : badge('read-write', 'info')),
        h('td', {}, m.writeType),
        num('td', `mount-${m.path}-replicas`, m.replicas ?? 1, count),
        h('td', {}, sync(m.syncIntervalMs)),
      ),
    ),
  );
}

function owners(ids, testid) {
  return h('span', { class: 'owners', 'data-testid': testid, 'data-value': ids.join(',') }, ids.map((id, i) => badge(id, i === 0 ? 'info' : 'muted')));
}

/** Which workers' caches hold an entry, and how much (a directory: over the files below it). */
function cachedOn(holders, kind, testid) {
  if (holders === undefined) return h('span', { class: 'muted', 'data-testid': testid, 'data-value': '' }, '—');
  const ids = holders.map((x) => x.id).sort();
  const total = holders.reduce((n, x) => n + x.bytes, 0);
  const files = holders.reduce((n, x) => n + x.files, 0); // summed over workers, as the bytes are: a replica counts on each
  return h(
    'span',
    { class: 'owners', 'data-testid': testid, 'data-value': ids.join(','), 'data-bytes': String(total), title: 'bytes held over every worker and tier: a page in memory and on disk counts twice' },
    h('span', { class: 'muted' }, kind === 'directory' ? `${bytes(total)} in ${count(files)} files ` : `${bytes(total)} `),
    ids.map((id) => badge(id, 'ok')),
  );
}

function renderListing(tbody, paging, page, held, { dir, after, file }) {
  if (page.entries.length === 0) replace(tbody, h('tr', {}, h('td', { colspan: 6, class: 'empty-row', 'data-testid': 'listing-empty' }, 'This directory is empty.')));
  else {
    replace(
      tbody,
      page.entries.map((e) => {
        const id = `entry-${e.name}`;
        const target = e.kind === 'directory' ? namespaceHash({ path: e.path }) : namespaceHash({ path: dir, after, file: e.path });
        return h(
          'tr',
          { 'data-testid': id, class: e.path === file ? 'selected' : undefined },
          h('td', {}, h('span', { class: `icon icon-${e.kind}`, 'aria-hidden': 'true' }), link(target, e.kind === 'directory' ? `${e.name}/` : e.name, { class: 'mono', 'data-testid': `${id}-link` })),
          e.kind === 'directory' ? h('td', { class: 'num muted' }, '—') : num('td', `${id}-size`, e.size, bytes),
          h('td', {}, e.mtimeMs > 0 ? dateTime(e.mtimeMs) : '—'),
          h('td', {}, e.owners === undefined ? '' : owners(e.owners, `${id}-owners`)),
          h('td', {}, held === undefined ? h('span', { class: 'muted' }, '?') : cachedOn(held.get(e.name), e.kind, `${id}-held`)),
          h('td', {}, h('code', {}, e.mount)),
        );
      }),
    );
  }
  replace(
    paging,
    after === undefined ? null : link(namespaceHash({ path: dir }), '← first page', { 'data-testid': 'listing-first' }),
    page.truncated ? [h('span', { class: 'muted' }, ` ${count(page.entries.length)} entries shown · `), link(namespaceHash({ path: dir, after: page.next }), 'next page →', { 'data-testid': 'listing-next' })] : null,
  );
}

function renderDetail(panel, { status, owners: ownerIds, holders, unanswered }) {
  const fields = [
    ['Path', h('code', { 'data-testid': 'file-path' }, status.path)],
    ['Kind', status.kind],
    ['Size', num('span', 'file-size', status.size, bytes)],
    ['Modified', status.mtimeMs > 0 ? dateTime(status.mtimeMs) : '—'],
    ['Version', h('code', { 'data-testid': 'file-version' }, status.version || '—')],
    ['ETag', h('code', {}, status.etag ?? '—')],
    ['Content type', status.contentType ?? '—'],
    ['Mount', h('code', {}, status.mount)],
    ['Owners (ring order)', owners(ownerIds, 'file-owners')],
  ];
  const role = (id) => (id === ownerIds[0] ? badge('owner', 'info') : ownerIds.includes(id) ? badge('replica', 'info') : badge('not an owner', 'warn'));
  const rows = holders.map((w) => {
    const id = `holder-${w.id}`;
    const current = w.current;
    const stale = current !== undefined && current.version !== status.version;
    return h(
      'tr',
      { 'data-testid': id },
      h('td', {}, h('code', {}, w.id)),
      h('td', {}, role(w.id)),
      num('td', `${id}-pages`, w.pages, count),
      num('td', `${id}-bytes`, w.bytes, bytes),
      h(
        'td',
        { class: 'num' },
        current === undefined ? '—' : [num('span', `${id}-current`, current.pages, count), ` / ${count(current.of)} (${percent(current.of === 0 ? 1 : current.pages / current.of)})`],
        stale ? [' ', badge('older version', 'warn')] : null,
      ),
    );
  });
  replace(
    panel,
    h('h2', {}, status.kind === 'file' ? 'File' : 'Directory', ' ', h('code', {}, status.name)),
    h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'Held in the page cache of'),
    h(
      'table',
      { class: 'table', 'data-testid': 'holders-table' },
      h('thead', {}, h('tr', {}, ['Worker', 'Role', 'Pages (all tiers, versions)', 'Bytes', 'Pages of this version'].map((t, i) => h('th', { class: i >= 2 ? 'num' : undefined }, t)))),
      h('tbody', {}, rows.length > 0 ? rows : h('tr', {}, h('td', { colspan: 5, class: 'empty-row', 'data-testid': 'holders-empty' }, "No worker's cache holds any page of it."))),
    ),
    unanswered.length === 0 ? null : h('ul', { class: 'cell-error' }, unanswered.map((u) => h('li', { 'data-testid': `unanswered-${u.id}` }, `${u.id} did not answer: ${u.error.code}: ${u.error.message}`))),
  );
}
