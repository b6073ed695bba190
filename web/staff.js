// staff.js - what provider staff do: the review queue, lookups, accounts and tokens,
// allocations, zones and the audit log.
import {api, clearProblem, Problem, qs, showProblem} from "./api.js";
import {checksList, requestCard, stateWords} from "./checks.js";
import {age, badge, clear, el, field, localText, on, status, time} from "./dom.js";

const QUEUE_POLL_MS = 3000;

// Account names by id, for the ids a screen shows: fetched with GET /v1/accounts?ids= (200
// a request) when first needed and kept for the session (names do not change). A provider
// has 200,000 accounts: too many to fetch all of them for a name beside an id.
const NAMES_PER_REQUEST = 200;
const nameCache = new Map();

async function accountNames(ids) {
  const want = [...new Set(ids)].filter((id) => Number.isInteger(id) && id > 0 && !nameCache.has(id));
  for (let i = 0; i < want.length; i += NAMES_PER_REQUEST) {
    const chunk = want.slice(i, i + NAMES_PER_REQUEST);
    const r = await api("GET", `/v1/accounts${qs({ids: chunk.join(","), limit: NAMES_PER_REQUEST})}`);
    for (const a of r.items) nameCache.set(a.id, a.name);
  }
  return nameCache;
}

const ID_RE = /^[1-9][0-9]{0,17}$/;
const PICK_LIMIT = 20;

// An account field: an account id, typed, or picked from the accounts whose name begins with
// what is typed (GET /v1/accounts?q=, PICK_LIMIT of them in a datalist); a status line under
// it names the account of the id typed, or says how many names match. Returns field()'s
// {wrap, input, error} and resolve(): the id (an exact name typed and not picked counts), or
// null when the field is empty, or throws a Problem-like Error with what is wrong.
function accountField(label, name) {
  const f = field(label, name, {placeholder: "an account id, or the start of a name", autocomplete: "off"});
  const list = el("datalist", {id: `${f.input.id}-names`});
  const said = el("p", {class: "muted account-said", id: `${f.input.id}-said`, role: "status"});
  f.input.setAttribute("list", list.id);
  f.input.setAttribute("aria-describedby", `${said.id} ${f.error.id}`);
  f.wrap.insertBefore(said, f.error);
  f.wrap.append(list);
  let seq = 0;
  let timer = null;
  async function update() {
    const v = f.input.value.trim();
    const mine = ++seq;
    if (!v) {
      said.textContent = "";
      list.replaceChildren();
      return;
    }
    if (ID_RE.test(v)) {
      const names = await accountNames([Number(v)]);
      if (mine === seq) said.textContent = names.has(Number(v)) ? `Account ${v}: ${names.get(Number(v))}` : `No account ${v}.`;
      return;
    }
    const r = await api("GET", `/v1/accounts${qs({q: v, limit: PICK_LIMIT})}`);
    if (mine !== seq) return;
    for (const a of r.items) nameCache.set(a.id, a.name);
    list.replaceChildren(...r.items.map((a) => el("option", {value: String(a.id)}, `${a.name} (${a.role})`)));
    said.textContent = r.items.length
      ? `${r.items.length}${r.next ? " or more" : ""} ${r.items.length === 1 && !r.next ? "account begins" : "accounts begin"} with "${v}": pick one from the list.`
      : `No account name begins with "${v}".`;
  }
  on(f.input, "input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => update().catch((e) => { said.textContent = e.message; }), 150);
  });
  f.resolve = async () => {
    const v = f.input.value.trim();
    if (!v) return null;
    if (ID_RE.test(v)) return Number(v);
    const r = await api("GET", `/v1/accounts${qs({q: v, limit: 2})}`);
    const exact = r.items.find((a) => a.name === v);
    if (exact) return exact.id;
    throw new Error(`No account is named "${v}": type its id, or the start of its name and pick it from the list.`);
  };
  return f;
}

