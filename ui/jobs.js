// Jobs: a form to submit a load or a free, every job with its live progress and a stop button,
// and one job's spec and failures (#/jobs?id=…). Calls GET /api/v1/jobs, POST /api/v1/jobs and
// POST /api/v1/jobs/stop (docs/jobs.md).

import * as api from './api.js';
import { badge, changed, h, link, num, replace } from './dom.js';
import { bytes, count, dateTime, duration, parseBytes, percent, rate } from './format.js';

const STATE_BADGES = { running: 'info', verifying: 'info', succeeded: 'ok', failed: 'bad', stopped: 'muted' };
const HEADINGS = ['Job', 'Kind', 'Path', 'State', 'Progress', 'Files', 'Bytes', 'Failed', 'Submitted', 'Took', ''];
const NUMERIC = new Set(['Files', 'Bytes', 'Failed', 'Took']);

const isActive = (job) => job.state === 'running' || job.state === 'verifying';
const target = (spec) => ('from' in spec ? `${spec.from} → ${spec.to}` : spec.path);

export function create(root, params, ctx) {
  const selected = params.get('id') ?? undefined;
  const stops = new Map();
  const tbody = h('tbody');
  const detail = h('section', { class: 'panel', 'data-testid': 'job-detail', hidden: selected === undefined });
  root.append(
    h('div', { class: 'page-head' }, h('h1', {}, 'Jobs'), h('p', { class: 'subtitle' }, 'Run by the leading coordinator over whole directories: load warms the cache on each file’s owner, free drops what the workers hold.')),
    submitForm(params.get('path') ?? '', ctx),
    h('section', { class: 'panel' }, h('h2', {}, 'All jobs'), h('table', { class: 'table', 'data-testid': 'jobs-table' }, h('thead', {}, h('tr', {}, HEADINGS.map((t) => h('th', { class: NUMERIC.has(t) ? 'num' : undefined }, t)))), tbody)),
    detail,
  );
  return {
    title: 'Jobs',
    async refresh(signal) {
      const jobs = (await api.jobs(signal)).sort((a, b) => b.submittedAt - a.submittedAt);
      // Redrawn when a job changed, and every 10 s for the times; a running job's stop button is kept across redraws.
      if (changed(tbody, [jobs, Math.floor(Date.now() / 10_000)])) renderJobs(tbody, jobs, selected, (job) => (stops.get(job.id) ?? stops.set(job.id, stopButton(job, ctx)).get(job.id)));
      if (selected === undefined) return;
      try {
        const job = jobs.find((j) => j.id === selected) ?? (await api.job(selected, signal));
        if (changed(detail, job)) renderDetail(detail, job);
      } catch (error) {
        if (changed(detail, { error: error.message })) replace(detail, h('h2', {}, 'Job ', h('code', {}, selected)), h('p', { class: 'cell-error', 'data-testid': 'job-detail-error' }, `${error.code ?? 'ERROR'}: ${error.message}`));
        throw error;
      }
    },
  };
}

function submitForm(path, ctx) {
  const kind = h('select', { 'data-testid': 'job-kind', 'aria-label': 'kind' }, h('option', { value: 'load' }, 'Load'), h('option', { value: 'free' }, 'Free'));
  const pathInput = h('input', { type: 'text', value: path, placeholder: '/mount/directory', required: true, 'data-testid': 'job-path', 'aria-label': 'path', spellcheck: 'false' });
  const replicas = h('input', { type: 'number', min: 1, max: 16, placeholder: 'default', 'data-testid': 'job-replicas', 'aria-label': 'replicas' });
  const bandwidth = h('input', { type: 'text', placeholder: 'unlimited, e.g. 100MiB/s', 'data-testid': 'job-bandwidth', 'aria-label': 'bandwidth' });
  const verify = h('input', { type: 'checkbox', 'data-testid': 'job-verify' });
  const metadataOnly = h('input', { type: 'checkbox', 'data-testid': 'job-metadata-only' });
  const loadOptions = h(
    'span',
    { class: 'load-options' },
    h('label', {}, 'Replicas ', replicas),
    h('label', {}, 'Bandwidth ', bandwidth),
    h('label', { class: 'check' }, verify, ' verify'),
    h('label', { class: 'check' }, metadataOnly, ' metadata only'),
  );
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'job-submit' }, 'Submit');
  const message = h('div', { class: 'form-message', 'data-testid': 'job-form-message', role: 'status' });
  kind.addEventListener('change', () => (loadOptions.hidden = kind.value !== 'load'));

  const submit = async (event) => {
    event.preventDefault();
    let spec;
    try {
      spec = { kind: kind.value, path: pathInput.value.trim() };
      if (kind.value === 'load') {
        if (replicas.value !== '') spec.replicas = Number(replicas.value);
        if (bandwidth.value.trim() !== '') spec.bandwidth = parseBytes(bandwidth.value);
        if (verify.checked) spec.verify = true;
        if (metadataOnly.checked) spec.metadataOnly = true;
      }
    } catch (error) {
      replace(message, h('span', { class: 'cell-error' }, error.message));
      return;
    }
    button.disabled = true;
    try {
      const job = await api.submitJob(spec);
      message.dataset.jobId = job.id;
      replace(message, 'Submitted ', h('strong', {}, `${job.spec.kind} ${target(job.spec)}`), ' as job ', link(`#/jobs?id=${encodeURIComponent(job.id)}`, job.id, { class: 'mono', 'data-testid': 'job-form-id' }), '.');
      ctx.refresh();
    } catch (error) {
      delete message.dataset.jobId;
      replace(message, h('span', { class: 'cell-error' }, `${error.code ?? 'ERROR'}: ${error.message}`));
    } finally {
      button.disabled = false;
    }
  };
  return h(
    'section',
    { class: 'panel' },
    h('h2', {}, 'Submit a job'),
    h('form', { class: 'job-form', 'data-testid': 'job-form', onsubmit: submit }, h('label', {}, 'Kind ', kind), h('label', { class: 'grow' }, 'Path ', pathInput), loadOptions, button),
    message,
  );
}

