"""Markdown tables of benchmarks/validate.py's figures (for docs/accuracy.md), from its JSON.

``python benchmarks/validate.py --from-json FIGURES.json --markdown TABLES.md`` renders the
tables of a saved run without running it again; every number comes from the JSON.
"""

from __future__ import annotations

import math

SET_NAMES = {"london": "London (34 neutral faces)", "3dsk": "3DSK (50 neutral faces)"}
METHOD_NAMES = {"raw": "raw MediaPipe", "mediapipe_flip": "MediaPipe flip-averaged", "lipsym": "lipsym"}


def _f(v, spec=".2f") -> str:
    return "–" if v is None or (isinstance(v, float) and not math.isfinite(v)) else format(v, spec)


def _rsm(s: dict, mae_spec=".2f") -> str:
    return f"{_f(s['r'])} / {_f(s['slope'])} / {_f(s['mae'], mae_spec)}"


def _ratio(b: dict) -> float | None:
    return b["mae"] / b["mae_zero"] if b.get("mae") is not None and b.get("mae_zero") else None


#: The other sided measures with a manual reference (after the issue's): summary key, row label.
OTHER_ROWS = (
    ("upper_height_peak", "upper vermilion height asymmetry at the bow peaks, % IPD"),
    ("lower_height_peak", "lower vermilion height asymmetry at the bow peaks, % IPD"),
    ("commissure_excursion", "commissure excursion asymmetry, % IPD"),
    ("smile_angle", "smile angle asymmetry, degrees"),
    ("endocanthion_cheilion", "endocanthion-cheilion asymmetry, % IPD"),
    ("bow_peak_offset", "Cupid's bow peak offset asymmetry, % IPD"),
)
#: A figure an older saved run lacks.
_NONE = {"r": None, "slope": None, "mae": None}


def agreement_table(res: dict) -> list[str]:
    methods = [m for m in METHOD_NAMES if m in res["summary"]]
    head = "| measure (r / slope / MAE) | " + " | ".join(METHOD_NAMES[m] for m in methods) + " | issue target |"
    lines = [head, "|---" * (len(methods) + 2) + "|"]
    S = res["summary"]

    def row(label, cell, target):
        lines.append(f"| {label} | " + " | ".join(cell(S[m]) for m in methods) + f" | {target} |")

    row("commissure height asymmetry, % IPD", lambda s: _rsm(s["commissure_height"]),
        "r ≥ 0.95, slope 0.95-1.05, MAE ≤ 0.5")
    row("commissure lateral asymmetry, % IPD",
        lambda s: _rsm(s.get("commissure_lateral", _NONE)), "–")
    row("cheilion error, median / p90, % IPD",
        lambda s: f"{_f(s['cheilion_error']['median'])} / {_f(s['cheilion_error']['p90'])}", "≤ 1.0 / ≤ 2.5")
    row("Cupid's bow peak height asymmetry, % IPD", lambda s: _rsm(s["bow_peak_height"]),
        "r ≥ 0.65")
    row("bow: MAE / MAE of answering 0", lambda s: f"{_f(s['bow_peak_height']['mae'])} / "
        f"{_f(s['bow_peak_height']['mae_zero'])} = {_f(_ratio(s['bow_peak_height']))}", "≤ 0.85")
    row("upper hemi-vermilion area asymmetry, mm² (manual polygon)", lambda s: _rsm(s["upper_area"], ".1f"),
        "r ≥ 0.93, slope 0.9-1.1")
    row("lower hemi-vermilion area asymmetry, mm² (manual polygon)", lambda s: _rsm(s["lower_area"], ".1f"),
        "r ≥ 0.93, slope 0.9-1.1")
    row("upper vermilion height asymmetry at mid-hemilip, % IPD", lambda s: _rsm(s["upper_height_mid"]), "–")
    row("lower vermilion height asymmetry at mid-hemilip, % IPD", lambda s: _rsm(s["lower_height_mid"]), "–")
    for key, label in OTHER_ROWS:
        row(label, lambda s, key=key: _rsm(s.get(key, _NONE)), "–")
    row("`refinement_fallback` flag", lambda s: f"{s['fallback_n']} / {s['n']}", "≤ 10 % per skin-tone group")
    return lines


def group_table(groups: dict, label: str) -> list[str]:
    lines = [f"| {label} (n) | method | commissure r / MAE | cheilion median / p90 | bow r / MAE÷MAE(0) | "
             "upper area r / slope | lower area r / slope | fallback |", "|---" * 8 + "|"]
    methods = [m for m in ("raw", "lipsym") if m in groups]
    for g in groups[methods[0]]:
        for m in methods:
            s = groups[m][g]
            c, e, b = s["commissure_height"], s["cheilion_error"], s["bow_peak_height"]
            lines.append(f"| {g} ({s['n']}) | {METHOD_NAMES[m]} | {_f(c['r'])} / {_f(c['mae'])} | "
                         f"{_f(e['median'])} / {_f(e['p90'])} | {_f(b['r'])} / {_f(_ratio(b))} | "
                         f"{_f(s['upper_area']['r'])} / {_f(s['upper_area']['slope'])} | "
                         f"{_f(s['lower_area']['r'])} / {_f(s['lower_area']['slope'])} | "
                         f"{s['fallback_n']} / {s['n']} |")
    return lines


