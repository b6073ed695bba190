// app.js - the panel's shell: login by API token, who the token belongs to (/v1/me), the
// navigation and the views of each role, routed by location.hash.
import {api, clearToken, Problem, setToken, setUnauthorizedHandler, token} from "./api.js";
import {clear, el, field, on, status} from "./dom.js";

const main = document.getElementById("main");
const nav = document.getElementById("nav");
const who = document.getElementById("who");
let me = null;
let current = null; // the view shown: {leave()} when it holds timers

// The views of each role: [hash key, label, module, function]. A role's module is loaded
// when first shown, so the login page loads only this file, api.js and dom.js.
const CUSTOMER_VIEWS = [
  ["addresses", "My addresses", "./customer.js", "addresses"],
  ["requests", "My requests", "./customer.js", "requests"],
  ["bulk", "Bulk changes", "./bulk.js", "bulk"],
];
const STAFF_VIEWS = [
  ["queue", "Review queue", "./staff.js", "queue"],
  ["lookup", "Lookup", "./staff.js", "lookup"],
  ["accounts", "Accounts", "./staff.js", "accounts"],
  ["allocations", "Allocations", "./staff.js", "allocations"],
  ["zones", "Zones", "./staff.js", "zones"],
  ["audit", "Audit log", "./staff.js", "audit"],
  ["bulk", "Bulk changes", "./bulk.js", "bulk"],
];

function views() {
  return me && me.role === "staff" ? STAFF_VIEWS : CUSTOMER_VIEWS;
}

function leave() {
  if (current && current.leave) current.leave();
  current = null;
}

// The login page, with why the last session ended when there is a reason.
function login(reason) {
  leave();
  me = null;
  clear(nav);
  clear(who);
  const tok = field("API token", "token", {type: "password", autocomplete: "off", required: true,
                                           placeholder: "rdns_<id>_<secret>"});
  const msg = el("p", {class: "form-error", role: "alert"}, reason || "");
  const form = el("form", {class: "card login", "aria-labelledby": "login-h"},
                  el("h1", {id: "login-h", tabindex: "-1"}, "Sign in"),
                  el("p", {}, "Paste the API token your provider gave you (customer or staff). It is kept in this tab only, until you sign out or close it."),
                  tok.wrap, msg, el("button", {type: "submit"}, "Sign in"));
  on(form, "submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    tok.error.textContent = "";
    const t = tok.input.value.trim();
    if (!t) {
      tok.error.textContent = "Paste a token.";
      return;
    }
    try {
      const m = await api("GET", "/v1/me", undefined, {token: t});
      setToken(t);
      start(m);
    } catch (e) {
      tok.error.textContent = e instanceof Problem ? e.message : String(e);
      tok.input.focus();
    }
  });
  clear(main).append(form);
  tok.input.focus();
}

function logout() {
  clearToken();
  login("You are signed out.");
  location.hash = "";
}

function start(m) {
  me = m;
  sessionStorage.setItem("rdns.role", m.role);
  clear(who).append(el("span", {class: "who-name"}, m.name), " ",
                    el("span", {class: "badge"}, m.role), " ");
  const out = el("button", {type: "button", class: "secondary"}, "Sign out");
  on(out, "click", logout);
  who.append(out);
  clear(nav);
  const ul = el("ul");
  for (const [key, label] of views()) ul.append(el("li", {}, el("a", {href: `#/${key}`, "data-view": key}, label)));
  nav.append(ul);
  route();
}

async function route() {
  if (!me) return;
  const key = (location.hash.match(/^#\/([a-z]+)/) || [])[1];
  const list = views();
  // A view of the other role is still tried when asked for by name: the API answers (a
  // customer asking for the queue gets its 403, shown as it is), the panel hides nothing.
  const v = list.find(([k]) => k === key) || [...CUSTOMER_VIEWS, ...STAFF_VIEWS].find(([k]) => k === key) || list[0];
  for (const a of nav.querySelectorAll("a")) {
    if (a.dataset.view === v[0]) a.setAttribute("aria-current", "page");
    else a.removeAttribute("aria-current");
  }
  leave();
  const section = el("section", {class: "view", "data-view": v[0]});
  clear(main).append(section);
  try {
    const mod = await import(v[2]);
    current = (await mod[v[3]](section, me)) || null;
  } catch (e) {
    if (!(e instanceof Problem && e.status === 401)) section.append(status(e.message, "error"));
  }
  const h = section.querySelector("h1");
  if (h && document.activeElement === document.body) h.focus({preventScroll: true});
  performance.mark("rdns-view-ready");
  interactive();
}

// A 401 anywhere ends the session: back to the login page with the API's detail.
setUnauthorizedHandler((p) => {
  clearToken();
  login(`Your session ended: ${p.message}`);
});

window.addEventListener("hashchange", route);

// "rdns-interactive": the first page can be used (the login form or the first view is shown).
function interactive() {
  if (!performance.getEntriesByName("rdns-interactive").length) performance.mark("rdns-interactive");
}

async function boot() {
  const t = token();
  if (!t) {
    login();
  } else {
    // Signed in already (a reload): load the views of the role this tab had while asking
    // /v1/me, instead of after it. The answer of /v1/me decides what is shown.
    const role = sessionStorage.getItem("rdns.role");
    if (role === "staff" || role === "customer") {
      for (const m of ["./checks.js", role === "staff" ? "./staff.js" : "./customer.js"]) import(m).catch(() => {});
    }
    try {
      start(await api("GET", "/v1/me"));
      return; // route() marks when the first view is ready
    } catch (e) {
      if (!(e instanceof Problem && e.status === 401)) login(e.message);
    }
  }
  interactive();
}

boot();
