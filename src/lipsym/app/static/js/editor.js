// Manual landmark correction: drag or nudge points; the server re-measures with the library (no new
// detection) while dragging; undo/redo; reset one point or all; save records a new `manual` analysis.
import { api, errorBox, h } from "./api.js";
import { Viewer } from "./viewer.js";
import { measuresPanel } from "./measures.js";

export class Editor {
  static async open(summary) {
    const view = await api("GET", `/api/analyses/${summary.id}`);
    return new Editor(summary, view);
  }

  constructor(summary, view) {
    this.summary = summary; this.view = view;
    this.analysisId = view.analysis_id;
    this.base = view.base || null; // conflict check: what this tab started from
    this.auto = {}; this.current = {}; this.explicit = {}; // explicit: the points the user placed, per photo
    this.undoStack = []; this.redoStack = [];
    this.inflight = false; this.pending = false; this.lastRoundTripMs = null;
    this.viewers = {};
    const editable = Boolean(view.editable);
    const row = h("div", { class: "viewers" });
    for (const ph of view.photos) {
      const id = ph.photo_id;
      this.auto[id] = ph.overlay.auto_points;
      this.current[id] = { ...ph.overlay.points };
      this.explicit[id] = new Set(ph.overlay.moved || []);
      const viewer = new Viewer({
        image: ph.image, width: ph.result.width_px, height: ph.result.height_px, label: ph.expression,
        editable,
        onDrag: (name, x, y, final, start) => this.moved(id, name, x, y, final, start),
        onSelect: () => this.updateButtons(),
      });
      viewer.svg.dataset.photoId = id; viewer.svg.dataset.expression = ph.expression;
      this.viewers[id] = viewer;
      row.append(viewer.el);
    }
    this.table = h("div", { class: "table-holder" });
    this.status = h("span", { class: "status", role: "status", "aria-live": "polite" });
    // What happened to this editor (e.g. a rebase after a conflict) stays on screen until the next
    // save; the status line beside it is rewritten by every preview round trip (~15 ms later).
    this.notice = h("span", { class: "notice", role: "status", "aria-live": "polite" });
    this.btn = {
      undo: h("button", { type: "button", class: "secondary", title: "Undo (Ctrl+Z)", onclick: () => this.undo() }, "↶ Undo"),
      redo: h("button", { type: "button", class: "secondary", title: "Redo (Ctrl+Y)", onclick: () => this.redo() }, "↷ Redo"),
      resetOne: h("button", { type: "button", class: "secondary", onclick: () => this.resetSelected() }, "Reset point"),
      resetAll: h("button", { type: "button", class: "secondary", onclick: () => this.resetAll() }, "Reset all to automatic"),
      save: h("button", { type: "button", onclick: () => this.save() }, "Save correction"),
    };
    const zoom = h("span", { class: "zoom" },
      h("button", { type: "button", class: "secondary", title: "zoom in", onclick: () => Object.values(this.viewers).forEach((v) => v.zoom(0.8)) }, "+"),
      h("button", { type: "button", class: "secondary", title: "zoom out", onclick: () => Object.values(this.viewers).forEach((v) => v.zoom(1.25)) }, "−"));
    const tools = editable ? h("div", { class: "toolbar editor-tools" }, this.btn.undo, this.btn.redo, this.btn.resetOne,
      this.btn.resetAll, this.btn.save, zoom, this.status, this.notice)
      : h("div", { class: "toolbar" }, zoom, h("span", { class: "muted" }, view.read_only_reason || ""));
    const help = editable ? h("p", { class: "help small muted" },
      "Drag a point to move it; arrow keys nudge the selected point by 1 px (Shift: 0.2 px). Wheel zooms, dragging the photo pans. ",
      "The measures update while you drag; Save records a new analysis marked manual — the automatic one is kept.") : null;
    this.el = h("div", { class: "editor" }, tools, help, view.provenance_note ? h("p", { class: "note" }, view.provenance_note) : null,
      row, this.table);
    this.onKey = (e) => {
      if (!(e.ctrlKey || e.metaKey) || !this.el.isConnected) return;
      if (e.key === "z" && !e.shiftKey) { e.preventDefault(); this.undo(); }
      else if (e.key === "y" || (e.key === "z" && e.shiftKey)) { e.preventDefault(); this.redo(); }
    };
    document.addEventListener("keydown", this.onKey);
    window.lipsymEditor = this; // for the browser tests and screenshots
    this.render(view, true);
  }

