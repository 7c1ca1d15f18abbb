"""Mutation fuzzing of the photo loader: damaged files are refused, never crash it.

Generates a small corpus of photos of every format lipsym reads (in memory;
nothing is written), then, with a fixed seed, mutates them (flipped bits,
overwritten runs, inserted and deleted bytes, cuts) and loads each mutant
with :func:`lipsym.io.load_photo` for ``--seconds`` seconds. Counts:

* ``refused``: a :class:`~lipsym.errors.LipsymError` (the intended outcome);
* ``unchanged``: loaded, with the same pixels as the intact file (the
  mutation hit metadata or padding);
* loaded with different pixels: damage no decoder or check reported,
  classified by comparing the decoded mutant with the decoded original:

  - ``(b) value-only``: same size, and the changed pixels are local (at most
    :data:`LOCAL_PX_FRACTION` of the image). This is what a changed byte in
    pixel data without a checksum gives (an uncompressed BMP or TIFF pixel,
    a GIF colour): a valid image that no reader can tell from an intended
    one;
  - ``(a) structural``: anything else (another size, a shift, a grey or
    garbled band, a change over much of the image). Split further by whether
    the mutation kept the file's length (``same length``: flipped or
    overwritten bytes, e.g. in a lossy codec's arithmetic-coded data or a
    JPEG quantisation table, which decode to another valid image) or not;

* ``crashes``: any other exception. Must be 0.

Exits 1 if there was any crash, else 0. Run::

    python benchmarks/fuzz_photos.py --seconds 60
    python benchmarks/fuzz_photos.py --cases 50000   # the same counts on any machine
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


#: Largest share of the image's pixels a mutation may change and still count
#: as a local value change, (b): 2 % of the 128 x 96 corpus images is 245 px,
#: more than the eight edits of at most 64 bytes can overwrite directly in an
#: uncompressed 24-bit pixel array (8 x 22 px), and less than a garbled
#: JPEG MCU row (16 x 128 px).
LOCAL_PX_FRACTION = 0.02


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
    """Outcome counts of a fuzzing run (per corpus file for the loaded-but-changed classes)."""

    cases: int = 0
    refused: int = 0
    unchanged: int = 0
    value_only: collections.Counter = field(default_factory=collections.Counter)
    structural: collections.Counter = field(default_factory=collections.Counter)
    structural_same_length: collections.Counter = field(default_factory=collections.Counter)
    crashes: list[str] = field(default_factory=list)

    @property
    def changed_ok(self) -> collections.Counter:
        """Every mutant decoded as ok with other pixels, (a) and (b) together, per corpus file."""
        return self.value_only + self.structural

    def report(self) -> str:
        def counts(counter: collections.Counter) -> str:
            total = sum(counter.values())
            return f"{total}" + (f" ({', '.join(f'{k} {v}' for k, v in sorted(counter.items()))})" if total else "")

        lines = [f"cases {self.cases}", f"refused (LipsymError) {self.refused}",
                 f"loaded unchanged {self.unchanged}",
                 f"corrupt but decoded as ok {sum(self.changed_ok.values())}",
                 f"  (a) structural {counts(self.structural)}",
                 f"      of which same-length edits {counts(self.structural_same_length)}",
                 f"  (b) value-only, local {counts(self.value_only)}",
                 f"exceptions outside LipsymError {len(self.crashes)}"]
        return "\n".join(lines + [f"  {crash}" for crash in self.crashes[:20]])


def classify(decoded: np.ndarray, intact: np.ndarray) -> str:
    """``"unchanged"``, ``"value-only"`` (b) or ``"structural"`` (a); see the module docstring."""
    if decoded.shape != intact.shape:
        return "structural"
    changed = np.count_nonzero((decoded != intact).any(axis=2))
    if changed == 0:
        return "unchanged"
    local = changed <= LOCAL_PX_FRACTION * intact.shape[0] * intact.shape[1]
    return "value-only" if local else "structural"


def run(seconds: float, seed: int = 0, cases: int | None = None) -> Summary:
    """Fuzz for about ``seconds`` seconds (or exactly ``cases`` mutants, if given) with a fixed seed.

    The sequence of mutants depends on ``seed`` only, so a run bounded by
    ``cases`` gives the same counts on any machine; a run bounded by time
    covers as many cases as the machine manages.
    """
    files = corpus()
    intact = {name: load_photo(f"intact.{name}", data=data, min_side_px=16).rgb for name, data in files.items()}
    names = sorted(files)
    rng = np.random.default_rng(seed)
    summary = Summary()
    deadline = time.monotonic() + seconds
    while (summary.cases < cases) if cases is not None else (time.monotonic() < deadline):
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
        outcome = classify(photo.rgb, intact[name])
        if outcome == "unchanged":
            summary.unchanged += 1
        elif outcome == "value-only":
            summary.value_only[name] += 1
        else:
            summary.structural[name] += 1
            if len(mutant) == len(files[name]):
                summary.structural_same_length[name] += 1
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="fuzzing time (default 60)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--cases", type=int, default=None,
                        help="run exactly this many mutants instead of a time (reproducible counts)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    summary = run(args.seconds, args.seed, args.cases)
    print(f"seed {args.seed}, {time.monotonic() - started:.0f} s")
    print(summary.report())
    return 1 if summary.crashes else 0


if __name__ == "__main__":
    sys.exit(main())
