/* dmilab dashboard: plain JavaScript modules, no build step. This file wires the pages together: the hash
 * routes (#<id> an experiment, #/submit, #/compare?ids=), polling while anything is active, the banner for
 * errors and the token button. Plots use the vendored Observable Plot and d3 (web/vendor/README.md). */
import { getToken, askToken, tokenState, updateTokenButton, api, ApiError, setToken } from './api.js';
import { $, ACTIVE } from './widgets.js';
import { list, initList, refreshList, renderList } from './list.js';
import { detail, initDetail, showExperiment, refreshExperiment } from './detail.js';
import { initSubmit, showSubmit, loadExamples } from './submit.js';
import { showCompare } from './compare.js';
import { figures } from './figure.js';

const POLL_MS = 2000;
let pollTimer = null;
let ticking = false;
let view = 'home';

function banner(msg, action) {
  const b = $('banner');
  b.replaceChildren();
  if (!msg) { b.hidden = true; return; }
  b.append(document.createTextNode(msg));
  if (action) {
    const btn = Object.assign(document.createElement('button'), { type: 'button', className: 'btn btn-small', textContent: action.label });
    btn.addEventListener('click', action.run);
    b.append(' ', btn);
  }
  b.hidden = false;
}

function showErrors() {
  const e = list.error || detail.error;
  if (!e) { banner(''); return; }
  if (e.status === 401) {
    banner('The server requires a bearer token.', {
      label: 'Enter token',
      run: async () => { tokenState.autoPromptDeclined = false; if (await askToken('Enter the server\'s bearer token.')) refreshAll(); },
    });
  } else if (e.status === 0) {
    banner('Cannot reach the dmilab server; retrying.', { label: 'Retry now', run: () => refreshAll() });
  } else banner('Error: ' + e.message);
}

function parseHash() {
  const h = location.hash.replace(/^#/, '');
  const [path, query] = h.split('?');
  const params = new URLSearchParams(query || '');
  if (path === '/submit') return { view: 'submit', params };
  if (path === '/compare') return { view: 'compare', params };
  if (!h || path.startsWith('/')) return { view: 'home', params };
  let id = h;
  try { id = decodeURIComponent(h); } catch (e) { /* keep as is */ }
  return { view: 'experiment', id, params };
}

async function route() {
  const r = parseHash();
  view = r.view;
  // On one column the page's subject comes first: the experiment, the submit or the compare page.
  $('layout').classList.toggle('focus-detail', view !== 'home');
  $('detail-body').hidden = true;
  $('submit-view').hidden = view !== 'submit';
  $('compare-view').hidden = view !== 'compare';
  $('detail-empty').hidden = view === 'submit' || view === 'compare';
  $('skip-link').textContent = view === 'submit' ? 'Skip to the spec editor' : view === 'compare' ? 'Skip to the comparison' : 'Skip to experiment details';
  list.selectedId = view === 'experiment' ? r.id : null;
  for (const tr of $('exp-rows').rows) {
    if (tr.dataset.id === list.selectedId) tr.setAttribute('aria-current', 'true'); else tr.removeAttribute('aria-current');
  }
  if (view === 'submit') {
    document.title = 'New experiment · dmilab';
    await showExperiment(null);
    $('detail-empty').hidden = true;
    await showSubmit(r.params);
  } else if (view === 'compare') {
    document.title = 'Compare · dmilab';
    await showExperiment(null);
    $('detail-empty').hidden = true;
    for (const id of (r.params.get('ids') || '').split(',').filter(Boolean)) list.picked.add(id);
    renderList();
    await showCompare(r.params);
  } else {
    await showExperiment(view === 'experiment' ? r.id : null);
  }
  showErrors();
  schedulePoll();
}

function needsPolling() {
  if (list.experiments.some((e) => ACTIVE.has(e.status))) return true;
  return !!(detail.exp && ACTIVE.has(detail.exp.status));
}

function schedulePoll() {
  clearTimeout(pollTimer);
  pollTimer = needsPolling() ? setTimeout(tick, POLL_MS) : null;
}

async function tick() {
  if (document.hidden) { schedulePoll(); return; } // paused in background tabs
  await refreshAll();
}

async function refreshAll() {
  if (ticking) return;
  ticking = true;
  try {
    await refreshList();
    if (view === 'experiment') await refreshExperiment();
  } finally {
    ticking = false;
    showErrors();
    schedulePoll();
  }
}

function select(id, viaPointer) {
  if ('#' + encodeURIComponent(id) !== location.hash) location.hash = encodeURIComponent(id);
  else route();
  if (viaPointer !== undefined && window.matchMedia('(max-width: 1099px)').matches) {
    $('detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
  }
}

async function afterDelete(label) {
  // leave the deleted experiment without a history entry that would lead back to a 404
  history.replaceState(null, '', location.pathname + location.search);
  await route();
  $('detail-hint').hidden = false;
  $('detail-missing').hidden = false;
  $('detail-missing').textContent = 'Deleted the experiment ' + label + '.';
}

function init() {
  updateTokenButton();
  initList(select, refreshAll);
  initDetail({ refreshAll, showErrors, afterDelete });
  initSubmit();
  $('refresh-button').addEventListener('click', () => refreshAll());
  // the skip link moves the focus; following its href would make "#detail" an experiment id
  $('skip-link').addEventListener('click', (ev) => {
    ev.preventDefault();
    const target = view === 'submit' ? $('spec-editor') : $('detail');
    target.focus();
    target.scrollIntoView({ block: 'start' });
  });
  $('token-forget').addEventListener('click', () => $('token-dialog').close('forget'));
  $('token-cancel').addEventListener('click', () => $('token-dialog').close('cancel'));
  $('token-button').addEventListener('click', async () => {
    tokenState.autoPromptDeclined = false;
    const t = await askToken(getToken()
      ? 'A token is stored. Enter a new one, or forget the stored one.'
      : 'Mutating requests (submit, cancel, delete) need the server\'s bearer token when one is configured.');
    if (t) refreshAll();
  });
  window.addEventListener('hashchange', route);
  document.addEventListener('visibilitychange', () => { if (!document.hidden && needsPolling()) refreshAll(); });
  loadExamples().then((ex) => { list.example = ex.length ? ex[0].file : null; renderList(); });
  const first = refreshList();
  route().then(() => first).finally(() => {
    document.documentElement.dataset.ready = '1'; // for the browser test: the first render is done
    schedulePoll();
  });
}

// For the console and the browser test, e.g. dmilab.api('experiments', {method: 'POST', body: spec}).
window.dmilab = { api, ApiError, getToken, setToken, refresh: () => refreshAll(), figures, state: { list, detail } };

if (!window.Plot || !window.d3) {
  document.addEventListener('DOMContentLoaded', () => banner('The plotting libraries (vendor/plot, vendor/d3) did not load: figures cannot be drawn.'));
}
if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
else init();
