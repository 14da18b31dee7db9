/* dmilab dashboard: the symmetry audit (DESIGN 2.2 and 4: GET .../audit) as a heatmap of arms x groups, the
 * gap on a log colour scale, the measured verdict in each cell and the method on hover, beside the verdict
 * DESIGN 2.2 expects for each arm, so that a disagreement stands out. */
import { figure, render } from './figure.js';
import { GROUPS, expectedVerdict, armTraits } from './symmetry.js';
import { fmtSig, isNum } from './format.js';
import { armText } from './learning.js';

/** Gaps of exactly 0 are drawn at this value on the log colour scale (and labelled 0). */
export const GAP_FLOOR = 1e-32;
const SHORT = { orthogonal: 'orthogonal', permutation: 'permutation', 'local-orthogonal': 'local-orth.',
  'channel-orthogonal': 'channel-orth.', translation: 'translation', 'signed-permutation': 'signed-perm.' };

const mark = (v) => (v === true ? '✓' : v === false ? '✗' : '?');
const word = (v) => (v === true ? 'invariant' : v === false ? 'not invariant' : 'not stated');

/** The audit entries joined with DESIGN 2.2's expectation: [{arm, group, gap, seed_gap, method, invariant,
 *  expected, why, agrees}] (agrees null when the table says nothing), and the arms (as first listed) and
 *  groups (DESIGN 2.2's order, then others by name) in order; the cells in the heatmap's reading order, row
 *  by row (the server lists groups by name). */
export function auditCells(audit, spec) {
  const cells = [];
  const arms = [];
  const groups = new Set();
  for (const a of audit) {
    if (!a || typeof a.arm !== 'string' || typeof a.group !== 'string') continue;
    if (!arms.includes(a.arm)) arms.push(a.arm);
    groups.add(a.group);
    const e = expectedVerdict(armTraits(spec, a.arm), a.group);
    const inv = typeof a.invariant === 'boolean' ? a.invariant : null;
    cells.push({ arm: a.arm, group: a.group, gap: isNum(a.gap) ? a.gap : null, seed_gap: isNum(a.seed_gap) ? a.seed_gap : null,
      method: a.method || '', invariant: inv, expected: e.invariant, why: e.why,
      agrees: e.invariant === null || inv === null ? null : e.invariant === inv });
  }
  const order = GROUPS.filter((g) => groups.has(g)).concat(Array.from(groups).filter((g) => !GROUPS.includes(g)).sort());
  cells.sort((a, b) => arms.indexOf(a.arm) - arms.indexOf(b.arm) || order.indexOf(a.group) - order.indexOf(b.group));
  return { cells, arms, groups: order };
}

/**
 * One disagreement of a cell `c` (auditCells) with DESIGN 2.2, as the summary lists it: "arm × group
 * measured invariant", and for a distributional cell its gap and seed-noise gap at `seeds` (S, the resolved
 * audit.seeds; null when unknown). A distributional "invariant" is a difference of ensemble means below the
 * seed floor, which a real but small non-invariance also gives (docs/audit.md, the verdict rule): the text
 * says so.
 */
export function disagreement(c, seeds) {
  const head = c.arm + ' × ' + c.group + ' measured ' + word(c.invariant);
  if (c.method !== 'distributional' || c.gap === null || c.seed_gap === null) return head;
  const numbers = 'gap ' + fmtSig(c.gap, 2) + ', seed-noise gap ' + fmtSig(c.seed_gap, 2) + (Number.isInteger(seeds) ? ' at ' + seeds + ' seeds' : '');
  return head + (c.invariant ? ' within its seed floor (' + numbers + ')' : ' (' + numbers + ')');
}

function cellTitle(c) {
  return c.arm + ' × ' + c.group + '\ngap ' + (c.gap === null ? '—' : fmtSig(c.gap, 3)) +
    (c.seed_gap !== null ? '\nseed-noise gap ' + fmtSig(c.seed_gap, 3) : '') +
    '\nmethod ' + (c.method || '—') + '\nmeasured: ' + word(c.invariant) +
    '\nDESIGN 2.2 expects: ' + word(c.expected) + ' (' + c.why + ')' +
    (c.agrees === false ? '\n≠ DISAGREES with DESIGN 2.2' : '');
}

/** The short hover text of a cell (the full one, with DESIGN 2.2's reason, is its aria-label). */
function cellTip(c) {
  return c.arm + ' × ' + c.group + '\ngap ' + (c.gap === null ? '—' : fmtSig(c.gap, 3)) +
    (c.seed_gap !== null ? ' (seed-noise gap ' + fmtSig(c.seed_gap, 3) + ')' : '') + '\nmethod ' + (c.method || '—') +
    '\nmeasured ' + mark(c.invariant) + ', DESIGN 2.2 ' + mark(c.expected) + (c.agrees === false ? ': disagrees' : '');
}

