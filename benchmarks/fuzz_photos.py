"""Mutation fuzzing of the photo loader: damaged files are refused, never crash it.

Generates a small corpus of photos of every format lipsym reads (in memory;
nothing is written), then, with a fixed seed, mutates them (flipped bits,
overwritten runs, inserted and deleted bytes, cuts) and loads each mutant
with :func:`lipsym.io.load_photo` for ``--seconds`` seconds. Counts:

* ``refused``: a :class:`~lipsym.errors.LipsymError` (the intended outcome);
* ``unchanged``: loaded, with the same pixels as the intact file (the
  mutation hit metadata or padding);
* ``changed_ok``: loaded, with different pixels: damage the decoders did not
  report. Expected only for formats without a checksum over their
  compressed data (lossy WebP, HEIC, GIF, BMP, uncompressed TIFF, ...);
  see docs/photos.md;
* ``crashes``: any other exception. Must be 0.

Exits 1 if there was any crash, else 0. Run::

    python benchmarks/fuzz_photos.py --seconds 60
"""

from __future__ import annotations

import argparse
import collections
import io
import sys
import time
import traceback
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from lipsym.errors import LipsymError
from lipsym.io import load_photo


def corpus() -> dict[str, bytes]:
    """Small photos of each format (name -> file bytes), from a smooth pattern with noise."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:96, 0:128]
    rgb = np.dstack([x * 2, y * 2, (x + y)]).astype(np.uint8) + rng.integers(0, 24, (96, 128, 3), dtype=np.uint8)
    alpha = np.clip(x * 3, 0, 255).astype(np.uint8)
    rgba = np.dstack([rgb, alpha])
    rgb16 = rgb.astype(np.uint16) * 257 + rng.integers(0, 257, rgb.shape, dtype=np.uint16)
    files: dict[str, bytes] = {}

    def pil(name: str, image: Image.Image, fmt: str, **options) -> None:
        buffer = io.BytesIO()
        try:
            image.save(buffer, fmt, **options)
        except (OSError, KeyError, ValueError):  # encoder absent in this Pillow build
            return
        files[name] = buffer.getvalue()

    import cv2

    pil("jpeg", Image.fromarray(rgb), "JPEG", quality=90)
    pil("jpeg-progressive", Image.fromarray(rgb), "JPEG", quality=90, progressive=True)
    pil("png-rgb", Image.fromarray(rgb), "PNG")
    pil("png-rgba", Image.fromarray(rgba), "PNG")
    pil("png-gray", Image.fromarray(rgb[:, :, 0]), "PNG")
    pil("png-palette", Image.fromarray(rgb).quantize(64), "PNG", transparency=0)
    pil("png-interlaced", Image.fromarray(rgb), "PNG", interlace=1)  # Pillow may ignore interlace
    ok, png16 = cv2.imencode(".png", np.ascontiguousarray(np.dstack([rgb16, rgb16[:, :, :1]])[:, :, [2, 1, 0, 3]]))
    if ok:
        files["png-rgba16"] = png16.tobytes()
    pil("tiff", Image.fromarray(rgb), "TIFF")
    pil("tiff-deflate", Image.fromarray(rgb), "TIFF", compression="tiff_adobe_deflate")
    ok, tiff16 = cv2.imencode(".tiff", np.ascontiguousarray(rgb16[:, :, ::-1]))
    if ok:
        files["tiff-rgb16"] = tiff16.tobytes()
    pil("webp", Image.fromarray(rgb), "WEBP", quality=80)
    pil("webp-lossless", Image.fromarray(rgba), "WEBP", lossless=True)
    pil("bmp", Image.fromarray(rgb), "BMP")
    pil("gif", Image.fromarray(rgb), "GIF")
    try:
        import pillow_heif

        pillow_heif.register_heif_opener()
        pil("heic", Image.fromarray(rgb), "HEIF", quality=80)
    except ImportError:
        pass
    return files


def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to eight random edits of ``data``."""
    out = bytearray(data)
    for _ in range(int(rng.integers(1, 9))):
        if not out:
            break
        at = int(rng.integers(0, len(out)))
        kind = int(rng.integers(0, 6))
        if kind == 0:  # flip a bit
            out[at] ^= 1 << int(rng.integers(0, 8))
        elif kind == 1:  # overwrite a run with random bytes
            run = int(rng.integers(1, 64))
            out[at : at + run] = rng.integers(0, 256, min(run, len(out) - at), dtype=np.uint8).tobytes()
        elif kind == 2:  # insert bytes
            out[at:at] = rng.integers(0, 256, int(rng.integers(1, 16)), dtype=np.uint8).tobytes()
        elif kind == 3:  # delete bytes
            del out[at : at + int(rng.integers(1, 16))]
        elif kind == 4:  # cut the file
            del out[at:]
        else:  # an interesting value (0, 0xFF, a large length) in a header-ish place
            out[at % 64] = int(rng.choice([0x00, 0xFF, 0x7F, 0x80]))
    return bytes(out)


@dataclass
class Summary:
    """Outcome counts of a fuzzing run."""

    cases: int = 0
    refused: int = 0
    unchanged: int = 0
    changed_ok: collections.Counter = field(default_factory=collections.Counter)
    crashes: list[str] = field(default_factory=list)

    def report(self) -> str:
        lines = [f"cases {self.cases}", f"refused (LipsymError) {self.refused}",
                 f"loaded unchanged {self.unchanged}",
                 f"corrupt but decoded as ok {sum(self.changed_ok.values())}"
                 + (f" ({', '.join(f'{k} {v}' for k, v in sorted(self.changed_ok.items()))})" if self.changed_ok else ""),
                 f"exceptions outside LipsymError {len(self.crashes)}"]
        return "\n".join(lines + [f"  {crash}" for crash in self.crashes[:20]])


def run(seconds: float, seed: int = 0) -> Summary:
    """Fuzz for about ``seconds`` seconds with a fixed seed; the sequence of mutants depends on ``seed`` only."""
    files = corpus()
    intact = {name: load_photo(f"intact.{name}", data=data, min_side_px=16).rgb for name, data in files.items()}
    names = sorted(files)
    rng = np.random.default_rng(seed)
    summary = Summary()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        name = names[int(rng.integers(0, len(names)))]
        mutant = mutate(files[name], rng)
        summary.cases += 1
        try:
            photo = load_photo(f"fuzz-{summary.cases}.{name}", data=mutant, min_side_px=16, max_pixels=4_000_000)
        except LipsymError:
            summary.refused += 1
            continue
        except Exception as exc:  # the property under test: this must never happen
            summary.crashes.append(f"{name} case {summary.cases}: {type(exc).__name__}: {exc} "
                                   f"[{traceback.extract_tb(exc.__traceback__)[-1].name}]")
            continue
        same = photo.rgb.shape == intact[name].shape and np.array_equal(photo.rgb, intact[name])
        if same:
            summary.unchanged += 1
        else:
            summary.changed_ok[name] += 1
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="fuzzing time (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    args = parser.parse_args(argv)
    summary = run(args.seconds, args.seed)
    print(summary.report())
    return 1 if summary.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
