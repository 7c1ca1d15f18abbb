"""The visit view's analysis (overlay and measures), before/after, and the visit report."""

from __future__ import annotations

import uuid
from typing import Any

from starlette.responses import Response

from lipsym.app._http import int_param
from lipsym.app._payloads import measured, names, overlay
from lipsym.app._state import AppState, BadRequest
from lipsym.app._workspace import Workspace, build_workspace, fresh_workspace

#: How long a request waits for the analysis thread (a queued batch of uploads may be ahead of it), s.
WAIT_S = 600
#: The registered before/after canvas: frame mm (x towards the subject's left, y up; pupils at 0) and px per mm.
COMPARE_BOX_MM = (-48.0, 48.0, -100.0, 22.0)
COMPARE_PX_PER_MM = 7.0
#: Reports kept in memory for download (each a few MB of HTML and PDF).
REPORTS_KEPT = 4


def workspace(state: AppState, analysis_id: int) -> Workspace:
    """The recorded analysis's PhotoAnalysis objects: from the cache, else loaded once on the analysis thread."""
    ws = state.workspaces.get(analysis_id)
    if ws is None:
        ws = state.worker.submit(build_workspace, state, analysis_id).result(timeout=WAIT_S)
        state.workspaces.put(ws)
    return ws


def analysis_view(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``GET /api/analyses/{analysis_id}``: each photo's points, overlay, flags and measures, and the dynamic part.

    ``base`` is the latest manual analysis of these photos now: a save names it,
    so a save made meanwhile in another tab is detected, never overwritten.
    """
    from lipsym.visits._provenance import latest_manual, manual_correction

    ws = workspace(state, int_param(params, "analysis_id"))
    with state.store() as store:
        latest = latest_manual(store, ws.loaded.automatic)
    manual = manual_correction(ws.analysis)
    view = view_of(ws, ws.analyses, *_measures(ws.analyses))
    view.update(base=None if latest is None else latest.id, provenance="manual" if manual else "automatic",
                provenance_note=manual.summary() if manual else None,
                superseded=latest is not None and manual is not None and latest.id != ws.analysis.id)
    if view["superseded"]:
        view["provenance_note"] += f"; a later correction exists (analysis #{latest.id})"
    return view


def _measures(analyses):
    from lipsym.measures._pair import measure_pair
    from lipsym.measures._photo import measure_photo

    if len(analyses) == 2:
        pair = measure_pair(*analyses)
        return (pair.rest, pair.smile), pair
    return (measure_photo(analyses[0]),), None


#: What a live preview sends of each photo's result entry: what the page redraws while a point moves
#: (the rest of the entry, e.g. the refinement details, does not change with a drag and is not resent).
PREVIEW_FIELDS = ("expression", "width_px", "height_px", "flags", "frame", "measures")


def view_of(ws: Workspace, analyses, measures, pair, *, preview: bool = False) -> dict[str, Any]:
    """The view of a workspace's photos as analysed by ``analyses`` (automatic or corrected)."""
    from lipsym.analysis._corrections import correctable_points

    entries, dynamic = measured(analyses, measures, pair)
    photos = []
    for condition, analysis, entry in zip(ws.conditions, analyses, entries):
        photo = ws.photos[condition]
        shown = {k: entry[k] for k in PREVIEW_FIELDS} if preview else {**entry, "file": None}
        drawn = {**overlay(analysis), "points": _rounded(correctable_points(analysis)),
                 "moved": [m.name for m in analysis.corrections]}
        if not preview:
            auto = analysis.automatic if analysis.automatic is not None else analysis
            drawn["auto_points"] = _rounded(correctable_points(auto))
        photos.append({"photo_id": photo.id, "expression": condition, "image": f"/api/photos/{photo.id}/image",
                       "result": shown, "overlay": drawn})
    keys = {k for e in entries for k in e["measures"]["sided"]} | set((dynamic or {}).get("dynamic", {}))
    return {"analysis_id": ws.analysis.id, "visit_id": ws.analysis.visit_id, "photos": photos, "pair": dynamic,
            "names": names(sorted(keys)), "editable": True}


def _rounded(points) -> dict[str, list[float]]:
    return {k: [round(v[0], 4), round(v[1], 4)] for k, v in points.items()}


def _corrections(ws: Workspace, body: dict):
    """The request's moves as the library's Corrections, by photo condition (every condition, complete)."""
    from lipsym.analysis._corrections import Corrections, PointMove

    moves = body.get("moves")
    if not isinstance(moves, list):
        raise BadRequest("moves: expected a list of {photo_id, name, x_px, y_px}")
    by_condition: dict[str, list] = {c: [] for c in ws.conditions}
    for m in moves:
        if not isinstance(m, dict) or not isinstance(m.get("photo_id"), int):
            raise BadRequest("moves: each move is {photo_id, name, x_px, y_px}")
        by_condition[ws.condition_of(m["photo_id"])].append(PointMove(m.get("name"), m.get("x_px"), m.get("y_px")))
    return {c: Corrections(tuple(v)) for c, v in by_condition.items()}


def preview(state: AppState, params: dict, body: dict) -> dict[str, Any]:
    """``POST /api/analyses/{analysis_id}/preview``: the measures with these moves, while dragging.

    The library applies the moves to the automatic analysis and measures it
    (:func:`lipsym.visits._corrections.corrected_result`): no detection, no
    photo read, nothing stored.
    """
    from lipsym.visits._corrections import corrected_result

    ws = workspace(state, int_param(params, "analysis_id"))
    result = corrected_result(ws.loaded, _corrections(ws, body))
    return view_of(ws, result.analyses, result.measures, result.pair, preview=True)


def save(state: AppState, params: dict, body: dict) -> Any:
    """``POST /api/analyses/{analysis_id}/corrections``: record a new ``manual`` analysis.

    ``base`` is the ``base`` the page was given (the latest manual analysis it
    loaded, or null): when another save came since, nothing is saved and the
    answer is 409 with the one-line reason and the id of that later analysis.
    """
    from starlette.responses import JSONResponse

    from lipsym.errors import CorrectionConflictError
    from lipsym.visits._corrections import save_corrections
    from lipsym.visits._provenance import latest_manual, manual_correction

    ws = workspace(state, int_param(params, "analysis_id"))
    base = body.get("base")
    if base is not None and not isinstance(base, int):
        raise BadRequest("base: expected the analysis id the page was given, or null")
    corrections = _corrections(ws, body)
    with state.store() as store:
        try:
            record = save_corrections(store, ws.loaded, corrections, expected_latest_id=base)
        except CorrectionConflictError as exc:
            latest = latest_manual(store, ws.loaded.automatic)
            return JSONResponse({"error": str(exc), "conflict": True,
                                 "latest_analysis_id": None if latest is None else latest.id}, status_code=409)
    manual = manual_correction(record)
    if state.workspaces.get(record.id) is None:  # the page opens it next: no need to load it again
        from lipsym.visits._corrections import corrected_result

        result = corrected_result(ws.loaded, corrections)
        state.workspaces.put(fresh_workspace(record, ws.photos, dict(zip(ws.conditions, result.analyses)),
                                             ws.loaded.options, automatic=ws.loaded.automatic))
    return {"analysis_id": record.id, "based_on": manual.based_on, "moved": manual.moved_points,
            "summary": manual.summary()}


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
    """``GET /api/compare-image?before=A&after=B&kind=...&expression=rest``: registered views at one mm scale.

    ``expression`` (``rest``, the default, or ``smile``) picks the photos.
    ``kind`` ``before`` / ``after``: that visit's photo warped so its
    facial frame is upright at :data:`COMPARE_PX_PER_MM` (the slider and blink
    views overlay the two); ``plain``: the clean side-by-side image for the
    patient (:func:`lipsym.report._before_after.plain_comparison_png`), no overlays.
    """
    kind = params.get("kind", "plain")
    expression = params.get("expression", "rest")
    if expression not in ("rest", "smile"):
        raise BadRequest("expression must be rest or smile")
    before = workspace(state, int_param(params, "before"))
    after = workspace(state, int_param(params, "after"))
    return state.worker.submit(_render, kind, before, after, expression).result(timeout=WAIT_S)


def _render(landmarker, kind: str, before: Workspace, after: Workspace, expression: str = "rest") -> Response:
    import cv2

    from lipsym.io._photo import load_photo
    from lipsym.measures._photo import measure_photo
    from lipsym.report._align import frame_view, warp_to_view
    from lipsym.report._before_after import plain_comparison_png
    from lipsym.report._photos import photo_from_analysis

    def photo_of(ws: Workspace):
        if expression in ws.photos:
            condition = expression
        elif expression == "rest":
            condition = ws.conditions[0]  # an analysis of one photo: that photo
        else:
            raise BadRequest(f"analysis {ws.analysis.id} has no {expression} photo")
        return ws.photos[condition], ws.analyses[ws.index(condition)]

    if kind == "plain":
        (pb, ab), (pa, aa) = photo_of(before), photo_of(after)
        png = plain_comparison_png(photo_from_analysis(load_photo(pb.path).rgb, ab),
                                   photo_from_analysis(load_photo(pa.path).rgb, aa))
        return Response(png, media_type="image/png",
                        headers={"content-disposition": f'attachment; filename="before-after-{expression}.png"'})
    if kind not in ("before", "after"):
        raise BadRequest("kind must be before, after or plain")
    photo, analysis = photo_of(before if kind == "before" else after)
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
        while len(state.reports) >= REPORTS_KEPT:  # the oldest first (dicts keep insertion order)
            del state.reports[next(iter(state.reports))]
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
        from lipsym.errors import NotFoundError

        raise NotFoundError("no such report (make it again)")
    media = "text/html; charset=utf-8" if name.endswith(".html") else "application/pdf"
    return Response(files[name], media_type=media,
                    headers={"content-disposition": f'attachment; filename="{name}"'})
