/* dmilab dashboard: the spectral readout of the kernel arms (GET …/spectrum, docs/spectrum.md): eigenvalue decay
 * (log-log), cumulative target power against the mode index, and the predicted beside the measured test MSE
 * against n_train, each arm in its learning-curve style. */
import { figure, render } from './figure.js';
import { gridStyles } from './encoding.js';
import { isNum, fmtSig } from './format.js';
import { logDomain, linDomain, logAxisTicks } from './series.js';
import { logAxis } from './curveplot.js';

/** Rows of one readout field: [{arm, mode, value}] of the positive (log axis) or finite values. */
export function modeRows(spectra, field, positive) {
  const rows = [];
  for (const s of spectra) {
    const m = s && s.modes;
    if (!m || !Array.isArray(m.mode) || !Array.isArray(m[field])) continue;
    for (let i = 0; i < m.mode.length; i++) {
      const v = m[field][i];
      if (isNum(v) && isNum(m.mode[i]) && (!positive || v > 0)) rows.push({ arm: s.arm, mode: m.mode[i], value: v });
    }
  }
  return rows;
}

/** Rows of measured and predicted test MSE from the results' curves: [{arm, kind, n, value}]. */
export function predictionRows(curves) {
  const rows = [];
  for (const c of curves) {
    if (!c || !Array.isArray(c.predicted_test_mse) || !Array.isArray(c.n_train)) continue;
    for (let j = 0; j < c.n_train.length; j++) {
      const m = Array.isArray(c.test_mse_mean) ? c.test_mse_mean[j] : undefined;
      const p = c.predicted_test_mse[j];
      if (isNum(m) && m > 0) rows.push({ arm: c.arm, kind: 'measured', n: c.n_train[j], value: m });
      if (isNum(p) && p > 0) rows.push({ arm: c.arm, kind: 'predicted', n: c.n_train[j], value: p });
    }
  }
  return rows;
}

/** The number of modes holding `frac` of the target's power (the first with cumulative >= frac), or null. */
export function modesFor(s, frac) {
  const m = s && s.modes;
  if (!m || !Array.isArray(m.cumulative)) return null;
  for (let i = 0; i < m.cumulative.length; i++) if (isNum(m.cumulative[i]) && m.cumulative[i] >= frac) return m.mode[i];
  return null;
}

function linePlot(rows, series, cfg, width) {
  const Plot = window.Plot;
  const x = logDomain(rows.map((r) => r.x), 0.03, 0.02);
  const y = cfg.logY ? logDomain(rows.map((r) => r.value), 0.04, 0.02) : linDomain(rows.map((r) => r.value), 0.04, 0.01, cfg.clip);
  const marks = [];
  for (const s of series) {
    const rs = rows.filter((r) => r.key === s.key);
    if (!rs.length) continue;
    marks.push(Plot.line(rs, { x: 'x', y: 'value', stroke: s.style.color, strokeWidth: 1.8,
      strokeDasharray: s.style.dash || undefined, className: 'series', ariaDescription: s.label }));
    if (rs.length <= 40) marks.push(Plot.dot(rs, { x: 'x', y: 'value', fill: s.style.color, symbol: s.style.symbol || 'circle', r: 2.6 }));
  }
  marks.push(Plot.tip(rows, Plot.pointer({ x: 'x', y: 'value',
    title: (d) => d.label + '\n' + cfg.xLabel + ' ' + d.x + '\n' + cfg.yLabel + ' ' + fmtSig(d.value, 4), fontSize: 11 })));
  const fmt = (d) => (d > 0 && d < 1e-3 ? d.toExponential(0) : fmtSig(d, 3)); // 1e-5, not 1.00e-5
  const axes = logAxis('x', logAxisTicks(x, 6), fmt, { label: cfg.xLabel + ' →', labelAnchor: 'center', labelOffset: 36 });
  if (cfg.logY) axes.push(...logAxis('y', logAxisTicks(y, 5), fmt, { label: '↑ ' + cfg.yLabel }));
  const svg = Plot.plot({
    width, height: width < 520 ? 230 : 270, marginLeft: 64, marginRight: 18, marginBottom: 42, marginTop: 16,
    style: { fontSize: '11px', background: 'transparent' },
    x: { type: 'log', domain: x },
    y: cfg.logY ? { type: 'log', domain: y } : { domain: y, label: '↑ ' + cfg.yLabel, grid: true, tickFormat: fmt, ticks: 5 },
    marks: axes.concat(marks),
  });
  return { svg, x, y };
}

/**
 * The spectrum figures into `container` for experiment `exp` from its readout `sp` ({spectra}) and its results'
 * `curves`. Returns false (nothing drawn) when there is no readout. `noteEl` gets a summary per arm.
 */
