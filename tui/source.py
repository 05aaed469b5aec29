"""The dashboard's only way to the strategies: ``ipc.Subscription``\\ s and their clients.

The subscription applies patches, re-subscribes on gaps and reconnects with backoff on
its own; :class:`LiveSource` adds what the header needs to say about it (connecting, live,
disconnected and since when) and the requests the keys send (ping, close) over the same
connection. :class:`MultiSource` merges one :class:`LiveSource` per process behind the
same interface, so the app does not know whether it follows one socket or several; with a
:class:`Discovery` it also follows processes as they start and stop.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Callable, Sequence
from pathlib import Path
from typing import Any, Final, NamedTuple

from ipc import Client, ClientError, ConnectionLost, Subscription, Update

__all__ = ["Discovery", "Link", "LiveSource", "MultiSource", "Source", "open_source"]

# Updates read ahead from all processes together: a busy app pauses the readers (and so
# the servers' queues) instead of buffering without bound.
MAX_QUEUED: Final = 256


class Link:
    """Connection states as the header shows them."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class Discovery(NamedTuple):
    """How a :class:`MultiSource` keeps the set of processes it follows current.

    ``sockets`` is given the sockets followed now and returns those to follow from now
    on (``dash tui`` passes :func:`cli._target.rescan`); it blocks, so it runs in a
    thread. It is called every ``every`` seconds.
    """

    sockets: Callable[[list[Path]], list[Path]]
    every: float


class _Linked:
    """The link state the header shows, and since when; :meth:`poll` keeps it current.

    Args:
        monotonic: the clock ages are measured with.
    """

    def __init__(self, monotonic: Callable[[], float]) -> None:
        self.monotonic = monotonic
        self.error: str = ""
        self._link = Link.CONNECTING
        self._since = monotonic()

    @property
    def link(self) -> str:
        """The current state; :meth:`poll` keeps it (and :attr:`since`) current."""
        return self._link

    @property
    def since(self) -> float:
        """``monotonic()`` when :attr:`link` last changed."""
        return self._since

    def fail(self, message: str) -> None:
        """The subscription gave up for good (refused, unknown strategy)."""
        self.error = message
        self._move(Link.FAILED)

    def _move(self, link: str) -> bool:
        """Set :attr:`link`; True if it changed."""
        if link == self._link:
            return False
        self._link = link
        self._since = self.monotonic()
        return True


class LiveSource(_Linked):
    """Updates from a dash server, and requests to it.

    Args:
        path: the server's socket.
        timeout: seconds for connecting and each request. Defaults to 5.0.
        backoff: first and longest wait between reconnect attempts. Defaults to
            (0.2, 3.0): an operator watching a restart wants it back quickly.
        monotonic: the clock ages are measured with. Defaults to ``time.monotonic``.
    """

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        timeout: float = 5.0,
        backoff: tuple[float, float] = (0.2, 3.0),
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(monotonic)
        self.path = path
        self.subscription = Subscription(path, timeout=timeout, backoff=backoff)

    @property
    def hello(self) -> dict[str, Any]:
        client = self.subscription.client
        return client.hello if client is not None else {}

    @property
    def read_only(self) -> bool:
        """The server refuses control ops (it was started with ``--read-only``)."""
        return bool(self.hello.get("read_only"))

    @property
    def replay(self) -> bool:
        """The server is a replay of stored snapshots (``dash replay``)."""
        return self.hello.get("mode") == "replay"

    @property
    def docs(self) -> dict[str, dict[str, Any]]:
        """The current document of each strategy, kept by the subscription."""
        return self.subscription.docs

    @property
    def links(self) -> tuple[int, int]:
        """(processes connected, processes followed): here (1, 1) or (0, 1)."""
        return int(self._link == Link.CONNECTED), 1

    def strategies(self) -> list[str]:
        """Strategies the server announced, plus any we hold a document of."""
        announced = self.hello.get("strategies")
        names = list(announced) if isinstance(announced, list) else []
        return sorted({*names, *self.docs})

    def poll(self) -> bool:
        """Refresh :attr:`link` from the client's state; True if it changed."""
        if self._link == Link.FAILED:
            return False
        client = self.subscription.client
        if client is not None and client.connected:
            link = Link.CONNECTED
        elif self.subscription.connects:
            link = Link.DISCONNECTED
        else:
            link = Link.CONNECTING
        return self._move(link)

    def __aiter__(self) -> Subscription:
        return self.subscription

    async def ping(self, strategy: str | None = None) -> tuple[float, dict[str, Any]]:
        """Round trip in seconds and the server's reply (``strategy`` names the process
        to ask when there are several; one socket has one)."""
        client = self._client()
        started = time.perf_counter()
        result = await client.ping()
        return time.perf_counter() - started, result

    async def close_position(
        self, strategy: str, position: str, idempotency_key: str
    ) -> dict[str, Any]:
        """The ticket of a ``close_position`` command (its outcome comes as an event)."""
        return await self._client().close_position(
            position, reason="operator", idempotency_key=idempotency_key, strategy=strategy
        )

    async def replay_command(
        self, action: str, *, to: str | None = None, by: float | None = None
    ) -> dict[str, Any]:
        """The replay's state after ``action`` (``pause``, ``resume``, ``seek``)."""
        return await self._client().replay(action, to=to, by=by)

    async def close(self) -> None:
        await self.subscription.close()

    def _client(self) -> Client:
        client = self.subscription.client
        if client is None or not client.connected:
            raise ConnectionLost("not connected to the strategy; reconnecting", reason="lost")
        return client


