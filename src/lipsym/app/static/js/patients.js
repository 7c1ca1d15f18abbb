// Patient list (search, add) and patient page (visits, treatments, measures over time, settling).
import { api, errorBox, fmt, form, h, signed } from "./api.js";

const KINDS = ["baseline", "treatment", "follow-up", "maintenance"];

export async function patientList() {
  const list = h("tbody");
  const search = h("input", { type: "search", placeholder: "Search by code", "aria-label": "search patients" });
  async function load() {
    const doc = await api("GET", `/api/patients?q=${encodeURIComponent(search.value)}`);
    list.replaceChildren(...doc.patients.map((p) => h("tr", {},
      h("td", {}, h("a", { href: `#/patient/${encodeURIComponent(p.identifier)}` }, p.identifier)),
      h("td", {}, p.birth_year ?? "–"), h("td", {}, p.sex ?? "–"), h("td", {}, p.visits), h("td", {}, p.last_visit ?? "–"))));
    if (!doc.patients.length) list.append(h("tr", {}, h("td", { colspan: 5, class: "muted" }, "No patients yet.")));
  }
  search.addEventListener("input", load);
  await load();
  const add = form([
    { name: "identifier", label: "Code", required: true, placeholder: "e.g. P001 (never a name)" },
    { name: "birth_year", label: "Birth year", type: "number" },
    { name: "sex", label: "Sex", options: ["", "female", "male", "other"] },
    { name: "notes", label: "Notes" },
  ], "Add patient", async (v) => {
    const doc = await api("POST", "/api/patients", v);
    location.hash = `#/patient/${encodeURIComponent(doc.identifier)}`;
  }, { force: true });
  return h("section", {},
    h("h1", {}, "Patients"),
    h("div", { class: "toolbar" }, search),
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Code", "Birth year", "Sex", "Visits", "Last visit"].map((t) => h("th", {}, t)))), list),
    h("details", { class: "card" }, h("summary", {}, "Add a patient"), add));
}

function treatmentText(t) {
  const sites = (t.sites || []).map((s) => `${s.region.replace(/_/g, " ")} ${s.side}` + (s.dose_value != null ? ` ${s.dose_value}` : "")).join(", ");
  return `${t.product_name} (${t.product_type.replace(/_/g, " ")}) ${t.dose_value} ${t.dose_unit}` + (sites ? ` — ${sites}` : "");
}

export async function patientPage(code) {
  const data = await api("GET", `/api/patients/${encodeURIComponent(code)}`);
  const p = data.history.patient;
  const visits = data.history.visits;
  const track = data.track;
  const keys = Object.keys(data.names);

  const visitRows = visits.map((v) => h("tr", {},
    h("td", {}, h("a", { href: `#/visit/${v.id}` }, v.visit_date)), h("td", {}, v.kind),
    h("td", {}, v.photos.map((x) => x.expression).join(", ") || "–"), h("td", {}, v.analyses),
    h("td", {}, v.treatments.map(treatmentText).join("; ") || "–"), h("td", {}, v.notes || "")));

  // Key measures over time with their standard error, per condition.
  const measureTables = ["rest", "smile"].map((cond) => {
    const rows = track.visits.filter((tv) => tv.measures[cond]).map((tv) => h("tr", {},
      h("td", {}, `${tv.visit.visit_date} ${tv.visit.kind}`,
        movedIn(tv, cond) ? h("div", { class: "small manual", title: "the measures come from the analysis with landmarks corrected by hand" },
          `landmarks corrected (${movedIn(tv, cond)} point${movedIn(tv, cond) === 1 ? "" : "s"})`) : null),
      keys.map((k) => {
        const m = tv.measures[cond][k];
        return h("td", { class: "num" }, m ? `${signed(m.asymmetry)} ± ${fmt(m.standard_error)}` : "–");
      })));
    if (!rows.length) return null;
    return h("div", {}, h("h3", {}, cond === "rest" ? "At rest" : "In smile"),
      h("table", { class: "grid" }, h("thead", {}, h("tr", {}, h("th", {}, "Visit"),
        keys.map((k) => h("th", {}, `${data.names[k].name} (${data.names[k].unit})`)))), h("tbody", {}, rows)));
  });

  const settling = (track.settling || []).map((s) => settlingTable(s, data.names));
  const effects = (track.treatment_effect || []).map((e) => effectTable(e, data.names));

  const addVisit = form([
    { name: "date", label: "Date", type: "date", required: true },
    { name: "kind", label: "Kind", options: KINDS },
    { name: "notes", label: "Notes" },
  ], "Add visit", async (v) => {
    const doc = await api("POST", `/api/patients/${encodeURIComponent(code)}/visits`, v);
    location.hash = `#/visit/${doc.id}`;
  }, { force: true });
  const edit = form([
    { name: "identifier", label: "Code", required: true },
    { name: "birth_year", label: "Birth year", type: "number" },
    { name: "sex", label: "Sex", options: ["", "female", "male", "other"] },
    { name: "notes", label: "Notes" },
  ], "Save patient", async (v) => {
    const doc = await api("PATCH", `/api/patients/${encodeURIComponent(code)}`, v);
    location.hash = `#/patient/${encodeURIComponent(doc.identifier)}`;
  }, { initial: p, force: true });

  const compare = visits.length >= 2 ? compareForm(code, visits) : null;

  return h("section", {},
    h("h1", {}, `Patient ${p.identifier}`),
    h("p", { class: "muted" }, [p.birth_year && `born ${p.birth_year}`, p.sex, p.notes].filter(Boolean).join(" · ")),
    h("h2", {}, "Visits"),
    h("table", { class: "grid" }, h("thead", {}, h("tr", {}, ["Date", "Kind", "Photos", "Analyses", "Treatments", "Notes"].map((t) => h("th", {}, t)))),
      h("tbody", {}, visitRows.length ? visitRows : h("tr", {}, h("td", { colspan: 6, class: "muted" }, "No visits yet.")))),
    h("details", { class: "card" }, h("summary", {}, "Add a visit"), addVisit),
    compare,
    h("h2", {}, "Key asymmetries over time (left − right, mm ± SE)"),
    data.mixed_settings ? h("p", { class: "warn" }, "These visits were analysed with different settings: changes mix the face with the measurement.") : null,
    measureTables.filter(Boolean).length ? measureTables : h("p", { class: "muted" }, "No analysed photos yet."),
    settling.length ? h("div", {}, h("h2", {}, "Settling after treatments"),
      h("p", { class: "small muted" }, "Change of each asymmetry since the treatment and since the previous visit (mm ± SE): converging = toward symmetry beyond the MDC95, diverging = away from it, stable = within noise."),
      settling) : null,
    effects.length ? h("div", {}, h("h2", {}, "Treatment effect on lip size"),
      h("p", { class: "small muted" }, "Change of each lip size since before the treatment, since the treatment and since the previous visit (± SE, MDC95 of two captures); ✓ = beyond the MDC95 (detectable). Note: " + data.size_effect_caveat + "."),
      effects) : null,
    h("details", { class: "card" }, h("summary", {}, "Edit patient"), edit));
}

