/* dmilab dashboard: the experiment's checks (DESIGN 4: GET .../checks) as a verdict badge and a table whose
 * first column is each check's result, so it stays visible on a phone. */
import { fmtSig, isNum, errorText } from './format.js';
import { $, ENDED } from './widgets.js';
import { armText } from './learning.js';

export function hasChecks(exp) {
  const has = (s) => s && typeof s === 'object' && Array.isArray(s.checks) && s.checks.length > 0;
  return has(exp.resolved_spec) || has(exp.spec);
}

/** Render the checks section for `exp` from the response `res` (or keep the last one and show `err`). */
export function renderChecks(res, exp, err) {
  const sec = $('checks-section');
  if (!hasChecks(exp)) { sec.hidden = true; return; }
  sec.hidden = false;
  const list = res && Array.isArray(res.checks) ? res.checks : [];
  const badge = $('checks-badge');
  const ended = ENDED.has(res && res.status ? res.status : exp.status);
  let note;
  if (!res) {
    badge.className = 'status status-unknown';
    badge.textContent = 'unknown';
    note = '';
  } else {
    const nPass = list.filter((c) => c && c.passed === true).length;
    // before the end, a check without its points yet is pending rather than failed
    const nPending = ended ? 0 : list.filter((c) => c && !c.passed && (c.actual === null || c.actual === undefined)).length;
    const failing = !res.passed && nPass + nPending < list.length;
    const kind = res.passed ? 'pass' : (failing ? 'fail' : 'pending');
    badge.className = 'status ' + (kind === 'pass' ? 'status-succeeded' : kind === 'fail' ? 'status-failed' : 'status-queued') +
      (ended ? '' : ' provisional');
    badge.textContent = kind + (ended || kind === 'pending' ? '' : ' (so far)');
    note = nPass + ' of ' + list.length + ' check' + (list.length === 1 ? '' : 's') + ' passed' +
      (nPending ? ', ' + nPending + ' waiting for points' : '') + '.';
    if (!ended) note += ' Evaluated on the points stored so far: the verdict is final when the experiment ends.';
  }
  if (err) note = (note ? note + ' ' : '') + 'Could not refresh the checks: ' + errorText({ code: err.code, message: err.message, field: err.field });
  $('checks-note').textContent = note;
  badge.setAttribute('aria-label', 'checks: ' + badge.textContent);

  const rows = list.map((c) => {
    const tr = document.createElement('tr');
    const pending = !ended && !c.passed && (c.actual === null || c.actual === undefined);
    tr.className = c.passed ? 'check-pass' : pending ? 'check-pending' : 'check-fail';
    const td = (text, cls) => {
      const el = document.createElement('td');
      if (cls) el.className = cls;
      el.textContent = text;
      tr.append(el);
      return el;
    };
    const b = document.createElement('span');
    b.className = 'status ' + (c.passed ? 'status-succeeded' : pending ? 'status-queued' : 'status-failed');
    b.textContent = c.passed ? 'pass' : pending ? 'pending' : 'fail';
    td('').append(b);
    armText(td('', 'arm-cell'), c.arm === undefined ? '—' : String(c.arm));
    td(c.metric === undefined ? '—' : String(c.metric));
    td(c.n_train === undefined || c.n_train === null ? '—' : String(c.n_train), 'num');
    td(c.op === undefined ? '—' : String(c.op), 'op');
    let value = isNum(c.value) ? fmtSig(c.value, 6) : (c.than_arm ? '' : '—');
    if (isNum(c.tolerance) && c.tolerance > 0) value += ' ± ' + fmtSig(c.tolerance, 3);
    const vtd = td(value, 'num');
    if (c.than_arm) { // compared with another arm: its value, and which arm
      const who = document.createElement('span');
      who.className = 'than-arm';
      armText(who, 'of ' + c.than_arm);
      vtd.append(who);
    }
    td(isNum(c.actual) ? fmtSig(c.actual, 6) : (c.actual === null ? (ended ? 'missing' : 'none yet') : '—'), 'num');
    return tr;
  });
  $('checks-rows').replaceChildren(...rows);
  $('checks-table').hidden = !rows.length;
}
