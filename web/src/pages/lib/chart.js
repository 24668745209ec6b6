// The daily chart: an SVG built node by node (no markup strings). PnL bars
// per UTC day, and a line for equity (or, without equity, the cumulative
// return index) where the payload carries them. A table of the same numbers
// follows for screen readers and for anyone who wants the exact figures.
import { el, svg } from "./dom.js";

const W = 640, H = 260, PAD_L = 56, PAD_R = 56, PAD_T = 16, PAD_B = 36;

function num(v) {
  const n = typeof v === "number" ? v : typeof v === "string" && v.trim() !== "" ? Number(v) : NaN;
  return Number.isFinite(n) ? n : null;
}

// daily: [{date, pnl, return?, equity?}] as signed in the payload.
export function dailySeries(payload) {
  if (!payload || !Array.isArray(payload.daily)) return null;
  const rows = payload.daily
    .filter((d) => d && typeof d === "object")
    .map((d) => ({ date: String(d.date ?? ""), pnl: num(d.pnl), ret: num(d.return), equity: num(d.equity) }));
  return rows.length > 0 ? rows : null;
}

function fmt(v) {
  if (v === null) return "—";
  const a = Math.abs(v);
  return a >= 1e6 ? (v / 1e6).toFixed(2) + "M" : a >= 1e3 ? (v / 1e3).toFixed(1) + "k" : v.toFixed(2);
}

export function renderDailyChart(payload, currency) {
  const rows = dailySeries(payload);
  if (!rows) {
    return el("p", { class: "hint", id: "chart-none" },
      "This result carries no daily series (the enclave that signed it does not include one), so there is no chart.");
  }
  const pnls = rows.map((r) => r.pnl ?? 0);
  const pmax = Math.max(0, ...pnls), pmin = Math.min(0, ...pnls);
  const prange = pmax - pmin || 1;
  const plotW = W - PAD_L - PAD_R, plotH = H - PAD_T - PAD_B;
  const y = (v) => PAD_T + ((pmax - v) / prange) * plotH;
  const step = plotW / rows.length;
  const bw = Math.max(1, step * 0.7);

  const hasEquity = rows.some((r) => r.equity !== null);
  const hasReturn = !hasEquity && rows.some((r) => r.ret !== null);
  let line = null, lineLabel = "";
  if (hasEquity) {
    line = rows.map((r) => r.equity);
    lineLabel = "equity (" + currency + ")";
  } else if (hasReturn) {
    let idx = 1;
    line = rows.map((r) => (r.ret === null ? null : (idx *= 1 + r.ret) - 1));
    lineLabel = "cumulative return";
  }

  const title = "Daily PnL" + (line ? " and " + lineLabel : "") + ", " + rows.length + " days from " +
    rows[0].date + " to " + rows[rows.length - 1].date;
  const root = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": "chart-title", id: "daily-chart" },
    svg("title", { id: "chart-title" }, title));
  root.append(svg("line", { class: "axis", x1: PAD_L, x2: W - PAD_R, y1: y(0), y2: y(0) }));
  root.append(svg("text", { x: PAD_L - 4, y: y(pmax) + 4, "text-anchor": "end" }, fmt(pmax)));
  root.append(svg("text", { x: PAD_L - 4, y: y(pmin) + 4, "text-anchor": "end" }, fmt(pmin)));
  root.append(svg("text", { x: PAD_L, y: H - 8 }, rows[0].date));
  root.append(svg("text", { x: W - PAD_R, y: H - 8, "text-anchor": "end" }, rows[rows.length - 1].date));
  rows.forEach((r, i) => {
    const v = r.pnl ?? 0;
    const top = Math.min(y(v), y(0));
    const h = Math.max(0.5, Math.abs(y(v) - y(0)));
    root.append(svg("rect", { class: v < 0 ? "bar-neg" : "bar-pos", "data-date": r.date, x: (PAD_L + i * step + (step - bw) / 2).toFixed(2),
      y: top.toFixed(2), width: bw.toFixed(2), height: h.toFixed(2) }, svg("title", {}, `${r.date}: ${r.pnl ?? "—"} ${currency}`)));
  });
  if (line) {
    const vals = line.filter((v) => v !== null);
    const lmax = Math.max(...vals), lmin = Math.min(...vals), lr = lmax - lmin || 1;
    const ly = (v) => PAD_T + ((lmax - v) / lr) * plotH;
    let d = "";
    line.forEach((v, i) => {
      if (v === null) return;
      d += (d === "" ? "M" : "L") + (PAD_L + i * step + step / 2).toFixed(2) + " " + ly(v).toFixed(2);
    });
    root.append(svg("path", { class: hasEquity ? "line-equity" : "line-return", d }));
    const show = (v) => (hasEquity ? fmt(v) : (v * 100).toFixed(1) + "%");
    root.append(svg("text", { x: W - PAD_R + 4, y: ly(lmax) + 4 }, show(lmax)));
    root.append(svg("text", { x: W - PAD_R + 4, y: ly(lmin) + 4 }, show(lmin)));
  }

  const table = el("table", { class: "numbers" },
    el("thead", {}, el("tr", {}, el("th", { scope: "col" }, "date"), el("th", { scope: "col" }, "pnl"),
      el("th", { scope: "col" }, "return"), el("th", { scope: "col" }, "equity"))),
    el("tbody", {}, rows.map((r) => el("tr", {}, el("td", {}, r.date), el("td", {}, r.pnl ?? "—"),
      el("td", {}, r.ret ?? "—"), el("td", {}, r.equity ?? "—")))));
  return el("figure", { class: "chart" }, root,
    el("figcaption", {}, title + ". Bars: PnL per UTC day (" + currency + ")" + (line ? "; line: " + lineLabel : "") + "."),
    el("details", {}, el("summary", {}, "The daily numbers"), table));
}