function stopButton(job, ctx) {
  const button = h('button', { type: 'button', class: 'danger', 'data-testid': `job-${job.id}-stop` }, 'Stop');
  button.addEventListener('click', async () => {
    button.disabled = true;
    try {
      await api.stopJob(job.id);
      ctx.refresh();
    } catch (error) {
      ctx.showError(error);
      button.disabled = false;
    }
  });
  return button;
}

function renderJobs(tbody, jobs, selected, stopButton) {
  if (jobs.length === 0) {
    replace(tbody, h('tr', {}, h('td', { colspan: HEADINGS.length, class: 'empty-row', 'data-testid': 'jobs-empty' }, 'No jobs yet: submit one above.')));
    return;
  }
  const now = Date.now();
  replace(
    tbody,
    jobs.map((job) => {
      const id = `job-${job.id}`;
      const p = job.progress;
      const share = p.bytesListed > 0 ? p.bytesDone / p.bytesListed : p.filesListed > 0 ? (p.filesDone + p.filesSkipped) / p.filesListed : job.state === 'succeeded' ? 1 : 0;
      return h(
        'tr',
        { 'data-testid': id, class: [job.state === 'failed' && 'row-bad', job.id === selected && 'selected'] },
        h('td', {}, link(`#/jobs?id=${encodeURIComponent(job.id)}`, job.id, { class: 'mono', 'data-testid': `${id}-link` })),
        h('td', {}, job.spec.kind),
        h('td', {}, h('code', {}, target(job.spec))),
        h('td', {}, badge(job.state, STATE_BADGES[job.state] ?? 'muted', `${id}-state`)),
        h('td', { class: 'progress-cell' }, h('progress', { class: 'bar', max: 1, value: Math.min(1, share) }), num('span', `${id}-percent`, share, percent, { class: 'muted' })),
        h('td', { class: 'num' }, num('span', `${id}-files-done`, p.filesDone, count), ' / ', num('span', `${id}-files-listed`, p.filesListed, count), p.listed ? '' : '+', p.filesSkipped > 0 ? h('div', { class: 'muted' }, `${count(p.filesSkipped)} skipped`) : null),
        h('td', { class: 'num' }, num('span', `${id}-bytes-done`, p.bytesDone, bytes), ' / ', num('span', `${id}-bytes-listed`, p.bytesListed, bytes)),
        num('td', `${id}-files-failed`, p.filesFailed, count, { class: p.filesFailed > 0 ? 'bad' : undefined }),
        h('td', {}, dateTime(job.submittedAt)),
        h('td', { class: 'num' }, duration((job.endedAt ?? now) - job.submittedAt)),
        h('td', {}, isActive(job) ? stopButton(job) : null),
      );
    }),
  );
}

function renderDetail(panel, job) {
  const spec = job.spec;
  const fields = [
    ['Job', h('code', { 'data-testid': 'job-detail-id' }, job.id)],
    ['What', `${spec.kind} ${target(spec)}`],
    ['State', badge(job.state, STATE_BADGES[job.state] ?? 'muted', 'job-detail-state')],
    ['Options', optionsOf(spec)],
    ['Submitted', dateTime(job.submittedAt)],
    ['Updated', dateTime(job.updatedAt)],
    ['Ended', job.endedAt === undefined ? '—' : dateTime(job.endedAt)],
    ['Listed', `${count(job.progress.filesListed)} files, ${bytes(job.progress.bytesListed)}${job.progress.listed ? '' : ' so far'}`],
    ['Checkpoint', h('code', {}, job.progress.checkpoint ?? '—')],
  ];
  replace(
    panel,
    h('div', { class: 'panel-head' }, h('h2', {}, 'Job ', h('code', {}, job.id)), link('#/jobs', 'close', { class: 'action-link' })),
    h('dl', { class: 'fields' }, fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)])),
    h('h3', {}, 'Failures'),
    job.progress.filesFailed > job.failures.length ? h('p', { class: 'muted' }, `${count(job.progress.filesFailed)} files failed; the last ${count(job.failures.length)} are kept:`) : null,
    job.failures.length === 0
      ? h('p', { class: 'muted', 'data-testid': 'job-failures-empty' }, 'No file failed.')
      : h(
          'table',
          { class: 'table', 'data-testid': 'job-failures' },
          h('thead', {}, h('tr', {}, h('th', {}, 'File'), h('th', {}, 'Code'), h('th', {}, 'Why'))),
          h('tbody', {}, job.failures.map((f, i) => h('tr', { 'data-testid': `job-failure-${i}` }, h('td', {}, h('code', {}, f.path)), h('td', {}, badge(f.code, 'bad')), h('td', {}, f.message)))),
        ),
  );
}

function optionsOf(spec) {
  const options = [];
  if (spec.replicas !== undefined) options.push(`${spec.replicas} replicas`);
  if (spec.bandwidth !== undefined) options.push(`at most ${rate(spec.bandwidth)}`);
  for (const flag of ['verify', 'metadataOnly', 'overwrite', 'checkContent']) if (spec[flag] === true) options.push(flag);
  return options.length === 0 ? 'none' : options.join(', ');
}
