/* dmilab dashboard: one experiment's page (DESIGN 4: the experiment, its results, checks and audit):
 * header with status, progress and time left, cancel and delete, then learning curves, swept values, the
 * symmetry audit, training curves, checks and the specification with its provenance. */
import { api, apiUrl } from './api.js';
import { fmtDuration, fmtSeconds, errorText } from './format.js';
import { $, ACTIVE, ENDED, statusBadge, progressEl, timeEl, tagsOf, tagChips } from './widgets.js';
import { renderLearning, renderCurvesTable } from './learning.js';
import { renderTraining } from './training.js';
import { renderAudit } from './audit.js';
import { renderSpectrum } from './spectrum.js';
import { renderSweeps } from './sweepfig.js';
import { renderChecks, hasChecks } from './checks.js';
import { renderProvenance } from './provenance.js';
import { timeLeft, estimateOf, knownEstimate } from './live.js';

export const detail = {
  id: null, exp: null, results: null, resultsKey: null, checks: null, audit: null, auditErr: null, spectrum: null,
  error: null, gen: 0, trainN: '', sweep: { metric: 'test_accuracy', n: '' },
};
const cancelRequested = new Set(); // running experiments this page asked to cancel
let actionBusy = false;
let hooks = { refreshAll: async () => {}, showErrors: () => {}, afterDelete: () => {} };

export function initDetail(h) {
  hooks = Object.assign(hooks, h);
  $('cancel-button').addEventListener('click', () => runAction('cancel'));
  $('delete-button').addEventListener('click', () => runAction('delete'));
  $('training-n').addEventListener('change', (ev) => { detail.trainN = ev.target.value; renderAll(); });
  $('sweep-metric').addEventListener('change', (ev) => { detail.sweep.metric = ev.target.value; renderAll(); });
  $('sweep-n').addEventListener('change', (ev) => { detail.sweep.n = ev.target.value; renderAll(); });
}

/** Show the experiment `id` (null: none): resets the page and fetches everything. */
export async function showExperiment(id) {
  const gen = ++detail.gen;
  Object.assign(detail, { id, exp: null, results: null, resultsKey: null, checks: null, audit: null, auditErr: null, spectrum: null, error: null });
  clearActionMessages();
  for (const s of ['curves-section', 'training-section', 'checks-section', 'sweep-section', 'spectrum-section']) $(s).hidden = true;
  $('results-note').textContent = '';
  $('detail-hint').hidden = false;
  $('detail-missing').hidden = true;
  if (!id) {
    $('detail-body').hidden = true;
    $('detail-empty').hidden = false;
    $('detail-title').textContent = 'No experiment selected';
    document.title = 'dmilab';
    return;
  }
  $('detail-title').textContent = 'Loading ' + id + '…';
  $('detail-empty').hidden = false;
  $('detail-body').hidden = true;
  await refreshExperiment(gen);
}

/** Re-read the shown experiment; results, checks and audit only when its status or progress moved. */
export async function refreshExperiment(gen = detail.gen) {
  const id = detail.id;
  if (!id) return;
  let exp;
  try {
    exp = await api('experiments/' + encodeURIComponent(id));
  } catch (e) {
    if (gen !== detail.gen) return;
    if (e.status === 404) {
      detail.error = null;
      $('detail-body').hidden = true;
      $('detail-empty').hidden = false;
      $('detail-title').textContent = 'Experiment not found';
      $('detail-hint').hidden = true;
      $('detail-missing').hidden = false;
      $('detail-missing').textContent = 'There is no experiment with id “' + id + '”. It may have been deleted.';
    } else detail.error = e;
    hooks.showErrors();
    return;
  }
  if (gen !== detail.gen) return;
  detail.error = null;
  detail.exp = exp;
  renderHeader(exp);
  if (ACTIVE.has(exp.status) && knownEstimate(exp.id) === undefined) estimateOf(exp).then(() => { if (detail.exp === exp) renderEta(exp); });
  const key = exp.status + ':' + exp.progress + ':' + (exp.finished_at || '');
  if (key !== detail.resultsKey) {
    const base = 'experiments/' + encodeURIComponent(id);
    const spec = exp.resolved_spec || exp.spec;
    const [res, checks, audit, spectrum] = await Promise.allSettled([
      api(base + '/results'),
      hasChecks(exp) ? api(base + '/checks') : Promise.resolve(null),
      api(base + '/audit'),
      spec && spec.spectrum ? api(base + '/spectrum') : Promise.resolve(null),
    ]);
    if (gen !== detail.gen) return;
    if (res.status === 'fulfilled') detail.results = res.value;
    else if (res.reason && res.reason.status === 404) detail.results = null; // none yet
    else detail.error = res.reason;
    detail.checksErr = checks.status === 'rejected' ? checks.reason : null;
    if (checks.status === 'fulfilled') detail.checks = checks.value;
    detail.auditErr = audit.status === 'rejected' ? audit.reason : null;
    if (audit.status === 'fulfilled') detail.audit = audit.value;
    detail.spectrum = spectrum.status === 'fulfilled' ? spectrum.value : null; // none asked for, or not yet
    detail.resultsKey = key;
    renderAll();
  }
  hooks.showErrors();
}

