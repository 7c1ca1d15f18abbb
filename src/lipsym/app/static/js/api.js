// Requests to the app's own server (never elsewhere). State-changing requests carry the session token.
const TOKEN = document.querySelector('meta[name="lipsym-token"]').content;

export class ApiError extends Error {
  constructor(status, message, data = null) { super(message); this.status = status; this.data = data; }
}

export async function api(method, url, body) {
  const init = { method, headers: {} };
  if (method !== "GET") init.headers["X-Lipsym-Token"] = TOKEN;
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  const data = res.headers.get("content-type")?.includes("json") ? await res.json() : null;
  if (!res.ok) throw new ApiError(res.status, (data && data.error) || `${res.status} ${res.statusText}`, data);
  return data;
}

// One photo as the request body, with upload progress (fetch has none).
export function uploadPhoto(visitId, file, expression, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const q = new URLSearchParams({ expression, name: file.name });
    xhr.open("PUT", `/api/visits/${visitId}/photos?${q}`);
    xhr.setRequestHeader("X-Lipsym-Token", TOKEN);
    xhr.setRequestHeader("Content-Type", "application/octet-stream");
    xhr.upload.onprogress = (e) => e.lengthComputable && onProgress(e.loaded / e.total);
    xhr.onload = () => {
      let data = null;
      try { data = JSON.parse(xhr.responseText); } catch { /* not JSON */ }
      if (xhr.status >= 200 && xhr.status < 300) resolve(data);
      else reject(new ApiError(xhr.status, (data && data.error) || `${file.name}: upload failed (${xhr.status})`));
    };
    xhr.onerror = () => reject(new ApiError(0, `${file.name}: the app did not answer`));
    xhr.send(file);
  });
}

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function fmt(x, digits = 2) {
  if (x === null || x === undefined || Number.isNaN(x)) return "–";
  return Number(x).toFixed(digits);
}

export function signed(x, digits = 2) {
  if (x === null || x === undefined) return "–";
  const s = Number(x).toFixed(digits);
  return x > 0 ? `+${s}` : s.replace("-", "−");
}

export function errorBox(err) {
  return h("p", { class: "error", role: "alert" }, err.message || String(err));
}

// A form whose fields are read into an object; submit calls onSubmit(values) and shows its error inline.
export function form(fields, submitLabel, onSubmit, { initial = {}, force = false } = {}) {
  const status = h("span", { class: "form-status", role: "status" });
  const inputs = {};
  const rows = fields.map((f) => {
    let input;
    if (f.options) {
      input = h("select", { name: f.name }, f.options.map((o) => h("option", { value: o, selected: initial[f.name] === o }, o || "—")));
    } else {
      input = h("input", { name: f.name, type: f.type || "text", step: f.step, required: f.required,
        placeholder: f.placeholder || "", value: initial[f.name] ?? "" });
    }
    inputs[f.name] = input;
    return h("label", {}, h("span", {}, f.label), input);
  });
  const forceBox = force ? h("input", { type: "checkbox", name: "force" }) : null;
  const el = h("form", { class: "form" }, rows,
    forceBox && h("label", { class: "check" }, forceBox, h("span", {}, "accept an unusual value (as --force)")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, submitLabel), status));
  el.addEventListener("submit", async (e) => {
    e.preventDefault();
    const values = {};
    for (const f of fields) {
      const raw = inputs[f.name].value.trim();
      if (raw === "") continue;
      values[f.name] = f.type === "number" ? Number(raw) : raw;
    }
    if (forceBox && forceBox.checked) values.force = true;
    status.textContent = "…"; status.className = "form-status";
    try {
      await onSubmit(values);
      status.textContent = "saved";
    } catch (err) {
      status.textContent = err.message; status.className = "form-status error";
    }
  });
  return el;
}