// Previous / Next buttons over pages of a cursor-paged list route: cursors[i] starts page i.
// load(cursor) fetches and shows a page and returns its "next".
function pager(load) {
  const prev = el("button", {type: "button", class: "secondary"}, "Previous");
  const next = el("button", {type: "button", class: "secondary"}, "Next");
  const info = el("span", {class: "muted", role: "status"});
  const p = {wrap: el("div", {class: "pager"}, prev, info, next), page: 0, cursors: [null]};
  p.show = async () => {
    const n = await load(p.cursors[p.page]);
    p.cursors[p.page + 1] = n;
    prev.disabled = p.page === 0;
    next.disabled = !n;
    info.textContent = `Page ${p.page + 1}`;
  };
  p.restart = () => {
    p.page = 0;
    p.cursors.length = 1;
    return p.show();
  };
  on(prev, "click", () => { if (p.page > 0) { p.page -= 1; p.show(); } });
  on(next, "click", () => { if (p.cursors[p.page + 1]) { p.page += 1; p.show(); } });
  return p;
}

function form(cls, ...children) {
  return el("form", {class: cls || "card form"}, ...children);
}

function list(items) {
  return items.filter(Boolean).join(", ");
}

// ---- review queue ----

export async function queue(section) {
  const live = el("p", {class: "muted", role: "status", "aria-live": "polite"});
  const box = el("div", {class: "list queue"});
  section.append(el("h1", {tabindex: "-1"}, "Review queue"),
                 el("p", {}, "Exceptions customers asked for: the name failed the forward check. Approve to apply it anyway, or reject; the note is shown to the customer."),
                 live, box);
  const names = nameCache;
  const shown = new Map(); // request id -> card
  let timer = null;

  function card(r) {
    const note = field(`Note for request #${r.id}`, "note", {type: "textarea", maxlength: 2000});
    const msg = el("p", {class: "form-error", role: "alert"});
    const approve = el("button", {type: "button", "data-action": "approve"}, "Approve and apply");
    const reject = el("button", {type: "button", class: "danger", "data-action": "reject"}, "Reject");
    const c = el("article", {class: "card request queue-item", "data-request": r.id},
      el("h2", {}, `${r.ip} → ${r.hostname}`),
      el("dl", {class: "facts"},
         el("dt", {}, "Customer"), el("dd", {class: "account-name"}, names.get(r.account_id) || `account ${r.account_id}`),
         el("dt", {}, "Asked"), el("dd", {}, time(r.created_at)),
         el("dt", {}, "Reason"), el("dd", {class: "reason-text"}, r.exception_reason || "")),
      el("div", {class: "side"}, el("div", {}, el("h3", {}, "Findings"), checksList(r.checks)),
         el("div", {}, note.wrap, msg, el("div", {class: "buttons"}, approve, reject))));
    const decide = async (verb) => {
      msg.textContent = "";
      approve.disabled = reject.disabled = true;
      try {
        const body = note.input.value.trim() ? {note: note.input.value.trim()} : {};
        const d = await api("POST", `/v1/requests/${r.id}/${verb}`, body);
        shown.delete(r.id);
        c.replaceWith(status(`Request #${r.id} ${stateWords(d.state)}.`, verb === "approve" ? "ok" : "info"));
      } catch (e) {
        msg.textContent = e.message;
        approve.disabled = reject.disabled = false;
      }
    };
    on(approve, "click", () => decide("approve"));
    on(reject, "click", () => decide("reject"));
    return c;
  }

  // the first load's problem is the view's (a customer's 403 shown as the view), later ones
  // are shown in the status line while polling goes on
  async function refresh(first) {
    try {
      const r = await api("GET", "/v1/requests?state=pending_review&limit=200");
      const ids = new Set(r.items.map((q) => q.id));
      await accountNames(r.items.filter((q) => !shown.has(q.id)).map((q) => q.account_id));
      for (const [id, c] of shown) if (!ids.has(id)) { c.remove(); shown.delete(id); }
      for (const q of [...r.items].reverse()) {
        if (shown.has(q.id)) continue;
        const c = card(q);
        shown.set(q.id, c);
        box.prepend(c);
      }
      live.textContent = `${shown.size} pending · updated ${localText(new Date()).slice(11)}`;
    } catch (e) {
      if (first) throw e;
      if (e instanceof Problem && e.status === 401) return stop();
      live.textContent = `Could not update: ${e.message}`;
    }
    return null;
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }
  await refresh(true);
  timer = setInterval(refresh, QUEUE_POLL_MS);
  return {leave: stop};
}

