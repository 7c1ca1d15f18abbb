"""Agreement of lipsym and raw MediaPipe with the manual FRL-189 points, per face and summarised.

Per face and method (:func:`face_record`), against the manual points of the same photo:

- commissure height asymmetry, % IPD (FRL 87 / 93, heights across the manual pupils' line),
  and lateral asymmetry (distance from the midline);
- cheilion point error, % IPD (each corner's distance to the manual one);
- Cupid's bow peak height asymmetry, % IPD (FRL 89 / 91), and what answering zero would score;
- hemi-vermilion AREA asymmetry, upper and lower, mm² (left − right, as lipsym's
  ``*_hemi_vermilion_area``): the manual polygons (upper 87, 88-92, 93, 98-94; lower 87,
  104-108, 93, 103-99) split at the facial midline. lipsym defines the midline as the
  perpendicular bisector of the pupils; the truth uses the MANUAL pupils, lipsym its own.
  Areas are converted with the method's own mm per px (so the figures compare points, not
  the scale). "polygon" joins the manual points by straight lines (the issue's reference);
  "spline" runs them through lipsym's own contour spline;
- vermilion height asymmetry at mid-hemilip, upper and lower, % IPD (manual contours
  spline-interpolated as lipsym's, heights halfway between the midline and each manual cheilion),
  and at the bow peaks (at each manual peak's distance from the midline);
- the corners' and the bow's other sided measures, as lipsym defines them on the manual points:
  commissure excursion (% IPD; from where the midline crosses the manual outer lower contour),
  smile angle (degrees), endocanthion-cheilion distance (% IPD; FRL 22 / 23) and the bow peaks'
  offset from the midline (% IPD; the peaks' height above labrale superius has the same
  asymmetry as their height);
- whether the photo carries the ``refinement_fallback`` flag;
- any per-measure confidence the measures or the analysis carry (:func:`confidence_of`).

All % IPD figures are relative to the MANUAL interpupillary distance, the same yardstick for
every method.
"""

from __future__ import annotations

import math

import numpy as np

from _validate_data import INNER_LOWER, INNER_UPPER, OUTER_LOWER, OUTER_UPPER, Manual
from lipsym.errors import LipsymError
from lipsym.face._scale import Scale
from lipsym.measures._commissures import commissure_measures
from lipsym.measures._cupids_bow import cupids_bow_measures
from lipsym.measures._contours import dense_contour, midline_crossing
from lipsym.measures._vermilion import hemi_areas_px2, lip_polygon, lower_height_px, upper_height_px
from lipsym.sides import Side

#: A scale of 1 mm per px: lipsym's measure functions run on the manual points in px.
_PX = Scale(mm_per_px=1.0, source="manual points", relative_uncertainty=0.0)

#: Agreement measures: record key → (lipsym measure key, unit of the figures).
MEASURES = {
    "commissure_height": ("commissure_height", "% IPD"),
    "commissure_lateral": ("commissure_lateral", "% IPD"),
    "bow_peak_height": ("bow_peak_height", "% IPD"),
    "upper_area": ("upper_hemi_vermilion_area", "mm²"),
    "lower_area": ("lower_hemi_vermilion_area", "mm²"),
    "upper_height_mid": ("upper_vermilion_height_mid", "% IPD"),
    "lower_height_mid": ("lower_vermilion_height_mid", "% IPD"),
    "upper_height_peak": ("upper_vermilion_height_peak", "% IPD"),
    "lower_height_peak": ("lower_vermilion_height_peak", "% IPD"),
    "commissure_excursion": ("commissure_excursion", "% IPD"),
    "smile_angle": ("smile_angle", "deg"),
    "endocanthion_cheilion": ("endocanthion_cheilion", "% IPD"),
    "bow_peak_offset": ("bow_peak_offset", "% IPD"),
}


def _finite(x) -> float:
    return float(x) if x is not None and math.isfinite(float(x)) else float("nan")


def _structure_measures() -> dict[str, tuple[str, ...]] | None:
    """The refinement's structure → measures map, if this lipsym has per-structure evidence."""
    try:
        from lipsym.refine._evidence import STRUCTURE_MEASURES
    except ImportError:
        return None
    return {k: tuple(v) for k, v in STRUCTURE_MEASURES.items()}


