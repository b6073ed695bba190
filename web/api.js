// api.js - the panel is a client of /v1 like any other: the same routes, the same Bearer
// token (kept in sessionStorage, so it ends with the tab), problem+json errors.
const KEY = "rdns.token";

export class Problem extends Error {
  constructor(status, body) {
    super((body && (body.detail || body.title)) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

let onUnauthorized = () => {};
export function setUnauthorizedHandler(fn) {
  onUnauthorized = fn;
}

export function token() {
  return sessionStorage.getItem(KEY);
}
export function setToken(t) {
  sessionStorage.setItem(KEY, t);
}
export function clearToken() {
  sessionStorage.removeItem(KEY);
  sessionStorage.removeItem("rdns.role");
}

// api("GET", "/v1/me") -> the parsed JSON (null for 204). Throws Problem on an error; a 401
// ends the session (the handler shows the login page with the API's detail).
export async function api(method, path, body, opts = {}) {
  const headers = {Accept: "application/json, application/problem+json"};
  const t = opts.token || token();
  if (t) headers.Authorization = `Bearer ${t}`;
  const init = {method, headers, credentials: "omit", cache: "no-store", referrerPolicy: "no-referrer"};
  if (body !== undefined) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    throw new Problem(0, {title: "Network error", detail: `the API did not answer: ${e.message}`});
  }
  const text = res.status === 204 ? "" : await res.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = {detail: text.slice(0, 200)};
    }
  }
  if (!res.ok && res.status !== 202) {
    const p = new Problem(res.status, data);
    if (res.status === 401 && !opts.token) onUnauthorized(p);
    throw p;
  }
  return data;
}

// Query string of the parameters that are set.
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, v);
  const s = u.toString();
  return s ? `?${s}` : "";
}

// Shows a problem next to the fields it names (problem "errors" [{field, error}] or
// "parameter"), else in the form's general place. fields: {name: {error}}.
export function showProblem(p, fields, general) {
  for (const f of Object.values(fields || {})) f.error.textContent = "";
  if (general) general.textContent = "";
  const body = p.body || {};
  let placed = false;
  if (Array.isArray(body.errors)) {
    for (const e of body.errors) {
      // "nameservers[1]" is the second item of the list field "nameservers"
      const name = String(e.field).replace(/\[\d+\]$/, "");
      const f = fields && fields[name];
      if (f) {
        const text = name === e.field ? e.error : `${e.field}: ${e.error}`;
        f.error.textContent = f.error.textContent ? `${f.error.textContent} ${text}` : text;
        f.input.setAttribute("aria-invalid", "true");
        placed = true;
      }
    }
  }
  if (!placed && body.parameter && fields && fields[body.parameter]) {
    fields[body.parameter].error.textContent = body.detail || p.message;
    placed = true;
  }
  if (!placed && general) general.textContent = body.detail || p.message;
}

export function clearProblem(fields, general) {
  for (const f of Object.values(fields || {})) {
    f.error.textContent = "";
    f.input.removeAttribute("aria-invalid");
  }
  if (general) general.textContent = "";
}
