// Overview: cluster totals, the workers with their cache figures, and the last hour's hit ratio
// and throughput. Calls GET /api/v1/cluster every refresh and /api/v1/cluster/history once per
// sampling interval.

import * as api from './api.js';
import { lineChart } from './chart.js';
import { badge, changed, h, num, replace } from './dom.js';
import { bytes, clock, count, duration, percent, rate } from './format.js';

const HOUR_MS = 3_600_000;
const HEADINGS = ['Worker', 'State', 'Address', 'Capacity', 'Used', 'Pages', 'Hit ratio', 'Served from cache', 'Served from store', 'Up for'];

export function create(root) {
  const subtitle = h('p', { class: 'subtitle', 'data-testid': 'cluster-leader' });
  const cards = h('section', { class: 'cards', 'data-testid': 'totals' });
  const hitLatest = h('span', { class: 'panel-figure', 'data-testid': 'history-hit-ratio' });
  const rateLatest = h('span', { class: 'panel-figure', 'data-testid': 'history-throughput' });
  const hitChart = h('div', { class: 'chart-box' });
  const rateChart = h('div', { class: 'chart-box' });
  const workers = h('tbody');
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Overview'), subtitle),
    cards,
    h(
      'section',
      { class: 'charts' },
      h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Hit ratio · last hour'), hitLatest), hitChart),
      h('div', { class: 'panel' }, h('div', { class: 'panel-head' }, h('h2', {}, 'Throughput · last hour'), rateLatest), rateChart),
    ),
    h(
      'section',
      { class: 'panel' },
      h('h2', {}, 'Workers'),
      h('table', { class: 'table', 'data-testid': 'workers-table' }, h('thead', {}, h('tr', {}, HEADINGS.map((t, i) => h('th', { class: i >= 3 ? 'num' : undefined }, t)))), workers),
    ),
  );

  let history = { intervalMs: 10_000, points: [] };
  let historyAt = 0;

  return {
    title: 'Overview',
    async refresh(signal) {
      const historyDue = Date.now() - historyAt >= Math.min(history.intervalMs, 10_000);
      const [summary, fresh] = await Promise.all([api.cluster(signal), historyDue ? api.clusterHistory(signal) : undefined]);
      if (fresh !== undefined) {
        history = fresh;
        historyAt = Date.now();
      }
      replace(subtitle, `As of ${clock(summary.time)} · leading coordinator: `, h('code', {}, summary.leader ?? 'none (jobs wait for a leader)'));
      if (changed(cards, [summary.totals, summary.mounts, summary.jobs])) renderCards(cards, summary);
      if (changed(workers, [summary.workers, Math.floor(summary.time / 1000)])) renderWorkers(workers, summary);
      // The time axis moves on with the clock: redrawn at least every 10 s.
      if (changed(hitChart, [history.points.at(-1)?.time, history.points.length, Math.floor(summary.time / 10_000)])) {
        renderCharts({ hitChart, rateChart, hitLatest, rateLatest }, history, summary.time);
      }
    },
  };
}

const plural = (n, one, many = `${one}s`) => (n === 1 ? one : many);

function card(label, testid, value, format, ...sub) {
  return h('div', { class: 'card' }, h('div', { class: 'card-label' }, label), num('div', testid, value, format, { class: 'card-value' }), h('div', { class: 'card-sub' }, sub));
}

function renderCards(cards, { totals, mounts, jobs }) {
  const usedShare = totals.capacityBytes > 0 ? totals.usedBytes / totals.capacityBytes : null;
  replace(
    cards,
    card('Workers', 'total-workers', totals.workers, count, num('span', 'total-live', totals.live, count), ' live'),
    card('Cache capacity', 'total-capacity', totals.capacityBytes, bytes, 'over all tiers'),
    card('Cache used', 'total-used', totals.usedBytes, bytes, num('span', 'total-used-share', usedShare, percent), ' of capacity · ', num('span', 'total-pages', totals.pages, count), plural(totals.pages, ' page')),
    card('Hit ratio', 'total-hit-ratio', totals.hitRatio, percent, num('span', 'total-hits', totals.hits, count), plural(totals.hits, ' hit'), ' · ', num('span', 'total-misses', totals.misses, count), plural(totals.misses, ' miss', ' misses')),
    card('Served from cache', 'total-bytes-from-cache', totals.bytesFromCache, bytes, 'since the workers started'),
    card('Served from stores', 'total-bytes-from-store', totals.bytesFromStore, bytes, 'read through on a miss'),
    card('Mounts', 'mounts-count', mounts, count, h('a', { href: '#/namespace' }, 'browse the namespace')),
    card(
      'Jobs running',
      'jobs-running',
      jobs?.running,
      count,
      jobs === null ? 'run by the leading coordinator' : [num('span', 'jobs-succeeded', jobs.succeeded, count), ' succeeded · ', num('span', 'jobs-failed', jobs.failed, count), ' failed'],
    ),
  );
}

