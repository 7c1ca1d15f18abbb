"""Typed errors. Every error a user can cause is a :class:`LipsymError`.

The CLI turns each subclass into a one-line message and an exit code; the
library never prints. Messages are one line, name the file where there is
one, and say what to do when that is not obvious.
"""

from __future__ import annotations


class LipsymError(Exception):
    """Base class of every error lipsym raises on purpose.

    Attributes
    ----------
    exit_code : int
        Process exit code the CLI uses for this kind of error.
    """

    exit_code = 1


# --- input photos -----------------------------------------------------------


class PhotoError(LipsymError):
    """A photo could not be used (base class of the photo errors)."""

    exit_code = 3


class PhotoNotFoundError(PhotoError):
    """The path does not exist or is not a regular file."""


class UnreadablePhotoError(PhotoError):
    """The file exists but could not be read (permissions, I/O error)."""


class NotAnImageError(PhotoError):
    """The file's content is not an image in a supported format."""


class TruncatedPhotoError(PhotoError):
    """The image file is cut short or corrupt."""


class CorruptPhotoError(TruncatedPhotoError):
    """The image decodes, but its data is damaged (corrupt data, a premature end, missing rows).

    Raised instead of returning a silently wrong image: the decoder warned, or
    the decoded pixels fail a plausibility check. A subclass of
    :class:`TruncatedPhotoError`, so code that handles a cut-short file
    handles this too.
    """


class PhotoTooLargeError(PhotoError):
    """The image's declared size exceeds the pixel limit (decompression bomb guard)."""


class PhotoTooSmallError(PhotoError):
    """The image is too small to measure anything reliably."""


# --- faces ------------------------------------------------------------------


class FaceError(LipsymError):
    """No usable face in a photo (base class)."""

    exit_code = 4


class NoFaceError(FaceError):
    """No face was found in the photo."""


class MultipleFacesError(FaceError):
    """Several faces were found and the caller asked for exactly one."""


# --- model and configuration -------------------------------------------------


class ModelError(LipsymError):
    """The landmark model file is missing or is not the expected one."""

    exit_code = 5


class ConfigurationError(LipsymError):
    """An option or argument has an invalid value."""

    exit_code = 2


class OutputError(LipsymError):
    """An output file could not be written (permissions, a file where a folder should be, disk full)."""

    exit_code = 8


class MeasurementError(LipsymError):
    """A measure cannot be computed from the given points."""

    exit_code = 6


class StoreError(LipsymError):
    """The visit-record store refused an operation (base class)."""

    exit_code = 7


class NotFoundError(StoreError):
    """A patient, visit, photo or analysis named by the caller does not exist."""


class ConflictError(StoreError):
    """The operation would silently overwrite or duplicate a record."""


# --- comparisons ------------------------------------------------------------


class DifferentPersonError(LipsymError):
    """Two compared photos do not plausibly show the same person.

    Raised by :func:`lipsym.comparison.require_same_person` unless the user
    overrides the check; the message names both photos.
    """

    exit_code = 9


# --- manual corrections -------------------------------------------------------


class CorrectionError(LipsymError):
    """A manual landmark correction cannot be applied.

    An unknown point name, a point outside the photo, a malformed corrections
    document (:class:`lipsym.analysis.Corrections`); the message is one line.
    """

    exit_code = 2


class CorrectionConflictError(ConflictError):
    """Another manual correction of the same photos was saved after the one the caller loaded.

    Saving would silently set the other save aside; the caller reloads the
    latest corrected analysis and applies its moves again.
    """
