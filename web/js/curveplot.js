/* dmilab dashboard: the plots of a metric against n_train (learning curves) drawn with Observable Plot:
 * lines and markers per arm, a band of ± one standard deviation only where there are repeats, axes bounded
 * by the data; with a single n_train, a dot chart of the arms instead of a column of dots. */
import { isNum, fmtSig } from './format.js';
import { logDomain, linDomain, logTicks, logAxisTicks } from './series.js';

const FONT_PX = 11;

function textW(s) { return String(s).length * FONT_PX * 0.6; }

/**
 * Axis and grid marks for a log scale with labels at exactly `ticks`: Plot's log axes drop the labels of
 * ticks whose mantissa is not 1, 2 or 5 (d3's log tickFormat), which would leave n_train = 400 or
 * width = 64 unlabelled; an explicit `text` channel keeps every one. `dim` 'x' | 'y'; `axis` the scale's
 * label options ({label, labelAnchor, labelOffset}).
 */
export function logAxis(dim, ticks, fmt, axis) {
  const Plot = window.Plot;
  const mk = dim === 'x' ? Plot.axisX : Plot.axisY;
  const grid = dim === 'x' ? Plot.gridX : Plot.gridY;
  return [grid(ticks), mk(ticks, Object.assign({ text: (d) => fmt(d) }, axis))];
}

/** The label of a metric for an axis. */
export function metricLabel(metric) {
  return metric === 'test_accuracy' ? 'test accuracy' : metric === 'test_mse' ? 'test MSE' : metric;
}

function tipText(r, metric, labelOf) {
  let t = labelOf(r) + '\nn_train ' + r.n + '\n' + metricLabel(metric) + ' ' + fmtSig(r.mean, 4) +
    (r.std !== null ? ' ± ' + fmtSig(r.std, 2) + ' (' + r.repeats + ' repeats)' : '');
  if (metric === 'test_mse' && r.exponent !== null) t += '\nlocal exponent ' + r.exponent.toFixed(3) + ' (from the previous size)';
  return t;
}

/**
 * Domains a learning-curve plot uses: x on a log axis over the n_train run, y over the means and their
 * spreads (log for MSE), each padded by a small margin. rows: curveRows() output.
 */
export function curveDomains(rows, metric) {
  const logY = metric === 'test_mse';
  const x = logDomain(rows.map((r) => r.n), 0.04, 0.03);
  const ys = [];
  for (const r of rows) { ys.push(r.mean, r.hi); if (!logY || r.lo > 0) ys.push(r.lo); }
  const y = logY ? logDomain(ys, 0.06, 0.01) : linDomain(ys, 0.08, 0.005, metric === 'test_accuracy' ? [0, 1] : null);
  return { x, y, logY };
}

/**
 * A learning-curve <svg>: rows (curveRows) of `series` ([{key, label, style: {color, dash, symbol}}]),
 * rows matched by r.key; `metric`; `width` px. Returns {svg, domains}.
 */
export function curvePlot(rows, series, metric, width) {
  const Plot = window.Plot;
  const { x, y, logY } = curveDomains(rows, metric);
  const hasSpread = rows.some((r) => r.std !== null);
  const labelOf = (r) => (series.find((s) => s.key === r.key) || { label: r.key }).label;
  const marks = [];
  for (const s of series) {
    const rs = rows.filter((r) => r.key === s.key).sort((a, b) => a.n - b.n);
    if (!rs.length) continue;
    if (hasSpread && rs.some((r) => r.std !== null)) {
      const band = rs.map((r) => ({ n: r.n, lo: logY && r.lo <= 0 ? y[0] : r.lo, hi: r.hi }));
      marks.push(Plot.areaY(band, { x: 'n', y1: 'lo', y2: 'hi', fill: s.style.color, fillOpacity: 0.14, curve: 'linear',
        className: 'band', ariaDescription: 'spread ' + s.label }));
    }
    marks.push(Plot.line(rs, { x: 'n', y: 'mean', stroke: s.style.color, strokeWidth: 2,
      strokeDasharray: s.style.dash || undefined, className: 'curve', ariaDescription: s.label }));
    marks.push(Plot.dot(rs, { x: 'n', y: 'mean', symbol: s.style.symbol, fill: s.style.color, stroke: s.style.color,
      r: 3.6, className: 'points', ariaDescription: s.label }));
  }
  marks.push(Plot.tip(rows, Plot.pointer({ x: 'n', y: 'mean', title: (r) => tipText(r, metric, labelOf), fontSize: 11 })));
  const plotW = width - 64 - 18;
  const yLabel = { label: '↑ ' + metricLabel(metric) };
  const axes = logAxis('x', logTicks(rows.map((r) => r.n), x, plotW), String,
    { label: 'n_train (training-set size) →', labelAnchor: 'center', labelOffset: 36 });
  if (logY) axes.push(...logAxis('y', logAxisTicks(y, 5), (d) => fmtSig(d, 3), yLabel));
  const svg = Plot.plot({
    width, height: width < 520 ? 250 : 300, marginLeft: 64, marginRight: 18, marginBottom: 42, marginTop: 16,
    style: { fontSize: FONT_PX + 'px', background: 'transparent' },
    x: { type: 'log', domain: x },
    y: logY ? { type: 'log', domain: y } : Object.assign({ domain: y, grid: true, tickFormat: (d) => fmtSig(d, 3), ticks: 6 }, yLabel),
    marks: axes.concat(marks),
  });
  return { svg, domains: { x, y } };
}