  close() { document.removeEventListener("keydown", this.onKey); }

  render(view, points) {
    for (const ph of view.photos) {
      const viewer = this.viewers[ph.photo_id];
      if (!viewer) continue;
      if (points) viewer.draw({ points: this.current[ph.photo_id], contours: ph.overlay.contours, frame: ph.result.frame });
      else {
        viewer.drawContours(ph.overlay.contours);
        // Points the user did not place follow the server (bow peaks re-derived from a moved border).
        for (const [name, p] of Object.entries(ph.overlay.points)) {
          if (!this.explicit[ph.photo_id].has(name)) { this.current[ph.photo_id][name] = p; viewer.movePoint(name, p[0], p[1]); }
        }
      }
    }
    this.table.replaceChildren(measuresPanel(view));
    this.updateButtons();
  }

  moves() {
    const out = [];
    for (const [id, names] of Object.entries(this.explicit)) {
      for (const name of names) {
        const p = this.current[id][name];
        out.push({ photo_id: Number(id), name, x_px: p[0], y_px: p[1] });
      }
    }
    return out;
  }

  moved(photoId, name, x, y, final, start) {
    this.current[photoId][name] = [x, y];
    if (!this.dragStart) this.dragStart = { was: this.explicit[photoId].has(name) };
    this.explicit[photoId].add(name);
    if (final) {
      this.undoStack.push({ photoId, name, from: start, to: [x, y], was: this.dragStart.was, now: true });
      this.redoStack = [];
      this.dragStart = null;
    }
    this.refresh(final);
  }

  mark(photoId, name, explicit) {
    if (explicit) this.explicit[photoId].add(name); else this.explicit[photoId].delete(name);
  }

  // At most one preview in flight; the latest positions are sent when it returns.
  async refresh(final) {
    if (this.inflight) { this.pending = true; this.pendingFinal = this.pendingFinal || final; return; }
    this.inflight = true;
    const t0 = performance.now();
    try {
      const view = await api("POST", `/api/analyses/${this.analysisId}/preview`, { moves: this.moves() });
      this.lastRoundTripMs = performance.now() - t0;
      this.view = view;
      this.render(view, false);
      this.status.textContent = `${this.moves().length} point(s) moved · re-measured in ${this.lastRoundTripMs.toFixed(0)} ms`;
      this.status.className = "status";
    } catch (err) {
      this.status.textContent = err.message; this.status.className = "status error";
    } finally {
      this.inflight = false;
      if (this.pending) { const f = this.pendingFinal; this.pending = false; this.pendingFinal = false; this.refresh(f); }
      else this.settled = true;
    }
  }

  setPoint(photoId, name, p) {
    this.current[photoId][name] = [...p];
    this.viewers[photoId].movePoint(name, p[0], p[1]);
  }

  undo() {
    const step = this.undoStack.pop();
    if (!step) return;
    this.redoStack.push(step);
    if (step.all) this.restore(step.from);
    else { this.setPoint(step.photoId, step.name, step.from); this.mark(step.photoId, step.name, step.was); }
    this.refresh(true);
  }

  snapshot() {
    return { points: JSON.parse(JSON.stringify(this.current)),
      explicit: Object.fromEntries(Object.entries(this.explicit).map(([id, s]) => [id, [...s]])) };
  }