def confidence_of(analysis, measures) -> dict[str, dict]:
    """Per measure, whether the analysis or its measures say its value rests on weak evidence.

    Read wherever it is, so that the benchmark needs no change when the refinement adds it:

    - a quality flag ``weak_evidence_<structure>`` on the analysis, with the refinement's
      map of structures to measures (``lipsym.refine._evidence.STRUCTURE_MEASURES``): then
      every refined photo has an entry for each of those measures, flagged or not;
    - an attribute ``flagged`` / ``low_confidence`` (bool), ``flags`` (a tuple) or
      ``confidence`` (a number below 0.5 or a label other than high/ok) on a sided measure;
    - a mapping ``measure_confidence`` / ``confidence`` keyed by measure on the analysis,
      its refinement or the measures.

    Returns ``{measure key: {"flagged": bool, "value": ...}}`` for the measures it covers.
    """
    out = {}
    structures = _structure_measures()
    if structures is not None and analysis is not None and getattr(analysis, "refinement", None) is not None:
        codes = {f.code for f in analysis.flags}
        for structure, keys in structures.items():
            weak = f"weak_evidence_{structure}" in codes
            for key in keys:
                out[key] = {"flagged": weak, "value": f"weak_evidence_{structure}" if weak else "strong"}
    sources = []
    for obj in (analysis, getattr(analysis, "refinement", None), measures):
        for name in ("measure_confidence", "confidence"):
            m = getattr(obj, name, None)
            if isinstance(m, dict) or hasattr(m, "items"):
                sources.append(m)
    for _, (key, _) in MEASURES.items():
        if key in out:
            continue
        m = measures.sided.get(key) if measures is not None else None
        found = None
        for attr in ("flagged", "low_confidence"):
            v = getattr(m, attr, None)
            if isinstance(v, (bool, np.bool_)):
                found = {"flagged": bool(v), "value": bool(v)}
        v = getattr(m, "flags", None)
        if found is None and isinstance(v, (tuple, list)):
            found = {"flagged": len(v) > 0, "value": [getattr(f, "code", str(f)) for f in v]}
        v = getattr(m, "confidence", None)
        if found is None and v is not None:
            found = {"flagged": _is_low(v), "value": v if isinstance(v, (str, int, float)) else repr(v)}
        for src in sources:
            if found is None and key in src:
                found = {"flagged": _is_low(src[key]), "value": _plain(src[key])}
        if found is not None:
            out[key] = found
    return out


def _is_low(v) -> bool:
    """A confidence value read as "flagged": a label other than high/ok, or a number below 0.5."""
    for attr in ("flagged", "low", "is_low"):
        if isinstance(getattr(v, attr, None), (bool, np.bool_)):
            return bool(getattr(v, attr))
    level = getattr(v, "level", v)
    if isinstance(level, str):
        return level.lower() not in ("high", "ok", "good", "measured")
    if isinstance(level, (int, float)):
        return float(level) < 0.5
    return False


def _plain(v):
    if isinstance(v, (str, int, float, bool)) or v is None:
        return v
    return repr(v)


def manual_truth(manual: Manual, mm_per_px: float) -> dict[str, float]:
    """The manual points' asymmetries (left − right, subject): % manual IPD; areas in mm² at ``mm_per_px``."""
    ipd = manual.ipd_px
    to_f = manual.frame.to_frame
    ch = {s: to_f(manual.point("cheilion", s)) for s in Side}
    cr = {s: to_f(manual.point("crista_philtri", s)) for s in Side}
    truth = {"commissure_height": 100 * (ch[Side.LEFT][1] - ch[Side.RIGHT][1]) / ipd,
             # |x| of each corner (the frame's x runs to the subject's left): left − right.
             "commissure_lateral": 100 * (ch[Side.LEFT][0] + ch[Side.RIGHT][0]) / ipd,
             "bow_peak_height": 100 * (cr[Side.LEFT][1] - cr[Side.RIGHT][1]) / ipd}
    ou, iu, ol, il = (manual.contour(c) for c in (OUTER_UPPER, INNER_UPPER, OUTER_LOWER, INNER_LOWER))
    dou, diu, dol, dil = (dense_contour(c) for c in (ou, iu, ol, il))
    for name, (o, i, do, di) in {"upper": (ou, iu, dou, diu), "lower": (ol, il, dol, dil)}.items():
        r, l = hemi_areas_px2(lip_polygon(o, i))
        truth[f"{name}_area"] = (l - r) * mm_per_px ** 2
        r, l = hemi_areas_px2(lip_polygon(do, di))
        truth[f"{name}_area_spline"] = (l - r) * mm_per_px ** 2
        height = upper_height_px if name == "upper" else lower_height_px
        hr, hl = (height(do, di, 0.5 * ch[s][0]) for s in (Side.RIGHT, Side.LEFT))
        truth[f"{name}_height_mid"] = 100 * (hl - hr) / ipd
        hr, hl = (height(do, di, cr[s][0]) for s in (Side.RIGHT, Side.LEFT))
        truth[f"{name}_height_peak"] = 100 * (hl - hr) / ipd
    truth.update(_corner_and_bow_truth(manual, ch, cr, dol))
    return truth


