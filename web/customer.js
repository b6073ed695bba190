// customer.js - what a customer does: their addresses with each PTR, set (verified) or reset,
// exceptions asked of staff, and their request history.
import {api, clearProblem, Problem, qs, showProblem} from "./api.js";
import {checksList, forwardFailed, requestCard} from "./checks.js";
import {badge, clear, el, field, on, status, time} from "./dom.js";

const PAGE = 256;

function sourceWords(s) {
  return {custom: "custom", default: "zone default", none: "none"}[s] || s;
}

// Rows are cloned from one prototype and filled with text, and one listener per list
// serves every row's buttons: a page of 256 rows costs a few ms of script. What editing
// needs (forms, the result row) is made only for the row being edited.
const PROTO = el("div", {class: "addr-row", role: "row"},
  el("div", {role: "rowheader", class: "ip"}),
  el("div", {role: "cell", class: "hostname"}),
  el("div", {role: "cell", class: "source"}, el("span", {class: "badge"})),
  el("div", {role: "cell", class: "verified"}),
  el("div", {role: "cell", class: "actions"}, el("button", {type: "button", class: "small", "data-act": "edit"}, "Edit")));
const RESET = el("button", {type: "button", class: "small secondary", "data-act": "reset"}, "Reset");
const records = new WeakMap(); // row -> its record
const controllers = new WeakMap(); // row -> its editing controller, once edited

function paintRow(tr, r) {
  records.set(tr, r);
  tr.setAttribute("data-ip", r.ip);
  const [ip, host, src, ver, act] = tr.children;
  ip.textContent = r.ip;
  if (r.hostname) host.textContent = r.hostname;
  else host.replaceChildren(el("span", {class: "muted"}, "no PTR"));
  const b = src.firstChild;
  b.className = `badge badge-${r.source}`;
  b.textContent = sourceWords(r.source);
  if (r.source === "custom") ver.replaceChildren(time(r.verified_at));
  else ver.replaceChildren(el("span", {class: "muted"}, "—"));
  act.firstChild.setAttribute("aria-label", `Edit PTR of ${r.ip}`);
  let reset = act.children[1];
  if (r.source === "custom") {
    if (!reset) reset = act.appendChild(RESET.cloneNode(true));
    reset.setAttribute("aria-label", `Reset PTR of ${r.ip} to the default`);
  } else if (reset) {
    reset.remove();
  }
}

function newRow(r) {
  const tr = PROTO.cloneNode(true);
  paintRow(tr, r);
  return tr;
}

// The buttons of every row of body, by delegation.
function bindRows(body, ctx) {
  on(body, "click", (ev) => {
    const b = ev.target.closest("button[data-act]");
    if (!b || !body.contains(b)) return;
    const tr = b.closest(".addr-row");
    let c = controllers.get(tr);
    if (!c) {
      c = rowController(tr, ctx);
      controllers.set(tr, c);
    }
    if (b.dataset.act === "edit") c.edit();
    else c.reset();
  });
}

