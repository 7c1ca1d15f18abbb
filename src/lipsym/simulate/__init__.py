"""Planted changes: what a given change of a lip structure looks like in a photo.

:func:`plant` warps a photo so that one structure (a commissure, a Cupid's
bow peak, a hemi-vermilion) moves by a known amount in mm, with a smooth,
fold-free displacement field (:mod:`lipsym.simulate._warp`). Used to show a
patient a change, and to validate the measures' sensitivity.
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_simulate": ["Plant", "SimulatedPhoto", "plant", "plant_field", "parse_plant", "STRUCTURES", "MAX_PLANT_MM"],
    "_bow_shapes": ["BOW_SHAPES"],
    "_warp": ["WarpField", "make_field", "warp_image", "warp_points"],
    "_recapture": ["Recapture", "RecaptureParams", "recapture", "planted_recapture", "sample_params"],
})
