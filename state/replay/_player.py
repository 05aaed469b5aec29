"""ReplayPlayer: stored snapshots, loaded into live states at the pace they were taken.

The replay clock is market time: it starts at ``since`` (or the first row's time) and
runs at ``speed`` market seconds per wall second; a row is loaded when the clock reaches
its ``taken_at``. The clock is anchored once per pass and never re-anchored per row, so
sleep overshoot does not accumulate into a slower replay. Stored seqs are served as they
are (``DashboardState.load``), jumps included; where they go backwards (a strategy
restarted on the same database, or ``loop`` starting over) later rows are shifted up so a
client never sees a seq decrease within one server session.

:meth:`ReplayPlayer.pause` freezes the clock and :meth:`ReplayPlayer.resume` re-anchors it
where it stopped; :meth:`ReplayPlayer.seek` loads the state in force at another instant
(the latest row at or before it, per strategy) and pacing carries on from there. A seek
backwards serves older rows, so it goes through the same seq shift.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any, Final

import orjson

from state._bus import EventBus
from state._json import iso_utc
from state._registry import StateRegistry
from state._state import DashboardState
from state.replay._source import SnapshotSource, StoredSnapshot

__all__ = ["ReplayPlayer"]

log = logging.getLogger("dash.state.replay")

# Waits shorter than this are not worth a timer: the row is served now.
_DUE_SLACK_S: Final = 0.0005
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


class ReplayPlayer:
    """Plays a :class:`SnapshotSource` into one :class:`DashboardState` per strategy.

    Args:
        source: where the stored rows come from.
        bus: where the states publish. Defaults to a new bus.
        speed: market seconds per wall second; ``None`` plays as fast as the loop
            allows. Defaults to 1.0 (the pace they were taken at).
        loop: start over at the end instead of holding the last state. Defaults to False.
        since: replay from this market time (the state at that instant first).
            Defaults to the first row.
        until: replay rows up to this market time. Defaults to the last row.
        monotonic: the wall clock pacing follows. Defaults to ``time.monotonic``.
    """

    def __init__(
        self,
        source: SnapshotSource,
        *,
        bus: EventBus | None = None,
        speed: float | None = 1.0,
        loop: bool = False,
        since: datetime | None = None,
        until: datetime | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed is not None and not speed > 0:
            raise ValueError(f"speed must be positive (None: as fast as possible), got {speed}")
        if since is not None and until is not None and until < since:
            raise ValueError("until must not be before since")
        self.source = source
        self.bus = bus if bus is not None else EventBus()
        self.speed = speed
        self.loop = loop
        self.since = since
        self.until = until
        self.registry = StateRegistry()
        self.served = 0
        self.passes = 0
        self.ended = False
        self.last: StoredSnapshot | None = None
        self._monotonic = monotonic
        self._market = since or _EPOCH
        self._wall = monotonic()
        self._running = False
        self._paused = False
        self._start: datetime | None = since  # the timeline's start, once known
        self._rows: Iterator[StoredSnapshot] | None = None
        self._pending: StoredSnapshot | None = None
        self._offsets: dict[str, int] = {}
        self._current: dict[str, StoredSnapshot] = {}  # the row each state holds now
        self._blank: dict[str, dict[str, Any]] = {}  # each state's placeholder document
        # Held while rows are served and the row iterator moves, so a seek never
        # interleaves with the run loop serving a row.
        self._lock = asyncio.Lock()
        self._wake = asyncio.Event()  # set by pause/resume/seek: the run loop re-plans
        for strategy in source.strategies():
            self._state(strategy)

    @property
    def paused(self) -> bool:
        """True while :meth:`pause` holds the clock."""
        return self._paused

    def clock(self) -> datetime:
        """The replay's market time: where the stored timeline is being played."""
        if not self._running or self._paused or self.speed is None:
            return self._market
        elapsed = (self._monotonic() - self._wall) * self.speed
        return self._market + timedelta(seconds=elapsed)

    def info(self) -> dict[str, Any]:
        """What ``ping`` reports about the replay (JSON-ready): the replay clock as every
        strategy's ``clock``, and the replay's progress."""
        clock = iso_utc(self.clock())
        return {
            "clock": dict.fromkeys(self.registry.ids(), clock),
            "replay": {
                "clock": clock,
                "source": self.source.describe(),
                "speed": "max" if self.speed is None else self.speed,
                "loop": self.loop,
                "paused": self._paused,
                "pass": self.passes + 1,
                "served": self.served,
                "ended": self.ended,
                "from": None if self.since is None else iso_utc(self.since),
                "to": None if self.until is None else iso_utc(self.until),
                "taken_at": None if self.last is None else iso_utc(self.last.taken_at),
            },
        }

    def state(self) -> dict[str, Any]:
        """What the ``replay`` op answers (JSON-ready): the clock, whether it is paused,
        the speed, the range asked for (``from``/``to``, None when open) and ``ended``."""
        return {
            "clock": iso_utc(self.clock()),
            "paused": self._paused,
            "speed": "max" if self.speed is None else self.speed,
            "from": None if self.since is None else iso_utc(self.since),
            "to": None if self.until is None else iso_utc(self.until),
            "ended": self.ended,
        }

    def pause(self) -> None:
        """Freeze the clock where it is; no row is served until :meth:`resume`.
        Pausing a paused replay changes nothing."""
        if not self._paused:
            self._market = self.clock()
            self._paused = True
            self._wake.set()

    def resume(self) -> None:
        """Start the clock again from where it was frozen, at ``speed``. Resuming a
        replay that is not paused changes nothing."""
        if self._paused:
            self._paused = False
            self._anchor(self._market)
            self._wake.set()

    async def seek(self, when: datetime) -> datetime:
        """Load the state in force at ``when`` (per strategy, the latest row taken at or
        before it) and play on from there; a paused replay stays paused there.

        ``when`` is kept within the replay's range: not before ``since`` (or the first
        row) nor after ``until``. Strategies with no row yet at that instant get their
        placeholder document back. Returns the instant sought.
        """
        async with self._lock:
            if self._start is not None and when < self._start:
                when = self._start
            if self.until is not None and when > self.until:
                when = self.until
            served = await self._load_at(when, seeking=True)
            for strategy in list(self._current):
                if strategy not in served:
                    # Nothing stored yet at that instant: back to the placeholder.
                    del self._current[strategy]
                    state = self._state(strategy)
                    await state.load(self._blank[strategy], state.seq + 1, reason="seek")
            self.ended = False
            if self._pending is None and not self.loop:
                self._end()
        self._wake.set()
        return when

    async def prime(self) -> None:
        """Load the state at the start (the rows at or before ``since``, or the first
        row) so a server started next has something to serve. ``run`` calls it if needed."""
        async with self._lock:
            await self._load_at(self.since)

    async def _load_at(self, when: datetime | None, *, seeking: bool = False) -> set[str]:
        """Start the rows over at ``when`` (None: the first row), serve the ones at or
        before it and anchor the clock there. Returns the strategies that have a row.
        ``seeking`` skips a row the state already holds (a seek within one row)."""
        self._close_rows()
        self._rows = self.source.rows(when, self.until)
        self._pending = next(self._rows, None)
        start = when
        if start is None:
            start = self._pending.taken_at if self._pending is not None else self._market
        if self._start is None:
            self._start = start
        self._running = True
        served = set()
        while self._pending is not None and self._pending.taken_at <= start:
            row = self._pending
            served.add(row.strategy)
            if seeking and self._current.get(row.strategy) == row:
                self.last = row
            else:
                await self._serve(row)
            self._pending = next(self._rows, None)
        self._anchor(start)  # after serving: a row older than the last re-anchors
        return served

    async def run(self, stop: asyncio.Event | None = None) -> None:
        """Play until ``stop`` is set. At the end of the rows the last state is held
        (``ended``) until ``stop``, unless ``loop`` starts another pass."""
        if self._rows is None:
            await self.prime()
        stop = stop if stop is not None else asyncio.Event()
        try:
            await self._play(stop)
        finally:
            self._close_rows()

    async def _play(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            row = self._pending
            if self._paused:
                await self._wait(stop, None)
                continue
            if row is None:
                if not self.loop or self.served == 0:
                    if not self.ended:
                        self._end()
                    await self._wait(stop, None)  # until stopped, or a seek
                    continue
                self.passes += 1
                await self.prime()
                continue
            if self.speed is not None:
                delay = (row.taken_at - self.clock()).total_seconds() / self.speed
                if delay > _DUE_SLACK_S:
                    await self._wait(stop, delay)
                    continue
            else:
                await asyncio.sleep(0)  # let the server write between rows
            async with self._lock:
                if row is not self._pending or self._paused:
                    continue  # a seek or a pause came first
                await self._serve(row)
                assert self._rows is not None
                self._pending = next(self._rows, None)

    def _close_rows(self) -> None:
        """Let go of the rows being read (a database source holds a connection open, and
        must close it in this thread, not wherever the garbage collector runs)."""
        close = getattr(self._rows, "close", None)
        if callable(close):
            close()

    async def _wait(self, stop: asyncio.Event, delay: float | None) -> None:
        """Sleep until ``stop``, a pause/resume/seek, or ``delay`` seconds."""
        waits = {asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())}
        try:
            await asyncio.wait(waits, timeout=delay, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()
        self._wake.clear()

    def _anchor(self, market: datetime) -> None:
        self._market = market
        self._wall = self._monotonic()

    def _end(self) -> None:
        self._market = self.last.taken_at if self.last is not None else self.clock()
        self._running = False
        self.ended = True
        log.info("replay of %s ended after %d rows", self.source.describe(), self.served)

    def _state(self, strategy: str) -> DashboardState:
        state = self.registry.get(strategy)
        if state is None:
            # A placeholder until the strategy's first row: nothing was stored before it.
            state = DashboardState(strategy, mode="replay", status="waiting", bus=self.bus,
                                   now=self.clock)
            self._blank[strategy] = dict(state.snapshot().doc)
            self.registry.add(state)
        return state

    async def _serve(self, row: StoredSnapshot) -> None:
        try:
            doc = orjson.loads(row.payload)
        except orjson.JSONDecodeError as exc:
            log.warning("skipping %s seq %d: payload is not JSON (%s)", row.strategy, row.seq, exc)
            return
        if not isinstance(doc, dict):
            log.warning("skipping %s seq %d: payload is not a JSON object", row.strategy, row.seq)
            return
        state = self._state(row.strategy)
        seq = row.seq + self._offsets.get(row.strategy, 0)
        if seq <= state.seq:
            self._offsets[row.strategy] = state.seq + 1 - row.seq
            seq = state.seq + 1
        try:
            await state.load(doc, seq, reason=row.reason)
        except (ValueError, TypeError) as exc:
            log.warning("skipping %s seq %d: %s", row.strategy, row.seq, exc)
            return
        self._current[row.strategy] = row
        if self.speed is None or (self.last is not None and row.taken_at < self.last.taken_at):
            # As fast as possible, the clock is the row's time; a row older than the last
            # (another run on the same database) restarts the clock there.
            self._anchor(row.taken_at)
        self.last = row
        self.served += 1
