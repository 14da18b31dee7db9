/* dmilab dashboard: the experiment list (GET /api/v1/experiments, newest first, paged by cursor), its
 * filters by name, tag and status, keyboard navigation, and the experiments picked for comparison. */
import { api, API_BASE } from './api.js';
import { fmtProgress } from './format.js';
import { $, ACTIVE, statusBadge, progressEl, timeEl, tagsOf, tagChips } from './widgets.js';

const PAGE_LIMIT = 50;

export const list = {
  experiments: [], // rows of the loaded pages, newest first, after the filters
  pages: 1,        // pages the user has loaded
  nextCursor: null,
  status: '',
  q: '',
  tag: '',
  error: null,
  serverFilters: true, // false once the server refused ?q= / ?tag= (older servers): filter here only
  picked: new Set(),   // experiment ids picked for the compare page
  selectedId: null,
  example: null,       // a file of examples/ for the empty state's curl line
};

/** Whether `exp` passes the name and tag filters: the name or id contains `q` (case-insensitive) and
 *  the spec's tags include `tag`. Applied on top of the server's ?q= and ?tag=, which older servers ignore. */
export function matches(exp, q, tag) {
  if (q) {
    const s = q.toLowerCase();
    if (!String(exp.name || '').toLowerCase().includes(s) && !String(exp.id || '').toLowerCase().includes(s)) return false;
  }
  if (tag && !tagsOf(exp).some((t) => t.toLowerCase() === tag.toLowerCase())) return false;
  return true;
}

async function fetchPage(cursor) {
  const query = { limit: PAGE_LIMIT, cursor, status: list.status };
  if (list.serverFilters) Object.assign(query, { q: list.q, tag: list.tag });
  try {
    return await api('experiments', { query });
  } catch (e) {
    if (e.status === 400 && (e.field === 'q' || e.field === 'tag') && list.serverFilters) {
      list.serverFilters = false;
      return fetchPage(cursor);
    }
    throw e;
  }
}

/** Re-fetch every loaded page (cursors are opaque, so walk them in order). */
export async function refreshList() {
  try {
    const items = [];
    let cursor = null;
    let next = null;
    for (let p = 0; p < list.pages; p++) {
      const data = await fetchPage(cursor);
      items.push(...(data && Array.isArray(data.experiments) ? data.experiments : []));
      next = data ? data.next_cursor || null : null;
      if (!next) { list.pages = p + 1; break; }
      cursor = next;
    }
    const seen = new Set(); // an experiment may move between pages while we walk them: keep the first
    list.all = items.filter((e) => e && e.id && !seen.has(e.id) && seen.add(e.id));
    list.experiments = list.all.filter((e) => matches(e, list.q, list.tag));
    list.nextCursor = next;
    list.error = null;
  } catch (e) {
    list.error = e;
  }
  renderList();
}

function row(e) {
  const tr = document.createElement('tr');
  tr.className = 'exp-row';
  tr.tabIndex = 0;
  tr.dataset.id = e.id;
  if (e.id === list.selectedId) tr.setAttribute('aria-current', 'true');
  tr.setAttribute('aria-label', (e.name || e.id) + ', ' + (e.status || 'unknown') + ', ' + fmtProgress(e.progress));
  const tdPick = document.createElement('td');
  tdPick.className = 'pick-col';
  const cb = document.createElement('input');
  cb.type = 'checkbox';
  cb.className = 'pick';
  cb.checked = list.picked.has(e.id);
  cb.setAttribute('aria-label', 'Compare ' + (e.name || e.id));
  tdPick.append(cb);
  const tdName = document.createElement('td');
  tdName.className = 'exp-name';
  tdName.append(Object.assign(document.createElement('span'), { className: 'name', textContent: e.name || '(unnamed)' }),
    Object.assign(document.createElement('code'), { className: 'id id-token', textContent: e.id }));
  const tags = tagsOf(e);
  if (tags.length) tdName.append(Object.assign(document.createElement('span'), { className: 'tags' }));
  if (tags.length) tdName.lastChild.append(...tagChips(tags));
  const tdStatus = document.createElement('td');
  tdStatus.className = 'exp-status';
  tdStatus.append(statusBadge(e.status), progressEl(e.progress, e.status));
  const tdCreated = document.createElement('td');
  tdCreated.className = 'created';
  tdCreated.append(timeEl(e.created_at, true));
  tr.append(tdPick, tdName, tdStatus, tdCreated);
  return tr;
}

