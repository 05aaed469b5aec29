"""The frame pacer, with hand-driven clocks."""

from __future__ import annotations

import pytest

from tui.pacing import FramePacer


class Clocks:
    def __init__(self) -> None:
        self.wall = 0.0
        self.cpu = 0.0

    def run(self, seconds: float, share: float) -> None:
        self.wall += seconds
        self.cpu += seconds * share


def pacer(clocks: Clocks, **options: float) -> FramePacer:
    return FramePacer(cpu=lambda: clocks.cpu, clock=lambda: clocks.wall, **options)


def test_stays_at_the_fastest_rate_within_budget():
    clocks = Clocks()
    frames = pacer(clocks, min_s=0.1, budget=0.35)
    for _ in range(30):
        clocks.run(0.1, 0.2)
        assert frames.frame() == 0.1


def test_slows_down_when_drawing_costs_too_much_then_recovers():
    clocks = Clocks()
    frames = pacer(clocks, min_s=0.1, max_s=1.0, budget=0.3)
    for _ in range(15):
        clocks.run(0.1, 0.6)
        frames.frame()
    assert frames.interval == pytest.approx(0.2)  # at most doubled per window
    assert frames.share == pytest.approx(0.6)
    for _ in range(40):
        clocks.run(frames.interval, 0.6 * 0.1 / frames.interval)  # cost per frame fixed
        frames.frame()
    assert frames.interval == pytest.approx(0.2, rel=0.05)
    for _ in range(40):
        clocks.run(frames.interval, 0.05)
        frames.frame()
    assert frames.interval == 0.1


def test_never_slower_than_max():
    clocks = Clocks()
    frames = pacer(clocks, min_s=0.1, max_s=0.5, budget=0.1)
    for _ in range(50):
        clocks.run(frames.interval, 1.0)
        frames.frame()
    assert frames.interval == 0.5


def test_rejects_nonsense():
    with pytest.raises(ValueError):
        FramePacer(min_s=0.5, max_s=0.1)
    with pytest.raises(ValueError):
        FramePacer(budget=0)