class MultiSource(_Linked):
    """Updates from several dash servers (one per process), and requests to the one that
    serves the strategy concerned.

    A strategy id must be unique across processes (as ``dash snapshot --all`` requires);
    if two serve one, the first socket followed wins. A process that stops keeps its
    strategies listed with their last documents; the link then reads "disconnected" and
    :attr:`links` counts it out until it is back. With ``discovery``, while iterated, a
    socket it no longer lists is dropped with its strategies and a new one is followed.

    Args:
        paths: the servers' sockets.
        timeout, backoff, monotonic: as :class:`LiveSource`, for each of them.
        discovery: how to find processes that start and stop. Defaults to none: the
            sockets given are followed, and only they.
    """

    def __init__(
        self,
        paths: Sequence[str | os.PathLike[str]],
        *,
        timeout: float = 5.0,
        backoff: tuple[float, float] = (0.2, 3.0),
        monotonic: Callable[[], float] = time.monotonic,
        discovery: Discovery | None = None,
    ) -> None:
        super().__init__(monotonic)
        self.discovery = discovery
        self._timeout = timeout
        self._backoff = backoff
        self.sources = [self._source(path) for path in paths]

    @property
    def links(self) -> tuple[int, int]:
        return sum(s.link == Link.CONNECTED for s in self.sources), len(self.sources)

    @property
    def hello(self) -> dict[str, Any]:
        """What the processes said together: their strategies, and read-only if all are."""
        return {"strategies": self.strategies(), "read_only": self.read_only}

    @property
    def read_only(self) -> bool:
        """Every server refuses control ops (one that does alone answers ``forbidden``)."""
        return bool(self.sources) and all(s.read_only for s in self.sources)

    @property
    def replay(self) -> bool:
        """Replay controls apply to one replay only; several processes are never one."""
        return False

    @property
    def docs(self) -> dict[str, dict[str, Any]]:
        docs: dict[str, dict[str, Any]] = {}
        for source in reversed(self.sources):
            docs.update(source.docs)
        return docs

    def strategies(self) -> list[str]:
        return sorted({name for s in self.sources for name in s.strategies()})

    def poll(self) -> bool:
        """Connected when every process is; failed when every one has failed (their
        errors in :attr:`error`); connecting while one has never answered; disconnected
        otherwise (as with none at all)."""
        if self._link == Link.FAILED and self.discovery is None:
            return False  # for good: nothing else will come
        for source in self.sources:
            source.poll()
        links = self._link_states()
        if links == {Link.FAILED}:
            self.error = "; ".join(f"{s.path}: {s.error}" for s in self.sources)
            return self._move(Link.FAILED)
        self.error = ""  # with discovery, a process has come since they all failed
        if links == {Link.CONNECTED}:
            link = Link.CONNECTED
        elif Link.CONNECTING in links:
            link = Link.CONNECTING
        else:
            link = Link.DISCONNECTED
        return self._move(link)

    async def __aiter__(self) -> AsyncIterator[Update]:
        """Every process's updates as they come. One refusing for good is marked failed
        and the others go on; without discovery, the last such error is raised once all
        have failed (with it, a process may still start)."""
        queue: asyncio.Queue[tuple[LiveSource, Update | ClientError | None]]
        queue = asyncio.Queue(MAX_QUEUED)
        pumps: dict[LiveSource, asyncio.Task[None]] = {}

        async def pump(source: LiveSource) -> None:
            try:
                async for update in source:
                    if self._owner(update.strategy) is source:
                        await queue.put((source, update))
            except ClientError as exc:
                source.fail(str(exc))
                await queue.put((source, exc))
            else:
                await queue.put((source, None))

        def start(source: LiveSource) -> None:
            pumps[source] = asyncio.create_task(pump(source), name=f"tui-{source.path}")

        async def rediscover(discovery: Discovery) -> None:
            while True:
                await asyncio.sleep(discovery.every)
                for source in await self._rediscover(discovery, start):
                    task = pumps.pop(source, None)
                    if task is not None:
                        task.cancel()
                        await asyncio.gather(task, return_exceptions=True)
                    await source.close()

        for source in self.sources:
            start(source)
        discovery = self.discovery
        rescans = [] if discovery is None else [asyncio.create_task(rediscover(discovery))]
        try:
            while pumps or rescans:
                source, item = await queue.get()
                if source not in pumps:
                    continue  # dropped since: its strategies are gone
                if isinstance(item, Update):
                    yield item
                    continue
                del pumps[source]  # this one has ended: closed, or failed
                if item is not None and not rescans and self._link_states() == {Link.FAILED}:
                    raise item
        finally:
            tasks = [*rescans, *pumps.values()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _rediscover(
        self, discovery: Discovery, start: Callable[[LiveSource], None]
    ) -> list[LiveSource]:
        """Follow the sockets ``discovery`` lists now: start the new ones, and return
        those dropped (no longer in :attr:`sources`) for the caller to stop."""
        known = {Path(s.path): s for s in self.sources}
        listed = await asyncio.to_thread(discovery.sockets, list(known))
        gone = [source for path, source in known.items() if path not in listed]
        self.sources = [s for s in self.sources if s not in gone]
        for path in listed:
            if path not in known:
                source = self._source(path)
                self.sources.append(source)
                start(source)
        return gone

    async def ping(self, strategy: str | None = None) -> tuple[float, dict[str, Any]]:
        """Round trip to the process serving ``strategy`` (the first one without)."""
        source = self._owner(strategy) if strategy is not None else None
        source = source or next(iter(self.sources), None)
        if source is None:
            raise ConnectionLost("no process is followed now", reason="lost")
        return await source.ping()

    async def close_position(
        self, strategy: str, position: str, idempotency_key: str
    ) -> dict[str, Any]:
        """Sent to the process that serves ``strategy``."""
        source = self._owner(strategy)
        if source is None:
            raise ConnectionLost(f"no process serves {strategy!r} now", reason="lost")
        return await source.close_position(strategy, position, idempotency_key)

    async def replay_command(
        self, action: str, *, to: str | None = None, by: float | None = None
    ) -> dict[str, Any]:
        raise ClientError("replay controls need one replay server, not several processes")

    async def close(self) -> None:
        await asyncio.gather(*(source.close() for source in self.sources))

    def _owner(self, strategy: str) -> LiveSource | None:
        return next((s for s in self.sources if strategy in s.strategies()), None)

    def _source(self, path: str | os.PathLike[str]) -> LiveSource:
        return LiveSource(
            path, timeout=self._timeout, backoff=self._backoff, monotonic=self.monotonic
        )

    def _link_states(self) -> set[str]:
        return {s.link for s in self.sources}


Source = LiveSource | MultiSource


def open_source(
    paths: Sequence[str | os.PathLike[str]],
    *,
    timeout: float = 5.0,
    backoff: tuple[float, float] = (0.2, 3.0),
    monotonic: Callable[[], float] = time.monotonic,
    discovery: Discovery | None = None,
) -> Source:
    """A :class:`LiveSource` for one socket, a :class:`MultiSource` for several or to
    follow processes as they come and go (``discovery``)."""
    if len(paths) == 1 and discovery is None:
        return LiveSource(paths[0], timeout=timeout, backoff=backoff, monotonic=monotonic)
    return MultiSource(
        paths, timeout=timeout, backoff=backoff, monotonic=monotonic, discovery=discovery
    )