function heatmap(data, width) {
  const Plot = window.Plot;
  const { cells, arms, groups } = data;
  const gaps = cells.map((c) => (c.gap === null ? null : Math.max(c.gap, GAP_FLOOR))).filter((g) => g !== null);
  const lo = gaps.length ? Math.min(...gaps) : GAP_FLOOR;
  const hi = gaps.length ? Math.max(...gaps) : 1;
  const domain = lo === hi ? [lo / 10, hi * 10] : [lo, hi];
  const narrow = width < 560;
  const marginLeft = Math.min(Math.max(...arms.map((a) => a.length * 6.4)) + 12, Math.floor(width * 0.42));
  const colW = (width - marginLeft - 10) / Math.max(1, groups.length);
  const rotate = colW < 78;
  const t = (g) => (Math.log(g) - Math.log(domain[0])) / (Math.log(domain[1]) - Math.log(domain[0]));
  const rows = cells.map((c) => Object.assign({ g: c.gap === null ? null : Math.max(c.gap, GAP_FLOOR) }, c));
  const label = (c) => mark(c.invariant) + (narrow || colW < 70 || c.gap === null ? '' : '\n' + (c.gap === 0 ? '0' : fmtSig(c.gap, 2)));
  const svg = Plot.plot({
    width, height: (rotate ? 86 : 50) + 44 * Math.max(arms.length, 2), marginLeft, marginRight: 10, marginBottom: rotate ? 76 : 40, marginTop: 8,
    style: { fontSize: '11px', background: 'transparent' },
    x: { domain: groups, label: 'transform group', tickFormat: (g) => SHORT[g] || g, tickRotate: rotate ? -35 : 0, labelOffset: rotate ? 70 : 34, tickSize: 0 },
    y: { domain: arms, label: null, tickSize: 0 },
    color: { type: 'log', scheme: 'viridis', domain, unknown: '#eceef2' },
    marks: [
      Plot.cell(rows, { x: 'group', y: 'arm', fill: 'g', inset: 1, ariaLabel: cellTitle, className: 'audit-cells', ariaDescription: 'audit cells' }),
      Plot.cell(rows.filter((c) => c.agrees === false), { x: 'group', y: 'arm', fill: 'none', stroke: '#c00000',
        strokeWidth: 3.5, inset: 2.5, className: 'audit-mismatch', ariaDescription: 'disagreements with DESIGN 2.2' }),
      Plot.text(rows, { x: 'group', y: 'arm', text: label, className: 'audit-verdicts', ariaDescription: 'verdicts', fontSize: 12, fontWeight: 600, lineHeight: 1.15,
        fill: (c) => (c.g !== null && t(c.g) < 0.6 ? '#ffffff' : '#1f2430') }),
      Plot.tip(rows, Plot.pointer({ x: 'group', y: 'arm', title: cellTip, fontSize: 11 })),
    ],
  });
  return { svg, domain };
}

/** The table of DESIGN 2.2's expectations beside the heatmap: arms x groups, the expected verdict, the
 *  cells that disagree with the measurement marked. */
function expectedTable(data) {
  const table = document.createElement('table');
  table.className = 'curves-table expected-table';
  table.id = 'audit-expected';
  const cap = document.createElement('caption');
  cap.className = 'visually-hidden';
  cap.textContent = 'Expected by DESIGN 2.2, per arm and transform group';
  table.append(cap);
  const head = document.createElement('tr');
  head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: 'Arm' }));
  for (const g of data.groups) head.append(Object.assign(document.createElement('th'), { scope: 'col', textContent: SHORT[g] || g, title: g }));
  const thead = document.createElement('thead');
  thead.append(head);
  const tbody = document.createElement('tbody');
  for (const arm of data.arms) {
    const tr = document.createElement('tr');
    const th = document.createElement('th');
    th.scope = 'row';
    th.className = 'arm';
    armText(th, arm);
    tr.append(th);
    for (const g of data.groups) {
      const c = data.cells.find((x) => x.arm === arm && x.group === g);
      const td = document.createElement('td');
      if (!c) { td.textContent = '—'; tr.append(td); continue; }
      td.className = 'exp-' + (c.expected === true ? 'inv' : c.expected === false ? 'not' : 'unknown') + (c.agrees === false ? ' mismatch' : '');
      td.dataset.group = g;
      td.dataset.expected = String(c.expected);
      td.textContent = mark(c.expected) + (c.agrees === false ? ' ≠ measured' : '');
      td.title = cellTitle(c);
      tr.append(td);
    }
    tbody.append(tr);
  }
  table.append(thead, tbody);
  return table;
}

const CSV = [{ key: 'arm' }, { key: 'group' }, { key: 'gap' }, { key: 'seed_gap' }, { key: 'method' },
  { key: 'invariant', label: 'invariant (measured)' }, { key: 'expected', label: 'invariant (DESIGN 2.2)' },
  { key: 'agrees' }];

