"""The package's layers import one way (docs/architecture.md).

A module may import from its own subpackage and from layers below it, never
from a layer above or beside it. Imports inside functions and under
``TYPE_CHECKING`` count too: an upward import hidden in a function is still
a dependency in the wrong direction.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import lipsym

PACKAGE = Path(lipsym.__file__).resolve().parent

#: Rank of each top-level part of the package: imports go to a lower rank
#: only (or stay inside the same part). Equal ranks are siblings that must
#: not import each other.
LAYERS = {
    "errors": 0, "sides": 0, "_lazy": 0, "models": 0,
    "io": 1,
    "landmarks": 2,
    "face": 3,
    "refine": 4,
    "analysis": 5,
    "measures": 6,
    "comparison": 7,
    "formats": 8,
    "pipeline": 9,
    "report": 10, "simulate": 10,
    "visits": 11,
    "batch": 12,
    "app": 13,
    "cli": 14,
    "__init__": 15, "__main__": 15,
}
#: The only top-level modules (everything else lives in a layer's subpackage).
TOP_LEVEL_MODULES = {"__init__", "__main__", "errors", "sides", "_lazy"}


def _modules():
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        yield path, parts


def _imports(path: Path, parts: list[str]):
    """(line, absolute module name) of every lipsym import in a file."""
    is_package = parts[-1] == "__init__"
    here = ["lipsym", *parts[:-1]] if is_package else ["lipsym", *parts[:-1]]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = here[: len(here) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            if name == "lipsym":  # from lipsym import x: x is a submodule or a lazy name
                for alias in node.names:
                    yield node.lineno, f"lipsym.{alias.name}"
            elif name.startswith("lipsym."):
                yield node.lineno, name
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith("lipsym."):
                    yield node.lineno, alias.name


def _layer(dotted: str) -> str:
    first = dotted.split(".")[1]
    # The version string is defined once, in the package root, for every layer.
    return "errors" if first == "__version__" else first


def test_every_part_of_the_package_has_a_layer():
    unknown = {parts[0] for _, parts in _modules()} - set(LAYERS)
    assert not unknown, f"give these a layer in LAYERS and docs/architecture.md: {sorted(unknown)}"


def test_top_level_holds_only_the_foundation_modules():
    top = {parts[0] for _, parts in _modules() if len(parts) == 1}
    assert top <= TOP_LEVEL_MODULES, f"move into a layer's subpackage: {sorted(top - TOP_LEVEL_MODULES)}"


def test_imports_run_one_way():
    wrong = []
    for path, parts in _modules():
        mine = parts[0]
        for line, target in _imports(path, parts):
            theirs = _layer(target)
            if theirs == mine:
                continue
            if theirs not in LAYERS or LAYERS[theirs] >= LAYERS[mine]:
                wrong.append(f"{path.relative_to(PACKAGE)}:{line} ({mine}) imports {target} ({theirs})")
    assert not wrong, "imports against the layer order:\n" + "\n".join(wrong)


def test_only_the_landmarks_layer_imports_mediapipe():
    users = []
    for path, parts in _modules():
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "mediapipe" or n.startswith("mediapipe.") for n in names) and parts[0] != "landmarks":
                users.append(str(path.relative_to(PACKAGE)))
    assert not users, f"mediapipe imported outside lipsym.landmarks: {users}"


def test_the_layer_test_sees_an_upward_import(tmp_path):
    """The checker itself: a face module importing the measures is caught."""
    bad = tmp_path / "bad.py"
    bad.write_text("from lipsym.measures._values import SidedMeasure\n")
    assert [t for _, t in _imports(bad, ["face", "bad"])] == ["lipsym.measures._values"]
    assert LAYERS[_layer("lipsym.measures._values")] >= LAYERS["face"]


def test_import_lipsym_loads_neither_opencv_nor_mediapipe():
    code = ("import sys, lipsym, lipsym.measures, lipsym.formats, lipsym.batch, lipsym.app; "
            "heavy = [m for m in ('cv2', 'mediapipe', 'matplotlib', 'scipy') if m in sys.modules]; "
            "assert not heavy, heavy")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_every_subpackage_ships_in_the_wheel():
    """pyproject.toml lists packages explicitly (models/ is mapped in): a new subpackage must be listed."""
    import tomllib

    listed = set(tomllib.loads((PACKAGE.parents[1] / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(("lipsym", *p.parent.relative_to(PACKAGE).parts)).rstrip(".")
             for p in PACKAGE.rglob("__init__.py")}
    assert found - listed == set(), f"add to [tool.setuptools] packages: {sorted(found - listed)}"


def test_every_public_name_resolves():
    """Each lazy ``__init__`` names only objects its private modules really have."""
    import importlib

    broken = []
    for init in sorted(PACKAGE.rglob("__init__.py")):
        name = ".".join(("lipsym", *init.parent.relative_to(PACKAGE).parts)).rstrip(".")
        if name in ("lipsym.models", "lipsym.cli", "lipsym.batch"):
            continue  # not lazy namespaces: the model bundle, the commands, the light batch parent
        module = importlib.import_module(name)
        for public in getattr(module, "__all__", ()):
            if public != "__version__" and not hasattr(module, public):
                broken.append(f"{name}.{public}")
    assert not broken, broken
