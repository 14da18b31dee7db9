/* dmilab dashboard: calls to the HTTP API v1 (DESIGN 4) relative to the page, so the dashboard works at /
 * and behind a reverse-proxy prefix, with the bearer token of DESIGN 4 kept in local storage and asked for
 * in a dialog when the server answers 401. */

export const API_BASE = new URL('api/v1/', document.baseURI);
const TOKEN_KEY = 'dmilab.token';
const $ = (id) => document.getElementById(id);

/** An API error: HTTP status (0: the server cannot be reached) and the body's {code, message, field}. */
export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

export function getToken() {
  try { return localStorage.getItem(TOKEN_KEY) || ''; } catch (e) { return ''; }
}

export function setToken(t) {
  try {
    if (t) localStorage.setItem(TOKEN_KEY, t); else localStorage.removeItem(TOKEN_KEY);
  } catch (e) { /* storage disabled: the token lives for this request only */ }
  updateTokenButton();
}

export function updateTokenButton() {
  const b = $('token-button');
  if (b) b.textContent = getToken() ? 'Token set ✓' : 'Set token';
}

let tokenPrompt = null;           // the one pending prompt, shared by concurrent 401s
export const tokenState = { autoPromptDeclined: false }; // the user cancelled a prompt caused by a read

/** Ask the user for a token; resolves to the new token, or '' when cancelled. */
export function askToken(reason) {
  if (tokenPrompt) return tokenPrompt;
  const dialog = $('token-dialog');
  tokenPrompt = new Promise((resolve) => {
    if (typeof dialog.showModal !== 'function') { // very old browsers
      const t = (window.prompt(reason + '\nBearer token:') || '').trim();
      if (t) setToken(t);
      resolve(t);
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
 * api(path, {method, body, headers, query, signal, noPrompt, text}) -> parsed JSON (null for 204), or the
 * body text with `text: true`. `path` is relative to api/v1/. The stored token, if any, is sent as a
 * bearer token. On 401 the user is asked for a token and the request is retried once; mutating requests
 * always prompt, reads until the user cancels once; `noPrompt` never prompts (background requests such
 * as the dry-run estimate of a running experiment). Throws ApiError with the server's error.
 */
export async function api(path, opts = {}) {
  const method = (opts.method || 'GET').toUpperCase();
  const url = new URL(path, opts.base || API_BASE);
  if (opts.query) {
    for (const [k, v] of Object.entries(opts.query)) {
      if (v !== undefined && v !== null && v !== '') url.searchParams.set(k, String(v));
    }
  }
  const headers = Object.assign({ Accept: opts.text ? '*/*' : 'application/json' }, opts.headers || {});
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

  if (res.status === 401 && !opts._retried && !opts.noPrompt) {
    const mutating = method !== 'GET' && method !== 'HEAD';
    if (mutating || !tokenState.autoPromptDeclined) {
      const reason = token
        ? 'The server rejected the stored token. Enter a valid one.'
        : (mutating ? 'This action needs the server\'s bearer token.'
          : 'The server requires a bearer token to read experiments.');
      const t = await askToken(reason);
      if (t) return api(path, Object.assign({}, opts, { _retried: true }));
      if (!mutating) tokenState.autoPromptDeclined = true;
    }
  }

  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text && !(opts.text && res.ok)) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!res.ok) {
    const err = data && data.error ? data.error : {};
    throw new ApiError(res.status, err.code || 'http_' + res.status,
      err.message || (res.status + ' ' + res.statusText), err.field);
  }
  if (opts.text) return text;
  if (data === null && text) throw new ApiError(res.status, 'invalid_json', 'the server sent a response that is not JSON');
  return data;
}

/** The URL of an API path (for links: JSON, CSV, JUnit). */
export function apiUrl(path, query) {
  const u = new URL(path, API_BASE);
  for (const [k, v] of Object.entries(query || {})) u.searchParams.set(k, v);
  return u.href;
}
