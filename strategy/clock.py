"""One injectable clock for the strategy, the feeds, the exchanges and replay.

Everything that asks "what time is it in the market?" or "wait until later" goes through a
:class:`Clock`, so a run can go faster than real time (``--speed 3600``), as fast as the CPU
allows (``--speed max``, for backtests) and tests are deterministic (:class:`ManualClock`).
Market time is always an aware UTC ``datetime``; wall time never leaks into accounting.
"""

from __future__ import annotations

import asyncio
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta

__all__ = ["Clock", "ManualClock", "RealClock", "ScaledClock", "clock_for_speed"]


class Clock(ABC):
    """Market time plus a way to wait for it to pass."""

    @abstractmethod
    def now(self) -> datetime:
        """Current market time, aware UTC."""

    @abstractmethod
    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of market time pass."""

    @property
    def speed(self) -> float | None:
        """Market seconds per wall second; ``None`` means as fast as possible."""
        return 1.0

    def now_ms(self) -> int:
        return int(self.now().timestamp() * 1000)


class RealClock(Clock):
    """Wall-clock time; what a live deployment uses."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


class ScaledClock(Clock):
    """Market time that runs ``speed`` times faster than the wall clock from ``start``.

    Market time is derived from the monotonic clock, so it never jumps backwards even if
    the system clock is adjusted during a demo.
    """

    def __init__(self, start: datetime, speed: float) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._start = start.astimezone(UTC)
        self._speed = float(speed)
        self._t0 = time.monotonic()

    @property
    def speed(self) -> float:
        return self._speed

    def now(self) -> datetime:
        elapsed = (time.monotonic() - self._t0) * self._speed
        return self._start + timedelta(seconds=elapsed)

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds) / self._speed)


class ManualClock(Clock):
    """Market time that only moves when someone sleeps or calls :meth:`advance`.

    ``--speed max`` uses it: every ``sleep`` advances time instantly and yields once to
    the event loop so other tasks (the DB writer, the socket server) still run. Tests
    use it for exact, repeatable timing.
    """

    def __init__(self, start: datetime) -> None:
        if start.tzinfo is None:
            raise ValueError("start must be timezone-aware")
        self._now = start.astimezone(UTC)

    @property
    def speed(self) -> float | None:
        return None

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += timedelta(seconds=seconds)

    def set(self, when: datetime) -> None:
        when = when.astimezone(UTC)
        if when < self._now:
            raise ValueError("time only moves forward")
        self._now = when

    async def sleep(self, seconds: float) -> None:
        self.advance(max(0.0, seconds))
        await asyncio.sleep(0)


def clock_for_speed(speed: str | float | None, start: datetime | None) -> Clock:
    """Build the clock ``dash run --speed`` asks for.

    Args:
        speed: ``None``/``1``/``"realtime"`` for wall time (with ``start`` it is a replay at
            1x), a positive number for a scaled replay, ``"max"`` for a backtest.
        start: market time the run starts at; ``None`` means now.
    """
    if speed in (None, "realtime") and start is None:
        return RealClock()
    if speed == "max":
        return ManualClock(start or datetime.now(UTC))
    factor = 1.0 if speed in (None, "realtime") else float(speed)
    return ScaledClock(start or datetime.now(UTC), factor)
