"""Flow control for one LLM endpoint, shared by every thread that calls it.

A 429 means the endpoint is taking more than it can: every caller should slow down, not
only the one that was refused. So calls take a slot first, and the number of slots adapts
the way TCP's congestion window does (additive increase, multiplicative decrease): a 429
halves it (once per round of calls: the refusals of one burst count once) and pauses new
calls for the endpoint's Retry-After; each success grows it by about one per round, up to
the cap. Without 429s the cap is the only limit.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager


class Slot:
    """One call in flight; `refused(wait)` reports a 429 (wait: the endpoint's Retry-After)."""

    def __init__(self, flow: AdaptiveFlow, epoch: int):
        self._flow = flow
        self.epoch = epoch
        self.was_refused = False

    def refused(self, wait: float | None) -> None:
        self.was_refused = True
        self._flow._refused(self.epoch, wait)


class AdaptiveFlow:
    def __init__(self, cap: int = 64, *, floor: int = 1, max_pause: float = 30.0):
        self.cap = cap
        self.floor = floor
        self.max_pause = max_pause
        self.limit = float(cap)
        self.in_flight = 0
        self.refusals = 0
        self._epoch = 0  # bumped by each decrease; a call started before it cannot decrease again
        self._resume_at = 0.0
        self._cond = threading.Condition()

    @contextmanager
    def slot(self) -> Iterator[Slot]:
        with self._cond:
            while True:
                pause = self._resume_at - time.monotonic()
                if pause <= 0 and self.in_flight < int(self.limit):
                    break
                self._cond.wait(timeout=pause if pause > 0 else None)
            self.in_flight += 1
            slot = Slot(self, self._epoch)
        try:
            yield slot
        finally:
            with self._cond:
                self.in_flight -= 1
                if not slot.was_refused:
                    self.limit = min(float(self.cap), self.limit + 1.0 / max(self.limit, 1.0))
                self._cond.notify_all()

    def _refused(self, epoch: int, wait: float | None) -> None:
        with self._cond:
            self.refusals += 1
            if epoch == self._epoch:
                self._epoch += 1
                self.limit = max(float(self.floor), self.limit / 2)
            if wait:
                self._resume_at = max(self._resume_at, time.monotonic() + min(wait, self.max_pause))