def _corner_and_bow_truth(manual: Manual, ch: dict, cr: dict, outer_lower: np.ndarray) -> dict[str, float]:
    """The corners' and the bow's other sided measures on the manual points (left − right; see the module doc).

    Measured by lipsym's own functions on the manual points (frame px, a unit scale), so the
    definitions cannot drift apart. ``ch``, ``cr``: the manual cheilia and peaks in the manual
    frame; ``outer_lower``: the manual outer lower contour, dense, in that frame.
    """
    ipd, to_f = manual.ipd_px, manual.frame.to_frame
    en = {s: to_f(manual.point("endocanthion", s)) for s in Side}
    left, right = Side.LEFT, Side.RIGHT
    sided = {m.key: m for m in commissure_measures(ch[right], ch[left], en[right], en[left],
                                                   midline_crossing(outer_lower), _PX, ipd)}
    # Only the peaks' offset is read: labrale superius (its third argument) does not enter it.
    sided.update((m.key, m) for m in cupids_bow_measures(cr[right], cr[left], 0.5 * (cr[right] + cr[left]), _PX,
                                                         ipd)[0])
    out = {key: 100 * sided[key].asymmetry / ipd
           for key in ("commissure_excursion", "endocanthion_cheilion", "bow_peak_offset")}
    out["smile_angle"] = sided["smile_angle"].asymmetry
    return out


def face_record(face, analysis, measures) -> dict:
    """One face's figures for one method (see the module doc); ``measures`` may be None (failed)."""
    manual = Manual.load(face.gt)
    ipd = manual.ipd_px
    rec = {"face": face.id, "groups": dict(face.groups),
           "flags": [f.code for f in analysis.flags] if analysis is not None else [],
           "fallback": analysis is not None and any(f.code == "refinement_fallback" for f in analysis.flags)}
    mm_per_px = measures.scale.mm_per_px if measures is not None else float("nan")
    truth = manual_truth(manual, mm_per_px)
    rec["truth"] = truth
    if measures is None:
        return rec
    ours = {}
    for name, (key, unit) in MEASURES.items():
        m = measures.sided.get(key)
        if m is None:
            ours[name] = float("nan")
        elif unit == "% IPD":
            # lipsym's % IPD is of its own IPD; the yardstick is the manual one.
            ours[name] = _finite(m.asymmetry) / measures.scale.mm_per_px / ipd * 100 if m.asymmetry is not None \
                else float("nan")
        else:
            ours[name] = _finite(m.asymmetry)
    ours["upper_area_spline"], ours["lower_area_spline"] = ours["upper_area"], ours["lower_area"]
    rec["ours"] = ours
    pts = analysis.anatomy.points_px
    rec["cheilion_error"] = [100 * float(np.linalg.norm(pts[f"cheilion_{s.value}"] - manual.point("cheilion", s)))
                             / ipd for s in Side]
    rec["confidence"] = confidence_of(analysis, measures)
    return rec


def measure_face(face, methods, photo) -> dict[str, dict]:
    """Every method's record of one face (a failed analysis or measurement is recorded with its reason)."""
    from lipsym.measures import measure_photo

    out = {}
    for name in methods.names:
        analysis = measures = None
        error = None
        try:
            analysis = methods.analyze(name, photo)
            measures = measure_photo(analysis)
        except LipsymError as exc:
            error = f"{type(exc).__name__}: {exc}"
        rec = face_record(face, analysis, measures)
        if error:
            rec["error"] = error
        out[name] = rec
    return out


# -- summaries -------------------------------------------------------------------------------------------


def stats(ours, truth) -> dict:
    """r, slope (ours on truth), MAE, and the MAE of answering zero, over the finite pairs."""
    ours, truth = np.asarray(ours, float), np.asarray(truth, float)
    ok = np.isfinite(ours) & np.isfinite(truth)
    ours, truth = ours[ok], truth[ok]
    n = int(ok.sum())
    if n < 3:  # no correlation or slope from fewer than three faces; the errors still mean something
        nan = float("nan")
        return {"n": n, "r": nan, "slope": nan, "mae": float(np.mean(np.abs(ours - truth))) if n else nan,
                "mae_zero": float(np.mean(np.abs(truth))) if n else nan,
                "bias": float(np.mean(ours - truth)) if n else nan}
    return {"n": n, "r": float(np.corrcoef(ours, truth)[0, 1]), "slope": float(np.polyfit(truth, ours, 1)[0]),
            "mae": float(np.mean(np.abs(ours - truth))), "mae_zero": float(np.mean(np.abs(truth))),
            "bias": float(np.mean(ours - truth))}


