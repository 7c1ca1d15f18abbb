"""Quality flags fire on the conditions they document, and nothing is fetched from the network."""

from __future__ import annotations

import dataclasses
import socket

import numpy as np
import pytest

from conftest import SAMPLE
from lipsym.analysis._photo import analyze_photo
from lipsym.face._frame import frame_from_landmarks
from lipsym.landmarks._detector import HeadPose
from lipsym.face._quality import quality_flags


@pytest.fixture(scope="module")
def sample(landmarker):
    return analyze_photo(SAMPLE, landmarker)


def _with_points(marks, edit):
    pts = np.array(marks.points_px)
    edit(pts)
    pts.flags.writeable = False
    return dataclasses.replace(marks, points_px=pts)


def _codes(marks, expression="rest"):
    return {f.code for f in quality_flags(marks, frame_from_landmarks(marks.points_px), expression=expression)}


def test_closed_eyes_are_flagged(sample):
    def close_eyes(pts):
        pts[145, :2] = pts[159, :2] + [0, 1]
        pts[374, :2] = pts[386, :2] + [0, 1]

    assert "eyes_closed" not in _codes(sample.landmarks)
    assert "eyes_closed" in _codes(_with_points(sample.landmarks, close_eyes))


def test_parted_lips_flagged_at_rest_only(sample):
    def part(pts):
        pts[14, 1] = pts[13, 1] + 0.05 * np.linalg.norm(pts[468, :2] - pts[473, :2])

    parted = _with_points(sample.landmarks, part)
    assert "lips_parted" in _codes(parted, "rest")
    assert "lips_parted" not in _codes(parted, "smile")


@pytest.mark.parametrize("pose,code", [(HeadPose(6, 0, 0), "head_turned"), (HeadPose(-6, 0, 0), "head_turned"),
                                       (HeadPose(0, 16, 0), "head_pitched"), (HeadPose(0, 0, -16), "head_tilted")])
def test_pose_limits(sample, pose, code):
    assert code in _codes(dataclasses.replace(sample.landmarks, pose=pose))
    assert code not in _codes(dataclasses.replace(sample.landmarks, pose=HeadPose(4, 14, 14)))


def test_small_face_flagged(sample):
    assert "face_too_small" in _codes(sample.landmarks)   # the astronaut's face is ~250 px wide


def test_no_network_connection_is_opened(landmarker, monkeypatch, tmp_path):
    from lipsym.cli import main

    def refuse(*args, **kwargs):
        raise AssertionError("lipsym tried to open a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert main(["analyze", str(SAMPLE), "-o", str(tmp_path / "o.json")]) == 0
