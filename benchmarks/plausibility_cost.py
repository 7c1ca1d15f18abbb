"""Cost of the decoded-image plausibility checks (issue #15) on a 24-megapixel photo.

Builds a 6000 x 4000 JPEG (quality 92) and WebP (quality 85) in memory from
``sample_images/astronaut.png`` (upscaled, with sensor-like noise so that the
encoders have texture everywhere), then times, in the same run and
interleaved, :func:`lipsym.io.load_photo` with
:func:`lipsym.io._plausible.check_blocks_plausible` and (JPEG)
:func:`lipsym.io._jpeg_plausible.check_dc_steps` disabled (the baseline
decode) and enabled, and each check alone on the decoded pixels. Reports the
median and the fastest of ``--repeats`` runs at reductions 1 and 2 (at 4 and 8
the block check is skipped; the DC-step check runs at 4 on a 4:2:0 JPEG). Run::

    python benchmarks/plausibility_cost.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import io
import statistics
import time
from pathlib import Path

import numpy as np
from PIL import Image

from lipsym.io import _decode, _jpeg_plausible, _plausible, load_photo

ASTRONAUT = Path(__file__).resolve().parents[1] / "sample_images" / "astronaut.png"


def photo_24mp(fmt: str) -> bytes:
    rgb = Image.open(ASTRONAUT).convert("RGB").resize((6000, 4000), Image.BICUBIC)
    noisy = np.asarray(rgb).astype(np.int16) + np.random.default_rng(0).normal(0, 4, (4000, 6000, 3)).astype(np.int16)
    buffer = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(buffer, fmt, quality=92 if fmt == "JPEG" else 85)
    return buffer.getvalue()


def seconds(call) -> float:
    started = time.perf_counter()
    call()
    return time.perf_counter() - started


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    checks = {"check_blocks_plausible": _decode.check_blocks_plausible, "check_dc_steps": _decode.check_dc_steps}
    for fmt in ("JPEG", "WEBP"):
        data = photo_24mp(fmt)
        grid = _jpeg_plausible.jpeg_grid(data) if fmt == "JPEG" else None
        rule = _plausible.JPEG_RULE if fmt == "JPEG" else _plausible.DEFAULT_RULE
        for reduction in (1, 2):
            off, on, blocks, steps = [], [], [], []
            for _ in range(args.repeats):
                for name in checks:
                    setattr(_decode, name, lambda *a, **k: None)
                try:
                    off.append(seconds(lambda: load_photo("bench", data=data, reduction=reduction)))
                finally:
                    for name, check in checks.items():
                        setattr(_decode, name, check)
                on.append(seconds(lambda: load_photo("bench", data=data, reduction=reduction)))
                rgb = load_photo("bench", data=data, reduction=reduction).rgb
                blocks.append(seconds(lambda: _plausible.check_blocks_plausible(rgb, "bench", reduction, rule)))
                steps.append(seconds(lambda: _jpeg_plausible.check_dc_steps(rgb, grid, "bench", reduction)))
            # Medians, and the fastest run (the cost without other processes' interference).
            for label, pick in (("median", statistics.median), ("fastest", min)):
                base, with_check, block_cost, step_cost = (pick(x) for x in (off, on, blocks, steps))
                dc = (f"; the DC-step check alone {step_cost * 1e3:.0f} ms ({100 * step_cost / base:.0f} %)"
                      if fmt == "JPEG" else "")
                print(f"{fmt} 6000x4000 reduction {reduction} ({rgb.shape[1]}x{rgb.shape[0]} decoded), {label} of "
                      f"{args.repeats}: load {base * 1e3:.0f} ms without the checks, {with_check * 1e3:.0f} ms with "
                      f"them; the block check alone {block_cost * 1e3:.0f} ms ({100 * block_cost / base:.0f} % of "
                      f"the load){dc}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
