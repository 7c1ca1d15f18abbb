"""The comparison layer: the change of each measure between two measurements.

:func:`compare_measures` gives, per measure, the change of the signed
asymmetry with its standard error and minimal detectable change
(:class:`MeasureChange`).
"""

from .._lazy import attach

__getattr__, __dir__, __all__ = attach(__name__, {
    "_compare": ["MeasureChange", "compare_measures", "compare_sided", "KEY_MEASURES", "Z95"],
})
