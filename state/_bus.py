"""In-process fan-out of changes and notices, never waiting for any subscriber.

``publish`` is synchronous: it appends to each matching subscriber's bounded queue and
sets an event; a subscriber that stopped reading can cost the publisher nothing more than
that. Overflow rule, per subscriber (aiohttp bounds what one client pins the same way):

* its queued ``Change``\\ s (and any queued ``Resync``) are dropped and replaced by one
  ``Resync`` per affected strategy, carrying the newest snapshot the bus has seen;
* queued ``Notice``\\ s are kept, in order, up to ``maxsize``; past that the oldest are
  dropped (they carry no state, so nothing can rebuild them);
* while a ``Resync`` for a strategy is still queued, new changes of that strategy are
  folded into it instead of queued, so a stalled reader holds one item per strategy.

``dropped`` counts changes and notices a subscriber never received; ``resyncs`` counts
overflows. Everything runs on the event loop's thread; ``publish`` is not thread-safe.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Collection

from state._records import BusItem, Change, Notice, Resync, Snapshot

__all__ = ["DEFAULT_MAXSIZE", "EventBus", "Subscription", "SubscriptionClosed"]

DEFAULT_MAXSIZE = 256
"""Items one subscriber may hold: 256 one-second cycles is four minutes of lag, far more
than a healthy socket client ever needs, while bounding what a dead one pins."""

CHANGE_KIND = "change"
"""The ``kinds`` name for changes (and the resyncs that replace them)."""
NOTICE_KIND = "notice"
"""The ``kinds`` name matching every notice; a notice's own ``kind`` matches it too."""


class SubscriptionClosed(Exception):
    """Raised by ``Subscription.get()`` once the subscription is closed and drained."""


class Subscription:
    """One subscriber's bounded queue. Read it with ``await get()`` or ``async for``."""

    def __init__(
        self,
        bus: EventBus,
        name: str,
        maxsize: int,
        strategy: str | None,
        kinds: Collection[str] | None,
    ) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.name = name
        self.maxsize = maxsize
        self.strategy = strategy
        self.kinds = frozenset(kinds) if kinds is not None else None
        self.dropped = 0
        self.resyncs = 0
        self._bus = bus
        self._queue: deque[BusItem] = deque()
        self._pending: dict[str, Resync] = {}
        self._ready = asyncio.Event()
        self._closed = False
        wants_all = self.kinds is None
        self._changes = wants_all or CHANGE_KIND in self.kinds  # type: ignore[operator]
        self._notices: frozenset[str] | None = (
            None if wants_all or NOTICE_KIND in self.kinds else self.kinds  # type: ignore[operator]
        )

    def __repr__(self) -> str:
        return f"<Subscription {self.name!r} queued={len(self._queue)} dropped={self.dropped}>"

    @property
    def closed(self) -> bool:
        return self._closed

    def qsize(self) -> int:
        return len(self._queue)

    def get_nowait(self) -> BusItem:
        """The next item; ``asyncio.QueueEmpty`` if there is none."""
        if not self._queue:
            if self._closed:
                raise SubscriptionClosed(f"subscription {self.name!r} is closed")
            raise asyncio.QueueEmpty
        item = self._queue.popleft()
        if type(item) is Resync and self._pending.get(item.strategy) is item:
            del self._pending[item.strategy]
        if not self._queue:
            self._ready.clear()
        return item

    async def get(self) -> BusItem:
        """Wait for the next item. Items queued before ``close()`` are still delivered."""
        while not self._queue:
            if self._closed:
                raise SubscriptionClosed(f"subscription {self.name!r} is closed")
            await self._ready.wait()
        return self.get_nowait()

    def close(self) -> None:
        """Stop receiving; wakes any waiting ``get()``. Idempotent."""
        if self._closed:
            return
        self._closed = True
        self._bus._remove(self)
        self._ready.set()

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> BusItem:
        try:
            return await self.get()
        except SubscriptionClosed:
            raise StopAsyncIteration from None

    # -- publisher side (called by EventBus.publish only) --

    def _offer(self, item: BusItem) -> None:
        kind = type(item)
        if kind is Change:
            if not self._changes or (
                self.strategy is not None and item.strategy != self.strategy
            ):
                return
            pending = self._pending.get(item.strategy)
            if pending is not None:
                pending.snapshot = item.snapshot  # type: ignore[union-attr]
                self.dropped += 1
                return
        elif kind is Notice:
            if self.strategy is not None and item.strategy != self.strategy:
                return
            if self._notices is not None and item.kind not in self._notices:  # type: ignore[union-attr]
                return
        queue = self._queue
        if len(queue) < self.maxsize:
            queue.append(item)
            if not self._ready.is_set():
                self._ready.set()
            return
        self._overflow(item)

    def _overflow(self, item: BusItem) -> None:
        self.resyncs += 1
        kept: deque[BusItem] = deque()
        affected: dict[str, None] = {}
        for queued in (*self._queue, item):
            if type(queued) is Notice:
                kept.append(queued)
                continue
            if type(queued) is Change:
                self.dropped += 1
            affected[queued.strategy] = None
        self._pending.clear()
        while len(kept) + len(affected) > self.maxsize and kept:
            kept.popleft()
            self.dropped += 1
        for strategy in affected:
            snapshot = self._bus.latest(strategy)
            if snapshot is None:  # pragma: no cover - a change always records its snapshot
                continue
            resync = Resync(strategy, snapshot)
            self._pending[strategy] = resync
            kept.append(resync)
        self._queue = kept
        if kept:
            self._ready.set()


class EventBus:
    """Fans every published item out to the matching subscriptions."""

    def __init__(self) -> None:
        self._subs: tuple[Subscription, ...] = ()
        self._latest: dict[str, Snapshot] = {}

    def subscribe(
        self,
        name: str,
        *,
        maxsize: int = DEFAULT_MAXSIZE,
        strategy: str | None = None,
        kinds: Collection[str] | None = None,
    ) -> Subscription:
        """A new subscription receiving items published from now on.

        Args:
            name: label for logs and ``repr``.
            maxsize: queue bound; see the module docstring for the overflow rule.
                Defaults to 256.
            strategy: only items of this strategy id. Defaults to all strategies.
            kinds: only these kinds: ``"change"`` (changes and resyncs), ``"notice"``
                (every notice) or notice kinds such as ``"alert"``, ``"command"``.
                Defaults to everything.
        """
        if isinstance(kinds, str):
            raise TypeError("kinds must be a collection of names, not a single string")
        sub = Subscription(self, name, maxsize, strategy, kinds)
        self._subs = (*self._subs, sub)
        return sub

    @property
    def subscriptions(self) -> tuple[Subscription, ...]:
        return self._subs

    def latest(self, strategy: str) -> Snapshot | None:
        """The newest snapshot published for ``strategy`` (what a resync carries)."""
        return self._latest.get(strategy)

    def remember(self, snapshot: Snapshot) -> None:
        """Record ``snapshot`` as the newest for its strategy unless a newer one is known."""
        known = self._latest.get(snapshot.strategy)
        if known is None or known.seq < snapshot.seq:
            self._latest[snapshot.strategy] = snapshot

    def publish(self, item: BusItem) -> None:
        """Hand ``item`` to every matching subscriber. Never awaits, never raises for them."""
        if type(item) is Change:
            self.remember(item.snapshot)
        for sub in self._subs:
            sub._offer(item)

    def _remove(self, sub: Subscription) -> None:
        self._subs = tuple(s for s in self._subs if s is not sub)
