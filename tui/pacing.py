"""How often the dashboard draws: at most every ``min_s``, slower when drawing costs.

A 200-row table re-renders its visible rows on any change, so the cost of a live view
is frames, not patches. The pacer measures this process's CPU time over windows of about
a second and stretches the interval between frames when the share of a core goes over
``budget`` (down to one frame per ``max_s``), and shrinks it again when there is room.
Updates in between are merged, never dropped: a slower frame rate shows the same data,
a little later.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Final

__all__ = ["FramePacer"]

# Length of the window the CPU share is measured over.
WINDOW_S: Final = 1.0


class FramePacer:
    """The interval between frames, adapted to a CPU budget.

    Args:
        min_s: the shortest interval (the highest frame rate). Defaults to 0.1.
        max_s: the longest interval. Defaults to 1.0.
        budget: share of one core the drawing may take. Defaults to 0.35.
        cpu: this process's CPU seconds. Defaults to ``time.process_time``.
        clock: wall seconds. Defaults to ``time.monotonic``.
    """

    def __init__(
        self,
        min_s: float = 0.1,
        max_s: float = 1.0,
        budget: float = 0.35,
        *,
        cpu: Callable[[], float] = time.process_time,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 < min_s <= max_s or budget <= 0:
            raise ValueError("need 0 < min_s <= max_s and a positive budget")
        self.min_s = min_s
        self.max_s = max_s
        self.budget = budget
        self.interval = min_s
        self.share = 0.0
        self._cpu = cpu
        self._clock = clock
        self._window = (clock(), cpu())

    def frame(self) -> float:
        """Note a frame; returns the interval to wait before the next one."""
        wall, used = self._clock(), self._cpu()
        started, used_before = self._window
        elapsed = wall - started
        if elapsed >= WINDOW_S:
            self.share = (used - used_before) / elapsed
            # CPU is about proportional to the frame rate: scale the interval by the
            # overshoot, at most doubling or halving it per window.
            factor = min(max(self.share / self.budget, 0.5), 2.0)
            self.interval = min(max(self.interval * factor, self.min_s), self.max_s)
            self._window = (wall, used)
        return self.interval
