/* dmilab dashboard: the submit page: a JSON editor prefilled from the server's examples (GET examples/) or
 * cloned from an experiment's spec, checked by the server's dry run as one types (the cost: points, time,
 * memory), the validation error shown at the field path the server names, then POST to queue it. */
import { api, askToken } from './api.js';
import { fmtBytes, fmtSeconds, isNum } from './format.js';
import { $ } from './widgets.js';
import { locate, lineCol, parseTree } from './jsonpath.js';

const EXAMPLES = new URL('examples/', document.baseURI);
const sub = { examples: null, checkedText: null, timer: 0, seq: 0, errSpan: null, from: null };

/** The example files the server serves ([{file, name}]; [] when it serves none). */
export async function loadExamples() {
  if (sub.examples) return sub.examples;
  try {
    const res = await fetch(EXAMPLES, { headers: { Accept: 'application/json' }, cache: 'no-store' });
    const j = res.ok ? await res.json() : null;
    sub.examples = j && Array.isArray(j.examples) ? j.examples.filter((e) => e && typeof e.file === 'string') : [];
  } catch (e) {
    sub.examples = [];
  }
  return sub.examples;
}

async function exampleText(file) {
  const res = await fetch(new URL(file.replace(/^examples\//, ''), EXAMPLES), { cache: 'no-store' });
  if (!res.ok) throw new Error('GET ' + file + ': HTTP ' + res.status);
  return res.text();
}

function setText(text, source) {
  const ed = $('spec-editor');
  ed.value = text;
  $('submit-source').textContent = source || '';
  updateGutter();
  scheduleCheck(0);
}

function updateGutter(errLine) {
  const n = $('spec-editor').value.split('\n').length;
  const g = $('editor-gutter');
  const nodes = [];
  for (let i = 1; i <= n; i++) {
    if (i > 1) nodes.push('\n');
    nodes.push(i === errLine ? Object.assign(document.createElement('span'), { className: 'err', textContent: '▶' + i }) : String(i));
  }
  g.replaceChildren(...nodes);
  g.scrollTop = $('spec-editor').scrollTop;
}

function status(text, kind) {
  const s = $('spec-status');
  s.textContent = text;
  s.className = 'spec-status' + (kind ? ' spec-' + kind : '');
}

function scheduleCheck(ms) {
  clearTimeout(sub.timer);
  sub.timer = setTimeout(check, ms);
}

function showError(title, message, field, text, span) {
  $('spec-error').hidden = false;
  $('spec-error-title').textContent = title;
  $('spec-error-text').replaceChildren(message);
  if (field) {
    $('spec-error-text').append(' ', Object.assign(document.createElement('span'), { className: 'field-path' }));
    $('spec-error-text').lastChild.append('Field ', Object.assign(document.createElement('code'), { id: 'spec-error-field', textContent: field }));
  }
  sub.errSpan = span;
  const ctx = $('spec-error-context');
  ctx.replaceChildren();
  $('spec-error-goto').hidden = !span;
  if (!span) { updateGutter(); return; }
  const { line } = lineCol(text, span.start);
  const lines = text.split('\n');
  const first = Math.max(1, line - 2);
  const endLine = lineCol(text, span.end).line;
  const last = Math.min(lines.length, Math.max(endLine, line) + 2);
  let offset = lines.slice(0, first - 1).reduce((t, l) => t + l.length + 1, 0);
  for (let k = first; k <= last; k++) {
    const l = lines[k - 1];
    const row = document.createElement('span');
    row.className = 'ctx-line' + (k >= line && k <= endLine ? ' ctx-hit' : '');
    row.append(Object.assign(document.createElement('span'), { className: 'ctx-no', textContent: String(k).padStart(4) + '  ' }));
    const a = Math.max(0, span.start - offset);
    const b = Math.min(l.length, span.end - offset);
    if (b > 0 && a < l.length && a < b) {
      row.append(l.slice(0, a), Object.assign(document.createElement('mark'), { textContent: l.slice(a, b) }), l.slice(b));
    } else row.append(l);
    ctx.append(row, '\n');
    offset += l.length + 1;
  }
  updateGutter(line);
}

function hideError() {
  $('spec-error').hidden = true;
  sub.errSpan = null;
}

function showCost(cost) {
  const dl = $('cost');
  dl.replaceChildren();
  const item = (label, value) => {
    const div = document.createElement('div');
    div.append(Object.assign(document.createElement('dt'), { textContent: label }),
      Object.assign(document.createElement('dd'), { textContent: value }));
    dl.append(div);
  };
  item('Points', isNum(cost.points) ? String(cost.points) : '—');
  item('Estimated time', isNum(cost.estimated_seconds) ? '≈ ' + (fmtSeconds(cost.estimated_seconds) || '0 s') : '—');
  item('Memory (largest unit)', fmtBytes(cost.memory_bytes));
  if (isNum(cost.units)) item('Units of work', String(cost.units));
  if (isNum(cost.kernel_pairs) && cost.kernel_pairs) item('Kernel pairs', cost.kernel_pairs.toLocaleString('en'));
  if (isNum(cost.training_steps) && cost.training_steps) item('Training steps', cost.training_steps.toLocaleString('en'));
  dl.hidden = false;
}

/** Check the editor's text: locally that it is JSON, then by the server's dry run. `ask`: prompt for the
 *  token on a 401 (the button); checks while typing do not, they say the token is needed instead. */
async function check(ask) {
  const text = $('spec-editor').value;
  const seq = ++sub.seq;
  $('submit-button').disabled = true;
  sub.checkedText = null;
  if (!text.trim()) { hideError(); $('cost').hidden = true; status('Empty: write a spec or start from an example.'); return; }
  try {
    parseTree(text);
  } catch (e) {
    const { line, column } = lineCol(text, e.offset);
    showError('Not valid JSON', e.message + ' at line ' + line + ', column ' + column + '.', null, text,
      { start: e.offset, end: Math.min(text.length, e.offset + 1) });
    $('cost').hidden = true;
    status('Not valid JSON yet.', 'bad');
    return;
  }
  status('Checking with the server…');
  try {
    const r = await api('experiments', { method: 'POST', query: { dry_run: 'true' }, body: text, noPrompt: ask !== true });
    if (seq !== sub.seq) return;
    hideError();
    updateGutter();
    showCost(r.cost || {});
    sub.checkedText = text;
    $('submit-button').disabled = false;
    const n = r.resolved_spec && r.resolved_spec.name;
    status('Valid' + (n ? ': “' + n + '”' : '') + '. Cost estimated by a dry run (nothing queued).', 'ok');
  } catch (e) {
    if (seq !== sub.seq) return;
    $('cost').hidden = true;
    if (e.status === 401) {
      hideError();
      status('The server needs its bearer token to check or submit a spec.', 'bad');
      const b = Object.assign(document.createElement('button'), { type: 'button', className: 'btn btn-small', textContent: 'Enter token' });
      b.addEventListener('click', async () => { if (await askToken('Checking and submitting specs need the server\'s bearer token.')) check(true); });
      $('spec-status').append(' ', b);
      return;
    }
    const span = e.field ? locate(text, e.field) : null;
    const where = span ? ' (line ' + lineCol(text, span.start).line + (span.found ? '' : ', where the field is missing') + ')' : '';
    showError(e.status === 400 ? 'The server refused this spec' : 'Could not check the spec', e.message + (e.code ? ' [' + e.code + ']' : '') + where + '.',
      e.field || null, text, span);
    status(e.status === 400 ? 'Refused: ' + (e.field ? 'see field ' + e.field + '.' : e.message) : 'Error: ' + e.message, 'bad');
  }
}

async function submit() {
  const text = $('spec-editor').value;
  if (text !== sub.checkedText) { await check(true); if (text !== sub.checkedText) return; }
  $('submit-button').disabled = true;
  $('submit-note').textContent = 'Submitting…';
  try {
    const exp = await api('experiments', { method: 'POST', body: text });
    $('submit-note').textContent = '';
    location.hash = encodeURIComponent(exp.id);
  } catch (e) {
    $('submit-note').textContent = '';
    showError('Could not submit', e.message + (e.code ? ' [' + e.code + ']' : ''), e.field || null, text, e.field ? locate(text, e.field) : null);
    $('submit-button').disabled = false;
  }
}

export function initSubmit() {
  const ed = $('spec-editor');
  ed.addEventListener('input', () => {
    updateGutter();
    status('Edited: checking shortly…');
    const src = $('submit-source');
    if (src.textContent && !src.textContent.startsWith('edited')) src.textContent = 'edited, ' + src.textContent;
    scheduleCheck(700);
  });
  ed.addEventListener('scroll', () => { $('editor-gutter').scrollTop = ed.scrollTop; });
  ed.addEventListener('keydown', (ev) => { // Tab indents (two spaces); Escape then Tab leaves the editor
    if (ev.key === 'Escape') { ed.dataset.escape = '1'; return; }
    if (ev.key === 'Tab' && !ev.shiftKey && !ev.ctrlKey && !ev.altKey && ed.dataset.escape !== '1') {
      ev.preventDefault();
      ed.setRangeText('  ', ed.selectionStart, ed.selectionEnd, 'end');
      ed.dispatchEvent(new Event('input'));
    }
    if (ev.key !== 'Escape') delete ed.dataset.escape;
  });
  $('check-button').addEventListener('click', () => { clearTimeout(sub.timer); check(true); });
  $('submit-button').addEventListener('click', submit);
  $('spec-error-goto').addEventListener('click', () => {
    if (!sub.errSpan) return;
    ed.focus();
    ed.setSelectionRange(sub.errSpan.start, sub.errSpan.end);
    const line = lineCol(ed.value, sub.errSpan.start).line;
    ed.scrollTop = Math.max(0, (line - 4) * parseFloat(getComputedStyle(ed).lineHeight || '18'));
  });
  $('example-select').addEventListener('change', async (ev) => {
    const file = ev.target.value;
    if (!file) return;
    try { setText(await exampleText(file), 'from ' + file); } catch (e) { status(e.message, 'bad'); }
  });
}

/** Show the submit page; `params.from` = an experiment id to clone (its spec as submitted). */
export async function showSubmit(params) {
  const examples = await loadExamples();
  const sel = $('example-select');
  if (sel.options.length <= 1 && examples.length) {
    sel.append(...examples.map((e) => Object.assign(document.createElement('option'), { value: e.file, textContent: e.file + (e.name ? ' — ' + e.name : '') })));
  }
  const from = params.get('from');
  if (from && from !== sub.from) {
    sub.from = from;
    try {
      const exp = await api('experiments/' + encodeURIComponent(from));
      $('submit-title').textContent = 'Clone and edit';
      setText(JSON.stringify(exp.spec, null, 2) + '\n', 'cloned from “' + (exp.name || from) + '” (' + from + ')');
    } catch (e) {
      status('Could not load experiment ' + from + ': ' + e.message, 'bad');
    }
    return;
  }
  if (!from) {
    $('submit-title').textContent = 'New experiment';
    sub.from = null;
  }
  if (!$('spec-editor').value && examples.length) {
    sel.value = examples[0].file;
    try { setText(await exampleText(examples[0].file), 'from ' + examples[0].file); } catch (e) { status(e.message, 'bad'); }
  } else if (!$('spec-editor').value) {
    status('This server serves no examples: write a spec.');
  }
}
