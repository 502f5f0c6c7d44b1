// The analyzer's JSON API. The session is the HttpOnly cookie; the
// anti-CSRF token from login or /me goes in X-CSRF-Token on every
// request that changes state.

let csrf = '';
let onUnauthorized = () => {};

export class APIError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

export function setUnauthorizedHandler(fn) { onUnauthorized = fn; }
export function setCSRF(token) { csrf = token || ''; }

export async function api(method, path, body) {
  const opts = { method, headers: { Accept: 'application/json' }, credentials: 'same-origin' };
  if (body !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(body);
  }
  if (method !== 'GET' && csrf) opts.headers['X-CSRF-Token'] = csrf;
  let resp;
  try {
    resp = await fetch(path, opts);
  } catch (e) {
    throw new APIError(0, 'The analyzer is not reachable: ' + e.message);
  }
  let data = null;
  const text = await resp.text();
  if (text) {
    try { data = JSON.parse(text); } catch (e) { data = null; }
  }
  if (!resp.ok) {
    const msg = (data && data.error) || resp.statusText || ('HTTP ' + resp.status);
    if (resp.status === 401 && path !== '/api/v1/login') onUnauthorized();
    throw new APIError(resp.status, msg, resp.headers.get('Retry-After'));
  }
  return data;
}

export const get = (path) => api('GET', path);
export const post = (path, body) => api('POST', path, body === undefined ? {} : body);
export const put = (path, body) => api('PUT', path, body);
export const patch = (path, body) => api('PATCH', path, body);

// query builds a query string from the non-empty values of obj.
export function query(obj) {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(obj)) {
    if (v !== undefined && v !== null && v !== '') p.set(k, v);
  }
  const s = p.toString();
  return s ? '?' + s : '';
}
