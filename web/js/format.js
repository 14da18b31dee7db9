/* dmilab dashboard: formatting of numbers, times, sizes and API errors for display (pure functions). */

export const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
const pad2 = (n) => String(n).padStart(2, '0');

/** An RFC 3339 time as local "YYYY-MM-DD hh:mm:ss" ("—" when absent). */
export function fmtTime(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
    pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
}

/** A number of seconds as "4.2 s", "3 min 5 s", "2 h 10 min" ("" when not a non-negative number). */
export function fmtSeconds(s) {
  if (!Number.isFinite(s) || s < 0) return '';
  if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
  if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
  return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
}

/** The time from RFC 3339 `a` to `b`, formatted by fmtSeconds. */
export function fmtDuration(a, b) {
  return fmtSeconds((new Date(b) - new Date(a)) / 1000);
}

/** `v` with `sig` significant digits; exponent notation outside [1e-3, 1e6). */
export function fmtSig(v, sig) {
  if (!isNum(v)) return '—';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(sig)));
  return v.toExponential(sig - 1);
}

/** mean ± std with the decimals of the mean's significant digits (0.3176 ± 0.0005); `kind` 'acc' uses 3
 *  decimals. A missing std prints the mean alone. */
export function fmtMeanStd(mean, std, kind) {
  if (!isNum(mean)) return '—';
  let dec;
  if (kind === 'acc') dec = 3;
  else {
    const a = Math.abs(mean);
    if (a === 0 || a < 1e-3 || a >= 1e6) return fmtSig(mean, 4) + (isNum(std) ? ' ± ' + fmtSig(std, 2) : '');
    dec = Math.max(0, 3 - Math.floor(Math.log10(a)));
  }
  const m = mean.toFixed(dec);
  if (!isNum(std)) return m;
  let s = Math.abs(std).toFixed(dec);
  if (std !== 0 && Number(s) === 0) s = Math.abs(std).toExponential(0);
  return m + ' ± ' + s;
}

/** A progress fraction in [0, 1] as a percentage ("—" when absent). */
export function fmtProgress(p) {
  if (!isNum(p)) return '—';
  const pct = Math.max(0, Math.min(1, p)) * 100;
  return (pct > 0 && pct < 1 ? pct.toFixed(1) : Math.round(pct)) + '%';
}

/** A byte count in binary units (KiB, MiB, GiB). */
export function fmtBytes(b) {
  if (!isNum(b) || b < 0) return '—';
  const units = ['bytes', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (b >= 1024 && i < units.length - 1) { b /= 1024; i++; }
  return (i === 0 ? String(Math.round(b)) : b.toFixed(b < 10 ? 2 : 1)) + ' ' + units[i];
}

/** An API error {code, message, field} (or a string) as one line of text. */
export function errorText(e) {
  if (!e) return '';
  if (typeof e === 'string') return e;
  if (typeof e === 'object') {
    const parts = [];
    if (e.code) parts.push('[' + e.code + ']');
    if (e.message) parts.push(e.message);
    if (e.field) parts.push('(field ' + e.field + ')');
    return parts.length ? parts.join(' ') : JSON.stringify(e, null, 2);
  }
  return String(e);
}

/** A file-name-safe slug of `s` ("natural vs shuffled" -> "natural-vs-shuffled"). */
export function slug(s) {
  return String(s || 'figure').toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'figure';
}
