/* dmilab dashboard: training curves of trained arms (gd, sgd, adam; DESIGN 4 points[].training_curve):
 * train loss and the test metric against the epoch, repeat 0 of each (arm, n_train). */
import { figure, render } from './figure.js';
import { gridStyles, DASHES } from './encoding.js';
import { isNum, fmtSig } from './format.js';
import { logDomain, linDomain, logAxisTicks } from './series.js';
import { logAxis } from './curveplot.js';
import { asList } from './specinfo.js';

/** Repeat 0 of every point with a training curve: [{arm, n, entries}], entries with whole, increasing
 *  epochs up to the arm's `epochs` (others are left out and counted in .dropped), in the arms' order. */
export function trainingRuns(points, arms, spec) {
  const armIdx = new Map(arms.map((a, i) => [a, i]));
  const maxEpochs = new Map();
  for (const inf of asList(spec && spec.inference)) if (inf && inf.name && Number.isInteger(inf.epochs)) maxEpochs.set(inf.name, inf.epochs);
  let dropped = 0;
  const runs = [];
  for (const p of points) {
    if (!p || p.repeat !== 0 || !Array.isArray(p.training_curve)) continue;
    const maxEp = maxEpochs.has(p.inference) ? maxEpochs.get(p.inference) : 1e9;
    const entries = [];
    let last = -Infinity;
    for (const e of p.training_curve) {
      if (e && Number.isInteger(e.epoch) && e.epoch >= 0 && e.epoch <= maxEp && e.epoch > last) {
        entries.push(e);
        last = e.epoch;
      } else dropped++;
    }
    if (!entries.length) continue;
    runs.push({ arm: p.arm, n: p.n_train, entries, ai: armIdx.has(p.arm) ? armIdx.get(p.arm) : arms.length + runs.length });
  }
  runs.sort((a, b) => a.ai - b.ai || a.n - b.n);
  runs.dropped = dropped;
  return runs;
}

function epochPlot(runs, field, cfg, width) {
  const Plot = window.Plot;
  const rows = [];
  for (const r of runs) {
    for (const e of r.entries) {
      const v = e[field];
      if (!isNum(v) || (cfg.logY && v < 1e-30)) continue; // denormals would stretch a log axis over decades
      rows.push({ run: r.label, epoch: e.epoch, value: v, arm: r.arm, n_train: r.n });
    }
  }
  const y = cfg.logY ? logDomain(rows.map((r) => r.value), 0.04, 0.02)
    : linDomain(rows.map((r) => r.value), 0.06, 0.005, cfg.clamp01 ? [0, 1] : null);
  const x = linDomain(rows.map((r) => r.epoch), 0.02, 0.5);
  const marks = [];
  for (const r of runs) {
    const rs = rows.filter((d) => d.run === r.label);
    if (!rs.length) continue;
    marks.push(Plot.line(rs, { x: 'epoch', y: 'value', stroke: r.style.color, strokeWidth: 1.8,
      strokeDasharray: r.style.dash || undefined, className: 'run', ariaDescription: r.label }));
    if (rs.length <= 60) marks.push(Plot.dot(rs, { x: 'epoch', y: 'value', fill: r.style.color, r: 2.2 }));
  }
  marks.push(Plot.tip(rows, Plot.pointer({ x: 'epoch', y: 'value',
    title: (d) => d.run + '\nepoch ' + d.epoch + '\n' + cfg.yLabel + ' ' + fmtSig(d.value, 4), fontSize: 11 })));
  const svg = Plot.plot({
    width, height: width < 520 ? 230 : 270, marginLeft: 64, marginRight: 18, marginBottom: 42, marginTop: 16,
    style: { fontSize: '11px', background: 'transparent' },
    x: { domain: x, label: 'epoch →', labelAnchor: 'center', labelOffset: 36, grid: true, tickFormat: (d) => (Number.isInteger(d) ? String(d) : '') },
    y: cfg.logY ? { type: 'log', domain: y } : { domain: y, label: '↑ ' + cfg.yLabel, grid: true, tickFormat: (d) => fmtSig(d, 3), ticks: 5 },
    marks: (cfg.logY ? logAxis('y', logAxisTicks(y, 5), (d) => fmtSig(d, 3), { label: '↑ ' + cfg.yLabel }) : []).concat(marks),
  });
  return { svg, rows, x, y };
}

