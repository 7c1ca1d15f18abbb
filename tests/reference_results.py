"""The London development set's results, flattened, as a regression reference.

``python tests/reference_results.py --write`` analyses the 34 London rest/smile
pairs with ``lipsym analyze`` (default settings) and stores every number of
the document (measures, points, frame, scale, refinement, dynamic component)
in ``tests/data/london_reference-<fingerprint>.json.gz``;
``test_reference_results.py`` re-runs the same command and requires every
stored number to be reproduced within 1e-9. A change that is meant to change
results regenerates the file in the same commit and says so.

**One reference per CPU's numerics.** MediaPipe's inference (XNNPACK) picks
its kernels by CPU: on an AVX-512/AMX Xeon the landmarks differ from an
older machine's in the 4th-5th decimal of a pixel, and lipsym's results
with them (2 December 2026: 24,059 of the 31,910 numbers, median 2e-4; of
2,040 measure values 15 moved by more than 0.1 of their standard error and
none by more than 0.8; docs/accuracy.md "Reproducibility across machines").
So the reference is keyed by a *fingerprint* of those numerics, the hash of
MediaPipe's landmarks on ``sample_images/london_094_rest.jpg``
(:func:`fingerprint`). A machine with no file of its own skips the test with
the command that writes one. (The first machine's file, written before the
fingerprints and used as a fallback, was removed on 3 December 2026 when the
standard errors were recalibrated: it could not be regenerated anywhere else,
so it could only fail.)

Only numbers derived from the photos are stored (CC BY 4.0, DeBruine &
Jones 2017, doi:10.6084/m9.figshare.5047666.v5), never pixels.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LONDON = REPO.parent / "shared" / "data" / "london_dev"
#: Where the references live; each machine's is :func:`reference_for` its fingerprint.
REFERENCE = REPO / "tests" / "data" / "london_reference.json.gz"
SAMPLE = REPO / "sample_images" / "london_094_rest.jpg"
#: Parts of a document that are not results of the photo (versions, paths, texts).
SKIP_KEYS = {"lipsym_version", "file", "rest", "smile", "description", "text", "message", "settings", "model_sha256"}


def fingerprint() -> str:
    """Hash (16 hex digits) of MediaPipe's landmarks on the sample photo: equal on machines whose numerics agree."""
    import hashlib

    import numpy as np

    from lipsym.io import load_photo
    from lipsym.landmarks import default_landmarker

    marks = default_landmarker().landmarks(load_photo(SAMPLE))
    return hashlib.sha256(np.ascontiguousarray(marks.points_px, dtype=np.float64).tobytes()).hexdigest()[:16]


def reference_for(print_: str) -> Path:
    """The reference file of the machines with fingerprint ``print_``."""
    return REFERENCE.with_name(f"london_reference-{print_}.json.gz")


def london_pairs() -> list[tuple[str, Path, Path]]:
    ids = sorted(p.name.split("_")[0] for p in (LONDON / "neutral").glob("*_03.jpg"))
    return [(i, LONDON / "neutral" / f"{i}_03.jpg", LONDON / "smiling" / f"{i}_08.jpg") for i in ids]


def flatten(node, prefix: str = "") -> dict[str, float | str | bool | None]:
    """Leaf values of a JSON document by path, e.g. ``results.0.measures.sided.x.asymmetry``."""
    out: dict = {}
    if isinstance(node, dict):
        for k, v in node.items():
            if k not in SKIP_KEYS:
                out.update(flatten(v, f"{prefix}{k}."))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            out.update(flatten(v, f"{prefix}{i}."))
    else:
        out[prefix[:-1]] = node
    return out


def analyse_london() -> dict:
    """Run ``lipsym analyze`` on every London pair; the flattened document, keyed by face."""
    pairs = london_pairs()
    args = [sys.executable, "-m", "lipsym", "analyze"]
    for _, rest, smile in pairs:
        args += ["--rest", str(rest), "--smile", str(smile)]
    with tempfile.TemporaryDirectory() as tmp:
        out = os.path.join(tmp, "london.json")
        subprocess.run(args + ["-o", out], check=True, stdout=subprocess.DEVNULL)
        doc = json.loads(Path(out).read_text())
    flat = {}
    for n, (face, _, _) in enumerate(pairs):
        flat.update({f"{face}.rest.{k}": v for k, v in flatten(doc["results"][2 * n]).items()})
        flat.update({f"{face}.smile.{k}": v for k, v in flatten(doc["results"][2 * n + 1]).items()})
        flat.update({f"{face}.pair.{k}": v for k, v in flatten(doc["pairs"][n]).items()})
    return flat


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="(re)write the reference file")
    args = parser.parse_args()
    if not LONDON.is_dir():
        print(f"reference_results: {LONDON} is absent", file=sys.stderr)
        return 2
    flat = analyse_london()
    if args.write:
        path = reference_for(fingerprint())
        path.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(path, "wt") as f:
            json.dump(flat, f, sort_keys=True, separators=(",", ":"))
        print(f"wrote {len(flat)} values to {path}")
        others = sorted(q.name for q in path.parent.glob("london_reference*.json.gz") if q != path)
        if others:
            print(f"other machines' references ({', '.join(others)}) are now stale unless these results did "
                  "not change: delete them in the same commit if they did")
    else:
        print(f"{len(flat)} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
