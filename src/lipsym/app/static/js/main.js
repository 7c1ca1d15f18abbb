// Hash router: #/ patients, #/patient/CODE, #/visit/ID[/ANALYSIS], #/compare/CODE/FROM/TO.
import { errorBox, h } from "./api.js";
import { patientList, patientPage } from "./patients.js";
import { visitPage } from "./visit.js";
import { comparePage } from "./compare.js";

const view = document.getElementById("view");
let cleanup = null;
let latest = 0;  // the route being shown: a slower earlier page must not replace a newer one

async function route() {
  const mine = ++latest;
  if (cleanup) { cleanup(); cleanup = null; }
  const parts = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  view.replaceChildren(h("p", { class: "muted" }, "Loading…"));
  try {
    let page;
    if (parts[0] === "patient" && parts[1]) page = await patientPage(parts[1]);
    else if (parts[0] === "visit" && parts[1]) page = await visitPage(Number(parts[1]), parts[2] ? Number(parts[2]) : null);
    else if (parts[0] === "compare" && parts[3]) page = await comparePage(parts[1], parts[2], parts[3]);
    else page = await patientList();
    if (mine !== latest) { if (page && page.cleanup) page.cleanup(); return; }
    if (page && page.cleanup) { cleanup = page.cleanup; page = page.el; }
    view.replaceChildren(page);
  } catch (err) {
    if (mine === latest) view.replaceChildren(errorBox(err));
  }
}

window.addEventListener("hashchange", route);
route();
