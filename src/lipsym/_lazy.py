"""Lazy, curated package namespaces (the scikit-image / lazy_loader pattern).

A subpackage's ``__init__`` names its public objects and the private module
each comes from; nothing is imported until a name is used. So ``import
lipsym`` or ``from lipsym.measures import SidedMeasure`` does not load OpenCV
or MediaPipe, and a batch parent starts its workers light.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping, Sequence


def attach(package: str, exports: Mapping[str, Sequence[str]]
           ) -> tuple[Callable[[str], object], Callable[[], list[str]], list[str]]:
    """``__getattr__``, ``__dir__`` and ``__all__`` for a lazy package.

    Parameters
    ----------
    package : str
        The package's ``__name__``.
    exports : mapping of str to sequence of str
        Private module (relative to the package, e.g. ``"_frame"``) → the
        public names it provides; ``"public:private"`` exports the module's
        ``private`` under another name.

    Returns
    -------
    tuple
        ``(__getattr__, __dir__, __all__)``, to assign in the package's
        ``__init__``.

    Examples
    --------
    >>> import lipsym.face
    >>> lipsym.face.__all__[:2]
    ['Anatomy', 'Calibration']
    """
    owner = {}
    for module, names in exports.items():
        for spec in names:
            public_name, _, private_name = spec.partition(":")
            owner[public_name] = (module, private_name or public_name)
    public = sorted(owner)

    def __getattr__(name: str):
        if name not in owner:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module, attribute = owner[name]
        value = getattr(importlib.import_module(f"{package}.{module}"), attribute)
        setattr(sys.modules[package], name, value)  # later look-ups skip this function
        return value

    def __dir__() -> list[str]:
        return list(public)

    return __getattr__, __dir__, public