/**
 * Training-curve figures into `container` for the experiment `exp`: returns false when no point has a
 * training curve. `nFilter`: '' (every size) or one n_train as text. `noteEl` gets the count of runs.
 */
export function renderTraining(container, exp, points, arms, nFilter, noteEl, selectEl) {
  const all = trainingRuns(points, arms, exp && (exp.resolved_spec || exp.spec));
  if (!all.length) return false;
  const sizes = Array.from(new Set(all.map((r) => r.n))).sort((a, b) => a - b);
  if (nFilter !== '' && !sizes.includes(Number(nFilter))) nFilter = '';
  const want = [''].concat(sizes.map(String));
  if (Array.from(selectEl.options).map((o) => o.value).join(',') !== want.join(',')) {
    selectEl.replaceChildren(...want.map((v) => Object.assign(document.createElement('option'), {
      value: v, textContent: v === '' ? 'all sizes' : v,
    })));
  }
  selectEl.value = nFilter;
  selectEl.disabled = sizes.length < 2;
  const styles = gridStyles(arms);
  const runs = (nFilter === '' ? all : all.filter((r) => r.n === Number(nFilter))).map((r) => {
    const base = styles.get(r.arm) || { color: '#444', dash: '' };
    // the arm's colour; the dash tells the sizes apart when several are shown
    const dash = sizes.length > 1 && nFilter === '' ? DASHES[sizes.indexOf(r.n) % DASHES.length] : base.dash;
    return Object.assign({ label: r.arm + ' · n=' + r.n, style: { color: base.color, dash, symbol: null } }, r);
  });
  const armsShown = new Set(runs.map((r) => r.arm));
  noteEl.textContent = runs.length + ' run' + (runs.length === 1 ? '' : 's') + ' of ' + armsShown.size + ' trained arm' +
    (armsShown.size === 1 ? '' : 's') + ' (repeat 0).' +
    (all.dropped ? ' ' + all.dropped + ' entr' + (all.dropped === 1 ? 'y' : 'ies') + ' with an invalid or out-of-order epoch left out.' : '');
  const legend = runs.map((r) => ({ key: r.label, label: r.label, color: r.style.color, dash: r.style.dash }));
  const hasAcc = runs.some((r) => r.entries.some((e) => isNum(e.test_accuracy)));
  const figs = [
    { key: 'train-loss', field: 'train_loss', cfg: { logY: true, yLabel: 'train loss' }, title: 'Train loss per epoch', axis: '(log y)' },
    hasAcc
      ? { key: 'train-test', field: 'test_accuracy', cfg: { logY: false, clamp01: true, yLabel: 'test accuracy' }, title: 'Test accuracy at evaluated epochs', axis: '' }
      : { key: 'train-test', field: 'test_mse', cfg: { logY: true, yLabel: 'test MSE' }, title: 'Test MSE at evaluated epochs', axis: '(log y; regression targets have no accuracy)' },
  ];
  for (const f of figs) {
    const fig = figure(container, f.key, f.title + ' <span class="axis-note"></span>');
    fig.el.querySelector('.fig-title').firstChild.textContent = f.title + ' ';
    fig.el.querySelector('.axis-note').textContent = f.axis;
    const plot = (w, hidden) => epochPlot(runs.filter((r) => !hidden.has(r.label)), f.field, f.cfg, w).svg;
    const probe = epochPlot(runs, f.field, f.cfg, 600);
    if (!probe.rows.length) { fig.el.hidden = true; continue; }
    render(fig, {
      title: f.title, subtitle: exp.name || '', plot, legend,
      note: 'Repeat 0 of each trained arm; colour: arm (as in the learning curves)' + (sizes.length > 1 && nFilter === '' ? ', dash: n_train.' : '.'),
      axes: 'x: epoch; y: ' + f.cfg.yLabel + (f.cfg.logY ? ' (log).' : '.'),
      csv: { columns: [{ key: 'run' }, { key: 'arm' }, { key: 'n_train' }, { key: 'epoch' }, { key: 'value', label: f.field }], rows: probe.rows, key: (r) => r.run },
      file: (exp.name || 'experiment') + '-' + f.key,
      aria: f.title + ' for ' + runs.length + ' runs: ' + runs.map((r) => r.label).join(', ') + '.',
      info: { x: probe.x, y: probe.y },
    });
  }
  return true;
}
