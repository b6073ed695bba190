// staff.js - what provider staff do: the review queue, lookups, accounts and tokens,
// allocations, zones and the audit log.
import {api, clearProblem, Problem, qs, showProblem} from "./api.js";
import {checksList, requestCard, stateWords} from "./checks.js";
import {age, badge, clear, el, field, localText, on, status, time} from "./dom.js";

const QUEUE_POLL_MS = 3000;

async function accountNames() {
  const r = await api("GET", "/v1/accounts");
  const m = new Map();
  for (const a of r.items) m.set(a.id, a.name);
  return m;
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
  let names = await accountNames();
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

  async function refresh() {
    try {
      const r = await api("GET", "/v1/requests?state=pending_review&limit=200");
      const ids = new Set(r.items.map((q) => q.id));
      if (r.items.some((q) => !names.has(q.account_id))) names = await accountNames();
      for (const [id, c] of shown) if (!ids.has(id)) { c.remove(); shown.delete(id); }
      for (const q of [...r.items].reverse()) {
        if (shown.has(q.id)) continue;
        const c = card(q);
        shown.set(q.id, c);
        box.prepend(c);
      }
      live.textContent = `${shown.size} pending · updated ${localText(new Date()).slice(11)}`;
    } catch (e) {
      if (e instanceof Problem && e.status === 401) return stop();
      live.textContent = `Could not update: ${e.message}`;
    }
    return null;
  }
  function stop() {
    if (timer) clearInterval(timer);
    timer = null;
  }
  await refresh();
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
      const [owner, names] = await Promise.all([api("GET", `/v1/allocations${qs({ip})}`), accountNames()]);
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
  section.append(el("h1", {tabindex: "-1"}, "Accounts and tokens"), create,
                 el("div", {class: "table-wrap"}, el("table", {},
                    el("caption", {}, "Accounts"),
                    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Id"), el("th", {scope: "col"}, "Name"),
                                        el("th", {scope: "col"}, "Role"), el("th", {scope: "col"}, "Created"),
                                        el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tbody)),
                 detail);
  async function load() {
    const r = await api("GET", "/v1/accounts");
    tbody.replaceChildren(...r.items.map((a) => {
      const b = el("button", {type: "button", class: "small", "aria-label": `Open account ${a.id}`}, "Open");
      on(b, "click", () => open(a.id));
      return el("tr", {"data-account": a.id}, el("td", {}, String(a.id)), el("td", {class: "account-name"}, a.name),
                el("td", {}, a.role), el("td", {}, time(a.created_at)), el("td", {}, b));
    }));
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
      el("p", {}, "Allocations: ", a.allocations.length ? list(a.allocations.map((x) => x.prefix)) : "none"),
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
  const names = await accountNames();
  const acct = field("Account", "account_id", {type: "select", options: [...names].map(([id, n]) => [String(id), `${n} (${id})`])});
  const prefix = field("Prefix", "prefix", {placeholder: "192.0.2.0/26", required: true});
  const msg = el("p", {class: "form-error", role: "alert"});
  const create = form(null, el("h2", {}, "New allocation"), acct.wrap, prefix.wrap, msg, el("button", {type: "submit"}, "Allocate"));
  const tbody = el("tbody");
  section.append(el("h1", {tabindex: "-1"}, "Allocations"), create,
    el("div", {class: "table-wrap"}, el("table", {}, el("caption", {}, "Allocations"),
      el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Prefix"), el("th", {scope: "col"}, "Account"), el("th", {scope: "col"}, "Created"),
                          el("th", {scope: "col"}, el("span", {class: "sr-only"}, "Actions")))), tbody)));
  async function load() {
    const r = await api("GET", "/v1/allocations");
    tbody.replaceChildren(...r.items.map((a) => {
      const del = el("button", {type: "button", class: "small danger", "aria-label": `Delete allocation ${a.prefix}`}, "Delete");
      const tr = el("tr", {"data-allocation": a.id}, el("td", {}, a.prefix), el("td", {class: "account-name"}, names.get(a.account_id) || String(a.account_id)),
                    el("td", {}, time(a.created_at)), el("td", {}, del));
      on(del, "click", async () => {
        const d = await api("GET", `/v1/allocations/${a.id}`);
        const yes = el("button", {type: "button", class: "danger"}, "Delete it");
        const no = el("button", {type: "button", class: "secondary"}, "Keep it");
        const row = el("tr", {class: "confirm-row"}, el("td", {colspan: 4},
          el("p", {role: "alert"}, `Delete ${a.prefix} of ${names.get(a.account_id) || a.account_id}? `,
             d.records === 1 ? "1 custom PTR will be reset." : `${d.records} custom PTRs will be reset.`), yes, " ", no));
        tr.after(row);
        no.focus();
        on(no, "click", () => row.remove());
        on(yes, "click", async () => {
          try {
            await api("DELETE", `/v1/allocations/${a.id}`);
            await load();
          } catch (e) {
            row.firstChild.append(status(e.message, "error"));
          }
        });
      });
      return tr;
    }));
  }
  on(create, "submit", async (ev) => {
    ev.preventDefault();
    clearProblem({account_id: acct, prefix}, msg);
    try {
      await api("POST", "/v1/allocations", {account_id: Number(acct.input.value), prefix: prefix.input.value.trim()});
      prefix.input.value = "";
      await load();
    } catch (e) {
      if (e instanceof Problem) showProblem(e, {account_id: acct, prefix}, msg);
    }
  });
  await load();
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
  const names = await accountNames();
  const ip = field("Address", "ip", {placeholder: "192.0.2.10"});
  const account = field("Account", "account", {type: "select", options: [["", "any"], ...[...names].map(([id, n]) => [String(id), `${n} (${id})`])]});
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
      const r = await api("GET", `/v1/audit${qs({ip: ip.input.value.trim(), account: account.input.value,
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