def confidence_table(res: dict) -> list[str]:
    conf = res.get("confidence", {}).get("lipsym") or {}
    if not conf:
        return ["No per-measure confidence was found in this run."]
    lines = ["| measure | flagged: n / MAE / p90 | not flagged: n / MAE / p90 | unit |", "|---|---|---|---|"]
    for k, v in conf.items():
        fl, un = v["flagged"], v["unflagged"]
        lines.append(f"| {k} | {fl['n']} / {_f(fl['mae'])} / {_f(fl['p90'])} | {un['n']} / {_f(un['mae'])} / "
                     f"{_f(un['p90'])} | {v['unit']} |")
    return lines


def plants_table(res: dict) -> list[str]:
    lines = ["| shape | 1 mm: raw / lipsym (SD) | 2 mm: raw / lipsym (SD) | lipsym slope 1-2 mm | "
             "manual peak moved / planted (min) |", "|---|---|---|---|---|"]
    for shape, per in res["summary"].items():
        cells = []
        for amount in ("1.0", "2.0"):
            c = per[amount]
            cells.append(f"{_f(c['raw']['mean'])} / **{_f(c['lipsym']['mean'])}** ({_f(c['lipsym']['sd'])})"
                         + (f", {c['refused']} refused" if c.get("refused") else ""))
        fid = per["1.0"].get("fidelity")
        fid_s = f"{_f(fid['mean'])} ({_f(fid['min'])})" if fid else "no manual points"
        name = f"{shape} (default plant)" if shape == "plateau" else shape
        lines.append(f"| {name} | {cells[0]} | {cells[1]} | {_f(per['slope_lipsym'], '.3f')} | {fid_s} |")
    return lines


def acceptance_lines(result: dict) -> list[str]:
    lines = ["| criterion | " + " | ".join(SET_NAMES[s].split(" (")[0] for s in result["agreement"]) + " |",
             "|---" * (1 + len(result["agreement"])) + "|"]
    crit = [a["criterion"] for a in next(iter(result["agreement"].values()))["acceptance"]]
    for i, c in enumerate(crit):
        cells = []
        for s, res in result["agreement"].items():
            a = res["acceptance"][i]
            cells.append(f"{'met' if a['met'] else '**missed**'} ({a['figure']})")
        lines.append(f"| {c} | " + " | ".join(cells) + " |")
    return lines


def markdown(result: dict) -> str:
    out = []
    for name, res in result.get("agreement", {}).items():
        out += [f"### {SET_NAMES[name]}: agreement with the manual points", ""] + agreement_table(res) + [""]
    if "agreement" in result:
        out += ["### Acceptance points of issue #14 (lipsym)", ""] + acceptance_lines(result) + [""]
        if "london" in result["agreement"]:
            out += ["### By skin tone (London `face_eth`)", ""]
            out += group_table(result["agreement"]["london"]["by_skin"], "skin tone") + [""]
        for name, res in result["agreement"].items():
            out += [f"### By facial hair, {SET_NAMES[name].split(' (')[0]} (benchmarks/labels/beards.csv)", ""]
            out += group_table(res["by_beard"], "facial hair") + [""]
        for name, res in result["agreement"].items():
            out += [f"### Confidence flag vs error, {SET_NAMES[name].split(' (')[0]} (lipsym; absolute error)", ""]
            out += confidence_table(res) + [""]
    if result.get("plants"):
        out += ["### Planted bow lifts: acceptance (issue #14: recovered at 0.9-1.1; lipsym mean)", ""]
        out += plant_acceptance(result["plants"]) + [""]
    for variant, res in result.get("plants", {}).items():
        out += [f"### Planted Cupid's bow lifts, {variant.replace('_', ' ')} ({res['faces']} faces): "
                "recovery = measured change / planted", ""] + plants_table(res) + [""]
        for group in ("skin", "beard"):
            groups = res.get(f"by_{group}", {})
            if len(groups) > 1:
                out += [f"lipsym's recovery at 2 mm by {'skin tone' if group == 'skin' else 'facial hair'}, "
                        f"{variant.replace('_', ' ')}:", ""] + plant_group_table(groups) + [""]
    return "\n".join(out)


def plant_acceptance(plants: dict) -> list[str]:
    variants = list(plants)
    lines = ["| shape, planted | " + " | ".join(v.replace("_", " ") for v in variants) + " |",
             "|---" * (len(variants) + 1) + "|"]
    for i, a in enumerate(plants[variants[0]]["acceptance"]):
        label = a["criterion"].split(" recovered")[0]
        cells = []
        for v in variants:
            b = plants[v]["acceptance"][i]
            cells.append(f"{'met' if b['met'] else '**missed**'} ({b['figure']})")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return lines


def plant_group_table(groups: dict) -> list[str]:
    shapes = list(next(iter(groups.values())))
    lines = ["| group (faces) | " + " | ".join(shapes) + " |", "|---" * (len(shapes) + 1) + "|"]
    for g, summ in groups.items():
        n = summ[shapes[0]]["2.0"]["n"]
        lines.append(f"| {g} ({n}) | " + " | ".join(_f(summ[s]["2.0"]["lipsym"]["mean"]) for s in shapes) + " |")
    return lines
