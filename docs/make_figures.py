"""Regenerate the figures of docs/measures.md with lipsym's own plotting code.

Run: python docs/make_figures.py   (uses sample_images/astronaut.png, public domain)
"""

from pathlib import Path

from lipsym.analysis._photo import analyze_photo
from lipsym.io import load_photo
from lipsym.landmarks._detector import Landmarker
from lipsym.measures import measure_photo
from lipsym.report._overlay import draw_overlay, write_png

HERE = Path(__file__).resolve().parent
SAMPLE = HERE.parent / "sample_images" / "astronaut.png"

if __name__ == "__main__":
    with Landmarker() as landmarker:
        analysis = analyze_photo(SAMPLE, landmarker, expression="smile")
    measures = measure_photo(analysis)
    rgb = load_photo(SAMPLE).rgb
    write_png(HERE / "figures" / "measures_lips.png", draw_overlay(rgb, analysis, measures, view="lips"), overwrite=True)
    write_png(HERE / "figures" / "measures_face.png",
              draw_overlay(rgb, analysis, measures, view="face", all_landmarks=True, width_in=5), overwrite=True)
    print("wrote", HERE / "figures")
