// checks.js - the verifier's findings and PTR requests, in words a customer understands.
import {badge, el, time} from "./dom.js";

const CHECK_NAMES = {
  syntax: "Name is a valid host name",
  policy: "Name is allowed by the provider",
  forward: "Name resolves back to the address (forward-confirmed)",
  generic: "Name does not look generic",
};

const STATE_WORDS = {
  applied: "applied",
  failed_checks: "not applied: a check failed",
  pending_review: "pending review by staff",
  approved: "approved by staff and applied",
  rejected: "rejected by staff",
  superseded: "superseded by a later change",
  waiting_forward: "waiting for the name to resolve (forward DNS propagating)",
  expired: "not applied: the name never resolved back in time",
  cancelled: "cancelled",
  delegated: "not applied: the block was delegated meanwhile",
};

export function stateWords(s) {
  return STATE_WORDS[s] || s;
}

export function checksList(checks) {
  const ul = el("ul", {class: "checks"});
  for (const c of checks || []) {
    ul.append(el("li", {class: `check check-${c.status}`, "data-check": c.id},
                 el("div", {class: "check-head"}, badge(c.status), " ",
                    el("strong", {}, CHECK_NAMES[c.id] || c.id),
                    c.severity ? el("span", {class: "muted"}, ` · severity ${c.severity}`) : null),
                 c.detail ? el("p", {class: "check-detail"}, c.detail) : null,
                 c.next_step ? el("p", {class: "check-next"}, el("strong", {}, "Next step: "), c.next_step) : null));
  }
  return ul;
}

export function forwardFailed(checks) {
  return (checks || []).some((c) => c.id === "forward" && c.status === "fail");
}

// One request as a card: what was asked, its state, the findings and the staff decision.
export function requestCard(r, accountName) {
  const card = el("article", {class: "card request", "data-request": r.id, "data-state": r.state},
    el("h3", {}, `Request #${r.id}: `, r.action === "delete" ? `reset ${r.ip}` : `${r.ip} → ${r.hostname || "(invalid name)"}`),
    el("p", {}, badge(r.state), " ", stateWords(r.state), " · asked ", time(r.created_at),
       accountName ? el("span", {}, " by ", el("span", {class: "account-name"}, accountName)) : null),
    r.exception_reason ? el("p", {class: "reason"}, el("strong", {}, "Reason given: "),
                            el("span", {class: "reason-text"}, r.exception_reason)) : null,
    r.decided_at ? el("p", {class: "decision"}, el("strong", {}, "Staff decision: "), stateWords(r.state), ", ",
                      time(r.decided_at), r.decision_note ? el("span", {}, " — ", el("span", {class: "note-text"}, r.decision_note)) : null) : null);
  if (r.checks && r.checks.length) {
    card.append(el("details", {open: r.state === "pending_review" || r.state === "failed_checks"},
                   el("summary", {}, `Findings (${r.checks.length})`), checksList(r.checks)));
  }
  return card;
}
