// Before/after: two visits registered at one mm scale (slider or blink), the change table with its MDC,
// and the clean comparison image (no overlays) for the patient.
import { api, fmt, h, signed } from "./api.js";

export async function comparePage(code, fromId, toId) {
  const data = await api("GET", `/api/patients/${encodeURIComponent(code)}/compare?from=${fromId}&to=${toId}`);
  const doc = data.comparison;
  const a = data.analyses;
  const page = h("section", { class: "compare" },
    h("p", { class: "crumbs" }, h("a", { href: `#/patient/${encodeURIComponent(code)}` }, `Patient ${code}`), " › before/after"),
    h("h1", {}, data.title));
  for (const [side, p] of Object.entries(doc.provenance || {})) {
    if (p.provenance === "manual") page.append(h("p", { class: "note" },
      `${side === "from" ? "Before" : "After"}: the measures come from landmarks corrected by hand (${p.points_moved} point${p.points_moved === 1 ? "" : "s"} moved).`));
  }
  // The expressions both visits have photos of; the view switches between them (rest first).
  const expressions = ["rest", "smile"].filter((e) => a.from[e] && a.to[e]);
  if (expressions.length) {
    const q = (expr, kind) => `/api/compare-image?before=${a.from[expr]}&after=${a.to[expr]}&kind=${kind}&expression=${expr}`;
    const before = h("img", { alt: "before, registered", class: "layer" });
    const after = h("img", { alt: "after, registered", class: "layer top" });
    const stage = h("div", { class: "stage" }, before, after);
    const slider = h("input", { type: "range", min: 0, max: 100, value: 50, "aria-label": "before/after slider",
      oninput: () => { after.style.clipPath = `inset(0 0 0 ${slider.value}%)`; } });
    after.style.clipPath = "inset(0 0 0 50%)";
    let blink = null;
    const blinkBtn = h("button", { type: "button", class: "secondary", onclick: () => {
      if (blink) { clearInterval(blink); blink = null; after.style.opacity = 1; blinkBtn.textContent = "Blink"; return; }
      after.style.clipPath = "none";
      blink = setInterval(() => { after.style.opacity = after.style.opacity === "0" ? 1 : 0; }, 700);
      blinkBtn.textContent = "Stop blinking";
    } }, "Blink");
    const caption = h("p", { class: "small muted" });
    const download = h("a", { class: "button" });
    const choice = h("div", { class: "expression-choice", role: "radiogroup", "aria-label": "expression" });
    function show(expr) {
      before.src = q(expr, "before"); after.src = q(expr, "after");
      before.alt = `before, ${expr}, registered`; after.alt = `after, ${expr}, registered`;
      stage.dataset.expression = expr;
      caption.textContent = `${expr === "rest" ? "Rest" : "Smile"} photos, each turned so its interpupillary line is level and scaled to the same mm per pixel (the iris scale of each visit). Left of the slider: before; right: after.`;
      download.href = q(expr, "plain"); download.setAttribute("download", `before-after-${expr}.png`);
      download.textContent = `Download clean comparison image (${expr})`;
      for (const b of choice.children) b.setAttribute("aria-checked", String(b.dataset.expression === expr));
    }
    choice.append(...expressions.map((expr) => h("button", { type: "button", class: "secondary", role: "radio",
      "data-expression": expr, onclick: () => show(expr) }, expr === "rest" ? "Rest" : "Smile")));
    show(expressions[0]);
    page.append(h("div", { class: "card" }, expressions.length > 1 ? choice : null, caption,
      stage, h("div", { class: "toolbar" }, slider, blinkBtn, download)));
  }
  for (const [cond, changes] of Object.entries(doc.changes)) {
    const rows = changes.map((c) => h("tr", { "data-key": c.key },
      h("th", { scope: "row" }, data.names[c.key]?.name || c.key),
      h("td", { class: "num" }, signed(c.before)), h("td", { class: "num" }, signed(c.after)),
      h("td", { class: "num" }, signed(c.change)), h("td", { class: "num" }, fmt(c.standard_error)),
      h("td", { class: "num" }, fmt(c.minimal_detectable_change)), h("td", { class: c.detectable ? "ok" : "muted" }, c.detectable ? "yes" : "no")));
    page.append(h("h2", {}, cond), h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Asymmetry (L − R)", "Before", "After", "Change", "SE", "MDC95", "Detectable"].map((t) => h("th", {}, t)))),
      h("tbody", {}, rows)));
  }
  if (doc.capture_warnings.length) page.append(h("ul", {}, doc.capture_warnings.map((w) => h("li", { class: "warn" }, w.message))));
  if (doc.treatments_between.length) page.append(h("p", {}, "Treatments in between: " +
    doc.treatments_between.map((t) => `${t.product_name} ${t.dose_value} ${t.dose_unit}`).join("; ")));
  return page;
}
