// The visit page: photos in (drag and drop, progress, one-line reasons), the analysed photos with their
// overlay and measures, manual landmark correction, treatments and the report.
import { api, errorBox, form, h, uploadPhoto } from "./api.js";
import { Editor } from "./editor.js";

const KINDS = ["baseline", "treatment", "follow-up", "maintenance"];

export async function visitPage(visitId, analysisId) {
  const data = await api("GET", `/api/visits/${visitId}`);
  const v = data.visit, p = data.patient;
  const page = h("section", { class: "visit" });
  let editor = null;

  const analyses = data.analyses;
  const chosen = analyses.find((a) => a.id === analysisId) || latest(analyses);
  const tabs = h("nav", { class: "tabs" }, analyses.map((a) => h("a", {
    href: `#/visit/${visitId}/${a.id}`, class: chosen && a.id === chosen.id ? "active" : "",
  }, `#${a.id} ${a.provenance}` + (a.rest_photo_id && a.smile_photo_id ? " (rest + smile)" : a.rest_photo_id ? " (rest)" : " (smile)"))));

  const work = h("div", { class: "work" });
  if (chosen) {
    work.append(h("p", { class: "muted" }, "Analysing the photos for display…"));
    Editor.open(chosen, analyses).then((ed) => { editor = ed; work.replaceChildren(ed.el); })
      .catch((err) => work.replaceChildren(errorBox(err)));
  } else {
    work.append(h("p", { class: "muted" }, "No analysed photos yet: drop a rest and a smile photo above."));
  }

  page.append(...[
    h("p", { class: "crumbs" }, h("a", { href: `#/patient/${encodeURIComponent(p.identifier)}` }, `Patient ${p.identifier}`), " › visit"),
    h("h1", {}, `${v.visit_date} · ${v.kind}`),
    v.notes ? h("p", { class: "muted" }, v.notes) : null,
    uploadPanel(visitId, data.photos),
    h("h2", {}, "Analysis"), analyses.length > 1 ? tabs : null, work,
    treatmentsPanel(visitId, data.treatments, data.site_choices),
    reportPanel(visitId),
    h("details", { class: "card" }, h("summary", {}, "Edit visit"), form([
      { name: "date", label: "Date", type: "date", required: true },
      { name: "kind", label: "Kind", options: KINDS },
      { name: "notes", label: "Notes" },
    ], "Save visit", async (vals) => { await api("PATCH", `/api/visits/${visitId}`, vals); location.reload(); },
    { initial: { date: v.visit_date, kind: v.kind, notes: v.notes }, force: true }))].filter(Boolean));
  return { el: page, cleanup: () => editor && editor.close() };
}

function latest(analyses) {
  // The corrected analysis when there is one (it is what track, compare and reports use), else the newest.
  const manual = analyses.filter((a) => a.provenance === "manual");
  return (manual.length ? manual : analyses)[(manual.length ? manual : analyses).length - 1] || null;
}