// ---- lookup ----

export async function lookup(section) {
  const f = field("IP address", "ip", {placeholder: "192.0.2.10 or 2001:db8::10"});
  const out = el("div", {class: "lookup-result"});
  const fm = form("filters", f.wrap, el("button", {type: "submit"}, "Look up"));
  section.append(el("h1", {tabindex: "-1"}, "Look up an address"), fm, out);
  on(fm, "submit", async (ev) => {
    ev.preventDefault();
    clearProblem({ip: f});
    clear(out);
    const ip = f.input.value.trim();
    if (!ip) {
      f.error.textContent = "Type an address.";
      return;
    }
    try {
      const owner = await api("GET", `/v1/allocations${qs({ip})}`);
      let rec = null;
      try {
        rec = await api("GET", `/v1/ptr/${encodeURIComponent(ip)}`);
      } catch (e) {
        if (e.status !== 404) throw e;
      }
      const canon = rec ? rec.ip : ip;
      const [hist, audit] = await Promise.all([api("GET", `/v1/requests${qs({ip: canon, limit: 20})}`),
                                               api("GET", `/v1/audit${qs({ip: canon, limit: 20})}`)]);
      const a = owner.items[0];
      const names = await accountNames([a && a.account_id, ...hist.items.map((q) => q.account_id)]);
      out.append(el("h2", {}, canon),
        el("dl", {class: "facts"},
           el("dt", {}, "Owner"), el("dd", {class: "account-name"}, a ? `${names.get(a.account_id) || "?"} (account ${a.account_id}, allocation ${a.prefix})` : "not allocated"),
           el("dt", {}, "PTR"), el("dd", {}, rec ? (rec.hostname || "none") : "not in a reverse zone"),
           el("dt", {}, "Source"), el("dd", {}, rec ? rec.source : "—"),
           el("dt", {}, "Zone"), el("dd", {}, rec ? rec.zone : "—"),
           el("dt", {}, "Verified"), el("dd", {}, rec && rec.source === "custom" ? time(rec.verified_at) : "—")),
        el("h3", {}, "History"), hist.items.length ? el("div", {class: "list"}, hist.items.map((q) => requestCard(q, names.get(q.account_id)))) : el("p", {class: "muted"}, "No requests."),
        el("h3", {}, "Audit entries"), auditTable(audit.items));
    } catch (e) {
      if (e instanceof Problem) showProblem(e, {ip: f}, f.error);
    }
  });
  f.input.focus();
  return null;
}

// ---- accounts and tokens ----

