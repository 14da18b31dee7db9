/* dmilab dashboard: what a figure draws, computed from the API's results (DESIGN 4: points and curves):
 * rows per arm and n_train, the repeats behind each mean, axis domains bounded by the data, and the CSV of
 * exactly those rows. Pure functions. */
import { isNum } from './format.js';

/** Map "arm\u0000n_train" -> number of stored points (repeats) behind each curve entry. */
export function repeatCounts(points) {
  const m = new Map();
  for (const p of points || []) {
    if (!p) continue;
    const k = p.arm + '\u0000' + p.n_train;
    m.set(k, (m.get(k) || 0) + 1);
  }
  return m;
}

/**
 * One row per (arm, n_train) of `metric` ('test_mse' | 'test_accuracy') with a finite mean:
 * {arm, n, mean, std, repeats, lo, hi, exponent}. `std` is null with one repeat (no spread to show);
 * lo/hi = mean -/+ std (mean when null); `exponent` is the curve's local exponent from the previous size
 * (DESIGN 1; MSE only, null for the first size). `logY`: rows with mean <= 0 are left out.
 */
export function curveRows(curves, metric, points, logY) {
  const reps = repeatCounts(points);
  const rows = [];
  for (const c of curves) {
    if (!c || !Array.isArray(c.n_train)) continue;
    const means = c[metric + '_mean'] || [];
    const stds = c[metric + '_std'] || [];
    c.n_train.forEach((n, j) => {
      const mean = means[j];
      if (!isNum(n) || n <= 0 || !isNum(mean) || (logY && mean <= 0)) return;
      const repeats = reps.has(c.arm + '\u0000' + n) ? reps.get(c.arm + '\u0000' + n) : null;
      const std = repeats !== null && repeats > 1 && isNum(stds[j]) ? Math.abs(stds[j]) : null;
      const ex = metric === 'test_mse' && j > 0 && Array.isArray(c.local_exponent) ? c.local_exponent[j - 1] : null;
      rows.push({ arm: c.arm, n, mean, std, repeats, lo: std === null ? mean : mean - std,
        hi: std === null ? mean : mean + std, exponent: isNum(ex) ? ex : null });
    });
  }
  return rows;
}

/** [lo, hi] of positive `values` on a log axis, padded by `pad` of the span in decades (at least
 *  `minPad` decades) on each side; null when there is no positive value. */
export function logDomain(values, pad = 0.05, minPad = 0.02) {
  const v = values.filter((x) => isNum(x) && x > 0);
  if (!v.length) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = Math.log10(hi / lo);
  const p = Math.max(span * pad, minPad);
  return [lo / Math.pow(10, p), hi * Math.pow(10, p)];
}

/** [lo, hi] of `values` on a linear axis, padded by `pad` of the span (at least `minPad`), clipped to
 *  `clip` ([min, max]) when given; null when there is no finite value. */
export function linDomain(values, pad = 0.06, minPad = 0.005, clip = null) {
  const v = values.filter(isNum);
  if (!v.length) return null;
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const p = Math.max((hi - lo) * pad, minPad);
  let d = [lo - p, hi + p];
  if (clip) d = [Math.max(d[0], clip[0]), Math.min(d[1], clip[1])];
  return d;
}

/** Ticks for a log axis at the `values` run (sorted, unique), thinned so that neighbouring labels are at
 *  least `minPx` apart on an axis of `widthPx` pixels spanning `domain`. */
export function logTicks(values, domain, widthPx, minPx = 42) {
  const xs = Array.from(new Set(values.filter((x) => isNum(x) && x > 0))).sort((a, b) => a - b);
  if (!domain || xs.length < 2) return xs;
  const perDecade = widthPx / Math.log10(domain[1] / domain[0]);
  const out = [];
  let last = -Infinity;
  for (const x of xs) {
    const px = Math.log10(x) * perDecade;
    if (px - last >= minPx) { out.push(x); last = px; }
  }
  return out;
}

function csvCell(v) {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\n\r]/.test(s) ? '"' + s.replace(/"/g, '""') + '"' : s;
}

/** RFC 4180 CSV text: a header line of `columns` ([{key, label}]) and one line per row. */
export function toCSV(columns, rows) {
  const lines = [columns.map((c) => csvCell(c.label || c.key)).join(',')];
  for (const r of rows) lines.push(columns.map((c) => csvCell(r[c.key])).join(','));
  return lines.join('\r\n') + '\r\n';
}

/** Labelled ticks for a log axis over `domain`: nice linear steps inside one decade or less, 1-2-5 per
 *  decade over up to three decades, powers of ten beyond (every k-th when there are more than `count`). */
export function logAxisTicks(domain, count = 5) {
  if (!domain) return [];
  const [lo, hi] = domain;
  const span = Math.log10(hi / lo);
  if (span <= 1) {
    const step0 = (hi - lo) / count;
    const mag = Math.pow(10, Math.floor(Math.log10(step0)));
    const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((st) => (hi - lo) / st <= count + 1) || 10 * mag;
    const out = [];
    for (let v = Math.ceil(lo / step) * step; v <= hi * (1 + 1e-12); v += step) out.push(Number(v.toPrecision(12)));
    return out;
  }
  const out = [];
  const mults = span <= 3 ? [1, 2, 5] : [1];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of mults) {
      const v = Number((m * Math.pow(10, e)).toPrecision(12));
      if (v >= lo && v <= hi) out.push(v);
    }
  }
  if (out.length <= count * 2) return out;
  const k = Math.ceil(out.length / count);
  return out.filter((v) => Math.round(Math.log10(v)) === Math.log10(v) && Math.round(Math.log10(v)) % k === 0);
}
