/* dmilab dashboard: a metric against a swept value (DESIGN 3.1 sweeps: width, depth, ridge, lr, ...) at one
 * n_train, the kernel arms of a width sweep drawn as its infinite-width limit. */
import { figure, render } from './figure.js';
import { findSweeps } from './sweep.js';
import { gridStyles } from './encoding.js';
import { curveRows, logDomain, linDomain, logAxisTicks } from './series.js';
import { metricLabel, logAxis } from './curveplot.js';
import { fmtSig, isNum } from './format.js';
import { methodLookup } from './specinfo.js';

function valueAt(rows, arm, n) {
  return rows.find((r) => r.arm === arm && r.n === n) || null;
}

/**
 * The swept-value figures for `exp` into `container`; `ctl` = {metric, n} chosen by the user ('' = the
 * largest n_train). Returns the sweeps found (none: nothing drawn) and the n_train values offered.
 */
export function renderSweeps(container, exp, curves, points, ctl) {
  const spec = exp.resolved_spec || exp.spec || {};
  const arms = curves.map((c) => c.arm);
  const sweeps = findSweeps(arms, methodLookup(spec));
  if (!sweeps.length) return { sweeps, sizes: [] };
  const metric = ctl.metric || 'test_accuracy';
  const rows = curveRows(curves, metric, points, metric === 'test_mse');
  const involved = new Set(sweeps.flatMap((s) => s.arms.map((a) => a.arm).concat(s.limits.flatMap((l) => l.arms))));
  const sizes = Array.from(new Set(rows.filter((r) => involved.has(r.arm)).map((r) => r.n))).sort((a, b) => a - b);
  const n = ctl.n && sizes.includes(Number(ctl.n)) ? Number(ctl.n) : sizes[sizes.length - 1];
  const styles = gridStyles(arms);
  const byField = new Map();
  for (const s of sweeps) {
    if (!byField.has(s.field)) byField.set(s.field, []);
    byField.get(s.field).push(s);
  }
  const keep = new Set();
  for (const [field, list] of byField) {
    const key = 'sweep-' + field;
    const pts = [];
    const limits = [];
    for (const s of list) {
      const st = styles.get(s.arms[0].arm);
      for (const a of s.arms) {
        const r = valueAt(rows, a.arm, n);
        if (r) pts.push({ series: s.label, arm: a.arm, field, value: a.value, n_train: n, metric, mean: r.mean, std: r.std, lo: r.lo, hi: r.hi, kind: 'finite', style: st });
      }
      for (const l of s.limits) {
        const rs = l.arms.map((a) => valueAt(rows, a, n)).filter(Boolean);
        if (!rs.length) continue;
        const mean = rs.reduce((t, r) => t + r.mean, 0) / rs.length;
        const lst = styles.get(l.arms[0]);
        limits.push({ series: s.label + ' · ' + l.inference + ' (width → ∞)', arm: l.arms.join(' '), field, value: null, n_train: n, metric, mean,
          std: rs.length === 1 ? rs[0].std : null, kind: 'infinite-width limit', style: { color: lst.color, dash: '5,4' } });
      }
    }
    if (!pts.some((p) => isNum(p.mean)) && !limits.some((l) => isNum(l.mean))) continue;   /* nothing to draw */
    keep.add('fig-' + key);
    const uniqLimits = limits.filter((l, i) => limits.findIndex((m) => m.series.split(' · ')[1] === l.series.split(' · ')[1] && m.mean === l.mean) === i);
    const xs = pts.map((p) => p.value).filter(isNum);
    const logX = xs.length && xs.every((v) => v > 0) && Math.max(...xs) / Math.min(...xs) >= 4;
    const fig = figure(container, key, '');
    const title = metricLabel(metric).replace(/^t/, 'T') + ' against ' + field + ' (n_train = ' + n + ')';
    fig.el.querySelector('.fig-title').textContent = title + (logX ? ' (log x)' : '');
    const seriesList = Array.from(new Set(pts.map((p) => p.series)));
    const legend = seriesList.map((s) => { const st = pts.find((p) => p.series === s).style; return { label: s, color: st.color, dash: st.dash, symbol: st.symbol }; })
      .concat(uniqLimits.map((l) => ({ label: l.series, color: l.style.color, dash: l.style.dash, kind: 'rule' })));
    const logY = metric === 'test_mse';
    const plot = (w) => {
      const Plot = window.Plot;
      const ys = pts.flatMap((p) => [p.lo, p.hi]).concat(uniqLimits.map((l) => l.mean));
      const y = logY ? logDomain(ys, 0.06, 0.01) : linDomain(ys, 0.08, 0.005, metric === 'test_accuracy' ? [0, 1] : null);
      const x = logX ? logDomain(xs, 0.05, 0.03) : linDomain(xs, 0.06, 0.5);
      const marks = [];
      for (const s of seriesList) {
        const ps = pts.filter((p) => p.series === s);
        const st = ps[0].style;
        if (ps.some((p) => p.std !== null)) marks.push(Plot.ruleX(ps.filter((p) => p.std !== null), { x: 'value', y1: 'lo', y2: 'hi', stroke: st.color, strokeWidth: 1.5 }));
        marks.push(Plot.line(ps, { x: 'value', y: 'mean', stroke: st.color, strokeWidth: 2, strokeDasharray: st.dash || undefined, className: 'sweep-curve', ariaDescription: s }));
        marks.push(Plot.dot(ps, { x: 'value', y: 'mean', fill: st.color, stroke: st.color, symbol: st.symbol, r: 3.8 }));
      }
      for (const l of uniqLimits) {
        marks.push(Plot.ruleY([l], { y: 'mean', stroke: l.style.color, strokeWidth: 1.75, strokeDasharray: l.style.dash, className: 'sweep-limit', ariaDescription: l.series }));
        marks.push(Plot.text([l], { y: 'mean', x: x[1], text: () => l.series.split(' · ')[1] + ': ' + fmtSig(l.mean, 3), textAnchor: 'end', dy: -6, fill: '#1f2430', fontSize: 11 }));
      }
      marks.push(Plot.tip(pts, Plot.pointer({ x: 'value', y: 'mean', fontSize: 11,
        title: (p) => p.arm + '\n' + field + ' ' + p.value + '\n' + metricLabel(metric) + ' ' + fmtSig(p.mean, 4) + (p.std !== null ? ' ± ' + fmtSig(p.std, 2) : '') })));
      // (a domain is null when the metric has no finite value to draw, e.g. accuracy of a regression)
      fig.el.dataset.xDomain = x ? x.join(',') : '';
      fig.el.dataset.yDomain = y ? y.join(',') : '';
      fig.el.dataset.logY = String(logY);
      const xTicks = Array.from(new Set(xs)).sort((a, b) => a - b);
      const xAxis = { label: field + ' →', labelAnchor: 'center', labelOffset: 36 };
      const yAxis = { label: '↑ ' + metricLabel(metric) };
      const axes = [];
      if (logX) axes.push(...logAxis('x', xTicks, String, xAxis));
      if (logY) axes.push(...logAxis('y', logAxisTicks(y, 5), (d) => fmtSig(d, 3), yAxis));
      return Plot.plot({
        width: w, height: w < 520 ? 240 : 280, marginLeft: 64, marginRight: 18, marginBottom: 42, marginTop: 16,
        style: { fontSize: '11px', background: 'transparent' },
        x: logX ? { type: 'log', domain: x } : Object.assign({ domain: x, grid: true, ticks: xTicks, tickFormat: String }, xAxis),
        y: logY ? { type: 'log', domain: y } : Object.assign({ domain: y, grid: true, tickFormat: (d) => fmtSig(d, 3), ticks: 5 }, yAxis),
        marks: axes.concat(marks),
      });
    };
    render(fig, {
      title, subtitle: exp.name || '', plot, legend,
      note: 'Means over repeats at n_train = ' + n + (pts.some((p) => p.std !== null) ? '; bars: ± one sample standard deviation' : '') +
        (uniqLimits.length ? '; dashed horizontal lines: the kernel arms, the infinite-width limit of the finite networks.' : '.'),
      axes: 'x: ' + field + (logX ? ' (log)' : '') + '; y: ' + metricLabel(metric) + '.',
      csv: { columns: [{ key: 'series' }, { key: 'arm' }, { key: 'field' }, { key: 'value' }, { key: 'kind' }, { key: 'n_train' },
        { key: 'metric' }, { key: 'mean' }, { key: 'std' }], rows: pts.concat(uniqLimits) },
      file: (exp.name || 'experiment') + '-sweep-' + field,
      aria: title + ' for ' + seriesList.length + ' series' + (uniqLimits.length ? ' with the infinite-width limit' : '') + '.',
    });
    fig.el.dataset.series = String(seriesList.length);
    fig.el.dataset.limits = String(uniqLimits.length);
  }
  for (const el of Array.from(container.querySelectorAll('figure.fig'))) if (!keep.has(el.id)) el.remove();
  return { sweeps, sizes, n };
}
