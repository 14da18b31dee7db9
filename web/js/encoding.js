/* dmilab dashboard: how a plot encodes the experiment's grid (DESIGN 1: an arm is data/model/inference):
 * one hue per model, a line dash and a marker per data variant, a shade per inference method. Pure functions. */

/** Okabe & Ito's colour-blind-safe hues ("Color Universal Design", 2008), those with at least 3:1 contrast
 *  on white first (WCAG 1.4.11), then orange and sky blue; yellow left out: too light for lines on white. */
export const HUES = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#000000', '#E69F00', '#56B4E9'];
/** SVG stroke-dasharray per data variant ('' = solid). */
export const DASHES = ['', '7,3', '2,2.5', '9,3,2,3', '14,4'];
/** Observable Plot symbol names per data variant (filled shapes first: they read at small sizes). */
export const SYMBOLS = ['circle', 'square', 'triangle', 'diamond', 'star', 'cross', 'wye', 'times'];
/** Shade of the model's hue per inference method, in order of first appearance: mix toward black (< 0) or
 *  white (> 0). Darker shades come first: they keep the contrast of lines on white. */
export const SHADES = [0, -0.5, 0.3, -0.75, 0.5];

/** "natural/fcn/ntk" -> {data, model, inference}; anything without two '/' keeps the whole text as model. */
export function parseArm(arm) {
  const parts = String(arm).split('/');
  if (parts.length !== 3) return { data: '', model: String(arm), inference: '' };
  return { data: parts[0], model: parts[1], inference: parts[2] };
}

function hexToRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/** `hex` mixed toward black (t < 0) or white (t > 0) by |t| in sRGB. */
export function shade(hex, t) {
  const rgb = hexToRgb(hex);
  const target = t < 0 ? 0 : 255;
  const a = Math.abs(t);
  return '#' + rgb.map((c) => Math.round(c + (target - c) * a).toString(16).padStart(2, '0')).join('');
}

/** WCAG 2.x relative luminance of a #rrggbb colour. */
export function luminance(hex) {
  const [r, g, b] = hexToRgb(hex).map((c) => {
    const s = c / 255;
    return s <= 0.03928 ? s / 12.92 : Math.pow((s + 0.055) / 1.055, 2.4);
  });
  return 0.2126 * r + 0.7152 * g + 0.0722 * b;
}

/** WCAG contrast ratio of two #rrggbb colours (1 to 21). */
export function contrast(a, b) {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

function orderOf(values) {
  const m = new Map();
  for (const v of values) if (!m.has(v)) m.set(v, m.size);
  return m;
}

/**
 * The style of every arm of one experiment: Map arm -> {color, dash, symbol, data, model, inference}.
 * `arms` in display order; the hue follows the model, dash and marker the data variant, the shade the
 * inference method, each by order of first appearance. More models than hues reuse hues with the next
 * marker set, so two arms never share all three.
 */
export function gridStyles(arms) {
  const parsed = arms.map((a) => Object.assign({ arm: a }, parseArm(a)));
  const models = orderOf(parsed.map((p) => p.model));
  const datas = orderOf(parsed.map((p) => p.data));
  const infs = orderOf(parsed.map((p) => p.inference));
  const out = new Map();
  for (const p of parsed) {
    const mi = models.get(p.model);
    const di = datas.get(p.data);
    const ii = infs.get(p.inference);
    const hue = HUES[mi % HUES.length];
    const cycle = Math.floor(mi / HUES.length);
    const t = SHADES[ii % SHADES.length];
    out.set(p.arm, {
      color: shade(hue, hue === '#000000' ? Math.abs(t) * 0.8 : t), // black has no darker shade
      hue,
      dash: DASHES[di % DASHES.length],
      symbol: SYMBOLS[(di + cycle) % SYMBOLS.length],
      data: p.data,
      model: p.model,
      inference: p.inference,
    });
  }
  return out;
}

/** Styles for series of several experiments overlaid (compare page): one hue per experiment, dash and
 *  marker per arm within it. `keys`: [{exp, arm, key}] -> Map key -> style. */
export function compareStyles(keys) {
  const exps = orderOf(keys.map((k) => k.exp));
  const within = new Map();
  const out = new Map();
  for (const k of keys) {
    const ei = exps.get(k.exp);
    const n = within.get(k.exp) || 0;
    within.set(k.exp, n + 1);
    out.set(k.key, {
      color: shade(HUES[ei % HUES.length], SHADES[Math.floor(n / DASHES.length) % SHADES.length]),
      dash: DASHES[n % DASHES.length],
      symbol: SYMBOLS[n % SYMBOLS.length],
    });
  }
  return out;
}
