// bulk.js - many PTR changes at once from a CSV file or pasted lines, through the same
// POST /v1/ptr:batch a script would use: each line verified like a single change and
// answered in its place.
import {api, Problem} from "./api.js";
import {checksList} from "./checks.js";
import {badge, clear, el, field, on, status} from "./dom.js";

const MAX_ITEMS = 1000; // the route's own bound (openapi.yaml: maxItems)
const MAX_BYTES = 1 << 20; // a file of 1,000 lines of names is far below this

const STATUS_WORDS = {
  200: ["applied", "applied"],
  400: ["invalid", "not a valid change"],
  404: ["not yours", "not in one of your allocations"],
  409: ["delegated", "the block is delegated"],
  422: ["failed checks", "not applied: a check failed"],
  424: ["not applied", "not applied: another line failed and the batch is all or nothing"],
  500: ["error", "the verifier could not run"],
};

// One field of a CSV line: surrounding spaces and one pair of double quotes taken off.
function unquote(s) {
  const t = s.trim();
  return t.length >= 2 && t.startsWith("\"") && t.endsWith("\"") ? t.slice(1, -1).replace(/""/g, "\"").trim() : t;
}

// The CSV text as batch items. A line is "address,hostname" (set) or "address," or
// "address,reset" (back to the zone's default); blank lines and lines starting with # are
// skipped, as is a first line naming the columns. Returns {items, lines, errors}: lines[i]
// is the line number of items[i]; errors [{line, error}] for lines that are not a change.
export function parseCsv(text) {
  const items = [], lines = [], errors = [];
  const rows = text.split(/\r\n|\n|\r/);
  for (let i = 0; i < rows.length; i++) {
    const raw = rows[i].trim();
    if (!raw || raw.startsWith("#")) continue;
    const cols = raw.split(/[,;\t]/).map(unquote);
    if (!items.length && !errors.length && /^(ip|address)$/i.test(cols[0])) continue; // a header
    if (cols.length > 2 && cols.slice(2).some((c) => c !== "")) {
      errors.push({line: i + 1, error: `${cols.length} columns: write address,hostname`});
      continue;
    }
    const ip = cols[0], host = cols.length > 1 ? cols[1] : "";
    if (!ip) {
      errors.push({line: i + 1, error: "no address"});
      continue;
    }
    items.push(host === "" || host.toLowerCase() === "reset" ? {ip, reset: true} : {ip, hostname: host});
    lines.push(i + 1);
  }
  return {items, lines, errors};
}

function resultTable(items, lines, answer) {
  const body = el("tbody");
  const t = el("table", {class: "bulk-results"},
    el("caption", {}, "Each line's outcome"),
    el("thead", {}, el("tr", {}, el("th", {scope: "col"}, "Line"), el("th", {scope: "col"}, "Address"),
                       el("th", {scope: "col"}, "Change"), el("th", {scope: "col"}, "Outcome"))),
    body);
  answer.items.forEach((a, i) => {
    const asked = items[i] || {};
    const [short, long] = STATUS_WORDS[a.status] || [String(a.status), `status ${a.status}`];
    const kind = a.status === 200 ? "pass" : a.status === 424 ? "skip" : "fail";
    const outcome = el("td", {class: "outcome"}, badge(short, kind), " ", long);
    if (a.error) outcome.append(el("p", {class: "check-detail"}, a.error));
    if (a.status !== 200 && a.checks && a.checks.length) outcome.append(checksList(a.checks));
    body.append(el("tr", {"data-ip": a.ip, "data-status": a.status},
                   el("td", {}, String(lines[i] || i + 1)),
                   el("th", {scope: "row", class: "ip"}, a.ip),
                   el("td", {class: "hostname"}, asked.reset ? "reset to the default" : (a.hostname || asked.hostname || "")),
                   outcome));
  });
  return el("div", {class: "table-wrap"}, t);
}

