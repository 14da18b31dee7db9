/* dmilab dashboard: plain JavaScript, no build step.
 * Talks to the HTTP API v1 (see DESIGN.md section 4) relative to this page,
 * so the dashboard works both at / and behind a reverse-proxy prefix.
 * Plots use the vendored uPlot (web/vendor/uplot, see web/vendor/README.md). */
(function () {
  'use strict';

  const API_BASE = new URL('api/v1/', document.baseURI);
  const TOKEN_KEY = 'dmilab.token';
  const POLL_MS = 2000;
  const PAGE_LIMIT = 50;
  const ACTIVE = new Set(['queued', 'running']);
  const STATUSES = new Set(['queued', 'running', 'succeeded', 'failed', 'cancelled']);
  // Okabe-Ito (colour-blind safe) first, then a few extra; dash patterns after 10 arms.
  const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00',
    '#56B4E9', '#000000', '#8C564B', '#7F7F7F', '#B8860B'];
  const DASHES = [null, [8, 4], [2, 3], [10, 3, 2, 3]];

  const $ = (id) => document.getElementById(id);

  /* ------------------------------------------------------------------ */
  /* Fetch helper with bearer-token handling                             */
  /* ------------------------------------------------------------------ */

  class ApiError extends Error {
    constructor(status, code, message, field) {
      super(message);
      this.status = status;
      this.code = code;
      this.field = field;
    }
  }

  function getToken() {
    try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
  }
  function setToken(t) {
    try {
      if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
    } catch (e) { /* storage disabled: the token lives for this request only */ }
    updateTokenButton();
  }

  let tokenPrompt = null;        // the one pending prompt, shared by concurrent 401s
  let autoPromptDeclined = false; // the user cancelled a prompt caused by a read

  // Ask the user for a token; resolves to the new token, or '' when cancelled.
  function askToken(reason) {
    if (tokenPrompt) return tokenPrompt;
    const dialog = $('token-dialog');
    tokenPrompt = new Promise((resolve) => {
      if (typeof dialog.showModal !== 'function') { // very old browsers
        const t = window.prompt(reason + '\nBearer token:') || '';
        if (t) setToken(t.trim());
        resolve(t.trim());
        return;
      }
      $('token-reason').textContent = reason;
      $('token-input').value = '';
      $('token-forget').hidden = !getToken();
      const onClose = () => {
        dialog.removeEventListener('close', onClose);
        const action = dialog.returnValue;
        const value = $('token-input').value.trim();
        $('token-input').value = '';
        if (action === 'ok' && value) { setToken(value); resolve(value); return; }
        if (action === 'forget') setToken('');
        resolve('');
      };
      dialog.addEventListener('close', onClose);
      dialog.returnValue = '';
      dialog.showModal();
      $('token-input').focus();
    }).finally(() => { tokenPrompt = null; });
    return tokenPrompt;
  }

  /**
   * api(path, {method, body, headers, query}) -> parsed JSON (null for 204).
   * The stored token, if any, is sent as a bearer token. On 401 the user is asked
   * for a token and the request is retried once. Mutating requests (POST, DELETE, ...)
   * always prompt; reads prompt until the user cancels once (then a banner offers it).
   * Throws ApiError carrying the server's {"error": {code, message, field}}.
   */
  async function api(path, opts = {}) {
    const method = (opts.method || 'GET').toUpperCase();
    const url = new URL(path, API_BASE);
    if (opts.query) {
      for (const [k, v] of Object.entries(opts.query)) {
        if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
      }
    }
    const headers = Object.assign({ Accept: 'application/json' }, opts.headers || {});
    const token = getToken();
    if (token) headers.Authorization = 'Bearer ' + token;
    let body;
    if (opts.body !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
    }

    let res;
    try {
      res = await fetch(url, { method, headers, body, cache: 'no-store', signal: opts.signal });
    } catch (e) {
      if (e && e.name === 'AbortError') throw e;
      throw new ApiError(0, 'network', 'cannot reach the server (' + (e && e.message || e) + ')');
    }

    if (res.status === 401 && !opts._retried) {
      const mutating = method !== 'GET' && method !== 'HEAD';
      if (mutating || !autoPromptDeclined) {
        const reason = token
          ? 'The server rejected the stored token. Enter a valid one.'
          : (mutating ? 'This action needs the server\'s bearer token.'
                      : 'The server requires a bearer token to read experiments.');
        const t = await askToken(reason);
        if (t) return api(path, Object.assign({}, opts, { _retried: true }));
        if (!mutating) autoPromptDeclined = true;
      }
    }

    if (res.status === 204) return null;
    const text = await res.text();
    let data = null;
    if (text) {
      try { data = JSON.parse(text); } catch (e) { data = null; }
    }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      throw new ApiError(res.status, err.code || 'http_' + res.status,
        err.message || (res.status + ' ' + res.statusText), err.field);
    }
    if (data === null && text) throw new ApiError(res.status, 'invalid_json', 'the server sent a response that is not JSON');
    return data;
  }

  function updateTokenButton() {
    $('token-button').textContent = getToken() ? 'Token set ✓' : 'Set token';
  }

  /* ------------------------------------------------------------------ */
  /* Formatting                                                          */
  /* ------------------------------------------------------------------ */

  const isNum = (v) => typeof v === 'number' && Number.isFinite(v);
  const pad2 = (n) => String(n).padStart(2, '0');

  function fmtTime(iso) {
    if (!iso) return '—';
    const d = new Date(iso);
    if (Number.isNaN(d.getTime())) return String(iso);
    return d.getFullYear() + '-' + pad2(d.getMonth() + 1) + '-' + pad2(d.getDate()) + ' ' +
      pad2(d.getHours()) + ':' + pad2(d.getMinutes()) + ':' + pad2(d.getSeconds());
  }

  function timeEl(iso, twoLines) {
    if (!iso) return document.createTextNode('—');
    const t = document.createElement('time');
    t.dateTime = iso;
    t.title = iso;
    const text = fmtTime(iso);
    const sp = text.indexOf(' ');
    if (twoLines && sp > 0) {
      const d = document.createElement('span');
      d.className = 'date';
      d.textContent = text.slice(0, sp);
      const h = document.createElement('span');
      h.className = 'clock';
      h.textContent = text.slice(sp + 1);
      t.append(d, ' ', h);
    } else {
      t.textContent = text;
    }
    return t;
  }

  function fmtDuration(a, b) {
    const s = (new Date(b) - new Date(a)) / 1000;
    if (!Number.isFinite(s) || s < 0) return '';
    if (s < 60) return s.toFixed(s < 10 ? 1 : 0) + ' s';
    if (s < 3600) return Math.floor(s / 60) + ' min ' + Math.round(s % 60) + ' s';
    return Math.floor(s / 3600) + ' h ' + Math.round((s % 3600) / 60) + ' min';
  }

  function fmtSig(v, sig) {
    if (!isNum(v)) return '—';
    if (v === 0) return '0';
    const a = Math.abs(v);
    if (a >= 1e-3 && a < 1e6) return String(Number(v.toPrecision(sig)));
    return v.toExponential(sig - 1);
  }

  // mean ± std, both with the decimals of the mean's significant digits (0.3176 ± 0.0005).
  function fmtMeanStd(mean, std, kind) {
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

  function fmtProgress(p) {
    if (!isNum(p)) return '—';
    const pct = Math.max(0, Math.min(1, p)) * 100;
    return (pct > 0 && pct < 1 ? pct.toFixed(1) : Math.round(pct)) + '%';
  }

  function statusBadge(status) {
    const s = document.createElement('span');
    const known = STATUSES.has(status);
    s.className = 'status status-' + (known ? status : 'unknown');
    s.textContent = status || 'unknown';
    return s;
  }

  function progressEl(p, status) {
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

  function errorText(e) {
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

  /* ------------------------------------------------------------------ */
  /* State                                                               */
  /* ------------------------------------------------------------------ */

  const state = {
    experiments: [],   // rows of the loaded pages, newest first
    pages: 1,          // how many pages the user has loaded
    nextCursor: null,
    filter: '',
    selectedId: null,
    selected: null,    // the full experiment object
    resultsKey: null,  // status/progress for which results were last fetched
    results: null,
    listError: null,
    detailError: null,
    checks: null,      // GET .../checks of the selected experiment, when its spec has checks
    trainN: '',        // n_train shown in the training-curve charts ('' = every size)
  };
  const cancelRequested = new Set(); // running experiments this page asked to cancel
  let actionBusy = false;
  let selGen = 0;      // drops stale detail responses after a new selection
  let pollTimer = null;
  let tickRunning = false;

  function banner(msg, action) {
    const b = $('banner');
    b.replaceChildren();
    if (!msg) { b.hidden = true; return; }
    b.append(document.createTextNode(msg));
    if (action) {
      const btn = document.createElement('button');
      btn.type = 'button';
      btn.className = 'btn btn-small';
      btn.textContent = action.label;
      btn.addEventListener('click', action.run);
      b.append(' ', btn);
    }
    b.hidden = false;
  }

  function showErrors() {
    const e = state.listError || state.detailError;
    if (!e) { banner(''); return; }
    if (e.status === 401) {
      banner('The server requires a bearer token.', {
        label: 'Enter token',
        run: async () => { autoPromptDeclined = false; if (await askToken('Enter the server\'s bearer token.')) refreshAll(); },
      });
    } else if (e.status === 0) {
      banner('Cannot reach the dmilab server; retrying.', { label: 'Retry now', run: () => refreshAll() });
    } else {
      banner('Error: ' + e.message);
    }
  }

  /* ------------------------------------------------------------------ */
  /* Experiment list                                                     */
  /* ------------------------------------------------------------------ */

  async function fetchList() {
    // Re-fetch every page the user has loaded: cursors are opaque, so walk them in order.
    const items = [];
    let cursor = null;
    let next = null;
    for (let p = 0; p < state.pages; p++) {
      const data = await api('experiments', { query: { limit: PAGE_LIMIT, cursor, status: state.filter } });
      const list = (data && Array.isArray(data.experiments)) ? data.experiments : [];
      items.push(...list);
      next = data ? data.next_cursor || null : null;
      if (!next) { state.pages = p + 1; break; }
      cursor = next;
    }
    // One experiment may move between pages while we walk them: keep its first occurrence.
    const seen = new Set();
    state.experiments = items.filter((e) => e && e.id && !seen.has(e.id) && seen.add(e.id));
    state.nextCursor = next;
  }

  async function refreshList() {
    try {
      await fetchList();
      state.listError = null;
    } catch (e) {
      state.listError = e;
    }
    renderList();
  }

  function renderList() {
    const tbody = $('exp-rows');
    const active = document.activeElement;
    const focusedId = active && active.dataset && tbody.contains(active) ? active.dataset.id : null;

    const rows = state.experiments.map((e) => {
      const tr = document.createElement('tr');
      tr.className = 'exp-row';
      tr.tabIndex = 0;
      tr.dataset.id = e.id;
      if (e.id === state.selectedId) tr.setAttribute('aria-current', 'true');
      tr.setAttribute('aria-label', (e.name || e.id) + ', ' + (e.status || 'unknown') + ', ' + fmtProgress(e.progress));

      const tdName = document.createElement('td');
      tdName.className = 'exp-name';
      const name = document.createElement('span');
      name.className = 'name';
      name.textContent = e.name || '(unnamed)';
      const id = document.createElement('code');
      id.className = 'id';
      id.textContent = e.id;
      tdName.append(name, id);

      const tdStatus = document.createElement('td');
      tdStatus.className = 'exp-status';
      tdStatus.append(statusBadge(e.status), progressEl(e.progress, e.status));
      const tdCreated = document.createElement('td');
      tdCreated.className = 'created';
      tdCreated.append(timeEl(e.created_at, true));
      tr.append(tdName, tdStatus, tdCreated);
      return tr;
    });
    tbody.replaceChildren(...rows);
    if (focusedId) {
      const again = tbody.querySelector('tr[data-id="' + CSS.escape(focusedId) + '"]');
      if (again) again.focus({ preventScroll: true });
    }

    $('list-empty').hidden = !(state.experiments.length === 0 && !state.listError && !state.filter);
    $('load-more').hidden = !state.nextCursor;
    const nActive = state.experiments.filter((e) => ACTIVE.has(e.status)).length;
    let note = state.experiments.length + ' experiment' + (state.experiments.length === 1 ? '' : 's');
    if (state.filter) note += ' with status ' + state.filter;
    if (nActive) note += ' · ' + nActive + ' active, refreshing every 2 s';
    $('list-note').textContent = state.listError && !state.experiments.length ? '' : note;
    showErrors();
  }

  function selectRow(tr, viaPointer) {
    if (!tr || !tr.dataset.id) return;
    const id = tr.dataset.id;
    if ('#' + encodeURIComponent(id) !== location.hash) location.hash = encodeURIComponent(id);
    else loadSelected();
    // On a one-column layout the details are below the list: bring them into view.
    if (viaPointer !== undefined && window.matchMedia('(max-width: 1099px)').matches) {
      $('detail').scrollIntoView({ behavior: 'smooth', block: 'start' });
    }
  }

  function onRowsClick(ev) {
    const tr = ev.target.closest('tr.exp-row');
    if (tr) selectRow(tr, true);
  }

  function onRowsKey(ev) {
    const tr = ev.target.closest('tr.exp-row');
    if (!tr) return;
    if (ev.key === 'Enter' || ev.key === ' ') {
      ev.preventDefault();
      selectRow(tr, false);
    } else if (ev.key === 'ArrowDown' || ev.key === 'ArrowUp') {
      ev.preventDefault();
      const sib = ev.key === 'ArrowDown' ? tr.nextElementSibling : tr.previousElementSibling;
      if (sib) sib.focus();
    } else if (ev.key === 'Home' || ev.key === 'End') {
      ev.preventDefault();
      const rows = $('exp-rows').rows;
      if (rows.length) rows[ev.key === 'Home' ? 0 : rows.length - 1].focus();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Selected experiment                                                 */
  /* ------------------------------------------------------------------ */

  function idFromHash() {
    const h = location.hash.replace(/^#/, '');
    if (!h) return null;
    try { return decodeURIComponent(h); } catch (e) { return h; }
  }

  async function loadSelected() {
    const id = idFromHash();
    const gen = ++selGen;
    state.selectedId = id;
    state.selected = null;
    state.results = null;
    state.resultsKey = null;
    state.detailError = null;
    state.checks = null;
    destroyCharts();
    clearActionMessages();
    $('training-section').hidden = true;
    $('checks-section').hidden = true;
    for (const tr of $('exp-rows').rows) {
      if (tr.dataset.id === id) tr.setAttribute('aria-current', 'true');
      else tr.removeAttribute('aria-current');
    }
    $('detail-hint').hidden = false;
    $('detail-missing').hidden = true;
    if (!id) {
      $('detail-body').hidden = true;
      $('detail-empty').hidden = false;
      $('detail-title').textContent = 'No experiment selected';
      document.title = 'dmilab';
      showErrors();
      return;
    }
    $('detail-title').textContent = 'Loading ' + id + '…';
    $('detail-empty').hidden = false;
    $('detail-body').hidden = true;
    await refreshSelected(gen);
    schedulePoll();
  }

  async function refreshSelected(gen) {
    const id = state.selectedId;
    if (!id) return;
    let exp;
    try {
      exp = await api('experiments/' + encodeURIComponent(id));
    } catch (e) {
      if (gen !== selGen) return;
      if (e.status === 404) {
        state.detailError = null;
        $('detail-body').hidden = true;
        $('detail-empty').hidden = false;
        $('detail-title').textContent = 'Experiment not found';
        $('detail-hint').hidden = true;
        $('detail-missing').hidden = false;
        $('detail-missing').textContent = 'There is no experiment with id “' + id + '”. It may have been deleted.';
        showErrors();
      } else {
        state.detailError = e;
        showErrors();
      }
      return;
    }
    if (gen !== selGen) return;
    state.detailError = null;
    state.selected = exp;
    renderDetail(exp);

    // Fetch results when nothing is shown yet or the experiment moved on since.
    const key = exp.status + ':' + exp.progress + ':' + (exp.finished_at || '');
    if (key !== state.resultsKey) {
      try {
        const res = await api('experiments/' + encodeURIComponent(id) + '/results');
        if (gen !== selGen) return;
        state.results = res;
        state.resultsKey = key;
        renderResults(res, exp);
      } catch (e) {
        if (gen !== selGen) return;
        if (e.status === 404) { // no results yet (e.g. queued)
          state.results = null;
          state.resultsKey = key;
          renderResults(null, exp);
        } else {
          state.detailError = e;
        }
      }
      if (gen !== selGen) return;
      if (hasChecks(exp)) {
        try {
          const ch = await api('experiments/' + encodeURIComponent(id) + '/checks');
          if (gen !== selGen) return;
          state.checks = ch;
          renderChecks(ch, exp, null);
        } catch (e) {
          if (gen !== selGen) return;
          renderChecks(state.checks, exp, e);
        }
      } else {
        state.checks = null;
        renderChecks(null, exp, null);
      }
    }
    showErrors();
  }

  function renderDetail(exp) {
    $('detail-empty').hidden = true;
    $('detail-body').hidden = false;
    const name = exp.name || '(unnamed)';
    document.title = name + ' · dmilab';
    $('detail-name').textContent = name;
    $('detail-id').textContent = exp.id;
    const st = $('detail-status');
    st.replaceWith(Object.assign(statusBadge(exp.status), { id: 'detail-status' }));
    $('detail-progress').replaceChildren(progressEl(exp.progress, exp.status));
    $('detail-created').replaceChildren(timeEl(exp.created_at));
    $('detail-started').replaceChildren(timeEl(exp.started_at));
    const fin = $('detail-finished');
    fin.replaceChildren(timeEl(exp.finished_at));
    if (exp.finished_at && exp.started_at) {
      const d = fmtDuration(exp.started_at, exp.finished_at);
      if (d) fin.append(' (' + d + ')');
    }
    $('detail-version').textContent = exp.version || '—';

    const err = errorText(exp.error);
    const showErr = exp.status === 'failed' || (err && exp.status !== 'succeeded');
    $('detail-error').hidden = !showErr;
    $('detail-error').querySelector('h3').textContent =
      exp.status === 'failed' ? 'Experiment failed' : 'Error';
    $('detail-error-text').textContent = err || 'The server gave no error message.';

    const spec = exp.resolved_spec !== undefined && exp.resolved_spec !== null ? exp.resolved_spec : exp.spec;
    const pre = $('spec-pre');
    const text = spec === undefined || spec === null ? '(not available)' : JSON.stringify(spec, null, 2);
    if (pre.textContent !== text) pre.textContent = text; // keep the reader's scroll position
    $('spec-title').textContent =
      exp.resolved_spec ? 'Resolved specification (every default filled in)' : 'Specification (as submitted)';
    $('spec-details').querySelector('summary').textContent =
      (exp.resolved_spec ? 'Resolved specification' : 'Specification') + ' and provenance';
    renderProvenance(exp.provenance, exp.status);
    renderActions(exp);

    const base = new URL('experiments/' + encodeURIComponent(exp.id) + '/results', API_BASE);
    $('json-link').href = base.href;
    const csv = new URL(base.href);
    csv.searchParams.set('format', 'csv');
    $('csv-link').href = csv.href;
    const chk = new URL('experiments/' + encodeURIComponent(exp.id) + '/checks', API_BASE);
    $('checks-json-link').href = chk.href;
    const junit = new URL(chk.href);
    junit.searchParams.set('format', 'junit');
    $('junit-link').href = junit.href;
  }

  /* ------------------------------------------------------------------ */
  /* Provenance                                                          */
  /* ------------------------------------------------------------------ */

  let provenanceShown; // JSON text of what is rendered, so polling does not rebuild it

  function renderProvenance(prov, status) {
    const key = status + JSON.stringify(prov === undefined ? null : prov);
    if (key === provenanceShown) return;
    provenanceShown = key;
    const has = prov && typeof prov === 'object';
    $('provenance-empty').hidden = !!has;
    $('provenance-empty').textContent = ENDED.has(status)
      ? 'Not recorded: no worker started this experiment (or the server predates provenance).'
      : 'Not recorded yet: a worker writes it when it starts the experiment.';
    const dl = $('provenance-meta');
    const rows = $('provenance-file-rows');
    dl.replaceChildren();
    rows.replaceChildren();
    $('provenance-files').hidden = true;
    if (!has) return;
    const item = (label, value) => {
      if (value === undefined || value === null || value === '') return;
      const div = document.createElement('div');
      const dt = document.createElement('dt');
      dt.textContent = label;
      const dd = document.createElement('dd');
      dd.textContent = typeof value === 'object' ? JSON.stringify(value) : String(value);
      div.append(dt, dd);
      dl.append(div);
    };
    item('Version', prov.version);
    item('Threads', prov.threads);
    item('Workers', prov.workers);
    const blas = prov.blas && typeof prov.blas === 'object' ? prov.blas : null;
    if (blas) {
      item('BLAS', blas.config);
      item('BLAS threads', blas.num_threads);
    } else item('BLAS', prov.blas);
    const simd = prov.simd && typeof prov.simd === 'object' ? prov.simd : null;
    if (simd) {
      const feats = Object.entries(simd).filter(([k]) => k !== 'DMILAB_SIMD')
        .map(([k, v]) => k + (v === true ? ' ✓' : v === false ? ' ✗' : ' ' + JSON.stringify(v)));
      item('SIMD (CPU)', feats.join(' · ') || '—');
      item('DMILAB_SIMD cap', simd.DMILAB_SIMD === null || simd.DMILAB_SIMD === undefined ? 'not set' : simd.DMILAB_SIMD);
    } else item('SIMD', prov.simd);
    // Anything a newer server adds is still shown.
    const known = new Set(['version', 'threads', 'workers', 'blas', 'simd', 'data_files']);
    for (const [k, v] of Object.entries(prov)) if (!known.has(k)) item(k, v);

    const files = Array.isArray(prov.data_files) ? prov.data_files : [];
    $('provenance-files').hidden = !files.length;
    for (const f of files) {
      const tr = document.createElement('tr');
      const tdP = document.createElement('td');
      tdP.className = 'path';
      tdP.textContent = f && f.path ? f.path : '—';
      const tdH = document.createElement('td');
      const code = document.createElement('code');
      code.className = 'sha';
      code.textContent = f && f.sha256 ? f.sha256 : 'unreadable';
      tdH.append(code);
      tr.append(tdP, tdH);
      rows.append(tr);
    }
  }

  /* ------------------------------------------------------------------ */
  /* Actions: cancel, delete                                             */
  /* ------------------------------------------------------------------ */

  const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

  function renderActions(exp) {
    const cancel = $('cancel-button');
    const del = $('delete-button');
    if (!ACTIVE.has(exp.status) && cancelRequested.has(exp.id)) {
      cancelRequested.delete(exp.id);
      if (!$('action-note').hidden) {
        actionNote(exp.status === 'cancelled' ? 'Cancelled: the worker stopped after the unit of work in flight.'
          : 'The experiment ended (' + exp.status + ') before the cancellation took effect.');
      }
    }
    const asked = cancelRequested.has(exp.id);
    cancel.hidden = !ACTIVE.has(exp.status);
    cancel.disabled = actionBusy || asked;
    cancel.textContent = asked ? 'Cancellation requested…' : 'Cancel experiment';
    del.hidden = !ENDED.has(exp.status);
    del.disabled = actionBusy;
  }

  function clearActionMessages() {
    $('action-error').hidden = true;
    $('action-note').hidden = true;
  }

  function actionNote(text) {
    $('action-note').textContent = text;
    $('action-note').hidden = !text;
  }

  function actionError(title, e) {
    $('action-error-title').textContent = title;
    let text = errorText({ code: e && e.code, message: e && e.message, field: e && e.field });
    if (e && e.status) text = 'HTTP ' + e.status + ': ' + text;
    $('action-error-text').textContent = text || String(e);
    $('action-error').hidden = false;
  }

  async function runAction(kind) {
    const exp = state.selected;
    if (!exp || actionBusy) return;
    const id = exp.id;
    const label = '“' + (exp.name || id) + '” (' + id + ')';
    const question = kind === 'cancel'
      ? (exp.status === 'running'
        ? 'Cancel the running experiment ' + label + '? It stops after the unit of work in flight; the points stored so far are kept.'
        : 'Cancel the queued experiment ' + label + '? It will not run.')
      : 'Delete the experiment ' + label + ' and all its results? This cannot be undone.';
    if (!window.confirm(question)) return;
    clearActionMessages();
    actionBusy = true;
    renderActions(exp);
    try {
      if (kind === 'cancel') {
        const res = await api('experiments/' + encodeURIComponent(id) + '/cancel', { method: 'POST' });
        if (res && res.status === 'running') {
          cancelRequested.add(id);
          if (state.selectedId === id) actionNote('Cancellation requested: the experiment stops after the unit of work in flight.');
        } else if (state.selectedId === id) {
          actionNote(res && res.status === 'cancelled' ? 'Experiment cancelled.' : 'The experiment had already ended (' + (res && res.status) + ').');
        }
      } else {
        try {
          await api('experiments/' + encodeURIComponent(id), { method: 'DELETE' });
        } catch (e) {
          if (e.status !== 404) throw e; // already gone: the outcome the user asked for
        }
        cancelRequested.delete(id);
        if (state.selectedId === id) {
          // Leave the deleted experiment without adding a history entry that would lead back to a 404.
          history.replaceState(null, '', location.pathname + location.search);
          await loadSelected();
          $('detail-hint').hidden = false;
          $('detail-missing').hidden = false;
          $('detail-missing').textContent = 'Deleted the experiment ' + label + '.';
        }
      }
    } catch (e) {
      if (state.selectedId === id) actionError(kind === 'cancel' ? 'Could not cancel the experiment' : 'Could not delete the experiment', e);
    } finally {
      actionBusy = false;
      if (state.selected) renderActions(state.selected);
      await refreshAll();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Checks                                                              */
  /* ------------------------------------------------------------------ */

  function hasChecks(exp) {
    const has = (s) => s && typeof s === 'object' && Array.isArray(s.checks) && s.checks.length > 0;
    return has(exp.resolved_spec) || has(exp.spec);
  }

  // An arm id that may wrap after each '/', not at the '-' inside a name.
  function armText(el, text) {
    String(text).split('/').forEach((part, k) => {
      if (k) el.append('/', document.createElement('wbr'));
      el.append(part);
    });
    return el;
  }

  function renderChecks(res, exp, err) {
    const sec = $('checks-section');
    if (!hasChecks(exp)) { sec.hidden = true; return; }
    sec.hidden = false;
    const list = res && Array.isArray(res.checks) ? res.checks : [];
    const badge = $('checks-badge');
    const ended = ENDED.has(res && res.status ? res.status : exp.status);
    let note;
    if (!res) {
      badge.className = 'status status-unknown';
      badge.textContent = 'unknown';
      note = '';
    } else {
      const nPass = list.filter((c) => c && c.passed === true).length;
      // Before the end, a check without its points yet is pending rather than failed.
      const nPending = ended ? 0 : list.filter((c) => c && !c.passed && (c.actual === null || c.actual === undefined)).length;
      const failing = !res.passed && nPass + nPending < list.length;
      const kind = res.passed ? 'pass' : (failing ? 'fail' : 'pending');
      badge.className = 'status ' + (kind === 'pass' ? 'status-succeeded' : kind === 'fail' ? 'status-failed' : 'status-queued') +
        (ended ? '' : ' provisional');
      badge.textContent = kind + (ended || kind === 'pending' ? '' : ' (so far)');
      note = nPass + ' of ' + list.length + ' check' + (list.length === 1 ? '' : 's') + ' passed' +
        (nPending ? ', ' + nPending + ' waiting for points' : '') + '.';
      if (!ended) note += ' Evaluated on the points stored so far: the verdict is final when the experiment ends.';
    }
    if (err) note = (note ? note + ' ' : '') + 'Could not refresh the checks: ' + errorText({ code: err.code, message: err.message, field: err.field });
    $('checks-note').textContent = note;
    badge.setAttribute('aria-label', 'checks: ' + badge.textContent);

    const rows = list.map((c) => {
      const tr = document.createElement('tr');
      tr.className = c.passed ? 'check-pass' : 'check-fail';
      const td = (text, cls) => {
        const el = document.createElement('td');
        if (cls) el.className = cls;
        el.textContent = text;
        tr.append(el);
        return el;
      };
      armText(td('', 'arm-cell'), c.arm === undefined ? '—' : String(c.arm));
      td(c.metric === undefined ? '—' : String(c.metric));
      td(c.n_train === undefined || c.n_train === null ? '—' : String(c.n_train), 'num');
      td(c.op === undefined ? '—' : String(c.op), 'op');
      let value = isNum(c.value) ? fmtSig(c.value, 6) : (c.than_arm ? '' : '—');
      if (isNum(c.tolerance) && c.tolerance > 0) value += ' ± ' + fmtSig(c.tolerance, 3);
      const vtd = td(value, 'num');
      if (c.than_arm) { // compared with another arm: its value, and which arm
        const who = document.createElement('span');
        who.className = 'than-arm';
        armText(who, 'of ' + c.than_arm);
        vtd.append(who);
      }
      td(isNum(c.actual) ? fmtSig(c.actual, 6) : (c.actual === null ? (ended ? 'missing' : 'none yet') : '—'), 'num');
      const res2 = document.createElement('td');
      const b = document.createElement('span');
      const pending = !ended && !c.passed && (c.actual === null || c.actual === undefined);
      b.className = 'status ' + (c.passed ? 'status-succeeded' : pending ? 'status-queued' : 'status-failed');
      b.textContent = c.passed ? 'pass' : pending ? 'pending' : 'fail';
      if (pending) tr.className = 'check-pending';
      res2.append(b);
      tr.append(res2);
      return tr;
    });
    $('checks-rows').replaceChildren(...rows);
    $('checks-table').hidden = !rows.length;
  }

  function renderResults(res, exp) {
    const curves = res && Array.isArray(res.curves) ? res.curves.filter((c) => c && Array.isArray(c.n_train)) : [];
    const points = res && Array.isArray(res.points) ? res.points : [];
    let note;
    if (!curves.length) {
      note = exp.status === 'queued' ? 'Queued: no results yet.'
        : exp.status === 'running' ? 'Running: the first results will appear here.'
        : 'No results were stored.';
    } else {
      note = (points.length ? points.length + ' point' + (points.length === 1 ? '' : 's') + ' from ' : '') +
        curves.length + ' arm' + (curves.length === 1 ? '' : 's') + '.';
      if (exp.status === 'running') note += ' Running: partial results, updated every 2 s.';
      if (exp.status === 'cancelled') note += ' Cancelled: partial results.';
      if (exp.status === 'failed') note += ' Partial results stored before the failure.';
    }
    $('results-note').textContent = note;
    $('charts').hidden = !curves.length;
    if (curves.length) {
      renderChart('acc', $('chart-acc'), curves, 'test_accuracy', false);
      renderChart('mse', $('chart-mse'), curves, 'test_mse', true);
    } else {
      destroyCharts();
    }
    renderCurvesTable(curves, points);
    renderTraining(points, curves);
  }

  /* ------------------------------------------------------------------ */
  /* Training curves (trained arms: gd, sgd, adam)                       */
  /* ------------------------------------------------------------------ */

  // Repeat 0 of every point that has a training curve, in the arms' order of the learning curves.
  function trainingRuns(points, curves, spec) {
    const armIdx = new Map(curves.map((c, i) => [c.arm, i]));
    const maxEpochs = new Map(); // inference name -> epochs, from the resolved spec
    if (spec && Array.isArray(spec.inference)) {
      for (const inf of spec.inference) if (inf && inf.name && Number.isInteger(inf.epochs)) maxEpochs.set(inf.name, inf.epochs);
    }
    let dropped = 0;
    const runs = [];
    for (const p of points) {
      if (!p || p.repeat !== 0 || !Array.isArray(p.training_curve)) continue;
      // Only whole epochs in increasing order, up to the arm's configured epochs when the spec says:
      // anything else is not a real epoch (and would wreck the x axis), so it is left out and counted.
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
      runs.push({ arm: p.arm, n: p.n_train, entries, ai: armIdx.has(p.arm) ? armIdx.get(p.arm) : curves.length + runs.length });
    }
    runs.sort((a, b) => a.ai - b.ai || a.n - b.n);
    runs.dropped = dropped;
    return runs;
  }

  function renderTraining(points, curves) {
    const sec = $('training-section');
    const exp = state.selected;
    const all = trainingRuns(points, curves, exp && (exp.resolved_spec || exp.spec));
    if (!all.length) {
      sec.hidden = true;
      for (const k of ['train-loss', 'train-test']) if (charts[k]) { charts[k].u.destroy(); delete charts[k]; }
      return;
    }
    sec.hidden = false;
    const sizes = Array.from(new Set(all.map((r) => r.n))).sort((a, b) => a - b);
    if (state.trainN !== '' && !sizes.includes(Number(state.trainN))) state.trainN = '';
    const sel = $('training-n');
    const want = [''].concat(sizes.map(String));
    if (Array.from(sel.options).map((o) => o.value).join(',') !== want.join(',')) {
      sel.replaceChildren(...want.map((v) => Object.assign(document.createElement('option'), {
        value: v, textContent: v === '' ? 'all sizes' : v,
      })));
    }
    sel.value = state.trainN;
    sel.disabled = sizes.length < 2;
    const runs = state.trainN === '' ? all : all.filter((r) => r.n === Number(state.trainN));
    const arms = new Set(runs.map((r) => r.arm));
    $('training-note').textContent = runs.length + ' run' + (runs.length === 1 ? '' : 's') + ' of ' +
      arms.size + ' trained arm' + (arms.size === 1 ? '' : 's') + ' (repeat 0).' +
      (all.dropped ? ' ' + all.dropped + ' entr' + (all.dropped === 1 ? 'y' : 'ies') + ' with an invalid or out-of-order epoch left out.' : '');

    const xsSet = new Set();
    for (const r of runs) for (const e of r.entries) xsSet.add(e.epoch);
    const xs = Array.from(xsSet).sort((a, b) => a - b);
    const idx = new Map(xs.map((x, i) => [x, i]));
    const label = (r) => r.arm + ' · n=' + r.n;
    const style = (r) => ({
      color: PALETTE[r.ai % PALETTE.length],
      dash: sizes.length > 1 ? DASHES[sizes.indexOf(r.n) % DASHES.length] : DASHES[Math.floor(r.ai / PALETTE.length) % DASHES.length],
    });
    const column = (r, f) => {
      const ys = new Array(xs.length).fill(null);
      for (const e of r.entries) {
        const v = f(e);
        if (v !== null) ys[idx.get(e.epoch)] = v;
      }
      return ys;
    };
    // Log axes: positive values only, and none below 1e-30 (denormals would stretch the axis over hundreds of decades).
    const pos = (v) => (isNum(v) && v >= 1e-30 ? v : null);
    const fin = (v) => (isNum(v) ? v : null);

    renderLineChart('train-loss', $('chart-train-loss'), {
      xs,
      series: runs.map((r) => Object.assign({ label: label(r), ys: column(r, (e) => pos(e.train_loss)) }, style(r))),
      logY: true,
      yLabel: 'train loss',
      fmtY: (v) => fmtSig(v, 4),
      empty: 'No positive train loss to plot on a log scale.',
      aria: 'Train loss (log scale) per epoch',
    });

    const hasAcc = runs.some((r) => r.entries.some((e) => isNum(e.test_accuracy)));
    const metric = hasAcc ? 'test_accuracy' : 'test_mse';
    const cap = $('chart-train-test-caption');
    if (hasAcc) cap.replaceChildren('Test accuracy at evaluated epochs');
    else {
      cap.replaceChildren('Test MSE at evaluated epochs ', Object.assign(document.createElement('span'), {
        className: 'axis-note', textContent: '(log y; regression targets have no accuracy)',
      }));
    }
    renderLineChart('train-test', $('chart-train-test'), {
      xs,
      series: runs.map((r) => Object.assign({ label: label(r), ys: column(r, (e) => (hasAcc ? fin(e[metric]) : pos(e[metric]))) }, style(r))),
      logY: !hasAcc,
      clamp01: hasAcc,
      yLabel: hasAcc ? 'test accuracy' : 'test MSE',
      fmtY: hasAcc ? (v) => (isNum(v) ? v.toFixed(3) : '—') : (v) => fmtSig(v, 4),
      empty: 'No test metric was evaluated during training.',
      aria: (hasAcc ? 'Test accuracy' : 'Test MSE (log scale)') + ' at evaluated epochs',
    });
  }

  // A line chart against epochs. cfg: {xs, series: [{label, color, dash, ys}], logY, clamp01, yLabel, fmtY, empty, aria}
  function renderLineChart(key, el, cfg) {
    if (typeof window.uPlot !== 'function') {
      el.replaceChildren(Object.assign(document.createElement('p'), {
        className: 'empty', textContent: 'The plotting library (vendor/uplot) did not load.',
      }));
      return;
    }
    let lo = Infinity;
    let hi = -Infinity;
    for (const s of cfg.series) for (const y of s.ys) if (y !== null) { lo = Math.min(lo, y); hi = Math.max(hi, y); }
    if (!(lo <= hi)) {
      if (charts[key]) { charts[key].u.destroy(); delete charts[key]; }
      el.replaceChildren(Object.assign(document.createElement('p'), { className: 'empty chart-empty', textContent: cfg.empty }));
      return;
    }
    const data = [cfg.xs].concat(cfg.series.map((s) => s.ys));
    const sig = key + '|' + cfg.yLabel + '|' + cfg.series.map((s) => s.label + s.color + s.dash).join('\n');
    const existing = charts[key];
    if (existing && existing.sig === sig) {
      existing.ref.lo = lo;
      existing.ref.hi = hi;
      existing.u.setData(data);
      return;
    }
    if (existing) { existing.u.destroy(); delete charts[key]; }
    el.replaceChildren();
    const ref = { lo, hi };
    const series = [{ label: 'epoch', value: (u, v) => (v === null || v === undefined ? '—' : String(v)) }];
    for (const s of cfg.series) {
      const o = {
        label: s.label,
        stroke: s.color,
        width: 2,
        spanGaps: true,
        points: { show: cfg.xs.length <= 60 || s.ys.filter((v) => v !== null).length <= 60, size: 5, width: 1, fill: s.color, stroke: s.color },
        value: (u, v) => cfg.fmtY(v),
      };
      if (s.dash) o.dash = s.dash;
      series.push(o);
    }
    const axisStroke = '#3b4252';
    const grid = { stroke: 'rgba(0,0,0,0.08)', width: 1 };
    const opts = {
      width: Math.max(260, el.clientWidth || 600),
      height: chartHeight(),
      scales: {
        x: {
          time: false,
          range: (u, min, max) => (isNum(min) && isNum(max) ? (min === max ? [min - 1, max + 1] : [min, max]) : [0, 1]),
        },
        y: cfg.logY
          ? { distr: 3, log: 10, range: () => uPlot.rangeLog(ref.lo, ref.hi, 10, false) }
          : { range: () => {
            const r = uPlot.rangeNum(ref.lo, ref.hi, 0.1, true);
            return cfg.clamp01 ? [Math.max(r[0], 0), Math.min(r[1], 1)] : r;
          } },
      },
      axes: [
        { label: 'epoch', stroke: axisStroke, grid, ticks: grid, labelSize: 24,
          incrs: [1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000, 2000, 5000, 10000],
          values: (u, splits) => splits.map((v) => (Number.isInteger(v) ? String(v) : '')) },
        { label: cfg.yLabel, stroke: axisStroke, grid, ticks: grid, size: 60, labelSize: 24,
          values: (u, splits) => splits.map((v) => (v === null ? '' : fmtSig(v, 3))) },
      ],
      series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 7 } },
    };
    const u = new uPlot(opts, data, el);
    const wrap = u.root.querySelector('.u-wrap');
    if (wrap) {
      wrap.setAttribute('role', 'img');
      wrap.setAttribute('aria-label', cfg.aria + ' for ' + cfg.series.length + ' run' + (cfg.series.length === 1 ? '' : 's') +
        ': ' + cfg.series.map((s) => s.label).join(', ') + '.');
    }
    charts[key] = { u, sig, ref, el };
  }

  function renderCurvesTable(curves, points) {
    // Repeats per (arm, n_train), counted from the points: with one repeat there is no spread to show.
    const reps = new Map();
    for (const p of points || []) {
      if (!p) continue;
      const k = p.arm + '\u0000' + p.n_train;
      reps.set(k, (reps.get(k) || 0) + 1);
    }
    const table = $('curves-table');
    for (const tb of Array.from(table.tBodies)) tb.remove();
    $('curves-empty').hidden = curves.length > 0;
    table.hidden = curves.length === 0;
    curves.forEach((c, ci) => {
      const tb = document.createElement('tbody');
      const n = c.n_train.length;
      for (let j = 0; j < n; j++) {
        const tr = document.createElement('tr');
        if (j === 0) {
          const th = document.createElement('th');
          th.scope = 'rowgroup';
          th.rowSpan = n;
          th.className = 'arm';
          const sw = document.createElement('span');
          sw.className = 'swatch';
          sw.style.background = PALETTE[ci % PALETTE.length];
          sw.setAttribute('aria-hidden', 'true');
          th.append(sw);
          // Let long arm ids wrap after each '/' rather than mid-word.
          String(c.arm).split('/').forEach((part, k) => {
            if (k) th.append('/', document.createElement('wbr'));
            th.append(part);
          });
          tr.append(th);
        }
        const at = (arr, k) => (Array.isArray(arr) ? arr[k] : undefined);
        const nRep = reps.get(c.arm + '\u0000' + c.n_train[j]);
        const sd = (arr) => (nRep === 1 ? undefined : at(arr, j));
        const cells = [
          String(c.n_train[j]),
          nRep === undefined ? '—' : String(nRep),
          fmtMeanStd(at(c.test_accuracy_mean, j), sd(c.test_accuracy_std), 'acc'),
          fmtMeanStd(at(c.test_mse_mean, j), sd(c.test_mse_std), 'mse'),
          j === 0 ? '' : (isNum(at(c.local_exponent, j - 1)) ? at(c.local_exponent, j - 1).toFixed(3) : '—'),
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
    });
  }

  /* ------------------------------------------------------------------ */
  /* Charts (uPlot)                                                      */
  /* ------------------------------------------------------------------ */

  const charts = {}; // key -> {u, sig, ref, el}

  function destroyCharts() {
    for (const k of Object.keys(charts)) {
      charts[k].u.destroy();
      delete charts[k];
    }
  }

  // Aligned data for uPlot: x = sorted union of every arm's n_train, null where an arm lacks a size.
  function buildData(curves, metric, logY) {
    const xsSet = new Set();
    for (const c of curves) for (const n of c.n_train) if (isNum(n) && n > 0) xsSet.add(n);
    const xs = Array.from(xsSet).sort((a, b) => a - b);
    const idx = new Map(xs.map((x, i) => [x, i]));
    const data = [xs];
    const std = [null];
    let any = false;
    let lo = Infinity;
    let hi = -Infinity;
    for (const c of curves) {
      const ys = new Array(xs.length).fill(null);
      const ss = new Array(xs.length).fill(null);
      const means = c[metric + '_mean'] || [];
      const stds = c[metric + '_std'] || [];
      c.n_train.forEach((n, j) => {
        const y = means[j];
        if (!idx.has(n) || !isNum(y) || (logY && y <= 0)) return;
        const s = isNum(stds[j]) ? Math.abs(stds[j]) : 0;
        ys[idx.get(n)] = y;
        ss[idx.get(n)] = s;
        any = true;
        const l = y - s;
        lo = Math.min(lo, logY && l <= 0 ? y : l);
        hi = Math.max(hi, y + s);
      });
      data.push(ys);
      std.push(ss);
    }
    return { data, std, any, lo, hi, labels: curves.map((c) => c.arm) };
  }

  // Draws ± std whiskers in each series' colour.
  function errorBarsPlugin(ref) {
    return {
      hooks: {
        draw: [(u) => {
          const ctx = u.ctx;
          const { left, top, width, height } = u.bbox;
          const pr = uPlot.pxRatio || 1;
          const sc = u.scales.y;
          ctx.save();
          ctx.beginPath();
          ctx.rect(left, top, width, height);
          ctx.clip();
          ctx.lineWidth = 1.25 * pr;
          for (let i = 1; i < u.series.length; i++) {
            if (!u.series[i].show) continue;
            const ys = u.data[i];
            const ss = ref.std[i] || [];
            ctx.strokeStyle = ref.colors[i];
            for (let j = 0; j < ys.length; j++) {
              const y = ys[j];
              const s = ss[j];
              if (y === null || !s) continue;
              let l = y - s;
              if (ref.logY && l <= 0) l = sc.min;
              const x = u.valToPos(u.data[0][j], 'x', true);
              const y0 = u.valToPos(l, 'y', true);
              const y1 = u.valToPos(y + s, 'y', true);
              const cap = 3 * pr;
              ctx.beginPath();
              ctx.moveTo(x, y0); ctx.lineTo(x, y1);
              ctx.moveTo(x - cap, y0); ctx.lineTo(x + cap, y0);
              ctx.moveTo(x - cap, y1); ctx.lineTo(x + cap, y1);
              ctx.stroke();
            }
          }
          ctx.restore();
        }],
      },
    };
  }

  function chartHeight() {
    return window.matchMedia('(max-width: 600px)').matches ? 230 : 280;
  }

  function renderChart(key, el, curves, metric, logY) {
    if (typeof window.uPlot !== 'function') {
      el.replaceChildren(Object.assign(document.createElement('p'), {
        className: 'empty', textContent: 'The plotting library (vendor/uplot) did not load; see the table below.',
      }));
      return;
    }
    const built = buildData(curves, metric, logY);
    if (!built.any) {
      if (charts[key]) { charts[key].u.destroy(); delete charts[key]; }
      el.replaceChildren(Object.assign(document.createElement('p'), {
        className: 'empty chart-empty',
        textContent: metric === 'test_accuracy'
          ? 'No test accuracy: this experiment has regression targets.'
          : 'No positive test MSE to plot on a log scale.',
      }));
      return;
    }
    const sig = metric + '|' + built.labels.join('\n');
    const existing = charts[key];
    if (existing && existing.sig === sig) {
      existing.ref.std = built.std;
      existing.ref.lo = built.lo;
      existing.ref.hi = built.hi;
      existing.u.setData(built.data);
      return;
    }
    if (existing) { existing.u.destroy(); delete charts[key]; }
    el.replaceChildren();

    const colors = [null].concat(built.labels.map((_, i) => PALETTE[i % PALETTE.length]));
    const ref = { std: built.std, lo: built.lo, hi: built.hi, logY, colors };
    const yLabel = metric === 'test_accuracy' ? 'test accuracy' : 'test MSE';
    const fmtY = metric === 'test_accuracy' ? (v) => (isNum(v) ? v.toFixed(3) : '—') : (v) => fmtSig(v, 4);

    const series = [{ label: 'n_train', value: (u, v) => (v === null || v === undefined ? '—' : String(v)) }];
    built.labels.forEach((arm, i) => {
      const color = colors[i + 1];
      const dash = DASHES[Math.floor(i / PALETTE.length) % DASHES.length];
      const s = {
        label: arm,
        stroke: color,
        width: 2,
        spanGaps: true,
        points: { show: true, size: 7, width: 1.5, fill: color, stroke: color },
        value: (u, v) => fmtY(v),
      };
      if (dash) s.dash = dash;
      series.push(s);
    });

    const axisStroke = '#3b4252';
    const grid = { stroke: 'rgba(0,0,0,0.08)', width: 1 };
    const opts = {
      width: Math.max(260, el.clientWidth || 600),
      height: chartHeight(),
      scales: {
        x: {
          time: false,
          distr: 3,
          log: 10,
          range: (u, min, max) => (isNum(min) && isNum(max)
            ? uPlot.rangeLog(min / 1.25, max * 1.25, 10, false) : [1, 10]),
        },
        y: logY
          ? { distr: 3, log: 10, range: () => uPlot.rangeLog(ref.lo, ref.hi, 10, false) }
          : { range: () => {
            const r = uPlot.rangeNum(ref.lo, ref.hi, 0.1, true);
            // Accuracy lives in [0, 1]: do not pad beyond it.
            return [Math.max(r[0], metric === 'test_accuracy' ? 0 : -Infinity),
              Math.min(r[1], metric === 'test_accuracy' ? 1 : Infinity)];
          } },
      },
      axes: [
        { label: 'n_train (training-set size)', stroke: axisStroke, grid, ticks: grid, labelSize: 24,
          // Ticks at the sizes actually run, labels thinned when they would collide.
          splits: (u) => u.data[0].filter((x) => x >= u.scales.x.min && x <= u.scales.x.max),
          filter: (u, splits) => splits,
          values: (u, splits) => {
            let last = -Infinity;
            return splits.map((v) => {
              const px = u.valToPos(v, 'x');
              const label = String(v);
              if (px - last < 8 * label.length + 10) return '';
              last = px;
              return label;
            });
          } },
        { label: yLabel, stroke: axisStroke, grid, ticks: grid, size: 60, labelSize: 24,
          values: (u, splits) => splits.map((v) => (v === null ? '' : fmtSig(v, 3))) },
      ],
      series,
      legend: { live: true },
      cursor: { drag: { x: true, y: false }, points: { size: 8 } },
      plugins: [errorBarsPlugin(ref)],
    };
    const u = new uPlot(opts, built.data, el);
    // The canvas is an image for assistive technology; the legend stays a readable table
    // and the same numbers are in the learning-curve table.
    const wrap = u.root.querySelector('.u-wrap');
    if (wrap) {
      wrap.setAttribute('role', 'img');
      wrap.setAttribute('aria-label', (metric === 'test_accuracy' ? 'Test accuracy' : 'Test MSE (log scale)') +
        ' against n_train (log scale) for ' + built.labels.length + ' arm' + (built.labels.length === 1 ? '' : 's') +
        ': ' + built.labels.join(', ') + '. The values are in the learning-curve table below.');
    }
    charts[key] = { u, sig, ref, el };
  }

  function resizeCharts() {
    for (const k of Object.keys(charts)) {
      const c = charts[k];
      const w = c.el.clientWidth;
      if (w > 0) c.u.setSize({ width: w, height: chartHeight() });
    }
  }

  /* ------------------------------------------------------------------ */
  /* Polling                                                             */
  /* ------------------------------------------------------------------ */

  function needsPolling() {
    if (state.experiments.some((e) => ACTIVE.has(e.status))) return true;
    if (state.selected && ACTIVE.has(state.selected.status)) return true;
    // While the server is unreachable the last known list is kept, so an experiment
    // that was active keeps the polling (and the retries) going.
    return false;
  }

  function schedulePoll() {
    clearTimeout(pollTimer);
    pollTimer = null;
    if (needsPolling()) pollTimer = setTimeout(tick, POLL_MS);
  }

  async function tick() {
    if (document.hidden) { schedulePoll(); return; } // paused in background tabs
    await refreshAll();
  }

  async function refreshAll() {
    if (tickRunning) return;
    tickRunning = true;
    try {
      await refreshList();
      if (state.selectedId) await refreshSelected(selGen);
    } finally {
      tickRunning = false;
      schedulePoll();
    }
  }

  /* ------------------------------------------------------------------ */
  /* Wiring                                                              */
  /* ------------------------------------------------------------------ */

  function init() {
    updateTokenButton();
    $('exp-rows').addEventListener('click', onRowsClick);
    $('exp-rows').addEventListener('keydown', onRowsKey);
    $('refresh-button').addEventListener('click', () => refreshAll());
    $('status-filter').addEventListener('change', (ev) => {
      state.filter = ev.target.value;
      state.pages = 1;
      refreshAll();
    });
    $('load-more').addEventListener('click', () => {
      state.pages += 1;
      refreshAll();
    });
    // Only Save submits the form, so Enter in the field saves; the other buttons close it.
    $('token-forget').addEventListener('click', () => $('token-dialog').close('forget'));
    $('token-cancel').addEventListener('click', () => $('token-dialog').close('cancel'));
    $('token-button').addEventListener('click', async () => {
      autoPromptDeclined = false;
      const t = await askToken(getToken()
        ? 'A token is stored. Enter a new one, or forget the stored one.'
        : 'Mutating requests (submit, cancel, delete) need the server\'s bearer token when one is configured.');
      if (t) refreshAll();
    });
    $('cancel-button').addEventListener('click', () => runAction('cancel'));
    $('delete-button').addEventListener('click', () => runAction('delete'));
    $('training-n').addEventListener('change', (ev) => {
      state.trainN = ev.target.value;
      if (state.selected) renderTraining(state.results && Array.isArray(state.results.points) ? state.results.points : [],
        state.results && Array.isArray(state.results.curves) ? state.results.curves.filter((c) => c && Array.isArray(c.n_train)) : []);
    });
    window.addEventListener('hashchange', () => { loadSelected(); });
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && needsPolling()) refreshAll();
    });
    if (typeof ResizeObserver === 'function') {
      let raf = 0;
      const ro = new ResizeObserver(() => {
        cancelAnimationFrame(raf);
        raf = requestAnimationFrame(resizeCharts);
      });
      ro.observe($('charts'));
      ro.observe($('training-section'));
    } else {
      window.addEventListener('resize', resizeCharts);
    }

    refreshList().then(() => {
      if (idFromHash()) return loadSelected();
      return undefined;
    }).finally(schedulePoll);
  }

  // Exposed for later pages and for the console (e.g. dmilab.api('experiments', {method: 'POST', body: spec})).
  window.dmilab = { api, ApiError, getToken, setToken, refresh: () => refreshAll() };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
}());