export function renderSpectrum(container, exp, sp, curves, noteEl) {
  const spectra = sp && Array.isArray(sp.spectra) ? sp.spectra.filter((s) => s && typeof s.arm === 'string') : [];
  if (!spectra.length) return false;
  const styles = gridStyles(curves.length ? curves.map((c) => c.arm) : spectra.map((s) => s.arm));
  const styleOf = (arm) => styles.get(arm) || { color: '#444', dash: '', symbol: 'circle' };
  const arms = spectra.map((s) => ({ key: s.arm, label: s.arm, style: styleOf(s.arm) }));
  const name = (exp && exp.name) || 'experiment';
  noteEl.textContent = spectra.map((s) => s.arm + ': N = ' + s.n + ', alignment ' + fmtSig(s.alignment, 3) +
    ', effective dimension ' + fmtSig(s.effective_dimension, 3) + ', 90% of the target in ' + (modesFor(s, 0.9) ?? '?') +
    ' modes').join('; ') + '.' + (spectra.some((s) => s.modes && s.modes.thinned) ? ' Modes thinned on a log scale for plotting.' : '');
  const figs = [
    { key: 'spectrum-decay', title: 'Eigenvalue decay', axis: '(log x, log y)', field: 'eigenvalue', logY: true, yLabel: 'eigenvalue',
      note: 'Eigenvalues of each arm’s training Gram divided by N: estimates of the kernel operator’s. A power law is a straight line.' },
    { key: 'spectrum-cumulative', title: 'Cumulative target power against mode index', axis: '(log x)', field: 'cumulative', logY: false,
      yLabel: 'fraction of target power', clip: [0, 1],
      note: 'The fraction of the target captured by the top modes: the kernel that rises faster learns the target from fewer points.' },
  ];
  for (const f of figs) {
    const fig = figure(container, f.key, f.title + ' <span class="axis-note"></span>');
    fig.el.querySelector('.fig-title').firstChild.textContent = f.title + ' ';
    fig.el.querySelector('.axis-note').textContent = f.axis;
    const rows = modeRows(spectra, f.field, f.logY).map((r) => ({ key: r.arm, label: r.arm, x: r.mode, value: r.value, arm: r.arm, mode: r.mode }));
    if (!rows.length) { fig.el.hidden = true; continue; }
    const cfg = { logY: f.logY, xLabel: 'mode', yLabel: f.yLabel, clip: f.clip };
    const probe = linePlot(rows, arms, cfg, 600);
    render(fig, {
      title: f.title, subtitle: name,
      plot: (w, hidden) => linePlot(rows.filter((r) => !hidden.has(r.key)), arms.filter((s) => !hidden.has(s.key)), cfg, w).svg,
      legend: arms.map((s) => ({ key: s.key, label: s.label, color: s.style.color, dash: s.style.dash, symbol: s.style.symbol })),
      note: f.note, axes: 'x: mode index (log); y: ' + f.yLabel + (f.logY ? ' (log).' : '.'),
      csv: { columns: [{ key: 'arm' }, { key: 'mode' }, { key: 'value', label: f.field }], rows, key: (r) => r.key },
      file: name + '-' + f.key,
      aria: f.title + ' for ' + arms.length + ' kernel arms: ' + arms.map((s) => s.label).join(', ') + '.',
      info: { x: probe.x, y: probe.y },
    });
  }
  // predicted against measured: the arm's colour, solid measured, dashed predicted
  const pr = predictionRows(curves);
  const fig = figure(container, 'spectrum-predicted', 'Predicted and measured test MSE <span class="axis-note"></span>');
  fig.el.querySelector('.axis-note').textContent = '(log x, log y)';
  const series = [];
  for (const s of arms) {
    for (const kind of ['measured', 'predicted']) {
      if (!pr.some((r) => r.arm === s.key && r.kind === kind)) continue;
      series.push({ key: s.key + ' · ' + kind, label: s.key + ' · ' + kind,
        style: { color: s.style.color, dash: kind === 'predicted' ? '6,3' : '', symbol: kind === 'predicted' ? 'triangle' : 'circle' } });
    }
  }
  const rows = pr.map((r) => ({ key: r.arm + ' · ' + r.kind, label: r.arm + ' · ' + r.kind, x: r.n, value: r.value, arm: r.arm,
    kind: r.kind, n_train: r.n }));
  if (!rows.length) fig.el.hidden = true;
  else {
    const cfg = { logY: true, xLabel: 'n_train', yLabel: 'test MSE' };
    const probe = linePlot(rows, series, cfg, 600);
    render(fig, {
      title: 'Predicted and measured test MSE against training-set size', subtitle: name,
      plot: (w, hidden) => linePlot(rows.filter((r) => !hidden.has(r.key)), series.filter((s) => !hidden.has(s.key)), cfg, w).svg,
      legend: series.map((s) => ({ key: s.key, label: s.label, color: s.style.color, dash: s.style.dash, symbol: s.style.symbol })),
      note: 'Solid: measured (mean over repeats); dashed: predicted by eigenlearning from the spectrum, a mean over draws of the training set (approximate below about 100 points).',
      axes: 'x: n_train (log); y: test MSE (log).',
      csv: { columns: [{ key: 'arm' }, { key: 'kind' }, { key: 'n_train' }, { key: 'value', label: 'test_mse' }], rows, key: (r) => r.key },
      file: name + '-spectrum-predicted',
      aria: 'Predicted and measured test MSE against n_train for ' + arms.length + ' kernel arms. The values are in the spectrum and results JSON.',
      info: { x: probe.x, y: probe.y },
    });
  }
  return true;
}