// Editing one row: a form in the row, a result row below it.
function rowController(tr, ctx) {
  let rec = records.get(tr);
  const fill = (r) => {
    rec = r;
    paintRow(tr, r);
  };
  const result = el("div", {class: "result-row", role: "row", hidden: true});
  const resultCell = el("div", {role: "cell", class: "result-cell"});
  result.append(resultCell);
  tr.after(result);

  async function reset() {
    result.hidden = false;
    clear(resultCell).append(status(`Resetting ${rec.ip}…`, "busy"));
    try {
      await api("DELETE", `/v1/ptr/${encodeURIComponent(rec.ip)}`);
      const r = await api("GET", `/v1/ptr/${encodeURIComponent(rec.ip)}`);
      fill(r);
      clear(resultCell).append(status(`Reset: ${r.ip} now has ${r.hostname ? `the default ${r.hostname}` : "no PTR"}.`, "ok"));
    } catch (e) {
      clear(resultCell).append(status(e.message, "error"));
    }
  }

  function edit() {
    const cell = tr.querySelector(".hostname");
    const f = field(`New PTR for ${rec.ip}`, "hostname", {value: rec.source === "custom" ? rec.hostname : "",
                                                          placeholder: "mail.example.com"});
    f.wrap.classList.add("inline");
    const save = el("button", {type: "submit"}, "Save");
    const cancel = el("button", {type: "button", class: "secondary"}, "Cancel");
    const form = el("form", {class: "inline-form"}, f.wrap, save, cancel);
    on(cancel, "click", () => {
      fill(rec);
      result.hidden = true;
      tr.querySelector("button[data-act=edit]").focus();
    });
    on(form, "submit", async (ev) => {
      ev.preventDefault();
      await setPtr(f.input.value.trim(), null, f, save);
    });
    clear(cell).append(form);
    f.input.focus();
  }

  async function setPtr(hostname, reason, f, button) {
    if (f) clearProblem({hostname: f});
    if (!hostname) {
      if (f) f.error.textContent = "Type a host name, e.g. mail.example.com.";
      return;
    }
    result.hidden = false;
    const secs = Math.ceil((ctx.me.verify_deadline_ms || 5000) / 1000);
    const busy = status(`Checking that ${hostname} resolves back to ${rec.ip}… (at most ${secs} s)`, "busy");
    clear(resultCell).append(busy);
    resultCell.setAttribute("aria-busy", "true");
    if (button) button.disabled = true;
    const body = {hostname};
    if (reason) body.exception_reason = reason;
    try {
      const r = await api("PUT", `/v1/ptr/${encodeURIComponent(rec.ip)}`, body);
      if (r && r.state === "pending_review") {
        clear(resultCell).append(status(`Sent to the provider's staff: request #${r.id} for ${rec.ip} → ${r.hostname} is pending review.`, "pending"),
                                 checksList(r.checks));
        if (f) fill(rec);
      } else {
        fill({ip: r.ip, hostname: r.hostname, source: r.source, verified_at: r.verified_at, updated_at: r.updated_at, zone: r.zone});
        clear(resultCell).append(status(`Applied: ${r.ip} → ${r.hostname}.`, "ok"), checksList(r.checks));
      }
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      if (e.status === 422 && e.body.checks) {
        const parts = [status(`Not applied: ${e.message}`, "error"), checksList(e.body.checks)];
        // A name refused by the syntax or policy check: the problem is the field's.
        const bad = e.body.checks.find((c) => (c.id === "syntax" || c.id === "policy") && c.status === "fail");
        if (f && bad) {
          f.error.textContent = bad.detail || e.message;
          f.input.setAttribute("aria-invalid", "true");
        }
        if (forwardFailed(e.body.checks) && !reason) parts.push(exceptionForm(hostname));
        clear(resultCell).append(...parts);
      } else if (f && e.status === 400) {
        clear(resultCell);
        result.hidden = true;
        f.error.textContent = e.message;
        f.input.setAttribute("aria-invalid", "true");
        f.input.focus();
      } else {
        clear(resultCell).append(status(e.message, "error"));
      }
    } finally {
      resultCell.removeAttribute("aria-busy");
      if (button) button.disabled = false;
    }
  }

  function exceptionForm(hostname) {
    const f = field(`Why should staff accept ${hostname} for ${rec.ip}?`, "exception_reason",
                    {type: "textarea", maxlength: 2000});
    const send = el("button", {type: "submit"}, "Ask the provider's staff for an exception");
    const form = el("form", {class: "card exception"},
                    el("h4", {}, "Ask for an exception"),
                    el("p", {}, "The forward check failed. If you know why the name is right anyway, staff can approve it."),
                    f.wrap, send);
    on(form, "submit", async (ev) => {
      ev.preventDefault();
      const reason = f.input.value.trim();
      if (!reason) {
        f.error.textContent = "Say why staff should accept this name.";
        f.input.focus();
        return;
      }
      await setPtr(hostname, reason, null, send);
    });
    return form;
  }

  return {edit, reset};
}

