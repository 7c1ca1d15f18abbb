"""Estimate the clinic's re-capture SD from the replicate photos in its record (issue #13, point 3).

Every visit that holds two or more photos of an expression measured how
much that clinic's re-captures of an unchanged face vary. Pooled over all
patients' visits (:func:`lipsym.comparison.pooled_sd`), that is the
clinic's own between-capture SD per measure and expression, stored in the
record with its sample size and confidence interval and used by every later
comparison once it has enough degrees of freedom
(:data:`lipsym.comparison.MIN_DEGREES_OF_FREEDOM`). Until then, and for any
measure short of them, the capture model stands; the published 3-D
test-retest floor applies either way.
"""

from __future__ import annotations

import datetime as _dt
from types import MappingProxyType

from lipsym import __version__
from lipsym.comparison._calibration import ClinicCalibration, pooled_sd
from lipsym.comparison._replicates import ReplicateMeasure
from lipsym.visits.store import Store
from lipsym.visits._calibration_record import save_clinic_calibration
from lipsym.visits._timeline import load_timeline

#: The expressions calibrated (the dynamic rest → smile component has no photo of its own).
CALIBRATED_EXPRESSIONS = ("rest", "smile")


def calibrate_clinic(store: Store, *, save: bool = True, now: _dt.datetime | None = None) -> ClinicCalibration:
    """Pool every replicate spread in the record into the clinic's calibration.

    Parameters
    ----------
    store : Store
    save : bool
        Store it in the record (replacing the previous estimate), so that
        later comparisons use it.
    now : datetime, optional
        Timestamp of the estimate (default: now, UTC).

    Returns
    -------
    ClinicCalibration
        One :class:`lipsym.comparison.CalibratedSD` per expression and
        measure with any visit of two or more photos; empty when the record
        has no replicates (then nothing changes for later comparisons).
    """
    groups: dict[tuple[str, str], list[ReplicateMeasure]] = {}
    for patient in store.list_patients():
        for visit in load_timeline(store, patient).visits:
            for expression in CALIBRATED_EXPRESSIONS:
                for key, replicate in visit.replicates.get(expression, {}).items():
                    groups.setdefault((expression, key), []).append(replicate)
    measures = {}
    for (expression, key), found in groups.items():
        estimate = pooled_sd(key, expression, found)
        if estimate is not None:
            measures[(expression, key)] = estimate
    stamp = (now or _dt.datetime.now(_dt.timezone.utc)).isoformat(timespec="seconds")
    calibration = ClinicCalibration(MappingProxyType(measures), stamp, __version__)
    if save:
        save_clinic_calibration(store, calibration)
    return calibration
