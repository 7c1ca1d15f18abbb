"""The comparison layer: the change of each measure between two measurements.

:func:`compare_measures` gives, per measure, the change of the signed
asymmetry with its standard error and minimal detectable change
(:class:`MeasureChange`). Given how each photo was taken (:class:`Capture`),
the standard error includes what differs between two captures of an
unchanged face (pose, distance, resolution, expression:
:func:`between_capture_sd`), and :func:`capture_warnings` names the
differences worth a warning. :func:`same_person` tells whether two photos
plausibly show the same face (:func:`require_same_person` refuses them).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_compare": ["MeasureChange", "compare_measures", "compare_sided", "KEY_MEASURES", "Z95"],
    "_capture": ["Capture", "CaptureError", "capture_from_analysis", "capture_from_dict"],
    "_calibration": ["CalibratedSD", "ClinicCalibration", "pooled_sd", "MIN_DEGREES_OF_FREEDOM"],
    "_replicates": ["ReplicateMeasure", "aggregate_replicates", "aggregate_sided", "robust_mean"],
    "_capture_model": ["between_capture_sd", "change_se_floor"],
    "_absolute_change": ["AbsoluteChange", "compare_absolute", "absolute_between_sd", "absolute_se_floor",
                         "KEY_ABSOLUTE", "SIZE_EFFECT_CAVEAT"],
    "_capture_checks": ["CaptureWarning", "capture_warnings"],
    "_same_person": ["SamePersonCheck", "same_person", "require_same_person", "geometry_distance", "STABLE_POINTS"],
})
