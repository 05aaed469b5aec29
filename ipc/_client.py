"""The asyncio client: requests by id, and a subscription that keeps documents current.

:class:`Client` is one connection: it reads lines in its own task, resolves each reply's
future by ``id`` and queues events (bounded: a consumer that stops reading stops the
reader, and the server sees a slow consumer, as intended). :class:`Subscription` sits on
top and owns the reconnect loop: it applies patches, checks that each patch's ``prev`` is
the seq it holds, and re-subscribes on a gap, takes a ``resync`` snapshot as a fresh
start, and reconnects with backoff when the socket goes away (a new session starts from
snapshots too).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
from collections import deque
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from ipc._exceptions import (
    ClientError,
    ConnectFailed,
    ConnectionLost,
    ProtocolViolation,
    RequestFailed,
    RequestTimeout,
)
from ipc._paths import discover_socket
from ipc._protocol import HELLO_TIMEOUT_S, PROTOCOL_VERSION, STREAM_LIMIT
from state import apply_merge_patch

__all__ = ["Client", "Subscription", "Update", "subscribe"]

log = logging.getLogger("dash.ipc.client")

_EOF: Any = object()


class Client:
    """One connection to a dash server.

    Args:
        path: the server's socket. Defaults to the only socket in the runtime dir.
        timeout: seconds for connecting and for each request. Defaults to 5.0.
        max_events: events held for the consumer before the client stops reading the
            socket. Defaults to 1024.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        timeout: float = 5.0,
        max_events: int = 1024,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.timeout = timeout
        self.hello: dict[str, Any] = {}
        self.bye_reason: str | None = None
        self._max_events = max_events
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._task: asyncio.Task[None] | None = None
        self._pending: dict[int, asyncio.Future[Any]] = {}
        self._events: asyncio.Queue[Any] = asyncio.Queue(max_events)
        self._backlog: deque[dict[str, Any]] = deque()
        self._ids = itertools.count(1)
        self._lost: ClientError | None = None

    async def __aenter__(self) -> Client:
        await self.connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    @property
    def session(self) -> str | None:
        session = self.hello.get("session")
        return session if isinstance(session, str) else None

    @property
    def connected(self) -> bool:
        return self._writer is not None and self._lost is None

    async def connect(self) -> dict[str, Any]:
        """Open the socket and read the hello; returns it.

        Raises:
            ConnectFailed: no server, or no hello within the timeout.
            RequestFailed: the server refused the connection (``forbidden``,
                ``unavailable``).
        """
        if self._writer is not None:
            raise RuntimeError("Cannot connect, as the client is already connected.")
        path = self.path if self.path is not None else discover_socket()
        self.path = path
        try:
            async with asyncio.timeout(self.timeout):
                reader, writer = await asyncio.open_unix_connection(
                    os.fspath(path), limit=STREAM_LIMIT
                )
        except TimeoutError as exc:
            raise ConnectFailed(f"timed out connecting to {path}") from exc
        except OSError as exc:
            raise ConnectFailed(f"no dash server at {path}: {exc.strerror or exc}") from exc
        try:
            async with asyncio.timeout(min(self.timeout, HELLO_TIMEOUT_S)):
                first = await reader.readline()
        except TimeoutError as exc:
            writer.close()
            raise ConnectFailed(f"no hello from {path} in time") from exc
        except (OSError, ValueError) as exc:
            writer.close()
            raise ConnectFailed(f"connection to {path} failed before hello: {exc}") from exc
        hello = _parse(first) if first else None
        if hello is None:
            writer.close()
            raise ConnectFailed(f"{path} closed the connection before its hello")
        if hello.get("type") == "response" and hello.get("ok") is False:
            writer.close()
            error = hello.get("error") or {}
            raise RequestFailed(str(error.get("code")), str(error.get("message")))
        if hello.get("type") != "hello" or hello.get("protocol") != PROTOCOL_VERSION:
            writer.close()
            raise ProtocolViolation(f"expected a protocol {PROTOCOL_VERSION} hello, got {hello!r}")
        self.hello = hello
        self._reader, self._writer = reader, writer
        self._task = asyncio.create_task(self._read_loop(reader), name=f"ipc-client-{path}")
        return hello

    async def close(self) -> None:
        """Close the connection; pending requests fail with :class:`ConnectionLost`."""
        task, writer = self._task, self._writer
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if writer is not None:
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1.0)
        self._fail(ConnectionLost("the client was closed", reason="closed"))

    async def request(self, op: str, *, timeout_s: float | None = None, **args: Any) -> Any:
        """Send ``{"op": op, **args}`` and return the reply's ``result``.

        Raises:
            RequestFailed: the server answered ``ok: false``.
            RequestTimeout: no reply within ``timeout_s`` (defaults to the client's).
            ConnectionLost: the connection closed first.
        """
        writer = self._writer
        if self._lost is not None:
            raise self._lost
        if writer is None:
            raise ConnectionLost("Cannot send a request, as the client is not connected.")
        request_id = next(self._ids)
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        self._pending[request_id] = future
        try:
            writer.write(orjson.dumps({"id": request_id, "op": op, **args}) + b"\n")
            async with asyncio.timeout(self.timeout if timeout_s is None else timeout_s):
                await writer.drain()
                return await future
        except TimeoutError as exc:
            raise RequestTimeout(f"no reply to {op!r} from {self.path} in time") from exc
        except (ConnectionError, OSError) as exc:
            raise ConnectionLost(f"connection to {self.path} lost: {exc}") from exc
        finally:
            self._pending.pop(request_id, None)

    async def snapshot(self, strategy: str | None = None) -> dict[str, Any]:
        """``{"strategy", "seq", "snapshot"}`` for one strategy."""
        result: dict[str, Any] = await self.request("snapshot", **_opt(strategy=strategy))
        return result

    async def strategies(self) -> list[dict[str, Any]]:
        result = await self.request("strategies")
        strategies: list[dict[str, Any]] = result["strategies"]
        return strategies

    async def ping(self) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("ping")
        return result

    async def subscribe(
        self, *, strategy: str | None = None, mode: str = "patch", max_rate: float | None = None
    ) -> dict[str, Any]:
        """Start (or restart) a feed; its ``snapshot`` events follow in :meth:`next_event`."""
        result: dict[str, Any] = await self.request(
            "subscribe", mode=mode, **_opt(strategy=strategy, max_rate=max_rate)
        )
        return result

    async def unsubscribe(self, strategy: str | None = None) -> dict[str, Any]:
        result: dict[str, Any] = await self.request("unsubscribe", **_opt(strategy=strategy))
        return result

    async def close_position(
        self,
        position: str,
        *,
        reason: str = "operator",
        idempotency_key: str | None = None,
        strategy: str | None = None,
    ) -> dict[str, Any]:
        """The command's ticket (``command_id``, ``status``...); see :meth:`wait_command`."""
        result: dict[str, Any] = await self.request(
            "close_position",
            position=position,
            reason=reason,
            **_opt(idempotency_key=idempotency_key, strategy=strategy),
        )
        return result

    async def replay(
        self, action: str, *, to: str | None = None, by: float | None = None
    ) -> dict[str, Any]:
        """Drive a replay (``dash replay``): ``"pause"``, ``"resume"`` or ``"seek"``
        (``to`` an ISO-8601 time, or ``by`` signed seconds of market time). Returns the
        replay's ``clock``, ``paused``, ``speed``, ``from``, ``to`` and ``ended``.

        Raises:
            RequestFailed: ``unknown_op`` from a live strategy, ``bad_request`` for
                bad arguments.
        """
        result: dict[str, Any] = await self.request("replay", action=action, **_opt(to=to, by=by))
        return result

    async def wait_command(self, command_id: str, timeout_s: float | None = None) -> dict[str, Any]:
        """The ``command`` event reporting ``command_id``'s outcome; other events stay
        queued for :meth:`next_event`."""
        return await self.wait_event(
            lambda e: (
                e.get("event") == "command"
                and (e.get("data") or {}).get("command_id") == command_id
            ),
            timeout_s,
        )

    async def wait_event(
        self, match: Callable[[dict[str, Any]], bool], timeout_s: float | None = None
    ) -> dict[str, Any]:
        for event in self._backlog:
            if match(event):
                self._backlog.remove(event)
                return event
        skipped: list[dict[str, Any]] = []
        try:
            async with asyncio.timeout(self.timeout if timeout_s is None else timeout_s):
                while True:
                    event = await self._take()
                    if match(event):
                        return event
                    skipped.append(event)
        except TimeoutError as exc:
            raise RequestTimeout("no matching event in time") from exc
        finally:
            self._backlog.extend(skipped)

    async def next_event(self, timeout_s: float | None = None) -> dict[str, Any]:
        """The next event line (decoded).

        Raises:
            ConnectionLost: the server closed the connection (``reason`` from its
                ``bye``, if any) and every event before that has been returned.
            RequestTimeout: none arrived within ``timeout_s`` (default: wait forever).
        """
        if self._backlog:
            return self._backlog.popleft()
        if timeout_s is None:
            return await self._take()
        try:
            async with asyncio.timeout(timeout_s):
                return await self._take()
        except TimeoutError as exc:
            raise RequestTimeout(f"no event from {self.path} within {timeout_s} s") from exc

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Every event until the connection closes."""
        while True:
            try:
                yield await self.next_event()
            except ConnectionLost:
                return

    async def _take(self) -> dict[str, Any]:
        if self._events.empty() and self._lost is not None:
            raise self._lost
        item = await self._events.get()
        if item is _EOF:
            self._events.put_nowait(_EOF)  # keep telling later callers
            assert self._lost is not None
            raise self._lost
        event: dict[str, Any] = item
        return event

    async def _read_loop(self, reader: asyncio.StreamReader) -> None:
        lost: ClientError = ConnectionLost(f"server at {self.path} closed the connection")
        try:
            while True:
                try:
                    line = await reader.readline()
                except ValueError:
                    lost = ProtocolViolation("server sent a line over the protocol limit")
                    break
                if not line.endswith(b"\n"):
                    break
                message = _parse(line)
                if message is None:
                    lost = ProtocolViolation(
                        f"server sent a line that is not a JSON object: {line[:80]!r}"
                    )
                    break
                kind = message.get("type")
                if kind == "response":
                    self._resolve(message)
                elif kind == "event":
                    if message.get("event") == "bye":
                        self.bye_reason = str(message.get("reason"))
                        lost = ConnectionLost(
                            f"server said bye ({self.bye_reason}): {message.get('message')}",
                            reason=self.bye_reason,
                        )
                    await self._events.put(message)
        except (ConnectionError, OSError) as exc:
            lost = ConnectionLost(f"connection to {self.path} lost: {exc}")
        finally:
            self._fail(lost)
            if self._writer is not None:
                self._writer.close()

    def _resolve(self, message: dict[str, Any]) -> None:
        future = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if future is None:
            if message.get("ok") is False:
                log.warning("server error not tied to a request: %s", message.get("error"))
            return
        if future.done():
            return
        if message.get("ok"):
            future.set_result(message.get("result"))
        else:
            error = message.get("error") or {}
            future.set_exception(RequestFailed(str(error.get("code")), str(error.get("message"))))

    def _fail(self, error: ClientError) -> None:
        if self._lost is None:
            self._lost = error
            with contextlib.suppress(asyncio.QueueFull):
                self._events.put_nowait(_EOF)
        for future in self._pending.values():
            if not future.done():
                future.set_exception(self._lost)
        self._pending.clear()


@dataclass(frozen=True, slots=True)
class Update:
    """One step of a subscription.

    ``kind`` is ``"snapshot"`` (a whole document: the first, or after a resync, a gap or a
    reconnect; ``resync`` says it replaced what you had), ``"patch"`` (``doc`` is the
    document with the patch applied) or ``"event"`` (a notice such as ``alert`` or
    ``command``; ``doc`` is the strategy's current document). Treat ``doc`` as read-only:
    successive documents share unchanged parts.
    """

    kind: str
    strategy: str
    seq: int
    doc: dict[str, Any]
    event: dict[str, Any]
    resync: bool = False
    session: str | None = field(default=None)


class Subscription:
    """Live documents from a server, surviving gaps, resyncs and reconnects.

    ``async for update in Subscription(path): ...`` yields :class:`Update`\\ s; ``docs``
    holds the current document per strategy.

    Args:
        path: the server's socket. Defaults to the only socket in the runtime dir.
        strategy: one strategy, or every strategy the server has. Defaults to every one.
        mode: ``"patch"`` or ``"full"``. Defaults to ``"patch"``.
        max_rate: at most this many events per second per strategy. Defaults to no limit.
        reconnect: reconnect (with backoff) when the connection is lost, instead of
            raising :class:`ConnectionLost`. Defaults to True.
        timeout: seconds for connecting and requests. Defaults to 5.0.
        backoff: first and longest wait between reconnect attempts. Defaults to
            (0.1, 5.0).
        idle_timeout: silence after which the connection is presumed dead. Defaults to
            three heartbeat intervals plus one second.
    """

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        strategy: str | None = None,
        mode: str = "patch",
        max_rate: float | None = None,
        reconnect: bool = True,
        timeout: float = 5.0,
        backoff: tuple[float, float] = (0.1, 5.0),
        idle_timeout: float | None = None,
    ) -> None:
        self.path = path
        self.strategy = strategy
        self.mode = mode
        self.max_rate = max_rate
        self.reconnect = reconnect
        self.timeout = timeout
        self.backoff = backoff
        self.idle_timeout = idle_timeout
        self.docs: dict[str, dict[str, Any]] = {}
        self.seqs: dict[str, int] = {}
        self.session: str | None = None
        self.connects = 0
        self.gaps = 0
        self.resyncs = 0
        self._client: Client | None = None
        self._awaiting: set[str] = set()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._closed = False

    @property
    def client(self) -> Client | None:
        return self._client

    def __aiter__(self) -> Subscription:
        return self

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        self._closed = True
        for task in list(self._tasks):
            task.cancel()
        client, self._client = self._client, None
        if client is not None:
            await client.close()

    async def __anext__(self) -> Update:
        while True:
            if self._closed:
                raise StopAsyncIteration
            client = self._client
            if client is None:
                client = await self._connect()
            try:
                event = await client.next_event(self._idle_timeout(client))
                update = self._apply(client, event)
            except (ConnectionLost, RequestTimeout, ProtocolViolation, RequestFailed) as exc:
                await self._drop(client)
                if not self.reconnect or self._closed:
                    raise ConnectionLost(str(exc), getattr(exc, "reason", None)) from exc
                log.info("subscription to %s lost (%s); reconnecting", self.path, exc)
                continue
            if update is not None:
                return update

    def _idle_timeout(self, client: Client) -> float:
        if self.idle_timeout is not None:
            return self.idle_timeout
        heartbeat = float((client.hello.get("limits") or {}).get("heartbeat_s", 2.0))
        return 3 * heartbeat + 1.0

    async def _connect(self) -> Client:
        low, high = self.backoff
        attempt = 0
        while True:
            client = Client(self.path, timeout=self.timeout)
            try:
                await client.connect()
                await client.subscribe(
                    strategy=self.strategy, mode=self.mode, max_rate=self.max_rate
                )
            except ClientError as exc:
                await client.close()
                fatal = isinstance(exc, RequestFailed) and exc.code in (
                    "forbidden",
                    "unknown_strategy",
                    "bad_request",
                )
                if not self.reconnect or fatal or self._closed:
                    raise
                delay = min(high, low * 2**attempt) * random.uniform(0.8, 1.2)
                attempt += 1
                log.debug("connect to %s failed (%s); retrying in %.2f s", self.path, exc, delay)
                await asyncio.sleep(delay)
                continue
            self.connects += 1
            if client.session != self.session:
                # A new server process: nothing we hold is comparable any more.
                self.docs.clear()
                self.seqs.clear()
                self.session = client.session
            self._awaiting.clear()
            self._client = client
            return client

    async def _drop(self, client: Client) -> None:
        if self._client is client:
            self._client = None
        await client.close()

    def _apply(self, client: Client, event: dict[str, Any]) -> Update | None:
        name = event.get("event")
        strategy = event.get("strategy")
        if name == "heartbeat":
            seqs = event.get("seq") or {}
            for s, seq in seqs.items():
                if s in self.seqs and s not in self._awaiting and seq != self.seqs[s]:
                    self._resubscribe(client, s)
            return None
        if not isinstance(strategy, str):
            return None
        if name == "snapshot":
            doc = event.get("snapshot")
            seq = event.get("seq")
            if not isinstance(doc, dict) or not isinstance(seq, int):
                raise ProtocolViolation("snapshot event without a document and seq")
            resync = bool(event.get("resync")) or strategy in self._awaiting
            if event.get("resync"):
                self.resyncs += 1
            self._awaiting.discard(strategy)
            self.docs[strategy] = doc
            self.seqs[strategy] = seq
            return Update("snapshot", strategy, seq, doc, event, resync, self.session)
        if name == "patch":
            if strategy in self._awaiting or strategy not in self.seqs:
                return None
            seq, prev, patch = event.get("seq"), event.get("prev"), event.get("patch")
            if not isinstance(seq, int) or not isinstance(patch, dict):
                raise ProtocolViolation("patch event without a seq and patch")
            if prev != self.seqs[strategy]:
                self._resubscribe(client, strategy)
                return None
            doc = apply_merge_patch(self.docs[strategy], patch)
            self.docs[strategy] = doc
            self.seqs[strategy] = seq
            return Update("patch", strategy, seq, doc, event, False, self.session)
        return Update(
            "event",
            strategy,
            self.seqs.get(strategy, 0),
            self.docs.get(strategy, {}),
            event,
            False,
            self.session,
        )

    def _resubscribe(self, client: Client, strategy: str) -> None:
        """A seq gap: ask for a fresh snapshot of that strategy; ignore its patches until
        the snapshot arrives (it follows the reply)."""
        self.gaps += 1
        self._awaiting.add(strategy)
        # Not awaited here: while its reply is on the way, the events ahead of it must
        # keep flowing (a full event queue would otherwise hold the reply up).
        task = asyncio.create_task(
            client.subscribe(strategy=strategy, mode=self.mode, max_rate=self.max_rate)
        )
        self._tasks.add(task)
        task.add_done_callback(self._resubscribed)

    def _resubscribed(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.info("re-subscribe failed: %s", task.exception())


def subscribe(path: str | os.PathLike[str] | None = None, **options: Any) -> Subscription:
    """``async for update in ipc.subscribe(path): ...``; options as :class:`Subscription`."""
    return Subscription(path, **options)


def _opt(**args: Any) -> dict[str, Any]:
    return {k: v for k, v in args.items() if v is not None}


def _parse(line: bytes) -> dict[str, Any] | None:
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return message if isinstance(message, dict) else None