/**
 * Render the audit section body (`body`) for experiment `exp` from the audit response `res` ({id, audit})
 * or the error `err`. Returns the number of cells drawn.
 */
export function renderAudit(body, exp, res, err) {
  const spec = exp.resolved_spec || exp.spec || {};
  const list = res && Array.isArray(res.audit) ? res.audit : [];
  const asked = !!(exp.spec && exp.spec.audit) || !!spec.audit;
  const empty = body.querySelector('.audit-empty') || body.appendChild(Object.assign(document.createElement('p'), { className: 'empty audit-empty' }));
  const wrap = body.querySelector('.audit-wrap') || body.appendChild(Object.assign(document.createElement('div'), { className: 'audit-wrap' }));
  const summary = body.querySelector('.audit-summary') || body.insertBefore(Object.assign(document.createElement('p'), { className: 'audit-summary' }), wrap);
  if (err || !list.length) {
    wrap.hidden = true;
    summary.hidden = true;
    empty.hidden = false;
    if (err) empty.textContent = 'Could not read the audit: ' + err.message;
    else if (!asked) {
      empty.replaceChildren('No symmetry audit: this experiment did not ask for one. Add ',
        Object.assign(document.createElement('code'), { textContent: '"audit": {"groups": ["orthogonal", "permutation", "translation"], "n_train": 200}' }),
        ' to a spec (DESIGN 3) to measure each arm\'s symmetry gaps.');
    } else if (exp.status === 'queued' || exp.status === 'running') empty.textContent = 'Audit pending: the gaps appear here when they are measured.';
    else empty.textContent = 'The server stored no audit results for this experiment.';
    return 0;
  }
  empty.hidden = true;
  wrap.hidden = false;
  const data = auditCells(list, spec);
  const seeds = spec.audit && Number.isInteger(spec.audit.seeds) ? spec.audit.seeds : null;
  const bad = data.cells.filter((c) => c.agrees === false);
  const known = data.cells.filter((c) => c.agrees !== null);
  summary.hidden = false;
  summary.className = 'audit-summary ' + (bad.length ? 'audit-bad' : 'audit-ok');
  summary.textContent = data.cells.length + ' cells (' + data.arms.length + ' arms × ' + data.groups.length + ' groups). ' +
    (bad.length
      ? bad.length + ' of ' + known.length + ' disagree with DESIGN 2.2: ' + bad.map((c) => disagreement(c, seeds)).join('; ') + '.' +
        (bad.some((c) => c.method === 'distributional' && c.invariant)
          ? ' A distributional measurement cannot see a difference below its seed floor: more audit.seeds can resolve it.' : '')
      : 'All ' + known.length + ' cells that DESIGN 2.2 states agree with it.');
  let figHolder = wrap.querySelector('.audit-fig');
  if (!figHolder) {
    figHolder = Object.assign(document.createElement('div'), { className: 'audit-fig' });
    const side = Object.assign(document.createElement('div'), { className: 'audit-side table-wrap' });
    wrap.append(figHolder, side);
  }
  const fig = figure(figHolder, 'audit', 'Symmetry gaps <span class="axis-note">(log colour scale; ✓ invariant, ✗ not; hover for the method)</span>');
  let dom = null;
  render(fig, {
    title: 'Symmetry gaps per arm and transform group',
    subtitle: exp.name || '',
    plot: (w) => { const h = heatmap(data, w); dom = h.domain; return h.svg; },
    ramp: (w) => window.Plot.legend({ color: { type: 'log', scheme: 'viridis', domain: dom, label: 'gap (log scale)' }, width: w, tickFormat: (d) => fmtSig(d, 1) }),
    legend: [{ label: 'red frame: disagrees with DESIGN 2.2', color: '#c00000', kind: 'rule' }],
    note: 'gap = Σ (f_gD(gX) − f_D(X))² / Σ f_D(X)² (DESIGN 2.2); a gap of 0 is drawn at ' + fmtSig(GAP_FLOOR, 1) + '.' +
      (bad.length ? ' ' + bad.length + (bad.length === 1 ? ' cell disagrees' : ' cells disagree') + ' with DESIGN 2.2.' : ''),
    axes: 'rows: arms; columns: transform groups; colour: gap (log).',
    csv: { columns: CSV, rows: data.cells },
    file: (exp.name || 'experiment') + '-audit',
    aria: 'Audit heatmap of ' + data.arms.length + ' arms by ' + data.groups.length + ' groups; the same verdicts are in the table of expectations beside it.',
  });
  fig.el.dataset.cells = String(data.cells.length);
  wrap.querySelector('.audit-side').replaceChildren(Object.assign(document.createElement('p'), { className: 'expected-note',
    textContent: 'Expected by DESIGN 2.2 (✓ invariant, ✗ not); a red cell disagrees with the measurement.' }), expectedTable(data));
  return data.cells.length;
}
