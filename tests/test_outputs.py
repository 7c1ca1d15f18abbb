"""Atomic output files."""

from __future__ import annotations

import os

import pytest

from lipsym.errors import ConflictError
from lipsym.io._outputs import write_atomic


@pytest.mark.parametrize("durable", [True, False])
def test_write_atomic_replaces_only_when_asked_and_leaves_no_temporary(tmp_path, monkeypatch, durable):
    synced = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    target = tmp_path / "sub" / "r.json"
    write_atomic(target, "one\n", durable=durable)
    with pytest.raises(ConflictError):
        write_atomic(target, "two\n", durable=durable)
    write_atomic(target, b"two\n", overwrite=True, durable=durable)
    assert target.read_text() == "two\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["r.json"]
    assert bool(synced) is durable  # a batch's results skip the fsync; everything else keeps it