function renderEta(exp) {
  const label = $('eta-label');
  const dd = $('detail-eta');
  if (!ACTIVE.has(exp.status)) {
    label.textContent = 'Run time';
    dd.textContent = exp.started_at && exp.finished_at ? fmtDuration(exp.started_at, exp.finished_at) : '—';
    return;
  }
  const est = knownEstimate(exp.id);
  if (exp.status === 'queued') {
    label.textContent = 'Estimated run time';
    dd.textContent = est ? '≈ ' + fmtSeconds(est) + ' (dry-run estimate)' : '—';
    return;
  }
  label.textContent = 'Time left';
  const elapsed = exp.started_at ? (Date.now() - new Date(exp.started_at).getTime()) / 1000 : 0;
  const t = timeLeft(exp.progress, elapsed, est === undefined ? null : est);
  dd.textContent = t ? '≈ ' + fmtSeconds(t.seconds) + ' (' + { estimate: 'dry-run estimate', rate: 'measured rate',
    both: 'measured rate and estimate' }[t.basis] + ')' : 'unknown until the first points';
}

function renderHeader(exp) {
  $('detail-empty').hidden = true;
  $('detail-body').hidden = false;
  const name = exp.name || '(unnamed)';
  document.title = name + ' · dmilab';
  $('detail-name').textContent = name;
  $('detail-id').textContent = exp.id;
  $('detail-tags').replaceChildren(...tagChips(tagsOf(exp)));
  $('detail-status').replaceWith(Object.assign(statusBadge(exp.status), { id: 'detail-status' }));
  $('detail-progress').replaceChildren(progressEl(exp.progress, exp.status));
  renderEta(exp);
  $('detail-created').replaceChildren(timeEl(exp.created_at));
  $('detail-started').replaceChildren(timeEl(exp.started_at));
  $('detail-finished').replaceChildren(timeEl(exp.finished_at));
  $('detail-version').textContent = exp.version || '—';
  const err = errorText(exp.error);
  const showErr = exp.status === 'failed' || (err && exp.status !== 'succeeded');
  $('detail-error').hidden = !showErr;
  $('detail-error').querySelector('h3').textContent = exp.status === 'failed' ? 'Experiment failed' : 'Error';
  $('detail-error-text').textContent = err || 'The server gave no error message.';

  const spec = exp.resolved_spec !== undefined && exp.resolved_spec !== null ? exp.resolved_spec : exp.spec;
  const pre = $('spec-pre');
  const text = spec === undefined || spec === null ? '(not available)' : JSON.stringify(spec, null, 2);
  if (pre.textContent !== text) pre.textContent = text; // keep the reader's scroll position
  $('spec-title').textContent = exp.resolved_spec ? 'Resolved specification (every default filled in)' : 'Specification (as submitted)';
  $('spec-details').querySelector('summary').textContent = (exp.resolved_spec ? 'Resolved specification' : 'Specification') + ' and provenance';
  renderProvenance(exp.provenance, exp.status);
  renderActions(exp);
  $('clone-link').href = '#/submit?from=' + encodeURIComponent(exp.id);
  const base = 'experiments/' + encodeURIComponent(exp.id);
  $('json-link').href = apiUrl(base + '/results');
  $('csv-link').href = apiUrl(base + '/results', { format: 'csv' });
  $('checks-json-link').href = apiUrl(base + '/checks');
  $('junit-link').href = apiUrl(base + '/checks', { format: 'junit' });
  $('audit-link').href = apiUrl(base + '/audit');
  $('spectrum-link').href = apiUrl(base + '/spectrum');
  $('spectrum-csv-link').href = apiUrl(base + '/spectrum', { format: 'csv' });
}