function effectCell(c) {
  return c ? `${changeText(c)}${c.detectable ? " ✓" : ""}` : "–";
}

// The absolute lip measures after a treatment (lipsym.visits.treatment_effects, from the track document).
function effectTable(e, names) {
  return h("div", { class: "effect" },
    h("h3", {}, e.visit.id === e.treatment_visit.id ? `${e.visit.visit_date} ${e.visit.kind} — at the treatment`
      : `${e.visit.visit_date} ${e.visit.kind} — after the treatment of ${e.treatment_visit.visit_date}`),
    h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Condition", "Lip size", "Since before treatment", "Since treatment", "Since previous"].map((t) => h("th", {}, t)))),
      h("tbody", {}, e.changes.map((ch) => h("tr", {},
        h("td", {}, ch.condition),
        h("td", {}, names[ch.key] ? `${names[ch.key].name} (${names[ch.key].unit})` : ch.key),
        h("td", { class: "num" }, effectCell(ch.since_pre_treatment)),
        h("td", { class: "num" }, effectCell(ch.since_treatment)),
        h("td", { class: "num" }, effectCell(ch.since_previous)))))));
}

// How many points were moved by hand on this visit's photo of a condition (0 when automatic).
function movedIn(tv, cond) {
  if (tv.provenance !== "manual") return 0;
  return (tv.corrections?.[cond] || []).reduce((n, m) => n + ((m.moved_points || {})[cond] || []).length, 0);
}

function changeText(c) {
  return c ? `${signed(c.change)} ± ${fmt(c.standard_error)} (MDC ${fmt(c.minimal_detectable_change)})` : "–";
}

function settlingTable(s, names) {
  return h("div", { class: "settling" },
    h("h3", {}, `${s.follow_up.visit_date} ${s.follow_up.kind} — after the treatment of ${s.treatment_visit.visit_date}`),
    h("table", { class: "grid" },
      h("thead", {}, h("tr", {}, ["Condition", "Asymmetry", "Since treatment", "Settling", "Since previous", "Settling"].map((t) => h("th", {}, t)))),
      h("tbody", {}, s.changes.map((ch) => h("tr", {},
        h("td", {}, ch.condition), h("td", {}, names[ch.key]?.name || ch.key),
        h("td", { class: "num" }, changeText(ch.since_treatment)),
        h("td", { class: `settle-${ch.since_treatment?.settling}` }, ch.since_treatment?.settling || "–"),
        h("td", { class: "num" }, changeText(ch.since_previous)),
        h("td", { class: `settle-${ch.since_previous?.settling}` }, ch.since_previous?.settling || "–"))))));
}

function compareForm(code, visits) {
  const opts = (sel) => h("select", {}, visits.map((v, i) => h("option", { value: v.id, selected: i === sel }, `${v.visit_date} ${v.kind}`)));
  const from = opts(0), to = opts(visits.length - 1);
  return h("div", { class: "card row" }, h("strong", {}, "Before / after: "), from, " → ", to,
    h("button", { type: "button", onclick: () => { location.hash = `#/compare/${encodeURIComponent(code)}/${from.value}/${to.value}`; } }, "Compare"));
}
