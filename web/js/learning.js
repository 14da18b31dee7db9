/* dmilab dashboard: an experiment's learning curves (test accuracy and test MSE against n_train, DESIGN 4
 * curves) as figures and as a table, each arm styled by the grid encoding. */
import { figure, render, symbolPath } from './figure.js';
import { curveRows } from './series.js';
import { curvePlot, dotPlot, curveDomains, curveNote, metricLabel, CURVE_CSV } from './curveplot.js';
import { gridStyles, parseArm } from './encoding.js';
import { fmtMeanStd, isNum } from './format.js';

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A one-line text saying what colour, dash/marker and shade stand for in this experiment. */
export function encodingKey(arms) {
  const uniq = (f) => Array.from(new Set(arms.map((a) => parseArm(a)[f])));
  const parts = [];
  const models = uniq('model');
  const datas = uniq('data');
  const infs = uniq('inference');
  if (models.length > 1) parts.push('colour: model (' + models.join(', ') + ')');
  if (datas.length > 1) parts.push('dash and marker: data variant (' + datas.join(', ') + ')');
  if (infs.length > 1) parts.push('shade: inference (' + infs.join(', ') + ')');
  return parts.length ? 'Encoding — ' + parts.join('; ') + '.' : '';
}

/** A small inline SVG sample of a series' style (line, dash, marker) for tables. */
export function swatch(style) {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('width', 26);
  svg.setAttribute('height', 12);
  svg.setAttribute('class', 'swatch');
  svg.setAttribute('aria-hidden', 'true');
  const l = document.createElementNS(SVG_NS, 'line');
  Object.entries({ x1: 1, x2: 25, y1: 6, y2: 6, stroke: style.color, 'stroke-width': 2 }).forEach(([k, v]) => l.setAttribute(k, v));
  if (style.dash) l.setAttribute('stroke-dasharray', style.dash);
  const c = document.createElementNS(SVG_NS, 'path');
  c.setAttribute('d', symbolPath(style.symbol, 30));
  c.setAttribute('transform', 'translate(13,6)');
  c.setAttribute('fill', style.color);
  svg.append(l, c);
  return svg;
}

/** An arm id that may wrap after each '/', never inside a name. */
export function armText(el, text) {
  String(text).split('/').forEach((part, k) => {
    if (k) el.append('/', document.createElement('wbr'));
    const s = document.createElement('span');
    s.className = 'nowrap';
    s.textContent = part;
    el.append(s);
  });
  return el;
}

/**
 * Learning-curve figures and table for `exp` from its results `res` ({points, curves}). `series` (optional):
 * [{key, label, style}] to draw instead of the experiment's arms (the compare page passes its own), with
 * rows keyed by `keyOf(curve)`.
 */
export function renderLearning(container, exp, curves, points, opts = {}) {
  const arms = curves.map((c) => c.arm);
  const styles = gridStyles(arms);
  const series = opts.series || arms.map((a) => ({ key: a, label: a, style: styles.get(a) }));
  const keyOf = opts.keyOf || ((c) => c.arm);
  const prefix = opts.prefix || '';
  const key = encodingKey(arms);
  let shown = 0;
  for (const metric of ['test_accuracy', 'test_mse']) {
    const rows = [];
    for (const c of curves) {
      for (const r of curveRows([c], metric, c._points || points, metric === 'test_mse')) {
        const k = keyOf(c);
        const s = series.find((x) => x.key === k);
        if (s) rows.push(Object.assign(r, { key: k, label: s.label, metric }));
      }
    }
    const title = metricLabel(metric).replace(/^t/, 'T') + ' against training-set size';
    const fig = figure(container, prefix + (metric === 'test_mse' ? 'mse' : 'acc'),
      title + ' <span class="axis-note"></span>');
    const note = fig.el.querySelector('.axis-note');
    if (!rows.length) {
      fig.el.hidden = true;
      continue;
    }
    shown++;
    const single = new Set(rows.map((r) => r.n)).size === 1;
    const used = series.filter((s) => rows.some((r) => r.key === s.key));
    note.textContent = single ? '(n_train = ' + rows[0].n + ' for every arm)'
      : metric === 'test_mse' ? '(log x, log y)' : '(log x)';
    const dom = single ? null : curveDomains(rows, metric);
    render(fig, {
      title: single ? metricLabel(metric).replace(/^t/, 'T') + ' at n_train = ' + rows[0].n : title,
      subtitle: opts.subtitle || (exp && exp.name) || '',
      plot: (w, hidden) => (single ? dotPlot : curvePlot)(rows.filter((r) => !hidden.has(r.key)),
        used.filter((s) => !hidden.has(s.key)), metric, w).svg,
      legend: single ? null : used.map((s) => ({ key: s.key, label: s.label, color: s.style.color, dash: s.style.dash, symbol: s.style.symbol })),
      note: [curveNote(rows, metric, used), opts.series ? '' : key].filter(Boolean).join(' '),
      axes: single ? 'x: ' + metricLabel(metric) + '; one row per arm.' : 'x: n_train (log); y: ' + metricLabel(metric) + (metric === 'test_mse' ? ' (log).' : '.'),
      csv: { columns: CURVE_CSV, rows, key: (r) => r.key },
      file: ((opts.subtitle || (exp && exp.name) || 'experiment') + '-' + metric),
      aria: (single ? 'Dot chart of ' : 'Learning curves: ') + metricLabel(metric) + ' for ' + used.length + ' series: ' +
        used.map((s) => s.label).join(', ') + '. The values are in the table below.',
      info: dom ? { x: dom.x, y: dom.y } : {},
    });
    fig.el.dataset.series = String(used.length);
  }
  return shown;
}

/** The learning-curve table: per arm and n_train the repeats, accuracy and MSE (mean ± std when there
 *  are repeats) and the local exponent from the previous size. */
export function renderCurvesTable(table, curves, points) {
  const reps = new Map();
  for (const p of points || []) {
    if (!p) continue;
    const k = p.arm + '\u0000' + p.n_train;
    reps.set(k, (reps.get(k) || 0) + 1);
  }
  const styles = gridStyles(curves.map((c) => c.arm));
  for (const tb of Array.from(table.tBodies)) tb.remove();
  table.hidden = curves.length === 0;
  for (const c of curves) {
    const tb = document.createElement('tbody');
    const n = c.n_train.length;
    for (let j = 0; j < n; j++) {
      const tr = document.createElement('tr');
      if (j === 0) {
        const th = document.createElement('th');
        th.scope = 'rowgroup';
        th.rowSpan = n;
        th.className = 'arm';
        th.append(swatch(styles.get(c.arm)));
        armText(th, c.arm);
        tr.append(th);
      }
      const at = (arr, k) => (Array.isArray(arr) ? arr[k] : undefined);
      const nRep = reps.get(c.arm + '\u0000' + c.n_train[j]);
      const sd = (arr) => (nRep === 1 ? undefined : at(arr, j));
      const ex = j === 0 ? undefined : at(c.local_exponent, j - 1);
      const cells = [
        String(c.n_train[j]),
        nRep === undefined ? '—' : String(nRep),
        fmtMeanStd(at(c.test_accuracy_mean, j), sd(c.test_accuracy_std), 'acc'),
        fmtMeanStd(at(c.test_mse_mean, j), sd(c.test_mse_std), 'mse'),
        j === 0 ? '' : (isNum(ex) ? ex.toFixed(3) : '—'),
      ];
      for (const v of cells) {
        const td = document.createElement('td');
        td.className = 'num';
        td.textContent = v;
        tr.append(td);
      }
      tb.append(tr);
    }
    table.append(tb);
  }
}

