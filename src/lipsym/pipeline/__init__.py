"""The pipeline layer: one item (a photo, or a rest/smile pair) from files to outputs.

- :class:`ItemSpec` names the photos analysed together and their expressions;
- :func:`analyze_item` analyses and measures them with a
  :class:`~lipsym.landmarks.Landmarker` and :class:`~lipsym.analysis.AnalysisOptions`;
- :class:`ItemResult` holds the analyses, the measures, the sections of the
  JSON document, the CSV row and the visit-record rows, and the
  :class:`ItemError` of a photo that failed (never raised).

The CLI, batch, the visit record and reports all analyse through it.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_item": ["ItemSpec"],
    "_result": ["ItemError", "ItemResult"],
    "_analyze": ["analyze_item"],
    "_replicates": ["replicate_items", "replicates_section"],
})