/**
 * A dot chart for one training-set size: one row per series (y), the metric on x (log for MSE when the
 * values span more than a factor 3), ± one standard deviation as a horizontal bar where there are repeats,
 * and the value written beside each dot.
 */
export function dotPlot(rows, series, metric, width) {
  const Plot = window.Plot;
  const labels = series.filter((s) => rows.some((r) => r.key === s.key)).map((s) => s.label);
  const keyOf = new Map(series.map((s) => [s.label, s]));
  const data = rows.map((r) => Object.assign({ label: (series.find((s) => s.key === r.key) || { label: r.key }).label }, r));
  const vals = data.flatMap((r) => [r.lo, r.hi, r.mean]);
  const pos = vals.filter((v) => v > 0);
  const logX = metric === 'test_mse' && pos.length === vals.length && Math.max(...pos) / Math.min(...pos) > 3;
  const x = logX ? logDomain(vals, 0.08, 0.02) : linDomain(vals, 0.15, 0.01, metric === 'test_accuracy' ? [0, 1] : null);
  const marginLeft = Math.min(Math.max(...labels.map(textW)) + 14, Math.floor(width * 0.45));
  const xAxis = { label: metricLabel(metric) + ' →', labelAnchor: 'center', labelOffset: 34 };
  const marks = [Plot.gridY(labels, { stroke: '#d9dde3', strokeOpacity: 1 })];
  if (logX) marks.push(...logAxis('x', logAxisTicks(x, Math.max(3, Math.floor((width - marginLeft) / 70))), (d) => fmtSig(d, 3), xAxis));
  for (const r of data) {
    const st = keyOf.get(r.label).style;
    if (r.std !== null) marks.push(Plot.ruleY([r], { y: 'label', x1: 'lo', x2: 'hi', stroke: st.color, strokeWidth: 2.5 }));
    marks.push(Plot.dot([r], { x: 'mean', y: 'label', symbol: st.symbol, fill: st.color, stroke: st.color, r: 5,
      className: 'points', ariaDescription: r.label }));
    marks.push(Plot.text([r], { x: 'mean', y: 'label', text: (d) => fmtSig(d.mean, 3), dy: -11, fill: '#1f2430',
      fontSize: 11 }));
  }
  marks.push(Plot.tip(data, Plot.pointer({ x: 'mean', y: 'label', title: (r) => tipText(r, metric, (d) => d.label), fontSize: 11 })));
  const svg = Plot.plot({
    width, height: 56 + 34 * labels.length, marginLeft, marginRight: 24, marginBottom: 40, marginTop: 14,
    style: { fontSize: FONT_PX + 'px', background: 'transparent' },
    x: logX ? { type: 'log', domain: x } : Object.assign({ domain: x, grid: true, tickFormat: (d) => fmtSig(d, 3),
      ticks: Math.max(3, Math.floor((width - marginLeft) / 70)) }, xAxis),
    y: { domain: labels, label: null, tickSize: 0 },
    marks,
  });
  return { svg, domains: { x, y: null } };
}

/** The note under a learning-curve figure: what the marks mean, and the local exponents of MSE. */
export function curveNote(rows, metric, series) {
  const spread = rows.filter((r) => r.std !== null);
  let note = spread.length
    ? 'Lines join the means over repeats; the band is ± one sample standard deviation (' +
      Math.min(...spread.map((r) => r.repeats)) + (Math.min(...spread.map((r) => r.repeats)) === Math.max(...spread.map((r) => r.repeats)) ? '' : '–' + Math.max(...spread.map((r) => r.repeats))) + ' repeats).'
    : 'One repeat per size: no spread to show.';
  if (metric === 'test_mse') {
    const last = [];
    for (const s of series) {
      const rs = rows.filter((r) => r.key === s.key && r.exponent !== null).sort((a, b) => a.n - b.n);
      if (rs.length) last.push(s.label + ' ' + rs[rs.length - 1].exponent.toFixed(2));
    }
    if (last.length) note += ' Local exponent at the largest size (slope of log MSE against log n_train): ' + last.join(', ') + '.';
  }
  return note;
}

/** CSV columns of a learning-curve figure (what it draws: means, spreads and the repeats behind them). */
export const CURVE_CSV = [
  { key: 'label', label: 'series' }, { key: 'arm' }, { key: 'n', label: 'n_train' }, { key: 'metric' },
  { key: 'mean' }, { key: 'std', label: 'std (sample, over repeats; empty with one repeat)' },
  { key: 'repeats' }, { key: 'exponent', label: 'local_exponent (from the previous size)' },
];