function renderWorkers(tbody, summary) {
  if (summary.workers.length === 0) {
    replace(tbody, h('tr', {}, h('td', { colspan: HEADINGS.length, class: 'empty-row', 'data-testid': 'workers-empty' }, 'No worker is live. Start one with: dora worker --etcd …')));
    return;
  }
  const rows = [...summary.workers].sort((a, b) => a.id.localeCompare(b.id)).map((w) => {
    const id = `worker-${w.id}`;
    const state = w.error !== undefined ? badge('unreachable', 'bad', `${id}-state`) : badge(w.state, w.state === 'live' ? 'ok' : 'warn', `${id}-state`);
    const share = w.usedBytes !== undefined && w.capacityBytes > 0 ? w.usedBytes / w.capacityBytes : 0;
    return h(
      'tr',
      { 'data-testid': id, class: w.error === undefined ? undefined : 'row-bad' },
      h('td', {}, h('code', { 'data-testid': `${id}-id` }, w.id)),
      h('td', {}, state),
      h('td', {}, h('code', { 'data-testid': `${id}-address` }, w.address), w.error === undefined ? null : h('div', { class: 'cell-error', 'data-testid': `${id}-error` }, `${w.error.code}: ${w.error.message}`)),
      num('td', `${id}-capacity`, w.capacityBytes, bytes),
      h(
        'td',
        { class: 'num' },
        num('span', `${id}-used`, w.usedBytes, bytes),
        w.usedBytes === undefined ? null : h('span', { class: 'muted' }, ` (${percent(share)})`),
        h('progress', { class: 'bar', max: 1, value: Math.min(1, share) }),
      ),
      num('td', `${id}-pages`, w.pages, count),
      num('td', `${id}-hit-ratio`, w.hitRatio, percent),
      num('td', `${id}-bytes-from-cache`, w.bytesFromCache, bytes),
      num('td', `${id}-bytes-from-store`, w.bytesFromStore, bytes),
      h('td', { class: 'num', title: new Date(w.startedAt).toISOString() }, duration(summary.time - w.startedAt)),
    );
  });
  replace(tbody, rows);
}

function renderCharts({ hitChart, rateChart, hitLatest, rateLatest }, history, now) {
  const from = now - HOUR_MS;
  const points = history.points;
  const last = points.at(-1);
  const gapMs = history.intervalMs * 2.5;
  const pick = (key) => points.map((p) => [p.time, p[key]]);
  replace(hitLatest, last === undefined ? 'collecting…' : last.hitRatio === null ? `no reads in the last ${duration(history.intervalMs)}` : `${percent(last.hitRatio)} in the last ${duration(history.intervalMs)}`);
  replace(rateLatest, last === undefined ? 'collecting…' : `${rate(last.bytesPerSecond)} served, ${rate(last.writeBytesPerSecond ?? 0)} written now`);
  const emptyText = last === undefined ? 'collecting…' : 'no reads in the last hour';
  replace(hitChart, lineChart({ series: [{ name: 'hit ratio', className: 's-hit', points: pick('hitRatio') }], from, to: now, yMax: 1, yFormat: percent, yTitle: 'hits / lookups', gapMs, testid: 'chart-hit-ratio', emptyText }));
  replace(
    rateChart,
    lineChart({
      series: [
        { name: 'served', className: 's-total', points: pick('bytesPerSecond') },
        { name: 'from cache', className: 's-cache', points: pick('cacheBytesPerSecond') },
        { name: 'from stores', className: 's-store', points: pick('storeBytesPerSecond') },
        { name: 'written', className: 's-write', points: pick('writeBytesPerSecond') },
      ],
      from,
      to: now,
      base: 1024,
      yFormat: rate,
      yTitle: 'bytes / second',
      gapMs,
      testid: 'chart-throughput',
    }),
  );
}
