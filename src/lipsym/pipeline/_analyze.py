"""Analyse one item: every caller's way from photo files to measures and outputs.

The CLI, batch workers, the visit record and reports all call
:func:`analyze_item`, so a photo is analysed, measured and its failure
reported the same way whichever of them asked.
"""

from __future__ import annotations

from collections.abc import Sequence

from lipsym.analysis._options import AnalysisOptions
from lipsym.analysis._photo import analyze_landmarks, detect_at_adequate_resolution
from lipsym.comparison._same_person import require_same_person
from lipsym.errors import ConfigurationError, LipsymError
from lipsym.landmarks._detector import Landmarker
from lipsym.measures._pair import measure_pair
from lipsym.measures._photo import measure_photo
from lipsym.pipeline._item import ItemSpec
from lipsym.pipeline._result import ItemError, ItemResult


def analyze_item(item: ItemSpec, landmarker: Landmarker, options: AnalysisOptions = AnalysisOptions(), *,
                 data: Sequence[bytes | None] | None = None, keep_pixels: bool = False) -> ItemResult:
    """Analyse and measure an item's photos; capture what fails.

    Parameters
    ----------
    item : ItemSpec
        A photo alone or a rest/smile pair.
    landmarker : Landmarker
        Reused across items (one per process); built from
        ``options.landmarker``.
    options : AnalysisOptions
    data : sequence of bytes or None, optional
        Each photo's file content in ``item.photos`` order, when the caller
        has already read it (a batch hashes the bytes it analyses); the
        paths then only name the photos.
    keep_pixels : bool
        Keep each decoded photo in ``result.decoded``, for a caller that
        draws the photos (:meth:`ItemResult.rgb` then decodes a photo only if
        the analysis used a reduced decode). Off by default: a pair's rest
        photo is then freed before its smile photo is decoded, which keeps a
        batch worker's peak memory down.

    Returns
    -------
    ItemResult
        Analyses, measures (a pair's on its shared scale), the document,
        CSV and visit-record sections, and the errors. A photo that cannot
        be analysed does not raise: its :class:`~lipsym.errors.LipsymError`
        (one line naming the file) is in ``errors`` and the item's other
        photos are not analysed.

    Raises
    ------
    ConfigurationError
        ``landmarker`` does not flip-average as ``options.landmarker`` says:
        the result would be recorded under settings it was not computed with.

    Examples
    --------
    >>> from pathlib import Path
    >>> import lipsym
    >>> from lipsym.landmarks._detector import Landmarker
    >>> photo = Path(lipsym.__file__).parents[2] / "sample_images" / "astronaut.png"
    >>> options = AnalysisOptions()
    >>> with Landmarker(options.landmarker) as landmarker:
    ...     result = analyze_item(ItemSpec.photo(photo, "smile"), landmarker, options)
    >>> result.ok, len(result.analyses), result.pair is None
    (True, 1, True)
    >>> result.csv_row["status"]
    'ok'
    >>> doc = result.document()
    >>> doc["settings"] == options.identity(), doc["results"][0]["expression"]
    (True, 'smile')
    """
    if data is not None and len(data) != len(item.photos):
        raise ConfigurationError(f"{item.label}: {len(data)} photo contents given for {len(item.photos)} photos")
    flip_average = landmarker.options.flip_average
    if flip_average != options.landmarker.flip_average:
        raise ConfigurationError(f"the landmarker {'does' if flip_average else 'does not'} flip-average but the "
                                 "analysis options say otherwise; build it with Landmarker(options.landmarker)")
    common = {"item": item, "model_sha256": landmarker.model_sha256, "settings": options.identity()}
    analyses, decoded = [], []
    for i, (expression, path) in enumerate(item.photos):
        try:
            # analyze_photo's two steps, with the decoded photo at hand for keep_pixels.
            photo, marks = detect_at_adequate_resolution(path, landmarker,
                                                         allow_multiple_faces=options.allow_multiple_faces,
                                                         data=None if data is None else data[i])
            analyses.append(analyze_landmarks(photo, marks, expression=expression, options=options))
        except LipsymError as exc:
            return ItemResult(analyses=tuple(analyses), decoded=tuple(decoded),
                              errors=(ItemError(str(path), exc),), **common)
        if keep_pixels:
            decoded.append(photo)
    try:
        if item.is_pair:
            # A pair's dynamic component is only meaningful for one face
            # (issue #13: two people's photos gave a "movement" of 13.6 mm).
            require_same_person(*analyses, allow=options.allow_different_person)
            pair = measure_pair(*analyses)
            measures = (pair.rest, pair.smile)  # on the pair's shared scale
        else:
            pair, measures = None, (measure_photo(analyses[0]),)
    except LipsymError as exc:
        return ItemResult(analyses=tuple(analyses), decoded=tuple(decoded), errors=(ItemError(item.label, exc),),
                          **common)
    return ItemResult(analyses=tuple(analyses), decoded=tuple(decoded), measures=measures, pair=pair, **common)
