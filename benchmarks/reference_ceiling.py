"""What a method without error could score against manual points that carry annotation noise.

Every manual FRL-189 point of the London and 3DSK development sets (the pupils included, so the
facial frame and the midline move too) is perturbed by independent Gaussian noise of SD ``sigma``
px in each axis. If the reference itself carries that noise, a method without error scores

- r = sqrt(2 − 1 / r_p²), where r_p is the reference's correlation with its perturbed self;
- a slope (method on reference) of r²;
- an MAE of the mean |perturbed − original|;

and its cheilion error is Rayleigh-distributed (median 1.177 σ, 90th percentile 2.146 σ px).
Printed per set and σ for the asymmetries of issue #14's acceptance (docs/accuracy.md, "What a
perfect method could score against a noisy reference")::

    python benchmarks/reference_ceiling.py [--draws 20] [--sigmas 0.5,1,1.5,2]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _validate_agreement import manual_truth  # noqa: E402
from _validate_data import Manual, faces_of  # noqa: E402

KEYS = ("commissure_height", "bow_peak_height", "upper_area", "lower_area")


def ceiling(set_name: str, sigma_px: float, draws: int, rng: np.random.Generator) -> dict:
    """A method without error's figures against the set's manual points with noise ``sigma_px``."""
    manuals = [Manual.load(Path(f.gt)) for f in faces_of(set_name)]
    points = [m.points_px for m in manuals]
    base = [manual_truth(m, 0.1) for m in manuals]  # areas at a nominal 0.1 mm/px: r and slope do not depend on it
    ipd = np.array([m.ipd_px for m in manuals])
    rs, maes = {k: [] for k in KEYS}, {k: [] for k in KEYS}
    for _ in range(draws):
        noisy = [manual_truth(Manual.from_points(p + rng.normal(0.0, sigma_px, p.shape)), 0.1) for p in points]
        for k in KEYS:
            a, b = np.array([t[k] for t in base]), np.array([t[k] for t in noisy])
            rs[k].append(np.corrcoef(a, b)[0, 1])
            maes[k].append(np.mean(np.abs(b - a)))
    out = {"ipd_px": float(np.median(ipd))}
    for k in KEYS:
        noise_share = 1.0 / float(np.mean(rs[k])) ** 2 - 1.0  # the reference's noise variance over its variance
        out[k] = {"r": float(np.sqrt(max(0.0, 1.0 - noise_share))), "slope": float(max(0.0, 1.0 - noise_share)),
                  "mae": float(np.mean(maes[k]))}
    zero = np.array([t["bow_peak_height"] for t in base])
    out["bow_peak_height"]["mae_limit"] = float(0.85 * np.mean(np.abs(zero)))  # the acceptance's 0.85 × answering 0
    out["cheilion"] = {"median": float(np.median(1.177 * sigma_px / ipd * 100)),
                       "p90": float(np.median(2.146 * sigma_px / ipd * 100))}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=20)
    parser.add_argument("--sigmas", default="0.5,1,1.5,2", help="comma-separated noise SDs, px")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    for set_name in ("london", "3dsk"):
        for sigma in (float(s) for s in args.sigmas.split(",")):
            c = ceiling(set_name, sigma, args.draws, rng)
            cells = " | ".join(f"{k} r {c[k]['r']:.3f} slope {c[k]['slope']:.2f} MAE {c[k]['mae']:.2f}" for k in KEYS)
            print(f"{set_name} σ {sigma:g} px (IPD {c['ipd_px']:.0f} px): {cells} | bow limit "
                  f"{c['bow_peak_height']['mae_limit']:.3f} | cheilion median {c['cheilion']['median']:.2f} "
                  f"p90 {c['cheilion']['p90']:.2f} % IPD", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