function uploadPanel(visitId, photos) {
  const list = h("ul", { class: "uploads" });
  const job = h("div", { class: "job", role: "status" });
  const counts = { rest: 0, smile: 0 };
  for (const ph of photos) counts[ph.expression] = (counts[ph.expression] || 0) + 1;
  const zones = ["rest", "smile"].map((expr) => {
    const input = h("input", { type: "file", accept: "image/*,.heic,.heif", multiple: true, hidden: true,
      "data-expression": expr, onchange: (e) => send([...e.target.files], expr) });
    const zone = h("div", { class: "dropzone", tabindex: "0", "data-expression": expr,
      onclick: () => input.click(), onkeydown: (e) => (e.key === "Enter" || e.key === " ") && input.click() },
    h("strong", {}, expr === "rest" ? "Rest photos" : "Smile photos"),
    h("span", { class: "muted" }, `${counts[expr] || 0} recorded · drop JPEG, HEIC, PNG… here or click`), input);
    zone.addEventListener("dragover", (e) => { e.preventDefault(); zone.classList.add("over"); });
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (e) => { e.preventDefault(); zone.classList.remove("over"); send([...e.dataTransfer.files], expr); });
    return zone;
  });

  // Analysis starts by itself once every rest photo has its smile photo (so a rest photo dropped
  // first is not analysed alone); otherwise the button does it.
  const analyseBtn = h("button", { type: "button", class: "secondary", hidden: true, onclick: () => analyse() }, "Analyse the photos now");
  const hint = h("span", { class: "muted small" });
  async function send(files, expr) {
    const results = await Promise.all(files.map(async (file) => {
      const bar = h("progress", { max: 1, value: 0 });
      const msg = h("span", { class: "muted" }, "uploading");
      list.append(h("li", {}, h("span", { class: "fname" }, `${file.name} (${expr})`), bar, msg));
      try {
        await uploadPhoto(visitId, file, expr, (f) => { bar.value = f; });
        bar.value = 1; msg.textContent = "recorded"; msg.className = "ok";
        counts[expr] = (counts[expr] || 0) + 1;
        return true;
      } catch (err) {
        msg.textContent = err.message; msg.className = "error";
        return false;
      }
    }));
    if (!results.some(Boolean)) return;
    if (counts.rest && counts.rest === counts.smile) await analyse();
    else {
      analyseBtn.hidden = false;
      hint.textContent = counts.rest > (counts.smile || 0) ? " Drop the smile photo(s) too, or analyse now." : " Drop the rest photo(s) too, or analyse now.";
    }
  }

  async function analyse() {
    analyseBtn.hidden = true; hint.textContent = "";
    let j = await api("POST", `/api/visits/${visitId}/analyze`);
    const bar = h("progress", { max: 1, value: 0 });
    const text = h("span", {}, "analysing…");
    const failures = h("ul", { class: "failures" });
    job.replaceChildren(bar, text, failures);
    while (j.state !== "done") {
      await new Promise((r) => setTimeout(r, 400));
      j = await api("GET", `/api/jobs/${j.id}`);
      bar.max = Math.max(j.total, 1); bar.value = j.done;
      text.textContent = j.total ? `analysed ${j.done} of ${j.total}` : "analysing…";
    }
    failures.replaceChildren(...j.failures.map((f) => h("li", { class: "error" }, f.photos ? `${f.photos}: ${f.reason}` : f.reason)));
    text.textContent = `analysis done: ${j.analyses.length} recorded, ${j.failures.length} failed`;
    const here = location.hash;  // go to the new analysis unless the user has gone elsewhere meanwhile
    if (j.analyses.length) setTimeout(() => { if (location.hash === here) location.hash = `#/visit/${visitId}/${j.analyses[j.analyses.length - 1]}`; }, j.failures.length ? 4000 : 1500);
  }
  // The recorded photos by the name the user knows them by (kept by the server across restarts).
  const recorded = photos.length ? h("p", { class: "muted small recorded-photos" }, "Recorded: ",
    photos.map((ph) => `${ph.name} (${ph.expression})`).join(", ")) : null;
  return h("div", { class: "card" }, h("h2", {}, "Photos"), h("div", { class: "zones" }, zones), recorded, list,
    h("div", { class: "toolbar" }, analyseBtn, hint), job);
}

function treatmentText(t) {
  const sites = (t.sites || []).map((s) => `${s.region.replace(/_/g, " ")} ${s.side}` + (s.dose_value != null ? ` (${s.dose_value})` : "")).join(", ");
  return `${t.product_name} · ${t.product_type.replace(/_/g, " ")} · ${t.dose_value} ${t.dose_unit}` + (sites ? ` · ${sites}` : "");
}