export async function accounts(section) {
  const name = field("Name", "name", {required: true});
  const role = field("Role", "role", {type: "select", options: [["customer", "customer"], ["staff", "staff"]]});
  const msg = el("p", {class: "form-error", role: "alert"});
  const create = form(null, el("h2", {}, "New account"), name.wrap, role.wrap, msg, el("button", {type: "submit"}, "Create account"));
  const tbody = el("tbody");
  const detail = el("div", {class: "account-detail"});
  // pages of 100 by id (a provider has 200,000 accounts)
  const pages = pager((after) => page(after));
  section.append(el("h1", {tabindex: "-1"}, "Accounts and tokens"), create,
                 el("div", {class: "table-wrap"}, el("table", {},
                    el("caption", {}, "Accounts"),
                    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Id"), el("th", {scope: "col"}, "Name"),
                                        el("th", {scope: "col"}, "Role"), el("th", {scope: "col"}, "Created"),
                                        el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tbody)),
                 pages.wrap, detail);
  async function load() {
    await pages.show();
  }
  async function page(after) {
    const r = await api("GET", `/v1/accounts${qs({after, limit: 100})}`);
    for (const a of r.items) nameCache.set(a.id, a.name);
    tbody.replaceChildren(...r.items.map((a) => {
      const b = el("button", {type: "button", class: "small", "aria-label": `Open account ${a.id}`}, "Open");
      on(b, "click", () => open(a.id));
      return el("tr", {"data-account": a.id}, el("td", {}, String(a.id)), el("td", {class: "account-name"}, a.name),
                el("td", {}, a.role), el("td", {}, time(a.created_at)), el("td", {}, b));
    }));
    return r.next;
  }
  async function open(id) {
    const a = await api("GET", `/v1/accounts/${id}`);
    const tokBody = el("tbody");
    const shownOnce = el("div", {class: "token-once"});
    const newTok = el("button", {type: "button"}, "Create a token");
    on(newTok, "click", async () => {
      try {
        const t = await api("POST", `/v1/accounts/${id}/tokens`, {});
        const out = el("output", {class: "token-text", "aria-label": "The new token"}, t.token);
        const copy = el("button", {type: "button", class: "small"}, "Copy");
        const said = el("span", {role: "status", class: "muted"});
        on(copy, "click", async () => {
          try {
            await navigator.clipboard.writeText(t.token);
            said.textContent = "Copied.";
          } catch (e) {
            const range = document.createRange();
            range.selectNodeContents(out);
            const sel = getSelection();
            sel.removeAllRanges();
            sel.addRange(range);
            said.textContent = "Selected: press Ctrl+C to copy.";
          }
        });
        clear(shownOnce).append(el("p", {}, el("strong", {}, `Token ${t.id}, shown this once: `), out, " ", copy, " ", said),
                                el("p", {class: "muted"}, "Only a hash is kept: it cannot be shown again."));
        await open2();
      } catch (e) {
        clear(shownOnce).append(status(e.message, "error"));
      }
    });
    const open2 = async () => {
      const b = await api("GET", `/v1/accounts/${id}`);
      tokBody.replaceChildren(...b.tokens.map((t) => {
        const cells = [el("td", {}, String(t.id)), el("td", {}, time(t.created_at)), el("td", {}, time(t.last_used_at)),
                       el("td", {}, t.revoked_at ? time(t.revoked_at) : "live")];
        let action = null;
        if (!t.revoked_at) {
          action = el("button", {type: "button", class: "small danger", "aria-label": `Revoke token ${t.id}`}, "Revoke");
          on(action, "click", async () => {
            try {
              await api("DELETE", `/v1/tokens/${t.id}`);
              await open2();
            } catch (e) {
              clear(shownOnce).append(status(e.message, "error"));
            }
          });
        }
        return el("tr", {"data-token": t.id}, ...cells, el("td", {}, action));
      }));
    };
    clear(detail).append(el("h2", {}, "Account ", el("span", {class: "account-name"}, a.name), ` (${a.role}, id ${a.id})`),
      el("p", {}, "Allocations: ", a.allocations.length ? list(a.allocations.map((x) => x.prefix)) : "none",
        a.allocations_next ? ` and more after ${a.allocations_next} (the first ${a.allocations.length} by prefix)` : ""),
      el("div", {class: "table-wrap"}, el("table", {}, el("caption", {}, "Tokens"),
        el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Id"), el("th", {scope: "col"}, "Created"), el("th", {scope: "col"}, "Last used"),
                            el("th", {scope: "col"}, "Revoked"), el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tokBody)),
      newTok, shownOnce);
    await open2();
    detail.querySelector("h2").scrollIntoView({block: "nearest"});
  }
  on(create, "submit", async (ev) => {
    ev.preventDefault();
    clearProblem({name, role}, msg);
    try {
      const a = await api("POST", "/v1/accounts", {name: name.input.value, role: role.input.value});
      name.input.value = "";
      await load();
      await open(a.id);
    } catch (e) {
      if (e instanceof Problem) showProblem(e, {name, role}, msg);
    }
  });
  await load();
  return null;
}

// ---- allocations ----

