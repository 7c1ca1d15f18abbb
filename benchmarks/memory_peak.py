"""Peak memory of loading the worst photo of each format at the pixel limit.

For each format, a synthetic photo at (about) :data:`lipsym.io.MAX_PIXELS`
is generated in a temporary folder, in the form that costs most to decode
(16-bit RGBA PNG with partial transparency: the 1.9 MB decompression bomb of
issue #15; 8-bit RGBA PNG; a 360 x 65500 RGBA PNG; JPEG; WebP at its largest
size; TIFF 8-bit RGBA and 16-bit RGB, and 8-bit RGB at 169 MP; HEIC as large as x265 encodes in
reasonable time). Each is then loaded in a fresh subprocess, at the
reduction ``lipsym analyze`` chooses and at full resolution (as the report
loads it), and the subprocess reports its peak resident set size
(``VmHWM`` from ``/proc/self/status``; ``ru_maxrss`` where there is no
/proc, which on Linux would include this parent's size at fork time). A baseline subprocess (Python,
``import lipsym.io`` and a tiny photo loaded, so every decoder library is
mapped) is measured in the same run. Target: every peak <= 1.5 GB; a photo
whose decode would need more than ``MEMORY_CEILING_BYTES`` is refused
(PhotoTooLargeError) before any pixel is decoded.

Generation needs several GB and a few minutes; run it alone::

    python benchmarks/memory_peak.py [--keep DIR] [--only png-rgba16,jpeg]
"""

from __future__ import annotations

import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
import zlib
from pathlib import Path

import numpy as np

from lipsym.errors import LipsymError
from lipsym.io import MAX_PIXELS, read_header

TARGET_BYTES = 1_500_000_000
SIDE_PX = int(MAX_PIXELS**0.5)  # 15811: the largest square within the limit


# --- generation (in this process; not measured) ------------------------------------