// Injection-site rows (region, the PATIENT's side, optional dose), added and removed freely; the choices
// are the visit record's own (sent by the server), so the page offers only what the store accepts.
function siteEditor(choices, initial = []) {
  const rows = h("div", { class: "sites" });
  function addRow(site = {}) {
    const row = h("div", { class: "site" },
      h("select", { "data-f": "region", "aria-label": "region" }, choices.regions.map((o) =>
        h("option", { value: o, selected: site.region === o }, o.replace(/_/g, " ")))),
      h("select", { "data-f": "side", "aria-label": "patient's side" }, choices.sides.map((o) =>
        h("option", { value: o, selected: site.side === o }, o === "midline" ? o : `patient's ${o}`))),
      h("input", { "data-f": "dose_value", type: "number", step: "any", placeholder: "dose", "aria-label": "dose at this site",
        value: site.dose_value ?? "" }),
      h("button", { type: "button", class: "link", "aria-label": "remove this site", onclick: () => row.remove() }, "remove"));
    rows.append(row);
  }
  initial.forEach(addRow);
  const el = h("div", { class: "site-editor" }, h("span", { class: "muted" }, "Injection sites (the patient's side): "), rows,
    h("button", { type: "button", class: "secondary", onclick: () => addRow() }, "+ site"));
  // All rows as the API takes them (the list replaces the recorded sites, as `treatment edit --site`;
  // an empty list removes them, as `--no-sites`).
  const values = () => [...rows.querySelectorAll(".site")].map((row) => {
    const site = {};
    for (const f of row.querySelectorAll("[data-f]")) if (f.value !== "") site[f.dataset.f] = f.dataset.f === "dose_value" ? Number(f.value) : f.value;
    return site;
  });
  return { el, values };
}

const TREATMENT_FIELDS = [
  { name: "product_name", label: "Product", required: true },
  { name: "product_type", label: "Type", options: ["ha_filler", "neuromodulator", "other"] },
  { name: "dose_value", label: "Dose", type: "number", step: "any", required: true },
  { name: "dose_unit", label: "Unit", options: ["mL", "U"] },
  { name: "lot", label: "Lot" }, { name: "injector", label: "Injector" }, { name: "notes", label: "Notes" },
];

// A treatment form with its site editor placed before the 'accept' box.
function treatmentForm(choices, label, initial, send) {
  const sites = siteEditor(choices, initial.sites || []);
  const f = form(TREATMENT_FIELDS, label, async (vals) => { vals.sites = sites.values(); await send(vals); location.reload(); },
    { initial, force: true });
  f.insertBefore(sites.el, f.querySelector(".check"));
  return f;
}

function treatmentsPanel(visitId, treatments, choices) {
  const f = treatmentForm(choices, "Record treatment", {}, (vals) => api("POST", `/api/visits/${visitId}/treatments`, vals));
  return h("div", { class: "card" }, h("h2", {}, "Treatments"),
    treatments.length ? h("ul", { class: "treatments" }, treatments.map((t) => h("li", { "data-treatment": t.id }, treatmentText(t), " ",
      h("button", { type: "button", class: "link", onclick: async () => { await api("DELETE", `/api/treatments/${t.id}`); location.reload(); } }, "delete"),
      h("details", {}, h("summary", {}, "edit"),
        treatmentForm(choices, "Save treatment", t, (vals) => api("PATCH", `/api/treatments/${t.id}`, vals))))))
      : h("p", { class: "muted" }, "None recorded."),
    h("details", {}, h("summary", {}, "Record a treatment"), f));
}

function reportPanel(visitId) {
  const out = h("span", { role: "status" });
  const btn = h("button", { type: "button", onclick: async () => {
    btn.disabled = true; out.textContent = "making the report (analyses the photos; about half a minute)…";
    try {
      const r = await api("POST", `/api/visits/${visitId}/report`);
      out.replaceChildren(h("a", { href: r.html, download: "report.html" }, "report.html"), " · ",
        h("a", { href: r.pdf, download: "report.pdf" }, "report.pdf"));
    } catch (err) { out.replaceChildren(errorBox(err)); }
    btn.disabled = false;
  } }, "Make visit report");
  return h("div", { class: "card" }, h("h2", {}, "Report"), btn, " ", out);
}