/** The curl line of the empty state: a real example file and this server's address. */
export function curlLine(file) {
  return "curl -H 'Content-Type: application/json' -d @" + (file || 'examples/<spec>.json') + ' ' + new URL('experiments', API_BASE).href;
}

export function renderList() {
  const tbody = $('exp-rows');
  const active = document.activeElement;
  const focusedId = active && tbody.contains(active) ? (active.closest('tr') || {}).dataset.id : null;
  const focusedPick = active && active.classList && active.classList.contains('pick');
  tbody.replaceChildren(...list.experiments.map(row));
  if (focusedId) {
    const again = tbody.querySelector('tr[data-id="' + CSS.escape(focusedId) + '"]');
    if (again) (focusedPick ? again.querySelector('.pick') : again).focus({ preventScroll: true });
  }
  const filtering = list.status || list.q || list.tag;
  $('list-empty').hidden = !(list.experiments.length === 0 && !list.error && !filtering);
  $('empty-curl').textContent = curlLine(list.example);
  $('load-more').hidden = !list.nextCursor;
  const nActive = list.experiments.filter((e) => ACTIVE.has(e.status)).length;
  let note = list.experiments.length + ' experiment' + (list.experiments.length === 1 ? '' : 's');
  const f = [];
  if (list.q) f.push('name contains “' + list.q + '”');
  if (list.tag) f.push('tag “' + list.tag + '”');
  if (list.status) f.push('status ' + list.status);
  if (f.length) note += ' with ' + f.join(', ');
  if (nActive) note += ' · ' + nActive + ' active, refreshing every 2 s';
  $('list-note').textContent = list.error && !list.experiments.length ? '' : note;
  const tags = new Set((list.all || []).flatMap(tagsOf));
  $('tag-options').replaceChildren(...Array.from(tags).sort().map((t) => Object.assign(document.createElement('option'), { value: t })));
  renderCompareBar();
}

export function renderCompareBar() {
  const n = list.picked.size;
  $('compare-bar').hidden = n === 0;
  $('compare-count').textContent = n + ' picked';
  $('compare-link').href = '#/compare?ids=' + Array.from(list.picked).map(encodeURIComponent).join(',');
  $('compare-link').textContent = n === 1 ? 'Open comparison (pick another)' : 'Compare ' + n;
}

/** Wire the list's events; `onSelect(id)` shows an experiment, `onChange()` re-fetches the list. */
export function initList(onSelect, onChange) {
  const tbody = $('exp-rows');
  tbody.addEventListener('click', (ev) => {
    if (ev.target.classList.contains('pick')) return;
    const tr = ev.target.closest('tr.exp-row');
    if (tr) onSelect(tr.dataset.id, true);
  });
  tbody.addEventListener('change', (ev) => {
    if (!ev.target.classList.contains('pick')) return;
    const id = ev.target.closest('tr').dataset.id;
    if (ev.target.checked) list.picked.add(id); else list.picked.delete(id);
    renderCompareBar();
  });
  tbody.addEventListener('keydown', (ev) => {
    const tr = ev.target.closest('tr.exp-row');
    if (!tr || ev.target.classList.contains('pick')) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      onSelect(tr.dataset.id, false);
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const sib = ev.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (sib) sib.focus();
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      const rows = tbody.rows;
      if (rows.length) rows[ev.key === 'Home' ? 0 : rows.length - 1].focus();
    }
  });
  let timer = 0;
  const onFilter = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      list.q = $('filter-q').value.trim();
      list.tag = $('filter-tag').value.trim();
      list.status = $('status-filter').value;
      list.pages = 1;
      onChange();
    }, 250);
  };
  $('filter-q').addEventListener('input', onFilter);
  $('filter-tag').addEventListener('input', onFilter);
  $('status-filter').addEventListener('change', onFilter);
  $('list-filters').addEventListener('submit', (ev) => { ev.preventDefault(); onFilter(); });
  $('load-more').addEventListener('click', () => { list.pages += 1; onChange(); });
  $('compare-clear').addEventListener('click', () => { list.picked.clear(); renderList(); });
}
