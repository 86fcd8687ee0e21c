// The one module that talks to the API (/api/v1, docs/api.md).
//
// Same-origin fetch with the session cookie (__Host-, HttpOnly: the page never
// sees it), JSON in and out. The browser sends Origin itself. Every
// state-changing call carries X-CSRF-Token; the token comes from the
// X-CSRF-Token header of the response that opened or raised the session, or
// from GET /api/v1/session, and lives in this module's memory only (never in
// localStorage or sessionStorage).
import { tx } from './textes.js';

const BASE = '/api/v1';
const SAFE = new Set(['GET', 'HEAD']);

let csrfToken = null;
let sessionPromise = null;
// Why the session this page came with was ended elsewhere ("other_device",
// "agent"), from the first 401 that said so (docs/api.md).
let signedOut = null;

/** An API failure: status (0 when the server could not be reached), the
 * problem document (RFC 9457) and the wait in seconds for 429/503. */
export class ApiError extends Error {
  constructor(status, problem, retryAfter) {
    super((problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem || {};
    this.retryAfter = retryAfter;
  }

  /** The field errors of a 422: [{field, message}]. */
  get fieldErrors() {
    return Array.isArray(this.problem.errors) ? this.problem.errors : [];
  }
}

function retryAfterOf(h, body) {
  if (body && Number.isFinite(body.retry_after)) return body.retry_after;
  if (h && /^\d+$/.test(h.trim())) return Number(h.trim());
  return null;
}

async function readBody(res) {
  const type = res.headers.get('Content-Type') || '';
  if (res.status === 204 || !/json/.test(type)) return null;
  try {
    return await res.json();
  } catch {
    return null;
  }
}

/** The current session ({kind, level, role, csrf_token}) or null. Cached for
 * the page's lifetime; refresh: true asks again. */
export function session({ refresh = false } = {}) {
  if (!sessionPromise || refresh) {
    sessionPromise = (async () => {
      try {
        const info = await send('GET', '/session');
        if (info && info.csrf_token) csrfToken = info.csrf_token;
        return info;
      } catch (e) {
        if (e instanceof ApiError && e.status === 401) {
          csrfToken = null;
          return null;
        }
        throw e;
      }
    })();
  }
  return sessionPromise;
}

function unreachable() {
  return new ApiError(0, {
    title: tx('commun.service_injoignable'),
    detail: tx('client.service_repond_verifiez_connexion'),
  }, null);
}

async function send(method, path, body) {
  const headers = { Accept: 'application/json, application/problem+json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', redirect: 'error' };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (!SAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let res;
  try {
    res = await fetch(BASE + path, init);
  } catch {
    throw unreachable();
  }
  const token = res.headers.get('X-CSRF-Token');
  if (token) csrfToken = token;
  const data = await readBody(res);
  if (res.status === 401 && data && typeof data.signed_out === 'string') signedOut = data.signed_out;
  if (!res.ok) throw new ApiError(res.status, data, retryAfterOf(res.headers.get('Retry-After'), data));
  return data;
}

/** One API call. Before the first state-changing call of the page the
 * session's CSRF token is fetched; a 403 on a state-changing call (token
 * rotated by another tab, say) is retried once with a fresh token. */
export function request(method, path, body) {
  const call = () => send(method, path, body);
  return SAFE.has(method) ? call() : withToken(call);
}

async function withToken(call) {
  if (!csrfToken) await session();
  try {
    return await call();
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) {
      const before = csrfToken;
      await session({ refresh: true });
      if (csrfToken && csrfToken !== before) return call();
    }
    throw e;
  }
}

// A multipart POST (files) by XMLHttpRequest: fetch does not report how
// much of the body is sent.
function sendForm(path, form, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', BASE + path);
    xhr.setRequestHeader('Accept', 'application/json, application/problem+json');
    if (csrfToken) xhr.setRequestHeader('X-CSRF-Token', csrfToken);
    if (onProgress) {
      xhr.upload.addEventListener('progress', (e) => {
        if (e.lengthComputable) onProgress(Math.round((e.loaded * 100) / e.total));
      });
    }
    xhr.addEventListener('load', () => {
      const token = xhr.getResponseHeader('X-CSRF-Token');
      if (token) csrfToken = token;
      let data = null;
      try {
        data = /json/.test(xhr.getResponseHeader('Content-Type') || '') ? JSON.parse(xhr.responseText) : null;
      } catch {
        data = null;
      }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, data, retryAfterOf(xhr.getResponseHeader('Retry-After'), data)));
    });
    xhr.addEventListener('error', () => reject(unreachable()));
    xhr.send(form);
  });
}

export const api = {
  get: (path) => request('GET', path),
  post: (path, body = {}) => request('POST', path, body),
  put: (path, body = {}) => request('PUT', path, body),
  del: (path) => request('DELETE', path),
  /** POST of a FormData (files), with the CSRF token as request() does;
   * onProgress(0..100) follows the upload. */
  postForm: (path, form, onProgress) => withToken(() => sendForm(path, form, onProgress)),
};

/** Forgets the token (after logout). */
export function forgetSession() {
  csrfToken = null;
  sessionPromise = null;
}

/** Why this page's session was ended from elsewhere: "other_device" (the
 * member, from another device), "agent" (the fund), or null. */
export function signedOutReason() {
  return signedOut;
}