  restore(snap) {
    for (const [id, pts] of Object.entries(snap.points)) for (const [n, p] of Object.entries(pts)) this.setPoint(id, n, p);
    for (const [id, names] of Object.entries(snap.explicit)) this.explicit[id] = new Set(names);
  }

  redo() {
    const step = this.redoStack.pop();
    if (!step) return;
    this.undoStack.push(step);
    if (step.all) this.restore(step.to);
    else { this.setPoint(step.photoId, step.name, step.to); this.mark(step.photoId, step.name, step.now); }
    this.refresh(true);
  }

  selected() {
    for (const [id, v] of Object.entries(this.viewers)) if (v.selected) return [id, v.selected];
    return null;
  }

  resetSelected() {
    const sel = this.selected();
    if (!sel) { this.status.textContent = "select a point first"; return; }
    const [id, name] = sel;
    const from = [...this.current[id][name]], to = [...this.auto[id][name]];
    this.undoStack.push({ photoId: id, name, from, to, was: this.explicit[id].has(name), now: false }); this.redoStack = [];
    this.setPoint(id, name, to);
    this.mark(id, name, false);
    this.refresh(true);
  }

  resetAll() {
    const from = this.snapshot();
    const to = { points: JSON.parse(JSON.stringify(this.auto)), explicit: Object.fromEntries(Object.keys(this.auto).map((id) => [id, []])) };
    this.undoStack.push({ all: true, from, to }); this.redoStack = [];
    this.restore(to);
    this.refresh(true);
  }

  // Open the latest saved correction, then move this tab's points on top of it (the user saves again).
  async rebase(latestId, mine) {
    const view = await api("GET", `/api/analyses/${latestId}`);
    const fresh = new Editor({ id: latestId }, view);
    for (const m of mine) {
      const from = view.photos.find((p) => p.photo_id === m.photo_id).overlay.points[m.name];
      fresh.undoStack.push({ photoId: String(m.photo_id), name: m.name, from, to: [m.x_px, m.y_px],
        was: fresh.explicit[m.photo_id].has(m.name), now: true });
      fresh.current[m.photo_id][m.name] = [m.x_px, m.y_px];
      fresh.explicit[m.photo_id].add(m.name);
    }
    fresh.render(view, true);
    fresh.refresh(true);
    this.close();
    this.el.replaceWith(fresh.el);
    fresh.notice.textContent = `loaded analysis #${latestId} and re-applied your ${mine.length} move(s): check, then save`;
  }

  updateButtons() {
    if (!this.btn) return;
    this.btn.undo.disabled = !this.undoStack.length;
    this.btn.redo.disabled = !this.redoStack.length;
    this.btn.resetOne.disabled = !this.selected();
  }

  async save() {
    this.btn.save.disabled = true;
    try {
      const r = await api("POST", `/api/analyses/${this.analysisId}/corrections`, { moves: this.moves(), base: this.base });
      this.status.textContent = `saved as analysis #${r.analysis_id} (manual, ${r.moved.length} point(s) moved)`;
      this.status.className = "status ok";
      this.notice.textContent = "";
      this.saved = r;
      // To the saved analysis, unless the user has gone to another page meanwhile.
      const here = location.hash;
      setTimeout(() => { if (location.hash === here) location.hash = `#/visit/${this.view.visit_id}/${r.analysis_id}`; }, 800);
    } catch (err) {
      this.status.className = "status error";
      if (err.status === 409 && err.data && err.data.latest_analysis_id) {
        // Another tab saved first: nothing was overwritten. Offer its correction with these moves on top.
        const mine = this.moves();
        const retry = h("button", { type: "button", class: "secondary", onclick: () => this.rebase(err.data.latest_analysis_id, mine) },
          "Load that correction and re-apply my moves");
        this.status.replaceChildren(h("span", { class: "conflict", role: "alert" }, err.message), " ", retry);
      } else {
        this.status.replaceChildren(errorBox(err));
      }
    } finally { this.btn.save.disabled = false; }
  }
}
