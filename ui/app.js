// The console's shell: a hash router (#/overview, #/namespace?path=/x, #/jobs), a refresh every
// 2 s while the tab is visible, and one banner for whatever the REST API answered wrong.
//
// A page module exports create(root, params, ctx) → { title, refresh(signal), dispose?() }: it
// builds its fixed parts once, and refresh() redraws what changes (forms keep what was typed).

import { h, replace } from './dom.js';
import { clock } from './format.js';
import * as jobs from './jobs.js';
import * as namespace from './namespace.js';
import * as overview from './overview.js';

const ROUTES = { overview, namespace, jobs };
const REFRESH_MS = 2000;

const view = document.getElementById('view');
const banner = document.getElementById('error-banner');
const status = document.getElementById('refresh-status');

/** The page shown: its module instance, the signal that ends its calls, whether a refresh runs. */
let current;

const ctx = {
  /** Redraws the page now (after an action), or right after the refresh under way. */
  refresh: () => refresh(current),
  /** Shows a failure in the banner until the next successful refresh. */
  showError,
};

function parseHash() {
  const hash = window.location.hash.replace(/^#\/?/, '');
  const at = hash.indexOf('?');
  const name = at === -1 ? hash : hash.slice(0, at);
  return { name: name === '' ? 'overview' : name, params: new URLSearchParams(at === -1 ? '' : hash.slice(at + 1)) };
}

function show() {
  const { name, params } = parseHash();
  const route = ROUTES[name];
  if (route === undefined) {
    window.location.replace('#/overview');
    return;
  }
  if (current !== undefined) {
    current.controller.abort();
    current.page.dispose?.();
  }
  for (const a of document.querySelectorAll('nav.tabs a')) a.classList.toggle('active', a.dataset.route === name);
  replace(view);
  let page;
  try {
    page = route.create(view, params, ctx);
  } catch (error) {
    showError(error);
    return;
  }
  current = { page, controller: new AbortController(), busy: false, again: false };
  document.title = `${page.title} · dora`;
  void refresh(current);
}

async function refresh(entry) {
  if (entry === undefined || entry !== current) return;
  if (entry.busy) {
    entry.again = true;
    return;
  }
  entry.busy = true;
  try {
    await entry.page.refresh(entry.controller.signal);
    if (entry !== current) return;
    hideError();
    replace(status, h('span', { class: 'dot dot-ok' }), `Live · updated ${clock(Date.now())}`);
  } catch (error) {
    if (entry.controller.signal.aborted) return;
    showError(error);
  } finally {
    entry.busy = false;
    if (entry.again && entry === current) {
      entry.again = false;
      void refresh(entry);
    }
  }
}

function showError(error) {
  const code = error?.code ?? 'ERROR';
  const message = error?.message ?? String(error);
  replace(banner, h('strong', { 'data-testid': 'error-code' }, code), ' ', h('span', { 'data-testid': 'error-message' }, message), h('span', { class: 'muted' }, ` · retrying every ${REFRESH_MS / 1000} s`));
  banner.hidden = false;
  replace(status, h('span', { class: 'dot dot-bad' }), `Error at ${clock(Date.now())}`);
}

function hideError() {
  banner.hidden = true;
  replace(banner);
}

window.addEventListener('hashchange', show);
document.addEventListener('visibilitychange', () => {
  if (document.hidden) replace(status, h('span', { class: 'dot' }), 'Paused while the tab is hidden');
  else void refresh(current);
});
window.addEventListener('unhandledrejection', (event) => showError(event.reason));
setInterval(() => {
  if (!document.hidden) void refresh(current);
}, REFRESH_MS);
show();