// The address list: ARIA table semantics on a grid of rows, so that rows off screen skip
// style and layout (content-visibility), which a <table> row cannot: 256 rows laid out in
// full cost 90-280 ms on the test machine, more than the page's budget.
function addressTable(caption) {
  const capId = `cap-${Math.random().toString(36).slice(2, 8)}`;
  const tbody = el("div", {class: "addr-body", role: "rowgroup"});
  const table = el("div", {class: "addresses", role: "table", "aria-labelledby": capId},
    el("div", {class: "addr-caption", id: capId}, caption),
    el("div", {role: "rowgroup", class: "addr-head"},
       el("div", {class: "addr-row addr-header", role: "row"},
          el("div", {role: "columnheader"}, "Address"), el("div", {role: "columnheader"}, "PTR"),
          el("div", {role: "columnheader"}, "Source"), el("div", {role: "columnheader"}, "Verified"),
          el("div", {role: "columnheader"}, el("span", {class: "sr-only"}, "Actions")))),
    tbody);
  return {table, tbody, wrap: el("div", {class: "addr-wrap"}, table)};
}

// An IPv4 block: every address, a page of 256 at a time.
async function v4Block(box, alloc, ctx) {
  const cursors = [null];
  let page = 0;
  const info = el("p", {class: "muted", role: "status"});
  const prev = el("button", {type: "button", class: "secondary"}, "Previous page");
  const next = el("button", {type: "button", class: "secondary"}, "Next page");
  const t = addressTable(`Addresses of ${alloc.prefix}`);
  box.append(t.wrap, el("div", {class: "pager"}, prev, info, next));
  bindRows(t.tbody, ctx);
  async function load() {
    performance.mark("rdns-addresses-start");
    const r = await api("GET", `/v1/addresses${qs({prefix: alloc.prefix, limit: PAGE, after: cursors[page]})}`);
    performance.mark("rdns-addresses-fetched");
    const frag = document.createDocumentFragment();
    for (const rec of r.items) frag.append(newRow(rec));
    t.tbody.replaceChildren(frag);
    void t.table.offsetHeight; // lay the rows out now: "rendered" includes the layout
    cursors[page + 1] = r.next;
    const from = page * PAGE + 1;
    info.textContent = r.items.length ? `Addresses ${from}–${from + r.items.length - 1} of ${r.total}` : "No addresses";
    prev.disabled = page === 0;
    next.disabled = !r.next;
    performance.mark("rdns-addresses-rendered");
    performance.measure("rdns-addresses-page", "rdns-addresses-start", "rdns-addresses-rendered");
    performance.measure("rdns-addresses-render", "rdns-addresses-fetched", "rdns-addresses-rendered");
  }
  on(prev, "click", () => { if (page > 0) { page -= 1; load(); } });
  on(next, "click", () => { if (cursors[page + 1]) { page += 1; load(); } });
  await load();
}

// An IPv6 prefix: its custom records, and any address inside it on demand.
async function v6Block(box, alloc, ctx) {
  const f = field(`Any address inside ${alloc.prefix}`, "address", {placeholder: alloc.prefix.replace(/\/\d+$/, "1")});
  const go = el("button", {type: "submit"}, "Show");
  const form = el("form", {class: "inline-form"}, f.wrap, go);
  const t = addressTable(`Custom records in ${alloc.prefix}`);
  const one = addressTable("The address you asked for");
  one.wrap.hidden = true;
  const more = el("button", {type: "button", class: "secondary", hidden: true}, "More records");
  box.append(form, one.wrap, t.wrap, more);
  bindRows(one.tbody, ctx);
  bindRows(t.tbody, ctx);
  on(form, "submit", async (ev) => {
    ev.preventDefault();
    f.error.textContent = "";
    const a = f.input.value.trim();
    if (!a) {
      f.error.textContent = "Type an address, compressed (2001:db8::10) or not.";
      return;
    }
    try {
      const r = await api("GET", `/v1/ptr/${encodeURIComponent(a)}`);
      one.tbody.replaceChildren(newRow(r));
      one.wrap.hidden = false;
    } catch (e) {
      f.error.textContent = e.message;
      f.input.focus();
    }
  });
  let after = null;
  async function load() {
    const r = await api("GET", `/v1/ptr${qs({prefix: alloc.prefix, limit: PAGE, after})}`);
    for (const rec of r.items) t.tbody.append(newRow(rec));
    if (!r.items.length && !after) t.tbody.append(el("div", {role: "row", class: "addr-empty"}, el("div", {role: "cell", class: "muted"}, "No custom records yet.")));
    after = r.next;
    more.hidden = !r.next;
  }
  on(more, "click", load);
  await load();
}

