"""The London development set's results, flattened, as a regression reference.

``python tests/reference_results.py --write`` analyses the 34 London rest/smile
pairs with ``lipsym analyze`` (default settings) and stores every number of
the document (measures, points, frame, scale, refinement, dynamic component)
in ``tests/data/london_reference.json.gz``; ``test_reference_results.py``
re-runs the same command and requires every stored number to be reproduced
within 1e-9. A change that is meant to change results regenerates the file
in the same commit and says so.

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
REFERENCE = REPO / "tests" / "data" / "london_reference.json.gz"
#: Parts of a document that are not results of the photo (versions, paths, texts).
SKIP_KEYS = {"lipsym_version", "file", "rest", "smile", "description", "text", "message", "settings", "model_sha256"}


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
        REFERENCE.parent.mkdir(parents=True, exist_ok=True)
        with gzip.open(REFERENCE, "wt") as f:
            json.dump(flat, f, sort_keys=True, separators=(",", ":"))
        print(f"wrote {len(flat)} values to {REFERENCE}")
    else:
        print(f"{len(flat)} values")
    return 0


if __name__ == "__main__":
    sys.exit(main())
