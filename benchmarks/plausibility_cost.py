"""Cost of the decoded-image plausibility check (issue #15) on a 24-megapixel photo.

Builds a 6000 x 4000 JPEG (quality 92) and WebP (quality 85) in memory from
``sample_images/astronaut.png`` (upscaled, with sensor-like noise so that the
encoders have texture everywhere), then times, in the same run and
interleaved, :func:`lipsym.io.load_photo` with
:func:`lipsym.io._plausible.check_blocks_plausible` disabled (the baseline
decode) and enabled, and the check alone on the decoded pixels. Reports the
median and the fastest of ``--repeats`` runs at reductions 1 and 2 (at 4 and 8 the check is
skipped). Run::

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

from lipsym.io import _decode, _plausible, load_photo

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
    check = _decode.check_blocks_plausible
    for fmt in ("JPEG", "WEBP"):
        data = photo_24mp(fmt)
        for reduction in (1, 2):
            off, on, alone = [], [], []
            for _ in range(args.repeats):
                _decode.check_blocks_plausible = lambda *a, **k: None
                try:
                    off.append(seconds(lambda: load_photo("bench", data=data, reduction=reduction)))
                finally:
                    _decode.check_blocks_plausible = check
                on.append(seconds(lambda: load_photo("bench", data=data, reduction=reduction)))
                rgb = load_photo("bench", data=data, reduction=reduction).rgb
                alone.append(seconds(lambda: _plausible.check_blocks_plausible(rgb, "bench", reduction)))
            # Medians, and the fastest run (the cost without other processes' interference).
            for label, pick in (("median", statistics.median), ("fastest", min)):
                base, with_check, cost = (pick(x) for x in (off, on, alone))
                print(f"{fmt} 6000x4000 reduction {reduction} ({rgb.shape[1]}x{rgb.shape[0]} decoded), {label} of "
                      f"{args.repeats}: load {base * 1e3:.0f} ms without the check, {with_check * 1e3:.0f} ms with it; "
                      f"the check alone {cost * 1e3:.0f} ms ({100 * cost / base:.0f} % of the load)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
