// One photo with its overlay drawn as SVG in the photo's own pixels (viewBox), so zoom and pan keep
// every point anchored to the image and the marks stay sharp at any zoom.
import { h } from "./api.js";

const SVG = "http://www.w3.org/2000/svg";
const NAMED = new Set(["pupil_right", "pupil_left", "cheilion_right", "cheilion_left", "crista_philtri_right",
  "crista_philtri_left", "labrale_superius", "labrale_inferius", "stomion"]);
const SHORT = { pupil_right: "pupil R", pupil_left: "pupil L", cheilion_right: "ch R", cheilion_left: "ch L",
  crista_philtri_right: "bow R", crista_philtri_left: "bow L", labrale_superius: "ls", labrale_inferius: "li", stomion: "sto" };

function s(tag, attrs = {}) {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  return el;
}

export class Viewer {
  // opts: {image, width, height, label, editable, onDrag(name, x, y, final), onSelect(name)}
  constructor(opts) {
    this.opts = opts;
    this.W = opts.width; this.H = opts.height;
    this.points = {}; this.movable = new Set(); this.selected = null;
    this.svg = s("svg", { class: "overlay", role: "img", "aria-label": `${opts.label} photo with landmarks`, tabindex: "0" });
    this.svg.append(s("image", { href: opts.image, x: 0, y: 0, width: this.W, height: this.H, preserveAspectRatio: "none" }));
    this.gFrame = s("g", { class: "frame" }); this.gContours = s("g", { class: "contours" });
    this.gPoints = s("g", { class: "points" });
    this.svg.append(this.gFrame, this.gContours, this.gPoints);
    this.el = h("div", { class: "viewer" }, h("div", { class: "viewer-label" }, opts.label), this.svg);
    this.view = null;
    this._bind();
  }

  // The image-pixel box the viewer shows first: around the face (pupils to chin), else the whole photo.
  fit(points) {
    const pr = points.pupil_right, pl = points.pupil_left, ch = points.cheilion_right;
    if (pr && pl) {
      const ipd = Math.hypot(pl[0] - pr[0], pl[1] - pr[1]);
      const cx = (pr[0] + pl[0]) / 2, cy = (pr[1] + pl[1]) / 2 + 0.55 * ipd;
      const w = 2.2 * ipd, hgt = 2.2 * ipd * 1.0;
      this.setView(cx - w / 2, cy - hgt / 2, w, hgt);
    } else this.setView(0, 0, this.W, this.H);
  }

  setView(x, y, w, hgt) {
    this.view = { x, y, w, h: hgt };
    this.svg.setAttribute("viewBox", `${x} ${y} ${w} ${hgt}`);
    this._restyle();
  }

  // Image px per screen px (markers keep their on-screen size at any zoom).
  unit() {
    const r = this.svg.getBoundingClientRect();
    return r.width ? Math.max(this.view.w / r.width, this.view.h / r.height) : 1;
  }

  _restyle() {
    const u = this.unit();
    this.svg.style.setProperty("--u", u);
    for (const c of this.gPoints.querySelectorAll("circle")) c.setAttribute("r", (c.classList.contains("named") ? 5 : 3.5) * u);
    for (const t of this.gPoints.querySelectorAll("text")) t.setAttribute("font-size", 11 * u);
    this._placeLabels();
  }

  _placeLabels() {
    const u = this.unit();
    for (const t of this.gPoints.querySelectorAll("text")) {
      const p = this.points[t.dataset.name];
      if (p) { t.setAttribute("x", p[0] + 7 * u); t.setAttribute("y", p[1] - 7 * u); }
    }
  }

  // points: {name: [x, y]}; contours: {name: [[x, y], ...]}; frame: {origin_px, x_axis, y_axis, interpupillary_distance_px}
  draw({ points, contours, frame, movable }) {
    this.points = { ...points };
    this.movable = new Set(movable || Object.keys(points));
    if (!this.view) this.fit(points);
    this.drawContours(contours);
    this.gFrame.replaceChildren();
    if (frame) {
      const [ox, oy] = frame.origin_px, d = frame.interpupillary_distance_px || 100;
      const [xx, xy] = frame.x_axis, [yx, yy] = frame.y_axis;
      this.gFrame.append(
        s("line", { x1: ox - xx * d, y1: oy - xy * d, x2: ox + xx * d, y2: oy + xy * d, class: "axis" }),
        s("line", { x1: ox + yx * 0.4 * d, y1: oy + yy * 0.4 * d, x2: ox - yx * 1.6 * d, y2: oy - yy * 1.6 * d, class: "axis" }));
    }
    this.gPoints.replaceChildren();
    for (const [name, [x, y]] of Object.entries(this.points)) {
      if (!this.movable.has(name)) continue;
      const named = NAMED.has(name);
      const c = s("circle", { cx: x, cy: y, r: 4, class: `pt ${named ? "named" : "contour"}`, "data-name": name });
      const title = s("title"); title.textContent = name.replace(/_/g, " ");
      c.append(title);
      this.gPoints.append(c);
      if (named) {
        const t = s("text", { class: "ptlabel", "data-name": name });
        t.textContent = SHORT[name] || name;
        this.gPoints.append(t);
      }
    }
    this.select(this.selected);
    this._restyle();
  }

