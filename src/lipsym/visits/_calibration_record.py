"""Where the clinic's re-capture calibration lives in the visit record.

One JSON document in the database's ``meta`` table under
:data:`META_KEY` (:class:`lipsym.comparison.ClinicCalibration`'s
``to_dict``): it belongs to the whole record, not to a patient, and is
replaced by each new estimate (``lipsym calibrate``).
"""

from __future__ import annotations

import json

from lipsym.comparison._calibration import ClinicCalibration
from lipsym.visits.store import Store
from lipsym.visits.store._meta import read_meta, write_meta
from lipsym.errors import StoreError

META_KEY = "clinic_calibration"


def load_clinic_calibration(store: Store) -> ClinicCalibration | None:
    """The stored calibration, or None before the first ``lipsym calibrate``.

    Raises
    ------
    StoreError
        The stored document cannot be read (damaged, or from a newer lipsym).
    """
    text = read_meta(store, META_KEY)
    if text is None:
        return None
    try:
        return ClinicCalibration.from_dict(json.loads(text))
    except (ValueError, TypeError, KeyError) as error:
        raise StoreError(f"the stored clinic calibration cannot be read ({error}); run `lipsym calibrate` again")


def save_clinic_calibration(store: Store, calibration: ClinicCalibration) -> None:
    """Replace the stored calibration."""
    write_meta(store, META_KEY, json.dumps(calibration.to_dict(), sort_keys=True))
