"""Progress of a batch on stderr: one updating line on a terminal, plain lines otherwise.

Reused results count towards the done items but not towards the rate, so
the ETA of a resumed run reflects the photos that still need analysing; the
rate is measured from the first analysed item on, so worker start-up does
not skew it.
"""

from __future__ import annotations

import sys
import time
from typing import TextIO


#: Shortest span (s) from the first analysed item over which the steady rate is measured.
MIN_RATE_SPAN_S = 2.0


class Progress:
    """Report ``done/total``, items per second and the time left.

    Parameters
    ----------
    total : int
        Items to go through.
    label : str
        What the lines start with (``"lipsym batch"``, ``"lipsym import"``).
    stream : text stream, optional
        Default ``sys.stderr``.
    quiet : bool
        No progress at all (error lines from :meth:`message` are still printed).
    interval_s : float
        When ``stream`` is not a terminal: seconds between plain lines.
    clock : callable
        Seconds, monotonic (tests pass a fake).
    """

    def __init__(self, total: int, *, label: str = "lipsym batch", stream: TextIO | None = None,
                 quiet: bool = False, interval_s: float = 10.0, clock=time.monotonic):
        self.total = total
        self.label = label
        self.stream = stream if stream is not None else sys.stderr
        self.quiet = quiet
        self.interval_s = interval_s
        self.clock = clock
        self.tty = bool(getattr(self.stream, "isatty", lambda: False)())
        self.start = clock()
        self.done = self.computed = self.reused = self.failed = 0
        self._last_line = self.start
        self._first_computed: float | None = None
        self._line_shown = False

    def update(self, *, computed: bool, ok: bool, saved: bool = True) -> None:
        """Count one finished item (``computed`` in this run; else reused if ``saved``)."""
        self.done += 1
        self.computed += computed
        if computed and self._first_computed is None:
            self._first_computed = self.clock()
        self.reused += not computed and saved
        self.failed += not ok
        if self.quiet:
            return
        now = self.clock()
        if self.tty:
            self._show(self.status(now), end="")
        elif now - self._last_line >= self.interval_s or self.done == self.total:
            self._last_line = now
            self.stream.write(self.status(now) + "\n")
            self.stream.flush()

    def message(self, text: str) -> None:
        """Print a line (an error) without garbling the progress line."""
        if self.tty and self._line_shown:
            self.stream.write("\r\033[K")
            self._line_shown = False
        self.stream.write(text + "\n")
        self.stream.flush()

    def finish(self) -> None:
        """End the updating line."""
        if not self.quiet and self.tty and self._line_shown:
            self.stream.write("\n")
            self.stream.flush()
            self._line_shown = False

    def status(self, now: float | None = None) -> str:
        """``"12/340 items, 3.1 photos/s... "`` with the rate and time left."""
        now = self.clock() if now is None else now
        if self.computed >= 2 and now - self._first_computed >= MIN_RATE_SPAN_S:
            rate = (self.computed - 1) / (now - self._first_computed)
        else:
            # Parallel workers finish items in bursts: two items microseconds apart
            # would read as tens of thousands a second. Until the span is long
            # enough, the rate counts from the start (start-up included: slower, not absurd).
            rate = self.computed / max(now - self.start, 1e-9)
        left = self.total - self.done
        eta = "--:--" if rate <= 0 else _duration(left / rate)
        parts = [f"{self.done}/{self.total} items", f"{rate:.2f} items/s", f"ETA {eta}"]
        if self.reused:
            parts.append(f"{self.reused} reused")
        if self.failed:
            parts.append(f"{self.failed} with errors")
        return f"{self.label}: " + ", ".join(parts)

    def _show(self, text: str, end: str) -> None:
        self.stream.write("\r\033[K" + text + end)
        self.stream.flush()
        self._line_shown = True


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