export async function addresses(section, me) {
  section.append(el("h1", {tabindex: "-1"}, "My addresses"));
  const allocs = me.allocations || [];
  if (!allocs.length) {
    section.append(el("p", {}, "You hold no addresses yet. Your provider allocates them."));
    return null;
  }
  const ctx = {me};
  const picker = el("div", {class: "tabs", role: "group", "aria-label": "Your allocations"});
  const box = el("div", {class: "block"});
  section.append(picker, box);
  const show = async (alloc, button) => {
    for (const b of picker.querySelectorAll("button")) b.setAttribute("aria-pressed", String(b === button));
    clear(box).append(el("h2", {}, alloc.prefix), el("p", {class: "muted"}, "Allocated ", time(alloc.created_at)));
    try {
      if (alloc.prefix.includes(":")) await v6Block(box, alloc, ctx);
      else await v4Block(box, alloc, ctx);
    } catch (e) {
      box.append(status(e.message, "error"));
    }
  };
  let first = null;
  const add = (list) => {
    for (const a of list) {
      const b = el("button", {type: "button", class: "tab", "aria-pressed": "false", "data-prefix": a.prefix}, a.prefix);
      on(b, "click", () => show(a, b));
      picker.insertBefore(b, more);
      first = first || [a, b];
    }
  };
  // /v1/me holds the first 100 allocations; the rest come a page at a time
  let after = me.allocations_next;
  const more = el("button", {type: "button", class: "tab", "data-more": "1"}, "More allocations…");
  more.hidden = !after;
  picker.append(more);
  on(more, "click", async () => {
    try {
      const r = await api("GET", `/v1/allocations${qs({after, limit: 100})}`);
      add(r.items);
      after = r.next;
      more.hidden = !after;
    } catch (e) {
      clear(box).append(status(e.message, "error"));
    }
  });
  add(allocs);
  await show(...first);
  return null;
}

export async function requests(section) {
  section.append(el("h1", {tabindex: "-1"}, "My requests"),
                 el("p", {}, "Every change you asked for, newest first, with its checks and the staff decision."));
  const f = field("State", "state", {type: "select", options: [["", "any"], ["applied", "applied"], ["failed_checks", "failed checks"],
    ["pending_review", "pending review"], ["approved", "approved"], ["rejected", "rejected"], ["superseded", "superseded"],
    ["waiting_forward", "waiting for forward DNS"], ["expired", "expired"], ["cancelled", "cancelled"], ["delegated", "delegated"]]});
  const form = el("form", {class: "filters"}, f.wrap, el("button", {type: "submit"}, "Filter"));
  const list = el("div", {class: "list"});
  const more = el("button", {type: "button", class: "secondary", hidden: true}, "Older requests");
  section.append(form, list, more);
  let before = null;
  async function load(reset) {
    if (reset) {
      before = null;
      clear(list);
    }
    try {
      const r = await api("GET", `/v1/requests${qs({state: f.input.value, before, limit: 50})}`);
      for (const q of r.items) list.append(requestCard(q));
      if (!list.children.length) list.append(el("p", {class: "muted"}, "No requests."));
      before = r.next;
      more.hidden = !r.next;
    } catch (e) {
      if (e instanceof Problem) showProblem(e, {state: f}, f.error);
    }
  }
  on(form, "submit", (ev) => { ev.preventDefault(); load(true); });
  on(more, "click", () => load(false));
  await load(true);
  return null;
}
