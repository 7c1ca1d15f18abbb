"""The visit view's analysis (overlay and measures), before/after, and the visit report."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from lipsym.app._http import int_param
from lipsym.app._payloads import measured, names, overlay
from lipsym.app._state import AppState, BadRequest
from lipsym.app._workspace import Workspace, build_workspace, recorded_photos

#: How long a request waits for the analysis thread (a queued batch of uploads may be ahead of it), s.
WAIT_S = 600
#: The registered before/after canvas: frame mm (x towards the subject's left, y up; pupils at 0) and px per mm.
COMPARE_BOX_MM = (-48.0, 48.0, -100.0, 22.0)
COMPARE_PX_PER_MM = 7.0


def workspace(state: AppState, analysis_id: int) -> Workspace:
    """The recorded analysis's PhotoAnalysis objects: from the cache, else analysed once on the analysis thread."""
    ws = state.workspaces.get(analysis_id)
    if ws is not None:
        return ws
    with state.store() as store:
        analysis = store.get_analysis(analysis_id)
        photos = recorded_photos(store, analysis)
    ws = state.worker.submit(build_workspace, state.worker.options, analysis, photos).result(timeout=WAIT_S)
    state.workspaces.put(ws)
    return ws


def analysis_view(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``GET /api/analyses/{analysis_id}``: each photo's overlay, flags and measures, and the dynamic part."""
    ws = workspace(state, int_param(params, "analysis_id"))
    return view_of(ws, ws.analyses)


def view_of(ws: Workspace, analyses) -> dict[str, Any]:
    """The view of a workspace's photos as analysed by ``analyses`` (automatic or corrected)."""
    entries, dynamic = measured(analyses)
    photos = []
    for photo, analysis, entry in zip(ws.photos, analyses, entries):
        entry = {**entry, "file": None}
        photos.append({"photo_id": photo.id, "expression": photo.expression, "image": f"/api/photos/{photo.id}/image",
                       "result": entry, "overlay": overlay(analysis)})
    keys = {k for e in entries for k in e["measures"]["sided"]} | set((dynamic or {}).get("dynamic", {}))
    return {"analysis_id": ws.analysis.id, "visit_id": ws.analysis.visit_id, "photos": photos, "pair": dynamic,
            "names": names(sorted(keys))}


def comparison(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``GET /api/patients/{code}/compare?from=&to=``: the change table with its MDC (``lipsym compare``)."""
    from lipsym.visits._documents import compare_recorded_visits, visit_comparison_document

    with state.store() as store:
        cmp = compare_recorded_visits(store, params["code"], str(params.get("from", "")), str(params.get("to", "")),
                                      all_measures=True)
    doc = visit_comparison_document(cmp)
    keys = {k for c in cmp.changes.values() for k in c}
    return {"comparison": doc, "title": cmp.title, "names": names(sorted(keys)),
            "analyses": {"from": dict(cmp.before.analysis_ids), "to": dict(cmp.after.analysis_ids)}}


def comparison_image(state: AppState, params: dict, body: dict) -> Response:
    """``GET /api/compare-image?before=A&after=B&kind=...``: registered views at one mm scale.

    ``kind`` ``before`` / ``after``: that visit's rest photo warped so its
    facial frame is upright at :data:`COMPARE_PX_PER_MM` (the slider and blink
    views overlay the two); ``plain``: the clean side-by-side image for the
    patient (:func:`lipsym.report._before_after.plain_comparison_png`), no overlays.
    """
    kind = params.get("kind", "plain")
    before = workspace(state, int_param(params, "before"))
    after = workspace(state, int_param(params, "after"))
    return state.worker.submit(_render, kind, before, after).result(timeout=WAIT_S)


def _render(landmarker, kind: str, before: Workspace, after: Workspace) -> Response:
    import cv2

    from lipsym.io._photo import load_photo
    from lipsym.measures._photo import measure_photo
    from lipsym.report._align import frame_view, warp_to_view
    from lipsym.report._before_after import plain_comparison_png
    from lipsym.report._photos import photo_from_analysis

    def rest_of(ws: Workspace):
        i = ws.index("rest") if any(p.expression == "rest" for p in ws.photos) else 0
        return ws.photos[i], ws.analyses[i]

    if kind == "plain":
        (pb, ab), (pa, aa) = rest_of(before), rest_of(after)
        png = plain_comparison_png(photo_from_analysis(load_photo(pb.path).rgb, ab),
                                   photo_from_analysis(load_photo(pa.path).rgb, aa))
        return Response(png, media_type="image/png",
                        headers={"content-disposition": 'attachment; filename="before-after.png"'})
    if kind not in ("before", "after"):
        raise BadRequest("kind must be before, after or plain")
    photo, analysis = rest_of(before if kind == "before" else after)
    view = frame_view(analysis, measure_photo(analysis).scale.mm_per_px, COMPARE_BOX_MM, COMPARE_PX_PER_MM)
    canvas = warp_to_view(load_photo(photo.path).rgb, view.photo_to_view, view.size_px)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(canvas, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 92])
    return Response(buf.tobytes(), media_type="image/jpeg")


def make_report(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``POST /api/visits/{visit_id}/report``: the HTML/PDF visit report (``lipsym report PATIENT --visit ID``)."""
    visit_id = int_param(params, "visit_id")
    with state.store() as store:
        visit = store.get_visit(visit_id)
        patient = next(p for p in store.list_patients() if p.id == visit.patient_id)
    report = state.worker.submit(_report, state, patient.identifier, visit_id).result(timeout=WAIT_S)
    key = uuid.uuid4().hex
    with state.lock:
        state.reports[key] = {"report.html": report.html.encode() if isinstance(report.html, str) else report.html,
                              "report.pdf": report.pdf}
    return {"html": f"/api/reports/{key}/report.html", "pdf": f"/api/reports/{key}/report.pdf"}


def _report(landmarker, state: AppState, patient: str, visit_id: int):
    from lipsym.visits._record_report import record_report

    with state.store() as store:
        return record_report(store, patient, visit=str(visit_id), landmarker=landmarker,
                             options=state.worker.options)


def report_file(state: AppState, params: dict, body: dict) -> Response:
    with state.lock:
        files = state.reports.get(params["key"])
    name = params["name"]
    if files is None or name not in files:
        raise BadRequest("no such report (make it again)")
    media = "text/html; charset=utf-8" if name.endswith(".html") else "application/pdf"
    return Response(files[name], media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})
