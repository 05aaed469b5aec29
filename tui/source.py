"""The dashboard's only way to the strategy: an ``ipc.Subscription`` and its client.

The subscription applies patches, re-subscribes on gaps and reconnects with backoff on
its own; this class adds what the header needs to say about it (connecting, live,
disconnected and since when) and the requests the keys send (ping, close) over the same
connection.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import Any

from ipc import Client, ConnectionLost, Subscription

__all__ = ["Link", "LiveSource"]


class Link:
    """Connection states as the header shows them."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"


class LiveSource:
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
        self.path = path
        self.subscription = Subscription(path, timeout=timeout, backoff=backoff)
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

    @property
    def hello(self) -> dict[str, Any]:
        client = self.subscription.client
        return client.hello if client is not None else {}

    @property
    def read_only(self) -> bool:
        """The server refuses control ops (it was started with ``--read-only``)."""
        return bool(self.hello.get("read_only"))

    @property
    def docs(self) -> dict[str, dict[str, Any]]:
        """The current document of each strategy, kept by the subscription."""
        return self.subscription.docs

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
        if link == self._link:
            return False
        self._link = link
        self._since = self.monotonic()
        return True

    def fail(self, message: str) -> None:
        """The subscription gave up for good (refused, unknown strategy)."""
        self.error = message
        self._link = Link.FAILED
        self._since = self.monotonic()

    def __aiter__(self) -> Subscription:
        return self.subscription

    async def ping(self) -> tuple[float, dict[str, Any]]:
        """Round trip in seconds and the server's reply."""
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

    async def close(self) -> None:
        await self.subscription.close()

    def _client(self) -> Client:
        client = self.subscription.client
        if client is None or not client.connected:
            raise ConnectionLost("not connected to the strategy; reconnecting", reason="lost")
        return client