export async function allocations(section) {
  const acct = accountField("Account", "account_id");
  const prefix = field("Prefix", "prefix", {placeholder: "192.0.2.0/26", required: true});
  const msg = el("p", {class: "form-error", role: "alert"});
  const done = el("div");
  const create = form(null, el("h2", {}, "New allocation"), acct.wrap, prefix.wrap, msg, el("button", {type: "submit"}, "Allocate"), done);
  const tbody = el("tbody");
  // pages of 100 by prefix, IPv4 first (a provider has 1,000,000 allocations)
  const pages = pager(page);
  section.append(el("h1", {tabindex: "-1"}, "Allocations"), create,
    el("div", {class: "table-wrap"}, el("table", {}, el("caption", {}, "Allocations"),
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Prefix"), el("th", {scope: "col"}, "Account"), el("th", {scope: "col"}, "Created"),
                          el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tbody)),
    pages.wrap);
  async function page(after) {
    const r = await api("GET", `/v1/allocations${qs({after, limit: 100})}`);
    const names = await accountNames(r.items.map((a) => a.account_id));
    const who = (id) => names.get(id) || `account ${id}`;
    tbody.replaceChildren(...r.items.map((a) => {
      const del = el("button", {type: "button", class: "small danger", "aria-label": `Delete allocation ${a.prefix}`}, "Delete");
      const tr = el("tr", {"data-allocation": a.id}, el("td", {}, a.prefix), el("td", {class: "account-name"}, who(a.account_id)),
                    el("td", {}, time(a.created_at)), el("td", {}, del));
      on(del, "click", async () => {
        const d = await api("GET", `/v1/allocations/${a.id}`);
        const yes = el("button", {type: "button", class: "danger"}, "Delete it");
        const no = el("button", {type: "button", class: "secondary"}, "Keep it");
        const row = el("tr", {class: "confirm-row"}, el("td", {colspan: 4},
          el("p", {role: "alert"}, `Delete ${a.prefix} of ${who(a.account_id)}? `,
             d.records === 1 ? "1 custom PTR will be reset." : `${d.records} custom PTRs will be reset.`), yes, " ", no));
        tr.after(row);
        no.focus();
        on(no, "click", () => row.remove());
        on(yes, "click", async () => {
          try {
            await api("DELETE", `/v1/allocations/${a.id}`);
            await pages.show();
          } catch (e) {
            row.firstChild.append(status(e.message, "error"));
          }
        });
      });
      return tr;
    }));
    return r.next;
  }
  on(create, "submit", async (ev) => {
    ev.preventDefault();
    clearProblem({account_id: acct, prefix}, msg);
    clear(done);
    let id;
    try {
      id = await acct.resolve();
    } catch (e) {
      acct.error.textContent = e.message;
      acct.input.setAttribute("aria-invalid", "true");
      return;
    }
    if (id === null) {
      acct.error.textContent = "Type an account id, or the start of a name and pick it from the list.";
      acct.input.setAttribute("aria-invalid", "true");
      return;
    }
    try {
      const a = await api("POST", "/v1/allocations", {account_id: id, prefix: prefix.input.value.trim()});
      prefix.input.value = "";
      const names = await accountNames([a.account_id]);
      done.append(status(`Allocated ${a.prefix} to ${names.get(a.account_id) || `account ${a.account_id}`}.`, "ok"));
      await pages.show();
    } catch (e) {
      if (e instanceof Problem) showProblem(e, {account_id: acct, prefix}, msg);
    }
  });
  await pages.show();
  return null;
}

// ---- zones ----

function words(s) {
  return s.split(/[\s,]+/).filter(Boolean);
}

function zoneFields(z) {
  const f = {
    nameservers: field("Name servers (space or comma separated)", "nameservers", {value: z ? z.nameservers.join(" ") : ""}),
    default_ptr: field("Default PTR template (IPv4; e.g. {dashed}.dyn.example.net)", "default_ptr", {value: z ? z.default_ptr || "" : ""}),
    notify: field("NOTIFY targets (ip[:port][@key])", "notify", {value: z ? z.notify.join(" ") : ""}),
    ttl: field("TTL", "ttl", {type: "number", value: z ? z.ttl : 3600}),
  };
  if (z) {
    f.soa_mname = field("SOA mname", "soa_mname", {value: z.soa.mname});
    f.soa_rname = field("SOA rname", "soa_rname", {value: z.soa.rname});
    for (const k of ["refresh", "retry", "expire", "minimum"]) f[k] = field(`SOA ${k}`, k, {type: "number", value: z.soa[k]});
  }
  return f;
}