def _png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def write_png(path: Path, width_px: int, height_px: int, *, bit_depth: int, channels: int) -> None:
    """A banded RGBA PNG with partial transparency, streamed row by row (tiny file, huge image).

    Bands of 2048 identical pixels compress ~1000:1 (a row of a 16-bit RGBA
    photo at the limit is 126 KB, beyond deflate's 32 KB window, so rows
    must compress on their own), like the 1.9 MB bomb of issue #15.
    """
    colour_type = {3: 2, 4: 6}[channels]
    dtype = ">u2" if bit_depth == 16 else np.uint8
    top = 65535 if bit_depth == 16 else 255
    band = np.arange(width_px) // 2048
    row = np.empty((width_px, channels), dtype)
    row[:, 0] = band * 31 % 256 * (top // 255)
    row[:, 1] = top // 2
    row[:, 2] = top - row[:, 0]
    if channels == 4:
        row[:, 3] = band * 37 % 256 * (top // 255)  # transparent, partial and opaque bands
    raw = b"\x00" + row.tobytes()
    compressor = zlib.compressobj(1)
    with path.open("wb") as out:
        out.write(b"\x89PNG\r\n\x1a\n")
        out.write(_png_chunk(b"IHDR", struct.pack(">IIBBBBB", width_px, height_px, bit_depth, colour_type, 0, 0, 0)))
        pending = b""
        for _ in range(height_px):
            pending += compressor.compress(raw)
            if len(pending) > 1 << 20:
                out.write(_png_chunk(b"IDAT", pending))
                pending = b""
        out.write(_png_chunk(b"IDAT", pending + compressor.flush()))
        out.write(_png_chunk(b"IEND", b""))


def _smooth_rgb(width_px: int, height_px: int, channels: int = 3, dtype=np.uint8) -> np.ndarray:
    """Horizontal bands (compress well in every format), with partial transparency for 4 channels."""
    top = np.iinfo(dtype).max
    image = np.empty((height_px, width_px, channels), dtype)
    ramp = ((np.arange(width_px) // 2048 * 31 % 256) * (top // 255)).astype(dtype)
    image[:, :, 0] = ramp
    image[:, :, 1] = top // 2
    image[:, :, 2] = top - ramp
    if channels == 4:
        image[:, :, 3] = ((np.arange(width_px) // 2048 * 37 % 256) * (top // 255)).astype(dtype)
    return image


def generate(folder: Path, only: set[str] | None) -> dict[str, Path]:
    """The worst-case photos (name -> path); skipped silently where this machine lacks an encoder."""
    import cv2
    from PIL import Image

    cases: dict[str, Path] = {}

    def make(name: str, filename: str, write) -> None:
        """Generate one case, unless excluded or already in the folder (``--keep`` reuses files)."""
        if only is not None and name not in only:
            return
        path = cases[name] = folder / filename
        if path.is_file() and path.stat().st_size:
            return
        try:
            write(path)
        except (ImportError, OSError, ValueError) as exc:  # no encoder for this format here
            print(f"{name}: not generated ({exc})")

    make("png-rgba16", "rgba16.png", lambda p: write_png(p, SIDE_PX, SIDE_PX, bit_depth=16, channels=4))
    make("png-rgba8", "rgba8.png", lambda p: write_png(p, SIDE_PX, SIDE_PX, bit_depth=8, channels=4))
    make("png-rgba8-tall", "tall.png", lambda p: write_png(p, 360, 65500, bit_depth=8, channels=4))
    make("jpeg", "big.jpg", lambda p: cv2.imwrite(str(p), _smooth_rgb(SIDE_PX, SIDE_PX), [cv2.IMWRITE_JPEG_QUALITY, 90]))
    # WebP's largest side is 16383 px; lossy VP8 cannot encode this size (partition 0 overflows).
    make("webp", "big.webp", lambda p: Image.fromarray(_smooth_rgb(16383, MAX_PIXELS // 16383, 4)).save(
        p, "WEBP", lossless=True, method=0))
    # Pillow refuses WebP above 2 x its MAX_IMAGE_PIXELS (179 MP) at open; 100 MP decodes.
    make("webp-100mp", "100mp.webp", lambda p: Image.fromarray(_smooth_rgb(10000, 10000, 4)).save(
        p, "WEBP", lossless=True, method=0))
    # The largest lossy WebP under the 1.2 GB decoding ceiling (7400 x 7400 is refused): the two
    # above are refused before decoding, so this is the WebP that is decoded, and judged for
    # garbage patches at full size (io/_plausible.check_garbage_patches).
    make("webp-52mp", "52mp.webp", lambda p: Image.fromarray(_smooth_rgb(7200, 7200)).save(p, "WEBP", quality=80))
    make("tiff-rgba8", "rgba8.tiff", lambda p: Image.fromarray(_smooth_rgb(SIDE_PX, SIDE_PX, 4)).save(
        p, "TIFF", compression="tiff_adobe_deflate"))
    # Under Pillow's own limit (179 MP) and the ceiling: checks the estimate against the real peak.
    make("tiff-rgb8-169mp", "rgb8.tiff", lambda p: Image.fromarray(_smooth_rgb(13000, 13000)).save(
        p, "TIFF", compression="tiff_adobe_deflate"))
    make("tiff-rgb16", "rgb16.tiff", lambda p: cv2.imwrite(str(p), _smooth_rgb(SIDE_PX, SIDE_PX, 3, np.uint16)))

    def heic(path: Path) -> None:
        import pillow_heif

        pillow_heif.register_heif_opener()
        # x265 takes many minutes beyond this; the ceiling check reads the header anyway.
        Image.fromarray(_smooth_rgb(8192, 8192)).save(path, "HEIF", quality=50)

    make("heic", "big.heic", heic)
    return {name: path for name, path in cases.items() if path.is_file()}


# --- measurement (each in a fresh subprocess) -----------------------------------------

_CHILD = r"""
import json, resource, sys, time
path, mode = sys.argv[1], sys.argv[2]
from lipsym.errors import LipsymError
from lipsym.io import choose_reduction, load_photo, read_header
start = time.perf_counter()
outcome, reduction = "ok", None
try:
    header = read_header(path)
    reduction = 1 if mode == "full" else choose_reduction(header.width_px, header.height_px)
    load_photo(path, reduction=reduction)
except LipsymError as exc:
    outcome = f"{type(exc).__name__}: {exc}"
# VmHWM is this process's own high-water mark; ru_maxrss would include the
# parent's resident size at fork time (it survives exec on Linux).
try:
    peak = next(int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:"))
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
print(json.dumps({"peak_bytes": peak,
                  "seconds": time.perf_counter() - start, "outcome": outcome, "reduction": reduction}))
"""


def measure(path: Path, mode: str) -> dict:
    done = subprocess.run([sys.executable, "-c", _CHILD, str(path), mode], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0:
        return {"peak_bytes": 0, "seconds": 0.0, "outcome": f"crashed: {done.stderr.strip()[-200:]}",
                "reduction": None}
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="generate into (and keep) this folder")
    parser.add_argument("--only", help="comma-separated case names (default: all)")
    args = parser.parse_args(argv)
    only = set(args.only.split(",")) if args.only else None
    with tempfile.TemporaryDirectory() as scratch:
        folder = args.keep or Path(scratch)
        folder.mkdir(parents=True, exist_ok=True)
        tiny = folder / "tiny.png"
        write_png(tiny, 96, 96, bit_depth=8, channels=4)
        baseline = measure(tiny, "baseline")
        print(f"baseline (python + import lipsym.io + a 96x96 photo loaded): {baseline['peak_bytes'] / 1e6:.0f} MB")
        started = time.perf_counter()
        cases = generate(folder, only)
        print(f"generated {len(cases)} photos in {time.perf_counter() - started:.0f} s")
        print(f"{'case':<16}{'size':>14}{'file MB':>9}{'mode':>9}{'r':>3}{'peak MB':>9}{'above base':>11}{'s':>7}  outcome")
        worst = 0
        for name, path in cases.items():
            try:
                header = read_header(path)
                size = f"{header.width_px}x{header.height_px}"
            except LipsymError:  # refused from the header (the child reports why)
                size = "?"
            for mode in ("analyze", "full"):
                result = measure(path, mode)
                worst = max(worst, result["peak_bytes"])
                print(f"{name:<16}{size:>14}{path.stat().st_size / 1e6:>9.1f}{mode:>9}{result['reduction'] or '-':>3}"
                      f"{result['peak_bytes'] / 1e6:>9.0f}{(result['peak_bytes'] - baseline['peak_bytes']) / 1e6:>11.0f}"
                      f"{result['seconds']:>7.1f}  {result['outcome'][:110]}", flush=True)
        print(f"worst peak {worst / 1e6:.0f} MB (target <= {TARGET_BYTES / 1e6:.0f} MB): "
              f"{'PASS' if worst <= TARGET_BYTES else 'FAIL'}")
        return 0 if worst <= TARGET_BYTES else 1


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
