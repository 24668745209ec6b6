// The numbers of a verified payload, as a table. Known fields first in a
// reading order, then every other signed field as it is (so fields added by
// a later enclave are shown, not hidden). Values are text nodes only.
import { el } from "./dom.js";
import { renderDailyChart } from "./chart.js";

const KNOWN = [
  ["label", "label (self-asserted)"], ["exchange", "exchange"], ["currency", "currency"],
  ["from", "from"], ["to", "to"], ["pnl", "pnl"], ["volume", "volume"], ["sharpe", "sharpe"],
  ["trades", "trades"], ["excluded_trades", "excluded trades"], ["unpriced_fees", "unpriced fees"],
  ["unmatched_qty", "unmatched quantity"], ["realized_pnl", "realized pnl"], ["fees", "fees"],
  ["funding", "funding"], ["account_id", "account id"], ["account_uid", "account uid"],
  ["challenge", "challenge"], ["issued_at", "issued at"], ["environment", "environment"],
  ["image_hash", "enclave image (PCR0)"], ["result_id", "result id"], ["merkle_root", "Merkle root"],
];
const HIDDEN = new Set(["type", "version", "daily", "scope", "key_permissions"]);

function text(v) {
  if (v === null || v === undefined) return "—";
  if (typeof v === "object") return JSON.stringify(v);
  return String(v);
}

export function renderNumbers(payload) {
  const rows = [];
  const seen = new Set();
  const row = (name, label, value, cls) => {
    rows.push(el("tr", { "data-field": name }, el("th", { scope: "row" }, label), el("td", { class: cls || "" }, value)));
  };
  for (const [k, label] of KNOWN) {
    if (!(k in payload)) continue;
    seen.add(k);
    const mono = k === "image_hash" || k === "merkle_root" || k === "account_id" || k === "result_id";
    row(k, label, text(payload[k]), mono ? "mono" : "");
  }
  const scope = payload.scope;
  if (scope && typeof scope === "object") {
    row("scope.account_type", "account type", text(scope.account_type));
    const syms = Array.isArray(scope.symbols) ? scope.symbols : [];
    row("scope.symbols", "symbols fetched", `${syms.length} (${text(scope.symbol_source)}): ${syms.map(String).join(", ")}`);
    row("scope.exchange_base_url", "exchange API", text(scope.exchange_base_url), "mono");
  }
  const kp = payload.key_permissions;
  if (kp && typeof kp === "object") {
    const on = Object.entries(kp).filter(([, v]) => v === true).map(([k]) => k);
    row("key_permissions", "key permissions (as the exchange reported)", on.length ? on.join(", ") : "none");
  }
  for (const [k, v] of Object.entries(payload)) {
    if (seen.has(k) || HIDDEN.has(k)) continue;
    row(k, k, text(v));
  }
  const dev = payload.environment !== "production";
  const wrap = el("div", { class: "numbers" });
  if (dev) {
    wrap.append(el("p", {}, el("span", { class: "badge", id: "dev-badge" }, "DEVELOPMENT"),
      " This result was made under a development attestation root or with an exchange URL override: it proves nothing about a real account."));
  }
  wrap.append(el("table", { class: "numbers", id: "numbers" }, el("tbody", {}, rows)));
  wrap.append(renderDailyChart(payload, text(payload.currency)));
  return wrap;
}
