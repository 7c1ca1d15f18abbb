"""Round trip of a live landmark correction in the web app, over HTTP, on this machine.

Usage::

    python benchmarks/correction_roundtrip.py [--drags 60]

Starts ``lipsym serve`` in its own process on a free loopback port with a new
record, uploads the sample rest and smile photos and analyses them (through the
API, as the page does), opens the analysis once (the photos' analyses are then
kept in the app's memory), and then times, as the browser does while a point is
dragged:

- ``preview``: POST /api/analyses/ID/preview with the moved points; the server
  applies the corrections with the library and re-measures the pair (no
  detection) and sends back the whole view (points, contours, every measure);
- ``baseline``: POST /api/ping on the same connection, through the same
  security checks: what the HTTP stack alone costs, measured in the same run.

Each drag moves the left cheilion of the rest photo by a further 0.5 px (and
every 5th drag the right one of the smile photo), so no two requests are the
same. It prints the median and 90th percentile of each, in ms. The issue's
target (#17) is a median preview round trip of at most 100 ms.
"""

from __future__ import annotations

import argparse
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parents[1]
PHOTOS = {"rest": REPO / "sample_images" / "london_094_rest.jpg", "smile": REPO / "sample_images" / "london_094_smile.jpg"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--drags", type=int, default=60, help="timed requests of each kind (default %(default)s)")
    args = p.parse_args(argv)
    if args.drags < 50:
        p.error("--drags must be at least 50")
    work = Path(tempfile.mkdtemp(prefix="lipsym-bench-"))
    port = _port()
    server = subprocess.Popen([sys.executable, "-m", "lipsym", "serve", "--db", str(work / "record.db"),
                               "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            for _ in range(200):
                try:
                    page = http.get("/").text
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            else:
                raise SystemExit("lipsym serve did not start: " + server.stderr.read().decode())
            token = re.search(r'name="lipsym-token" content="([^"]+)"', page).group(1)
            h = {"X-Lipsym-Token": token}
            http.post("/api/patients", json={"identifier": "B001"}, headers=h).raise_for_status()
            visit = http.post("/api/patients/B001/visits", json={"date": "2024-05-02", "kind": "baseline"},
                              headers=h).json()["id"]
            for expression, path in PHOTOS.items():
                http.put(f"/api/visits/{visit}/photos", params={"expression": expression, "name": path.name},
                         content=path.read_bytes(), headers=h).raise_for_status()
            job = http.post(f"/api/visits/{visit}/analyze", headers=h).json()
            while job["state"] != "done":
                time.sleep(0.2)
                job = http.get(f"/api/jobs/{job['id']}").json()
            analysis = job["analyses"][0]
            view = http.get(f"/api/analyses/{analysis}").json()
            rest, smile = view["photos"]
            x0, y0 = rest["overlay"]["points"]["cheilion_left"]
            x1, y1 = smile["overlay"]["points"]["cheilion_right"]

            def drag(i: int) -> dict:
                moves = [{"photo_id": rest["photo_id"], "name": "cheilion_left", "x_px": x0 + 0.5 * i, "y_px": y0}]
                if i % 5 == 0:
                    moves.append({"photo_id": smile["photo_id"], "name": "cheilion_right", "x_px": x1, "y_px": y1 - i})
                return {"moves": moves}

            for i in range(5):  # warm-up: first imports, caches, connection
                http.post(f"/api/analyses/{analysis}/preview", json=drag(i + 1), headers=h).raise_for_status()
                http.post("/api/ping", headers=h).raise_for_status()
            preview, baseline = [], []
            for i in range(args.drags):
                t = time.perf_counter()
                r = http.post(f"/api/analyses/{analysis}/preview", json=drag(i + 10), headers=h)
                preview.append((time.perf_counter() - t) * 1000)
                r.raise_for_status()
                t = time.perf_counter()
                http.post("/api/ping", headers=h).raise_for_status()
                baseline.append((time.perf_counter() - t) * 1000)
            size_kb = len(r.content) / 1024
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"correction round trip over HTTP, {args.drags} drags, lipsym serve in its own process (127.0.0.1)")
    print(f"  preview (apply corrections + re-measure + view, {size_kb:.0f} kB): "
          f"median {statistics.median(preview):.1f} ms, p90 {_percentile(preview, 0.9):.1f} ms")
    print(f"  baseline (no-op POST /api/ping):                    "
          f"median {statistics.median(baseline):.1f} ms, p90 {_percentile(baseline, 0.9):.1f} ms")
    ok = statistics.median(preview) <= 100
    print(f"  target: median <= 100 ms: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