function zoneBody(f, z) {
  const b = {nameservers: words(f.nameservers.input.value), notify: words(f.notify.input.value), ttl: Number(f.ttl.input.value)};
  const dp = f.default_ptr.input.value.trim();
  if (dp || z) b.default_ptr = dp || null;
  if (z) {
    b.soa_mname = f.soa_mname.input.value.trim() || null;
    b.soa_rname = f.soa_rname.input.value.trim() || null;
    for (const k of ["refresh", "retry", "expire", "minimum"]) b[k] = Number(f[k].input.value);
  }
  return b;
}

export async function zones(section) {
  const prefix = field("Prefix", "prefix", {placeholder: "192.0.2.0/24", required: true});
  const f = zoneFields(null);
  const msg = el("div", {class: "form-error", role: "alert"});
  const create = form(null, el("h2", {}, "New zone"), prefix.wrap, ...Object.values(f).map((x) => x.wrap), msg,
                      el("button", {type: "submit"}, "Create zone"));
  const tbody = el("tbody");
  const detail = el("div", {class: "zone-detail"});
  const newer = el("button", {type: "button", class: "secondary"}, "Previous");
  const older = el("button", {type: "button", class: "secondary"}, "Next");
  const info = el("span", {class: "muted", role: "status"});
  section.append(el("h1", {tabindex: "-1"}, "Reverse zones"), create,
    el("div", {class: "table-wrap"}, el("table", {}, el("caption", {}, "Zones"),
      el("thead", {}, el("tr", {}, ...["Zone", "Prefix", "Serial", "Rendered", "Records"].map((h) => el("th", {scope: "col"}, h)),
                          el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tbody)),
    el("div", {class: "pager"}, newer, info, older), detail);
  // pages of 200 by prefix (a provider has tens of thousands of zones): cursors[i] starts page i
  const cursors = [null];
  let page = 0;
  on(newer, "click", () => { if (page > 0) { page -= 1; load(); } });
  on(older, "click", () => { if (cursors[page + 1]) { page += 1; load(); } });
  async function load() {
    const r = await api("GET", `/v1/zones${qs({after: cursors[page], limit: 200})}`);
    cursors[page + 1] = r.next;
    newer.disabled = page === 0;
    older.disabled = !r.next;
    info.textContent = `Page ${page + 1}`;
    tbody.replaceChildren(...r.items.map((z) => {
      const b = el("button", {type: "button", class: "small", "aria-label": `Open zone ${z.name}`}, "Open");
      on(b, "click", () => open(z.name));
      return el("tr", {"data-zone": z.name}, el("td", {}, z.name), el("td", {}, z.prefix), el("td", {}, String(z.serial)),
                el("td", {}, time(z.rendered_at), z.dirty ? el("span", {}, " ", badge("changes pending", "pending")) : null),
                el("td", {}, String(z.records)), el("td", {}, b));
    }));
  }
  async function open(name) {
    const z = await api("GET", `/v1/zones/${encodeURIComponent(name)}`);
    const ef = zoneFields(z);
    const emsg = el("p", {class: "form-error", role: "alert"});
    const edit = form(null, el("h3", {}, "Settings"), ...Object.values(ef).map((x) => x.wrap), emsg, el("button", {type: "submit"}, "Save zone"));
    const targets = (z.notify_status && z.notify_status.targets) || {};
    const nt = el("tbody", {}, Object.entries(targets).map(([t, s]) => el("tr", {},
      el("td", {}, t), el("td", {}, badge(s.state)), el("td", {}, s.serial != null ? String(s.serial) : "—"),
      el("td", {}, s.at ? el("span", {}, time(s.at), ` (${age(s.at)})`) : "—"), el("td", {}, s.detail || ""))));
    clear(detail).append(el("h2", {}, z.name),
      el("p", {}, `Serial ${z.serial} · rendered `, time(z.rendered_at), z.rendered_at ? ` (${age(z.rendered_at)})` : "",
         z.dirty ? " · changes pending" : "", ` · ${z.records} custom records`),
      el("div", {class: "table-wrap"}, el("table", {}, el("caption", {}, "NOTIFY status per target"),
        el("thead", {}, el("tr", {}, ...["Target", "State", "Serial", "When", "Detail"].map((h) => el("th", {scope: "col"}, h)))),
        Object.keys(targets).length ? nt : el("tbody", {}, el("tr", {}, el("td", {colspan: 5, class: "muted"}, "No NOTIFY sent yet.")))) ),
      edit);
    on(edit, "submit", async (ev) => {
      ev.preventDefault();
      clearProblem(ef, emsg);
      try {
        await api("PATCH", `/v1/zones/${encodeURIComponent(name)}`, zoneBody(ef, z));
        await load();
        await open(name);
        detail.append(status("Saved.", "ok"));
      } catch (e) {
        if (e instanceof Problem) showProblem(e, ef, emsg);
      }
    });
  }
  on(create, "submit", async (ev) => {
    ev.preventDefault();
    clearProblem({...f, prefix}, msg);
    try {
      await api("POST", "/v1/zones", {prefix: prefix.input.value.trim(), ...zoneBody(f, null)});
      prefix.input.value = "";
      await load();
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      showProblem(e, {...f, prefix}, msg);
      if (Array.isArray(e.body.zones)) {
        prefix.error.textContent = e.message;
        msg.replaceChildren(el("p", {}, "Create these zones instead:"),
                            el("ul", {}, e.body.zones.map((z) => el("li", {}, typeof z === "string" ? z : `${z.name || ""} ${z.prefix || ""}`.trim()))));
      }
    }
  });
  await load();
  return null;
}

// ---- audit log ----

function auditTable(items) {
  return el("div", {class: "table-wrap"}, el("table", {class: "audit"},
    el("caption", {}, "Audit entries"),
    el("thead", {}, el("tr", {}, ...["When", "Who", "Action", "Address", "Object", "Old", "New", "Detail"].map((h) => el("th", {scope: "col"}, h)))),
    el("tbody", {}, items.length ? items.map((a) => el("tr", {"data-audit": a.id},
      el("td", {}, time(a.at)), el("td", {class: "account-name"}, a.actor_name || "—"), el("td", {}, a.action),
      el("td", {}, a.ip || ""), el("td", {}, a.object || ""), el("td", {}, a.old_value || ""), el("td", {}, a.new_value || ""),
      el("td", {class: "detail"}, a.detail ? JSON.stringify(a.detail) : ""))) : el("tr", {}, el("td", {colspan: 8, class: "muted"}, "No entries.")))));
}

export async function audit(section) {
  const ip = field("Address", "ip", {placeholder: "192.0.2.10"});
  const account = accountField("Account (empty: any)", "account");
  const action = field("Action", "action", {placeholder: "ptr.set, request.approve ..."});
  const msg = el("p", {class: "form-error", role: "alert"});
  const fm = form("filters", ip.wrap, account.wrap, action.wrap, el("button", {type: "submit"}, "Filter"), msg);
  const out = el("div");
  const newer = el("button", {type: "button", class: "secondary"}, "Newer");
  const older = el("button", {type: "button", class: "secondary"}, "Older");
  const info = el("span", {class: "muted", role: "status"});
  section.append(el("h1", {tabindex: "-1"}, "Audit log"), fm, out, el("div", {class: "pager"}, newer, info, older));
  const cursors = [null];
  let page = 0;
  const fields = {ip, account, action};
  async function load() {
    clearProblem(fields, msg);
    try {
      let who;
      try {
        who = await account.resolve();
      } catch (e) {
        account.error.textContent = e.message;
        return;
      }
      const r = await api("GET", `/v1/audit${qs({ip: ip.input.value.trim(), account: who,
                                                  action: action.input.value.trim(), before: cursors[page], limit: 50})}`);
      out.replaceChildren(auditTable(r.items));
      cursors[page + 1] = r.next;
      newer.disabled = page === 0;
      older.disabled = !r.next;
      info.textContent = `Page ${page + 1}`;
    } catch (e) {
      if (e instanceof Problem) showProblem(e, fields, msg);
    }
  }
  on(fm, "submit", (ev) => { ev.preventDefault(); page = 0; cursors.length = 1; load(); });
  on(newer, "click", () => { if (page > 0) { page -= 1; load(); } });
  on(older, "click", () => { if (cursors[page + 1]) { page += 1; load(); } });
  await load();
  return null;
}
