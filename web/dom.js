// dom.js - building the page from data: every text from the API goes in as a text node
// (textContent), never as HTML, so a name such as "<img onerror=...>" stays a name.

// el("tag", {attrs}, child...): attributes by setAttribute (on* handlers are refused: events
// are bound with addEventListener), children as nodes or text. null/false children are skipped.
export function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === null || v === undefined || v === false) continue;
      if (k.startsWith("on")) throw new Error("dom: bind events with on(), not attributes");
      if (k === "class") e.className = v;
      else if (v === true) e.setAttribute(k, "");
      else e.setAttribute(k, String(v));
    }
  }
  append(e, children);
  return e;
}

export function append(parent, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return parent;
}

export function on(node, type, fn) {
  node.addEventListener(type, fn);
  return node;
}

export function clear(node) {
  node.replaceChildren();
  return node;
}

let uid = 0;
export function id(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

// A labelled input: returns {wrap, input, error}. error is where a problem's detail about
// this field is shown (aria-describedby ties it to the input for screen readers).
export function field(label, name, opts = {}) {
  const fid = id(name);
  const err = el("p", {class: "field-error", id: `${fid}-err`, role: "alert"});
  let input;
  if (opts.type === "select") {
    input = el("select", {id: fid, name});
    for (const [value, text] of opts.options) input.append(el("option", {value}, text));
  } else if (opts.type === "textarea") {
    input = el("textarea", {id: fid, name, rows: opts.rows || 3, maxlength: opts.maxlength});
  } else {
    input = el("input", {id: fid, name, type: opts.type || "text", required: opts.required,
                         placeholder: opts.placeholder, autocomplete: opts.autocomplete || "off",
                         spellcheck: "false", inputmode: opts.inputmode});
  }
  if (opts.value !== undefined && opts.value !== null) input.value = opts.value;
  input.setAttribute("aria-describedby", err.id);
  const wrap = el("div", {class: "field"}, el("label", {for: fid}, label), input, err);
  return {wrap, input, error: err};
}

const pad = (n) => String(n).padStart(2, "0");

// A Date as "YYYY-MM-DD HH:MM:SS" in the browser's time zone. Written by hand rather than
// with toLocaleString(): the first Intl call of a browser process loads ICU's data (80 ms
// here), which the panel's first page cannot afford.
export function localText(d) {
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

// The browser's offset from UTC, "UTC+01:00".
function offsetText(d) {
  const m = -d.getTimezoneOffset();
  return `UTC${m < 0 ? "-" : "+"}${pad(Math.floor(Math.abs(m) / 60))}:${pad(Math.abs(m) % 60)}`;
}

// "2026-12-03T07:52:02.123Z" as the browser's local time, the UTC time on hover.
export function time(iso) {
  if (!iso) return el("span", {class: "muted"}, "never");
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return el("span", {}, iso);
  const utc = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
  return el("time", {datetime: iso, title: `${utc} (shown in local time, ${offsetText(d)})`}, localText(d));
}

// How long ago iso was, in words ("12 s ago").
export function age(iso) {
  if (!iso) return "";
  const s = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 120) return `${s} s ago`;
  if (s < 7200) return `${Math.round(s / 60)} min ago`;
  if (s < 172800) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86400)} days ago`;
}

export function badge(text, kind) {
  return el("span", {class: `badge badge-${kind || text}`}, text);
}

// A status line that screen readers announce.
export function status(text, kind) {
  return el("p", {class: `status status-${kind || "info"}`, role: "status"}, text);
}
