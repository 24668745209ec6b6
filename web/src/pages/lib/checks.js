// Renders a CryptoHelper verdict ({ok, reasons, checks}) as a list a person
// can read: every check with a word (PASS / FAIL / SKIP), never only a colour.
import { el } from "./dom.js";

// checks may be an array of {name, ok, detail|reason|message} or an object
// keyed by name whose values are booleans or {ok, detail}; both become
// [{name, state, detail}], state one of "pass", "fail", "skip".
export function normalizeChecks(checks) {
  const out = [];
  const one = (name, v) => {
    if (typeof v === "boolean") return out.push({ name, state: v ? "pass" : "fail", detail: "" });
    if (v === null || v === undefined) return out.push({ name, state: "skip", detail: "" });
    const ok = v.ok !== undefined ? v.ok : v.pass !== undefined ? v.pass : v.passed;
    let state = ok === true ? "pass" : ok === false ? "fail" : "skip";
    if (typeof v.status === "string") {
      const s = v.status.toLowerCase();
      state = s === "ok" || s === "pass" || s === "passed" ? "pass" : s === "skipped" || s === "skip" || s === "not_checked" ? "skip" : "fail";
    }
    const detail = [v.detail, v.reason, v.message, Array.isArray(v.reasons) ? v.reasons.join("; ") : null]
      .filter((x) => typeof x === "string" && x.length > 0).join(" — ");
    out.push({ name: String(v.name || v.check || name), state, detail });
  };
  if (Array.isArray(checks)) checks.forEach((c, i) => one(c && (c.name || c.check) ? c.name || c.check : "check " + (i + 1), c));
  else if (checks && typeof checks === "object") for (const [k, v] of Object.entries(checks)) one(k, v);
  return out;
}

export function renderVerdict(result, title) {
  const list = normalizeChecks(result && result.checks);
  const box = el("div", { class: "verdict", "data-ok": result && result.ok ? "true" : "false" });
  box.append(el("h3", {}, title));
  const ul = el("ul", { class: "checks", "aria-label": title });
  for (const c of list) {
    ul.append(el("li", { class: c.state, "data-check": c.name },
      el("span", { class: "verdict" }, c.state === "pass" ? "PASS" : c.state === "fail" ? "FAIL" : "SKIP"), " ",
      el("span", { class: "name" }, c.name),
      c.detail ? el("span", { class: "detail" }, c.detail) : null));
  }
  box.append(ul);
  const reasons = (result && Array.isArray(result.reasons) ? result.reasons : []).map(String);
  if (reasons.length > 0) {
    box.append(el("p", {}, "Reasons:"));
    box.append(el("ul", { class: "reasons" }, reasons.map((r) => el("li", {}, r))));
  }
  return box;
}
