"""The walkthrough notebook: committed without outputs, and runs top to bottom.

Its code cells are executed in order in one fresh namespace, from the
notebooks/ folder as Jupyter would (no kernel needed; matplotlib draws on the
Agg canvas, so nothing is shown).
"""

from __future__ import annotations

import json
import time

import pytest

from conftest import REPO

NOTEBOOK = REPO / "notebooks" / "walkthrough.ipynb"


def _cells():
    return json.loads(NOTEBOOK.read_text(encoding="utf-8"))["cells"]


def test_notebook_outputs_are_stripped():
    for cell in _cells():
        if cell["cell_type"] == "code":
            assert cell["outputs"] == [] and cell["execution_count"] is None


@pytest.mark.slow
def test_notebook_runs_top_to_bottom(monkeypatch, capsys):
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.chdir(NOTEBOOK.parent)
    import matplotlib

    matplotlib.use("Agg")
    namespace = {"__name__": "__main__"}
    start = time.monotonic()
    for i, cell in enumerate(c for c in _cells() if c["cell_type"] == "code"):
        source = "".join(cell["source"])
        try:
            exec(compile(source, f"{NOTEBOOK.name}[code cell {i}]", "exec"), namespace)
        except Exception as exc:  # name the cell that failed
            pytest.fail(f"code cell {i} failed: {type(exc).__name__}: {exc}")
    assert time.monotonic() - start < 60
    printed = capsys.readouterr().out
    assert "commissure height asymmetry: planted +1.50 mm, measured" in printed
    assert "commissure height" in printed and "left − right ± SE" in printed
    assert len(namespace["table"].rows) > 10