def summarise(records: list[dict]) -> dict:
    """The figures of a list of one method's face records."""
    ok = [r for r in records if "ours" in r]
    out = {"n": len(records), "failed": [f"{r['face']}: {r['error']}" for r in records if "error" in r]}
    for name in list(MEASURES) + ["upper_area_spline", "lower_area_spline"]:
        out[name] = stats([r["ours"][name] for r in ok], [r["truth"][name] for r in ok])
    err = np.array([e for r in ok for e in r["cheilion_error"]], float)
    out["cheilion_error"] = ({"n": int(err.size), "median": float(np.median(err)), "p90": float(np.percentile(err, 90)),
                              "mean": float(np.mean(err))} if err.size else
                             {"n": 0, "median": float("nan"), "p90": float("nan"), "mean": float("nan")})
    out["fallback_rate"] = float(np.mean([r["fallback"] for r in records])) if records else float("nan")
    out["fallback_n"] = int(sum(r["fallback"] for r in records))
    return out


def by_group(records: list[dict], group: str) -> dict[str, dict]:
    """:func:`summarise` of each value of a breakdown label (e.g. "skin", "beard")."""
    values = sorted({r["groups"].get(group, "unlabelled") for r in records})
    return {v: summarise([r for r in records if r["groups"].get(group, "unlabelled") == v]) for v in values}


def confidence_split(records: list[dict]) -> dict[str, dict]:
    """Per measure with a confidence: the absolute error of the flagged and the unflagged photos."""
    out = {}
    for name, (key, unit) in MEASURES.items():
        rows = [r for r in records if "ours" in r and key in r.get("confidence", {})]
        if not rows:
            continue
        res = {"unit": unit}
        for label, flagged in (("flagged", True), ("unflagged", False)):
            e = np.array([abs(r["ours"][name] - r["truth"][name]) for r in rows
                          if r["confidence"][key]["flagged"] is flagged], float)
            e = e[np.isfinite(e)]
            res[label] = {"n": int(e.size), "mae": float(np.mean(e)) if e.size else float("nan"),
                          "median": float(np.median(e)) if e.size else float("nan"),
                          "p90": float(np.percentile(e, 90)) if e.size else float("nan")}
        out[name] = res
    return out


def acceptance(summary: dict, by_skin: dict | None = None) -> list[tuple[str, str, bool]]:
    """The issue's agreement criteria for one set's lipsym summary: (criterion, figure, met).

    ``by_skin``: the summaries per skin-tone group, for the fallback criterion (a set without
    labels is one group).
    """
    c, e, b = summary["commissure_height"], summary["cheilion_error"], summary["bow_peak_height"]
    rows = [
        ("commissure height asym r ≥ 0.95", f"{c['r']:.3f}", c["r"] >= 0.95),
        ("commissure height asym slope 0.95-1.05", f"{c['slope']:.3f}", 0.95 <= c["slope"] <= 1.05),
        ("commissure height asym MAE ≤ 0.5 % IPD", f"{c['mae']:.3f}", c["mae"] <= 0.5),
        ("cheilion error median ≤ 1.0 % IPD", f"{e['median']:.2f}", e["median"] <= 1.0),
        ("cheilion error p90 ≤ 2.5 % IPD", f"{e['p90']:.2f}", e["p90"] <= 2.5),
        ("bow peak height asym r ≥ 0.65", f"{b['r']:.3f}", b["r"] >= 0.65),
        ("bow peak height asym MAE ≤ 0.85 × MAE(0)", f"{b['mae']:.3f} vs {0.85 * b['mae_zero']:.3f}",
         b["mae"] <= 0.85 * b["mae_zero"]),
    ]
    for lip in ("upper", "lower"):
        a = summary[f"{lip}_area"]
        rows.append((f"{lip} hemi-vermilion area asym r ≥ 0.93", f"{a['r']:.3f}", a["r"] >= 0.93))
        rows.append((f"{lip} hemi-vermilion area asym slope 0.9-1.1", f"{a['slope']:.3f}", 0.9 <= a["slope"] <= 1.1))
    groups = by_skin or {"all": summary}
    worst = max(groups, key=lambda g: groups[g]["fallback_rate"])
    w = groups[worst]
    rows.append(("refinement_fallback ≤ 10 % of every skin-tone group",
                 f"highest {100 * w['fallback_rate']:.0f} % ({worst}, {w['fallback_n']}/{w['n']})",
                 w["fallback_rate"] <= 0.10))
    return rows