export async function bulk(section, me) {
  section.append(el("h1", {tabindex: "-1"}, "Bulk changes"),
                 el("p", {}, "Set or reset many PTRs at once: one change per line, ", el("code", {}, "address,hostname"),
                    " to set a name, ", el("code", {}, "address,reset"), " (or ", el("code", {}, "address,"),
                    ") to go back to the zone's default. At most 1,000 lines; a first line naming the columns is skipped. Every name is checked like a single change: it must resolve back to its address."));
  const file = field("CSV file", "csv_file", {type: "file"});
  file.input.setAttribute("accept", ".csv,.txt,text/csv,text/plain");
  const text = field("Changes", "csv", {type: "textarea", rows: 8});
  text.input.setAttribute("placeholder", "ip,hostname\n192.0.2.10,mail.example.com\n192.0.2.11,reset");
  const atomic = el("input", {type: "checkbox", id: "bulk-atomic", name: "atomic"});
  const send = el("button", {type: "submit"}, "Check and apply");
  const msg = el("p", {class: "form-error", role: "alert"});
  const form = el("form", {class: "card form bulk"}, file.wrap, text.wrap,
                  el("div", {class: "field checkbox"}, atomic,
                     el("label", {for: "bulk-atomic"}, "All or nothing: apply the changes only if every line passes")),
                  msg, send);
  const out = el("div", {class: "bulk-out", "aria-live": "polite"});
  section.append(form, out);

  on(file.input, "change", async () => {
    file.error.textContent = "";
    const f = file.input.files && file.input.files[0];
    if (!f) return;
    if (f.size > MAX_BYTES) {
      file.error.textContent = `${f.name} is ${f.size} bytes; a batch of 1,000 lines is far smaller.`;
      return;
    }
    text.input.value = await f.text();
  });

  on(form, "submit", async (ev) => {
    ev.preventDefault();
    msg.textContent = "";
    text.error.textContent = "";
    const p = parseCsv(text.input.value);
    clear(out); // the outcome shown belongs to the last lines sent, not to these
    if (p.errors.length) {
      text.error.textContent = p.errors.slice(0, 5).map((e) => `line ${e.line}: ${e.error}`).join("; ") +
                               (p.errors.length > 5 ? `; and ${p.errors.length - 5} more` : "") + ".";
      text.input.setAttribute("aria-invalid", "true");
      return;
    }
    text.input.removeAttribute("aria-invalid");
    if (!p.items.length) {
      text.error.textContent = "No changes: choose a file or type lines such as 192.0.2.10,mail.example.com.";
      return;
    }
    if (p.items.length > MAX_ITEMS) {
      text.error.textContent = `${p.items.length} changes; a batch takes at most ${MAX_ITEMS}: split the file.`;
      return;
    }
    const secs = Math.ceil((me.verify_deadline_ms || 5000) / 1000);
    clear(out).append(status(`Checking ${p.items.length} change${p.items.length === 1 ? "" : "s"}… (at most about ${secs} s)`, "busy"));
    out.setAttribute("aria-busy", "true");
    send.disabled = true;
    performance.mark("rdns-bulk-start");
    try {
      const r = await api("POST", "/v1/ptr:batch", {items: p.items, atomic: atomic.checked});
      const n = r.items.length, ok = r.items.filter((a) => a.status === 200).length;
      const summary = ok === n ? status(`All ${n} changes applied.`, "ok")
        : ok === 0 ? status(`None of the ${n} changes was applied: see each line below.`, "error")
        : status(`${ok} of ${n} changes applied; ${n - ok} not: see each line below.`, "pending");
      clear(out).append(summary, resultTable(p.items, p.lines, r));
      performance.mark("rdns-bulk-done");
      performance.measure("rdns-bulk", "rdns-bulk-start", "rdns-bulk-done");
    } catch (e) {
      if (!(e instanceof Problem)) throw e;
      clear(out);
      msg.textContent = e.message;
    } finally {
      out.removeAttribute("aria-busy");
      send.disabled = false;
    }
  });
  return null;
}
