"""Time lipsym.simulate on photo-sized images and optionally save a visual check.

Usage::

    PYTHONPATH=src python3 benchmarks/warp_demo.py [--out DIR] [--repeat N]

Warps a synthetic RGB image (smooth texture plus a fine checkerboard, so
seams, holes and ringing would be visible) with 3 control points of radius
120 px around the image centre: one mouth corner raised 15 px, the other held
by an anchor-like small displacement, one Cupid's-bow-like peak raised 8 px.
Prints the time to build the field and to warp, for 1350 x 1350 and
6000 x 4000 images. With ``--out`` it writes before/after/difference PNGs of
the 1350 x 1350 case.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from lipsym.simulate._warp import make_field, warp_image


def synthetic_photo(height: int, width: int) -> np.ndarray:
    """uint8 RGB test image: smooth shading plus an 8-px checkerboard."""
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    shade = 110 + 50 * np.sin(xs / 97.0) * np.cos(ys / 131.0)
    board = ((xs // 8 + ys // 8) % 2) * 60 - 30
    grey = shade + board
    rgb = np.stack([grey + 20, grey, grey - 20], axis=-1)
    return np.clip(rgb, 0, 255).astype(np.uint8)


def mouth_field(height: int, width: int, scale: float = 1.0):
    """Three control points around the image centre, radius 120 px * scale.

    ``scale`` enlarges the whole layout (positions, radii, displacements), as
    for the same face photographed at higher resolution.
    """
    cx, cy = width / 2.0, height / 2.0
    sources = [[cx - 150.0 * scale, cy], [cx + 150.0 * scale, cy], [cx - 25.0 * scale, cy - 60.0 * scale]]
    displacements = np.array([[0.0, -15.0], [0.0, 0.0], [0.0, -8.0]]) * scale
    anchors = [[cx + 40.0 * scale, cy - 60.0 * scale]]
    return make_field(sources, displacements, 120.0 * scale, anchors_px=anchors)


def time_case(height: int, width: int, scale: float, repeat: int) -> tuple[float, float, np.ndarray, np.ndarray]:
    """Best-of-``repeat`` seconds for make_field and warp_image."""
    image = synthetic_photo(height, width)
    field_s, warp_s = np.inf, np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        field = mouth_field(height, width, scale)
        t1 = time.perf_counter()
        warped = warp_image(image, field)
        t2 = time.perf_counter()
        field_s, warp_s = min(field_s, t1 - t0), min(warp_s, t2 - t1)
    return field_s, warp_s, image, warped


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, help="directory for before/after PNGs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for height, width, scale in [(1350, 1350, 1.0), (4000, 6000, 1.0), (4000, 6000, 3.0)]:
        field_s, warp_s, image, warped = time_case(height, width, scale, args.repeat)
        changed = np.any(warped != image, axis=-1).sum()
        print(
            f"{width}x{height} RGB, radius {120 * scale:.0f} px: make_field {field_s * 1e3:.1f} ms, "
            f"warp_image {warp_s * 1e3:.1f} ms, changed pixels {changed}"
        )
        if args.out is not None and height == 1350:
            from PIL import Image

            args.out.mkdir(parents=True, exist_ok=True)
            crop = (slice(height // 2 - 250, height // 2 + 250), slice(width // 2 - 350, width // 2 + 350))
            Image.fromarray(image[crop]).save(args.out / "warp_before.png")
            Image.fromarray(warped[crop]).save(args.out / "warp_after.png")
            diff = np.abs(warped.astype(int) - image.astype(int)).max(axis=-1)
            Image.fromarray(np.clip(diff * 2, 0, 255).astype(np.uint8)[crop]).save(args.out / "warp_diff.png")
            print(f"wrote {args.out}/warp_before.png, warp_after.png, warp_diff.png")


if __name__ == "__main__":
    main()
