// The measures table (value per side, asymmetry ± SE, reference band, quality flags) and the dynamic part.
import { fmt, h, signed } from "./api.js";

// How closely a measure follows manual reference points (docs/measures.md), as the PDF report marks it.
function agreementMark(name) {
  return name?.mark ? h("span", { class: "agreement", title: name.agreement }, ` ${name.mark}`) : null;
}

function agreementLegend(view, keys) {
  const seen = new Map(keys.map((k) => view.names[k]).filter((n) => n?.mark).map((n) => [n.mark, n.agreement]));
  return seen.size
    ? h("p", { class: "small agreement-legend" }, [...seen].map(([mark, text]) => `${mark} ${text}`).join("; ") +
        " (docs/measures.md).")
    : null;
}

export function measuresPanel(view) {
  const parts = [];
  for (const photo of view.photos) {
    const r = photo.result, m = r.measures;
    const flags = r.flags.length
      ? h("ul", { class: "flags" }, r.flags.map((f) => h("li", { class: "warn" }, f.message)))
      : h("p", { class: "ok" }, "No quality flags.");
    const rows = Object.entries(m.sided).map(([k, v]) => h("tr", { "data-key": k },
      h("th", { scope: "row" }, view.names[k]?.name || k, agreementMark(view.names[k])),
      h("td", { class: "num" }, fmt(v.right)), h("td", { class: "num" }, fmt(v.left)),
      h("td", { class: "num asym" }, signed(v.asymmetry)), h("td", { class: "num" }, fmt(v.standard_error)),
      h("td", {}, view.names[k]?.unit || v.unit),
      h("td", { class: v.band ? `band band-${v.band.label}` : "", title: v.band ? `${v.band.text} (${v.band.source})` : null },
        v.band ? v.band.label.replace(/_/g, " ") : "–")));
    parts.push(h("div", { class: "measures", "data-expression": photo.expression },
      h("h3", {}, photo.expression === "rest" ? "At rest" : "In smile",
        h("span", { class: "muted small" }, ` · scale ${fmt(m.scale_used.mm_per_px, 4)} mm/px (${m.scale_used.source}) · IPD ${fmt(m.interpupillary_distance_mm, 1)} mm`)),
      flags,
      h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["Measure", "Right", "Left", "L − R", "SE", "Unit", "Band"].map((t) => h("th", {}, t)))),
        h("tbody", {}, rows)),
      agreementLegend(view, Object.keys(m.sided)),
      h("p", { class: "small" }, `Composite ${fmt(m.composite.value)} ± ${fmt(m.composite.standard_error)}`)));
  }
  if (view.pair) {
    const d = view.pair.dynamic;
    parts.push(h("div", { class: "measures", "data-expression": "dynamic" },
      h("h3", {}, "Rest → smile (dynamic component)"),
      h("table", { class: "grid" },
        h("thead", {}, h("tr", {}, ["Movement", "Right", "Left", "L − R", "SE", "Unit"].map((t) => h("th", {}, t)))),
        h("tbody", {}, Object.entries(d).map(([k, v]) => h("tr", { "data-key": k },
          h("th", { scope: "row" }, view.names[k]?.name || k), h("td", { class: "num" }, fmt(v.right)),
          h("td", { class: "num" }, fmt(v.left)), h("td", { class: "num asym" }, signed(v.asymmetry)),
          h("td", { class: "num" }, fmt(v.standard_error)), h("td", {}, view.names[k]?.unit || v.unit))))),
      h("ul", { class: "small" }, view.pair.summary.map((s) => h("li", {}, s.text)))));
  }
  return h("div", { class: "measures-panel" }, parts);
}