  drawContours(contours) {
    this.gContours.replaceChildren();
    for (const [name, pts] of Object.entries(contours || {})) {
      this.gContours.append(s("polyline", { points: pts.map((p) => p.join(",")).join(" "), class: `contour ${name}` }));
    }
  }

  movePoint(name, x, y) {
    this.points[name] = [x, y];
    const c = this.gPoints.querySelector(`circle[data-name="${name}"]`);
    if (c) { c.setAttribute("cx", x); c.setAttribute("cy", y); }
    this._placeLabels();
  }

  select(name) {
    this.selected = name && this.points[name] ? name : null;
    for (const c of this.gPoints.querySelectorAll("circle")) c.classList.toggle("selected", c.dataset.name === this.selected);
    if (this.opts.onSelect) this.opts.onSelect(this.selected);
  }

  toImage(clientX, clientY) {
    const pt = this.svg.createSVGPoint(); pt.x = clientX; pt.y = clientY;
    const m = this.svg.getScreenCTM().inverse();
    const q = pt.matrixTransform(m);
    return [q.x, q.y];
  }

  _bind() {
    let drag = null, pan = null;
    this.svg.addEventListener("pointerdown", (e) => {
      const name = e.target.dataset && e.target.dataset.name;
      this.svg.focus({ preventScroll: true });
      if (name && this.opts.editable && e.target.tagName === "circle") {
        this.select(name);
        const [x, y] = this.toImage(e.clientX, e.clientY);
        const p = this.points[name];
        drag = { name, dx: p[0] - x, dy: p[1] - y, start: [...p] };
        this.svg.setPointerCapture(e.pointerId);
        e.preventDefault();
      } else {
        pan = { x: e.clientX, y: e.clientY, view: { ...this.view } };
        this.svg.setPointerCapture(e.pointerId);
      }
    });
    this.svg.addEventListener("pointermove", (e) => {
      if (drag) {
        const [x, y] = this.toImage(e.clientX, e.clientY);
        this.movePoint(drag.name, x + drag.dx, y + drag.dy);
        this.opts.onDrag && this.opts.onDrag(drag.name, x + drag.dx, y + drag.dy, false, drag.start);
      } else if (pan) {
        const u = this.unit();
        this.setView(pan.view.x - (e.clientX - pan.x) * u, pan.view.y - (e.clientY - pan.y) * u, pan.view.w, pan.view.h);
      }
    });
    const end = (e) => {
      if (drag) {
        const p = this.points[drag.name];
        const moved = p[0] !== drag.start[0] || p[1] !== drag.start[1];
        if (moved && this.opts.onDrag) this.opts.onDrag(drag.name, p[0], p[1], true, drag.start);
      }
      drag = null; pan = null;
    };
    this.svg.addEventListener("pointerup", end);
    this.svg.addEventListener("pointercancel", end);
    this.svg.addEventListener("wheel", (e) => {
      e.preventDefault();
      const [x, y] = this.toImage(e.clientX, e.clientY);
      const f = Math.exp(e.deltaY * 0.0015);
      const v = this.view;
      const w = Math.min(Math.max(v.w * f, 20), this.W * 2), hh = w * (v.h / v.w);
      this.setView(x - (x - v.x) * (w / v.w), y - (y - v.y) * (hh / v.h), w, hh);
    }, { passive: false });
    this.svg.addEventListener("keydown", (e) => {
      if (!this.selected || !this.opts.editable) return;
      const step = e.shiftKey || e.altKey ? 0.2 : 1;
      const d = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] }[e.key];
      if (!d) return;
      e.preventDefault();
      const p = this.points[this.selected], start = [...p];
      this.movePoint(this.selected, p[0] + d[0], p[1] + d[1]);
      this.opts.onDrag && this.opts.onDrag(this.selected, p[0] + d[0], p[1] + d[1], true, start);
    });
    new ResizeObserver(() => this.view && this._restyle()).observe(this.svg);
  }

  zoom(f) {
    const v = this.view, cx = v.x + v.w / 2, cy = v.y + v.h / 2;
    this.setView(cx - v.w * f / 2, cy - v.h * f / 2, v.w * f, v.h * f);
  }
}
