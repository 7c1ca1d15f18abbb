"""Folder discovery decides what is a photo by content, not by name (#14 item 8)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
from PIL import Image

from lipsym.io._collection import discover


def _image_bytes(fmt: str) -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.full((40, 40, 3), 128, np.uint8)).save(buffer, fmt)
    return buffer.getvalue()


def test_photos_with_odd_or_no_extension_are_found_and_other_files_left_alone(tmp_path, monkeypatch):
    visit = tmp_path / "P001" / "2024-01-10"
    visit.mkdir(parents=True)
    (visit / "rest.jpg").write_bytes(_image_bytes("JPEG"))
    (visit / "smile.gif").write_bytes(_image_bytes("GIF"))          # GIF: not a photo extension
    (visit / "side").write_bytes(_image_bytes("PNG"))               # no extension at all
    (visit / "profile.jpe").write_bytes(_image_bytes("JPEG"))        # rare JPEG extension
    (visit / "notes.txt").write_text("P001 notes: swelling down\n")  # PPM-like start "P0": not a photo
    (visit / "data.json").write_text("{}")
    (visit / "empty.bin").write_bytes(b"")
    (visit / ".DS_Store").write_bytes(_image_bytes("PNG"))           # hidden: never
    (visit / "locked.dat").write_bytes(b"\xff\xd8\xff")
    real_open = Path.open

    def deny(self, *args, **kwargs):
        if self.name == "locked.dat":
            raise PermissionError(13, "Permission denied")
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", deny)
    collection = discover(tmp_path)
    names = {item.name for item in collection.items}
    assert names == {"P001/2024-01-10/pair", "P001/2024-01-10/side", "P001/2024-01-10/profile.jpe"}
    pair = next(i for i in collection.items if i.is_pair)
    assert (pair.rest.name, pair.smile.name) == ("rest.jpg", "smile.gif")
    assert [p.file for p in collection.problems] == [str(visit / "locked.dat")]
    assert "cannot read it to tell whether it is a photo" in collection.problems[0].reason


def test_a_folder_of_non_photos_gives_an_empty_collection(tmp_path):
    (tmp_path / "readme.md").write_text("# visits\n")
    (tmp_path / "results.csv").write_text("a,b\n1,2\n")
    fifo = tmp_path / "pipe"
    import os

    os.mkfifo(fifo)  # never opened: it is not a regular file (opening it would block)
    collection = discover(tmp_path)
    assert collection.items == () and collection.problems == ()
