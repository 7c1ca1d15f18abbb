"""Checking a write-ahead log (``<db>-wal``) frame by frame, without SQLite.

SQLite replays a log up to its first frame that fails its checksum and
silently drops the rest, committed or not. That is right for a torn last
transaction (a crash mid-write: never committed) and wrong for a frame
damaged later, in the middle of the log: the committed transactions after
it are lost. This module tells the two apart (format:
https://www.sqlite.org/fileformat2.html#walformat).

Each frame's checksum chains from the previous frame's; starting each
frame from the previous frame's STORED checksum lets a frame after a
damaged one still be recognised as intact. The checksums of all frames
are computed at once, as one matrix product (see :func:`_frame_checksums`):
a loop in Python took 1 s for a 9 MB log, and the check runs at every open.
"""

from __future__ import annotations

import functools
import struct
import time
from pathlib import Path

from lipsym.visits.store._damage import Damage

_WAL_MAGIC = (0x377F0682, 0x377F0683)  # checksums little-, big-endian
_WAL_VERSION = 3007000
_WAL_HEADER_BYTES = 32
_FRAME_HEADER_BYTES = 24
_MASK32 = 0xFFFFFFFF
# A log being written by another process may be read half-written; damage
# that is still there after a pause is real.
_WAL_RETRIES = 3
_WAL_RETRY_PAUSE_S = 0.05


def _checksum(data: bytes, big_endian: bool, s0: int, s1: int) -> tuple[int, int]:
    """SQLite's WAL checksum of ``data`` (a multiple of 8 bytes), from (s0, s1)."""
    words = struct.unpack(f"{'>' if big_endian else '<'}{len(data) // 4}I", data)
    for i in range(0, len(words), 2):
        s0 = (s0 + words[i] + s1) & _MASK32
        s1 = (s1 + words[i + 1] + s0) & _MASK32
    return s0, s1


@functools.cache
def _step_powers(pairs: int):
    """``M**j mod 2**32`` for j = 0..pairs, M = [[1, 1], [1, 2]]: shape (pairs + 1, 2, 2), uint64.

    One step of the checksum is ``(s0, s1) <- M (s0, s1) + (a, a + b)`` for
    the word pair (a, b), so after n pairs
    ``s = M**n s_start + sum_k M**(n - 1 - k) (a_k, a_k + b_k)``.
    """
    import numpy as np

    powers = np.empty((pairs + 1, 2, 2), dtype=np.uint64)
    m00, m01, m10, m11 = 1, 0, 0, 1
    for j in range(pairs + 1):
        powers[j] = ((m00, m01), (m10, m11))
        m00, m01, m10, m11 = (m00 + m10) & _MASK32, (m01 + m11) & _MASK32, \
            (m00 + 2 * m10) & _MASK32, (m01 + 2 * m11) & _MASK32
    return powers


def _dot_mod32(values, weights):
    """``values @ weights mod 2**32``, exactly: values (F, K), weights (K, 2), both < 2**32.

    In 16-bit halves every partial sum stays below 2**53, so float64 (and
    its fast matrix product) is exact; the high x high part vanishes mod 2**32.
    """
    import numpy as np

    v_low, v_high = (values & 0xFFFF).astype(np.float64), (values >> 16).astype(np.float64)
    w_low, w_high = (weights & 0xFFFF).astype(np.float64), (weights >> 16).astype(np.float64)
    low = (v_low @ w_low).astype(np.uint64)
    cross = (v_high @ w_low + v_low @ w_high).astype(np.uint64)
    return (low + ((cross & _MASK32) << 16)) & _MASK32


def _frame_checksums(data: bytes, frames: int, page_size: int, big_endian: bool, seeds):
    """Checksums of frames 0..frames-1, each started from ``seeds[i]``: shape (frames, 2)."""
    import numpy as np

    frame_bytes = _FRAME_HEADER_BYTES + page_size
    raw = np.frombuffer(data, dtype=np.uint8, count=frames * frame_bytes,
                        offset=_WAL_HEADER_BYTES).reshape(frames, frame_bytes)
    # What is summed: the first 8 bytes of the frame header, then the page.
    summed = np.concatenate([raw[:, :8], raw[:, _FRAME_HEADER_BYTES:]], axis=1)
    words = summed.view(">u4" if big_endian else "<u4").astype(np.uint64)
    a, b = words[:, 0::2], words[:, 1::2]
    pairs = a.shape[1]
    powers = _step_powers(pairs)
    backwards = powers[pairs - 1::-1]  # M**(n-1-k) for pair k
    seeds = np.asarray(seeds, dtype=np.uint64)
    values = np.concatenate([a, (a + b) & _MASK32, seeds], axis=1)
    weights = np.stack([np.concatenate([backwards[:, row, 0], backwards[:, row, 1], powers[pairs, row]])
                        for row in (0, 1)], axis=1)
    return _dot_mod32(values, weights)


def _damage_once(wal: Path) -> Damage | None:
    data = wal.read_bytes()
    if not data:
        return None
    if len(data) < _WAL_HEADER_BYTES:
        return Damage("wal", f"{wal}: the write-ahead log header is truncated ({len(data)} bytes)")
    magic, version, page_size, _seq, salt1, salt2, c0, c1 = struct.unpack(">8I", data[:_WAL_HEADER_BYTES])
    frames = (len(data) - _WAL_HEADER_BYTES) // (_FRAME_HEADER_BYTES + max(page_size, 1))
    if magic not in _WAL_MAGIC or version != _WAL_VERSION or page_size < 512 or page_size & (page_size - 1):
        return Damage("wal", f"{wal}: the write-ahead log header is damaged; its {frames} frame(s) would be lost")
    big_endian = magic & 1 == 1
    if _checksum(data[:24], big_endian, 0, 0) != (c0, c1):
        return Damage("wal", f"{wal}: the write-ahead log header fails its checksum; its {frames} frame(s)"
                             " would be lost")
    frame_bytes = _FRAME_HEADER_BYTES + page_size
    heads = [struct.unpack_from(">6I", data, _WAL_HEADER_BYTES + i * frame_bytes) for i in range(frames)]
    # The log ends at the first frame of an earlier log (other salts), overwritten in part.
    current = next((i for i, h in enumerate(heads) if (h[2], h[3]) != (salt1, salt2)), frames)
    if current == 0:
        return None
    stored = [(c0, c1)] + [(h[4], h[5]) for h in heads[:current]]
    computed = _frame_checksums(data, current, page_size, big_endian, stored[:-1])
    intact = [(int(s0), int(s1)) == stored[i + 1] for i, (s0, s1) in enumerate(computed)]
    if all(intact):
        return None
    bad = intact.index(False)
    # Damage only if a later, intact COMMIT frame would be dropped with it.
    lost_commit = next((i for i in range(bad + 1, current) if intact[i] and heads[i][1]), None)
    if lost_commit is None:
        return None  # a torn last transaction: never committed
    return Damage("wal", f"{wal}: write-ahead log frame {bad + 1} (page {heads[bad][0]}) is damaged;"
                         f" the committed changes in frames {bad + 1}-{lost_commit + 1} would be lost")


def wal_damage(wal: Path) -> Damage | None:
    """Damage of the write-ahead log ``wal`` (None if it is sound or absent)."""
    for attempt in range(_WAL_RETRIES):
        try:
            damage = _damage_once(wal)
        except FileNotFoundError:
            return None  # checkpointed and removed by its last user meanwhile
        if damage is None:
            return None
        if attempt + 1 < _WAL_RETRIES:
            time.sleep(_WAL_RETRY_PAUSE_S)
    return damage