function renderAll() {
  const exp = detail.exp;
  if (!exp) return;
  const res = detail.results;
  const curves = res && Array.isArray(res.curves) ? res.curves.filter((c) => c && Array.isArray(c.n_train)) : [];
  const points = res && Array.isArray(res.points) ? res.points : [];
  let note = '';
  if (!curves.length) {
    // a failed experiment says so once, in its error box
    note = exp.status === 'queued' ? 'Queued: no results yet.'
      : exp.status === 'running' ? 'Running: the first results will appear here.'
      : exp.status === 'failed' ? '' : exp.status === 'cancelled' ? 'Cancelled before any result was stored.'
      : 'No results were stored.';
  } else {
    note = (points.length ? points.length + ' point' + (points.length === 1 ? '' : 's') + ' from ' : '') +
      curves.length + ' arm' + (curves.length === 1 ? '' : 's') + '.';
    if (exp.status === 'running') note += ' Running: partial results, updated every 2 s.';
    if (exp.status === 'cancelled') note += ' Cancelled: partial results.';
    if (exp.status === 'failed') note += ' Partial results stored before the failure.';
  }
  $('results-note').textContent = note;
  $('results-note').hidden = !note;
  $('curves-section').hidden = !curves.length;
  if (curves.length) {
    renderLearning($('learning-figs'), exp, curves, points);
    renderCurvesTable($('curves-table'), curves, points);
  }
  const sw = curves.length ? renderSweeps($('sweep-figs'), exp, curves, points, detail.sweep) : { sweeps: [] };
  $('sweep-section').hidden = !sw.sweeps.length;
  if (sw.sweeps.length) {
    const sel = $('sweep-n');
    const want = sw.sizes.map(String);
    if (Array.from(sel.options).map((o) => o.value).join(',') !== want.join(',')) {
      sel.replaceChildren(...want.map((v) => Object.assign(document.createElement('option'), { value: v, textContent: v })));
    }
    sel.value = String(sw.n);
    sel.disabled = want.length < 2;
  }
  $('spectrum-section').hidden = !renderSpectrum($('spectrum-figs'), exp, detail.spectrum, curves, $('spectrum-note'));
  renderAudit($('audit-body'), exp, detail.audit, detail.auditErr);
  $('training-section').hidden = !renderTraining($('training-figs'), exp, points, curves.map((c) => c.arm), detail.trainN,
    $('training-note'), $('training-n'));
  renderChecks(detail.checks, exp, detail.checksErr);
}

/* ---- actions: cancel, delete ---- */

function renderActions(exp) {
  const cancel = $('cancel-button');
  const del = $('delete-button');
  if (!ACTIVE.has(exp.status) && cancelRequested.has(exp.id)) {
    cancelRequested.delete(exp.id);
    if (!$('action-note').hidden) {
      actionNote(exp.status === 'cancelled' ? 'Cancelled: the worker stopped after the unit of work in flight.'
        : 'The experiment ended (' + exp.status + ') before the cancellation took effect.');
    }
  }
  const asked = cancelRequested.has(exp.id);
  cancel.hidden = !ACTIVE.has(exp.status);
  cancel.disabled = actionBusy || asked;
  cancel.textContent = asked ? 'Cancellation requested…' : 'Cancel experiment';
  del.hidden = !ENDED.has(exp.status);
  del.disabled = actionBusy;
}

function clearActionMessages() {
  $('action-error').hidden = true;
  $('action-note').hidden = true;
}

function actionNote(text) {
  $('action-note').textContent = text;
  $('action-note').hidden = !text;
}

function actionError(title, e) {
  $('action-error-title').textContent = title;
  let text = errorText({ code: e && e.code, message: e && e.message, field: e && e.field });
  if (e && e.status) text = 'HTTP ' + e.status + ': ' + text;
  $('action-error-text').textContent = text || String(e);
  $('action-error').hidden = false;
}

async function runAction(kind) {
  const exp = detail.exp;
  if (!exp || actionBusy) return;
  const id = exp.id;
  const label = '“' + (exp.name || id) + '” (' + id + ')';
  const question = kind === 'cancel'
    ? (exp.status === 'running'
      ? 'Cancel the running experiment ' + label + '? It stops after the unit of work in flight; the points stored so far are kept.'
      : 'Cancel the queued experiment ' + label + '? It will not run.')
    : 'Delete the experiment ' + label + ' and all its results? This cannot be undone.';
  if (!window.confirm(question)) return;
  clearActionMessages();
  actionBusy = true;
  renderActions(exp);
  try {
    if (kind === 'cancel') {
      const res = await api('experiments/' + encodeURIComponent(id) + '/cancel', { method: 'POST' });
      if (res && res.status === 'running') {
        cancelRequested.add(id);
        if (detail.id === id) actionNote('Cancellation requested: the experiment stops after the unit of work in flight.');
      } else if (detail.id === id) {
        actionNote(res && res.status === 'cancelled' ? 'Experiment cancelled.' : 'The experiment had already ended (' + (res && res.status) + ').');
      }
    } else {
      try {
        await api('experiments/' + encodeURIComponent(id), { method: 'DELETE' });
      } catch (e) {
        if (e.status !== 404) throw e; // already gone: the outcome the user asked for
      }
      cancelRequested.delete(id);
      if (detail.id === id) await hooks.afterDelete(label);
    }
  } catch (e) {
    if (detail.id === id) actionError(kind === 'cancel' ? 'Could not cancel the experiment' : 'Could not delete the experiment', e);
  } finally {
    actionBusy = false;
    if (detail.exp) renderActions(detail.exp);
    await hooks.refreshAll();
  }
}
