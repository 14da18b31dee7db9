/* dmilab dashboard: small DOM pieces shared by the pages: status badges, progress bars, times, tags. */
import { fmtTime, fmtProgress, isNum } from './format.js';

export const STATUSES = new Set(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
export const ACTIVE = new Set(['queued', 'running']);
export const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

export const $ = (id) => document.getElementById(id);

/** A status badge: colour plus the word itself. */
export function statusBadge(status) {
  const s = document.createElement('span');
  s.className = 'status status-' + (STATUSES.has(status) ? status : 'unknown');
  s.textContent = status || 'unknown';
  return s;
}

/** A progress bar with its percentage. */
export function progressEl(p, status) {
  const wrap = document.createElement('span');
  wrap.className = 'progress';
  const bar = document.createElement('progress');
  bar.max = 1;
  if (isNum(p)) bar.value = Math.max(0, Math.min(1, p));
  else if (status === 'running') bar.removeAttribute('value'); // indeterminate
  else bar.value = 0;
  bar.setAttribute('aria-label', 'progress ' + fmtProgress(p));
  bar.className = 'progress-' + (STATUSES.has(status) ? status : 'unknown');
  const txt = document.createElement('span');
  txt.className = 'progress-text';
  txt.textContent = fmtProgress(p);
  txt.setAttribute('aria-hidden', 'true');
  wrap.append(bar, txt);
  return wrap;
}

/** A <time> of an RFC 3339 value shown in local time (date and clock on two lines with `twoLines`). */
export function timeEl(iso, twoLines) {
  if (!iso) return document.createTextNode('—');
  const t = document.createElement('time');
  t.dateTime = iso;
  t.title = iso;
  const text = fmtTime(iso);
  const sp = text.indexOf(' ');
  if (twoLines && sp > 0) {
    t.append(Object.assign(document.createElement('span'), { className: 'date', textContent: text.slice(0, sp) }), ' ',
      Object.assign(document.createElement('span'), { className: 'clock', textContent: text.slice(sp + 1) }));
  } else t.textContent = text;
  return t;
}

/** The spec's `tags` (DESIGN 3.1), from the spec as submitted or resolved. */
export function tagsOf(exp) {
  const t = (exp && ((exp.spec && exp.spec.tags) || (exp.resolved_spec && exp.resolved_spec.tags))) || [];
  return Array.isArray(t) ? t.filter((x) => typeof x === 'string') : [];
}

/** Tag chips. */
export function tagChips(tags) {
  return tags.map((t) => Object.assign(document.createElement('span'), { className: 'tag', textContent: t }));
}
