"""The NDJSON Unix-socket server: serves live state and takes control commands.

Nothing here runs on the strategy's path. The strategy commits a change, the bus appends
it to each connection's bounded subscription and returns. One server-wide fan-out task
then takes the items off every subscribed connection's queue, renders them (each line
encoded once, shared by every connection: see ``_events``) and writes them to the
transports, in slices of about a millisecond with a yield to the loop between slices: a
change reaching 1,000 clients is 1,000 socket writes, and done in one go they would hold
the strategy's own timers back by tens of milliseconds. (A task per connection, woken
together by every change, did exactly that.)

A connection whose peer stops reading is left out of the fan-out at the write-buffer
high-water mark and gets a catch-up task of its own, which waits for the buffer to drain;
meanwhile its bus queue overflows into a resync, and after ``stall_timeout_s`` without the
peer reading a byte it is told ``bye`` and dropped. The strategy never waits for a client.

Requests are read and answered in order by the connection's own handler task, which also
stops reading while the peer is not reading replies (so pipelining cannot grow buffers).
"""

from __future__ import annotations

import asyncio
import contextlib
import enum
import itertools
import logging
import math
import os
import socket
import struct
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Final

import orjson

from ipc._control import ControlTarget, Peer
from ipc._events import (
    LineCache,
    bye_line,
    diff_patch_line,
    heartbeat_line,
    snapshot_line,
    wall_time,
)
from ipc._exceptions import CommandRejected
from ipc._paths import SocketClaim, claim_socket
from ipc._protocol import (
    CONTROL_OPS,
    DEFAULT_HEARTBEAT_S,
    DEFAULT_STALL_TIMEOUT_S,
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    REPLAY_ACTIONS,
    STREAM_LIMIT,
    SUBSCRIBER_QUEUE_SIZE,
    WRITE_HIGH_WATER,
    WRITE_LOW_WATER,
    ErrorCode,
    FrameError,
    decode_line,
    encode,
    error_line,
    response_line,
    response_prefix,
)
from state import (
    Change,
    DashboardState,
    Notice,
    Resync,
    Snapshot,
    SubscriptionClosed,
    jsonable,
    merge_patch_diff,
    parse_utc,
)
from state import Subscription as BusSubscription

__all__ = ["MAX_CONNECTIONS", "SocketServer"]

log = logging.getLogger("dash.ipc.server")

# Connections beyond this are answered `unavailable` and closed: each one holds a task, a
# bus subscription and up to WRITE_HIGH_WATER of buffered output.
MAX_CONNECTIONS: Final = 4096

# Items taken off one connection's queue per turn and written with one syscall.
_BATCH: Final = 64

# Work the fan-out (and housekeeping) does before yielding to the loop: the strategy's
# timers wait at most about this long behind a change going out to every client.
_SLICE_S: Final = 0.001

# After `bye`, a peer that does not read it is cut off this much later.
_CLOSE_GRACE_S: Final = 1.0

# Housekeeping passes per heartbeat interval: a heartbeat goes out between 1 and 1.25
# intervals after the last line, a stall is noticed within a quarter interval.
_HOUSEKEEPING_PER_INTERVAL: Final = 4

# A control target that does not answer "at once" within this is reported unavailable.
_COMMAND_TIMEOUT_S: Final = 10.0

# max_rate bounds: below one event a minute is not a live view; above 1000/s is no limit.
_MIN_RATE: Final = 1 / 60
_MAX_RATE: Final = 1000.0

# A replay seek `by` more than this many seconds (about 300 years) is no market time.
_MAX_SEEK_S: Final = 1e10

_PEERCRED: Final = struct.Struct("3i")


class _Turn(enum.Enum):
    """What a connection's turn at sending left behind."""

    IDLE = "idle"  # nothing queued
    MORE = "more"  # more queued, and the peer can take it now
    BLOCKED = "blocked"  # output past the high-water mark: wait for the peer


class _RequestError(Exception):
    def __init__(self, code: ErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class _Feed:
    """One strategy a connection is subscribed to."""

    mode: str  # "patch" | "full"
    min_interval: float  # seconds between events; 0 = every change
    last: Snapshot  # what the client holds now
    pending: Snapshot | None = None  # newer state held back by max_rate
    next_at: float = 0.0  # loop time the next event may go
    timer: asyncio.TimerHandle | None = None  # flushes `pending` at `next_at`


class SocketServer:
    """Serves a :class:`ControlTarget` on a Unix socket.

    Args:
        target: the states to serve and the control methods to call.
        path: the socket file; its parent directory is created if missing.
        allow_uids: uids besides the server's own that may connect. Defaults to none.
        read_only: refuse control ops with ``forbidden``. Defaults to False (the
            target's own ``read_only`` also counts).
        heartbeat_s: idle time after which a subscriber gets a heartbeat. Defaults to 2.0.
        stall_timeout_s: time a peer may read nothing while output is pending before it
            is sent ``bye`` and dropped. Defaults to 10.0.
        version: the ``server`` string of the hello. Defaults to ``"dash"``.
        server_uid: the uid peers are compared with. Defaults to ``os.getuid()``; tests
            inject another to exercise the refusal path.
        private_dir: passed to :func:`ipc.claim_socket`. Defaults to None (private
            only for the default runtime dir).
    """

    def __init__(
        self,
        target: ControlTarget,
        path: str | os.PathLike[str],
        *,
        allow_uids: Iterable[int] = (),
        read_only: bool = False,
        heartbeat_s: float = DEFAULT_HEARTBEAT_S,
        stall_timeout_s: float = DEFAULT_STALL_TIMEOUT_S,
        version: str = "dash",
        server_uid: int | None = None,
        private_dir: bool | None = None,
    ) -> None:
        if heartbeat_s <= 0 or stall_timeout_s <= 0:
            raise ValueError("heartbeat_s and stall_timeout_s must be positive")
        self.target = target
        self.path = Path(path)
        self.allow_uids = frozenset(allow_uids)
        self.heartbeat_s = heartbeat_s
        self.stall_timeout_s = stall_timeout_s
        self.version = version
        self.server_uid = os.getuid() if server_uid is None else server_uid
        self.session = str(uuid.uuid4())
        self.lines = LineCache()
        self.counters: dict[str, int] = dict.fromkeys(
            ("connections", "refused", "resyncs", "stalled", "too_large", "errors"), 0
        )
        self._read_only = read_only
        self._private_dir = private_dir
        self._claim: SocketClaim | None = None
        self._server: asyncio.AbstractServer | None = None
        self._conns: set[_Connection] = set()
        # Connections with a bus subscription, in subscription order (fan-out order).
        self._subscribed: dict[_Connection, None] = {}
        self._bell: BusSubscription | None = None  # rings on every publish
        self._fanout: asyncio.Task[None] | None = None
        self._ids = itertools.count(1)
        self._started = 0.0
        self._stopping = False
        self._housekeeper: asyncio.Task[None] | None = None

    @property
    def read_only(self) -> bool:
        return self._read_only or bool(self.target.read_only)

    @property
    def connection_count(self) -> int:
        return len(self._conns)

    @property
    def serving(self) -> bool:
        return self._server is not None and not self._stopping

    def uptime(self) -> float:
        return time.monotonic() - self._started if self._started else 0.0

    async def start(self) -> None:
        """Take the socket path (see :func:`ipc.claim_socket`) and start accepting.

        Raises:
            SocketInUse: another live instance serves the path.
            UnsafeSocketPath: the path or its directory cannot be used safely.
        """
        if self._server is not None:
            raise RuntimeError("Cannot start the server, as it is already running.")
        claim = claim_socket(self.path, private_dir=self._private_dir)
        try:
            self._server = await asyncio.start_unix_server(
                self._accept, sock=claim.sock, limit=STREAM_LIMIT
            )
        except BaseException:
            claim.sock.close()
            claim.release()
            raise
        self._claim = claim
        self._started = time.monotonic()
        self._housekeeper = asyncio.create_task(self._housekeeping(), name="ipc-housekeeping")
        # Subscribed before any connection, so a publish has reached every connection's
        # queue by the time the bell wakes the fan-out.
        self._bell = self.target.bus.subscribe("ipc:fanout", maxsize=SUBSCRIBER_QUEUE_SIZE)
        self._fanout = asyncio.create_task(self._fan_out(self._bell), name="ipc-fanout")
        log.info("serving %s (session %s)", self.path, self.session)

    async def stop(self, grace_s: float = 2.0) -> None:
        """Ordered shutdown: stop listening, tell every client ``bye`` ("shutdown"),
        give them ``grace_s`` seconds to receive it, cut the rest, remove the socket."""
        if self._server is None or self._stopping:
            return
        self._stopping = True
        server = self._server
        server.close()
        if self._housekeeper is not None:
            self._housekeeper.cancel()
            self._housekeeper = None
        if self._fanout is not None:
            self._fanout.cancel()
            self._fanout = None
        if self._bell is not None:
            self._bell.close()
            self._bell = None
        conns = list(self._conns)
        for conn in conns:
            conn.shutdown("shutdown", "the server is shutting down")
        tasks = [c.task for c in conns if c.task is not None]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=grace_s)
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.wait(pending, timeout=1.0)
        for conn in conns:
            conn.abort()
        with contextlib.suppress(Exception):
            await asyncio.wait_for(server.wait_closed(), 1.0)
        if self._claim is not None:
            self._claim.sock.close()
            self._claim.release()
            self._claim = None
        self._server = None
        self._stopping = False
        log.info("stopped serving %s", self.path)

    async def __aenter__(self) -> SocketServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def hello(self) -> dict[str, Any]:
        hello: dict[str, Any] = {
            "protocol": PROTOCOL_VERSION,
            "server": self.version,
            "session": self.session,
            "strategies": list(self.target.registry.ids()),
            "read_only": self.read_only,
            "limits": {
                "max_line_bytes": MAX_LINE_BYTES,
                "queue_size": SUBSCRIBER_QUEUE_SIZE,
                "heartbeat_s": self.heartbeat_s,
                "stall_timeout_s": self.stall_timeout_s,
            },
        }
        # optional on the target: "replay" when serving stored history (dash replay)
        mode = getattr(self.target, "mode", None)
        if isinstance(mode, str):
            hello["mode"] = mode
        return hello

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        transport = writer.transport
        transport.set_write_buffer_limits(high=WRITE_HIGH_WATER, low=WRITE_LOW_WATER)
        sock = writer.get_extra_info("socket")
        try:
            pid, uid, gid = _PEERCRED.unpack(
                sock.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, _PEERCRED.size)
            )
        except (OSError, AttributeError, struct.error):
            transport.abort()
            return
        peer = Peer(uid=uid, pid=pid, gid=gid)
        refusal = self._refusal(peer)
        if refusal is not None:
            code, message = refusal
            self.counters["refused"] += 1
            log.warning("refused pid %d uid %d: %s", pid, uid, message)
            transport.write(error_line(None, code, message))
            transport.close()
            return
        conn = _Connection(self, next(self._ids), reader, writer, peer)
        conn.task = asyncio.current_task()
        self._conns.add(conn)
        self.counters["connections"] += 1
        try:
            await conn.serve()
        finally:
            self._conns.discard(conn)

    async def _housekeeping(self) -> None:
        """Heartbeats and stall checks for every connection, a few times per interval.

        One task for all connections instead of a timer per connection and wait: the
        senders then wait on their queues alone, which is what keeps fan-out cheap.
        """
        period = min(self.heartbeat_s, self.stall_timeout_s) / _HOUSEKEEPING_PER_INTERVAL
        loop = asyncio.get_running_loop()
        clock = time.perf_counter
        while True:
            await asyncio.sleep(period)
            yield_at = clock() + _SLICE_S
            for conn in list(self._conns):
                try:
                    conn.housekeep(loop.time())
                except Exception:  # one broken connection must not stop the others
                    log.exception("housekeeping of %r failed", conn)
                    conn.abort()
                if clock() >= yield_at:  # 1,000 idle clients: 1,000 heartbeats
                    await asyncio.sleep(0)
                    yield_at = clock() + _SLICE_S

    async def _fan_out(self, bell: BusSubscription) -> None:
        """Deliver what the bus queued for every subscribed connection, in slices.

        The bell is one more subscription: any item on it means every connection's queue
        may have grown. Each pass gives each connection one turn (up to ``_BATCH`` items
        in one write); connections left with a backlog get further passes. A publish
        during a pass rings the bell again, so nothing queued is left without a pass.
        """
        clock = time.perf_counter
        while True:
            try:
                await bell.get()
            except SubscriptionClosed:
                return
            while bell.qsize():
                bell.get_nowait()
            conns = list(self._subscribed)
            yield_at = clock() + _SLICE_S
            while conns:
                backlog = []
                for conn in conns:
                    if conn.pump():
                        backlog.append(conn)
                    if clock() >= yield_at:
                        await asyncio.sleep(0)
                        yield_at = clock() + _SLICE_S
                conns = backlog

    def _refusal(self, peer: Peer) -> tuple[ErrorCode, str] | None:
        if peer.uid != self.server_uid and peer.uid not in self.allow_uids:
            return (
                ErrorCode.FORBIDDEN,
                f"uid {peer.uid} may not use this socket (server uid {self.server_uid}; "
                "others need allow_uids)",
            )
        if self._stopping:
            return ErrorCode.UNAVAILABLE, "the server is shutting down"
        if len(self._conns) >= MAX_CONNECTIONS:
            return ErrorCode.UNAVAILABLE, f"too many connections (limit {MAX_CONNECTIONS})"
        return None


class _Connection:
    """One client: a handler task reading requests; events go out in the server's
    fan-out passes, or from a catch-up task of its own while its peer lags."""

    def __init__(
        self,
        server: SocketServer,
        conn_id: int,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        peer: Peer,
    ) -> None:
        self.server = server
        self.id = conn_id
        self.reader = reader
        self.writer = writer
        self.transport = writer.transport
        self.peer = peer
        self.task: asyncio.Task[Any] | None = None
        self.sub: BusSubscription | None = None
        self.feeds: dict[str, _Feed] = {}
        self.closing = False
        self._catch_up_task: asyncio.Task[None] | None = None  # while the peer lags
        self._loop = asyncio.get_running_loop()
        self._taken = 0  # items taken off `sub`, for ping ordering
        # Replies waiting for queued events to be sent first: (items to take, line).
        self._deferred: deque[tuple[int, bytes]] = deque()
        self._held: list[bytes] | None = None  # command events held behind their reply
        self._commands: set[str] = set()  # command ids this connection started
        self._written = 0
        self._accepted = 0
        self._progress_at = self._loop.time()
        self._last_out = self._loop.time()
        self._abort_handle: asyncio.TimerHandle | None = None

    def __repr__(self) -> str:
        return f"<Connection {self.id} pid={self.peer.pid} feeds={list(self.feeds)}>"

    # -- lifecycle --

    async def serve(self) -> None:
        self.write(encode({"type": "hello", **self.server.hello()}))
        try:
            await self._read_loop()
        except (ConnectionError, OSError):
            pass
        except asyncio.CancelledError:
            self.abort()
            raise
        finally:
            self._teardown()

    def shutdown(self, reason: str, message: str) -> None:
        """Send ``bye`` and close; a peer that does not take it is cut off shortly."""
        if self.closing:
            return
        self.closing = True
        if not self.transport.is_closing():
            with contextlib.suppress(Exception):
                self.transport.write(bye_line(reason, message))
            self.transport.close()
        self._abort_handle = self._loop.call_later(_CLOSE_GRACE_S, self.abort)
        self._stop_catch_up()

    def abort(self) -> None:
        self.closing = True
        self.transport.abort()

    def _teardown(self) -> None:
        self.closing = True
        self._stop_catch_up()
        for feed in self.feeds.values():
            if feed.timer is not None:
                feed.timer.cancel()
        self.server._subscribed.pop(self, None)
        if self.sub is not None:
            self.sub.close()
        if not self.transport.is_closing():
            self.transport.close()
        if self._abort_handle is None:
            self._abort_handle = self._loop.call_later(_CLOSE_GRACE_S, self.abort)

    def _stop_catch_up(self) -> None:
        task = self._catch_up_task
        if task is not None and task is not asyncio.current_task() and not task.done():
            task.cancel()

    # -- output --

    def write(self, data: bytes) -> None:
        if self.closing:
            return
        transport = self.transport
        now = self._loop.time()
        if not transport.get_write_buffer_size():
            # Everything written so far was taken: that is progress.
            self._accepted = self._written
            self._progress_at = now
        transport.write(data)
        self._written += len(data)
        self._last_out = now

    def _stalled(self) -> bool:
        """True if output is pending and the peer has taken none of it for
        ``stall_timeout_s``. Bytes leave the transport's buffer only when the kernel
        takes them, and (once the socket buffer is full) only when the peer reads, so a
        buffer whose accepted count does not move means a peer that reads nothing."""
        buffered = self.transport.get_write_buffer_size()
        now = self._loop.time()
        accepted = self._written - buffered
        if not buffered or accepted != self._accepted:
            self._accepted = accepted
            self._progress_at = now
            return False
        return now - self._progress_at >= self.server.stall_timeout_s

    def housekeep(self, now: float) -> None:
        """Periodic duties, run by the server's housekeeping task so that the senders
        wait on their queues with no timers: heartbeats and the stall check."""
        if self.closing:
            return
        if self._stalled():
            self._stall()
            return
        if (
            self.feeds
            and now - self._last_out >= self.server.heartbeat_s
            and self.transport.get_write_buffer_size() < WRITE_HIGH_WATER
        ):
            self.write(heartbeat_line({s: f.last.seq for s, f in self.feeds.items()}))

    async def _writable(self) -> bool:
        """Wait while the transport buffer is above the high-water mark; False (after
        ``bye``) if the peer reads nothing for ``stall_timeout_s`` meanwhile."""
        while self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            if self.closing:
                return False
            if self._stalled():
                self._stall()
                return False
            remaining = self._progress_at + self.server.stall_timeout_s - self._loop.time()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(max(remaining, 0.01)):
                    await self.writer.drain()
        return not self.closing

    def _stall(self) -> None:
        self.server.counters["stalled"] += 1
        log.info("dropping %r: read nothing for %.1f s", self, self.server.stall_timeout_s)
        self.shutdown(
            "stalled", f"read nothing for {self.server.stall_timeout_s:g} s with output pending"
        )

    # -- requests --

    async def _read_loop(self) -> None:
        reader = self.reader
        while not self.closing:
            if (
                self.transport.get_write_buffer_size() > WRITE_HIGH_WATER
                and not await self._writable()
            ):
                return
            try:
                line = await reader.readline()
            except ValueError:
                self.server.counters["too_large"] += 1
                while self._deferred:
                    self.write(self._deferred.popleft()[1])
                self.write(
                    error_line(
                        None, ErrorCode.TOO_LARGE, f"line over {MAX_LINE_BYTES} bytes; closing"
                    )
                )
                self.closing = True
                self.transport.close()
                return
            if not line.endswith(b"\n"):
                return  # EOF, possibly in the middle of a line: drop the fragment
            await self._handle(line)

    async def _handle(self, line: bytes) -> None:
        body = line[:-2] if line.endswith(b"\r\n") else line[:-1]
        if not body.strip():
            return
        request_id: Any = None
        try:
            message = decode_line(body)
            request_id = message.get("id")
            op = message["op"]
            if op in CONTROL_OPS and self.server.read_only:
                raise _RequestError(
                    ErrorCode.FORBIDDEN, f"{op} is disabled: the server is read-only"
                )
            handler: Callable[[Any, dict[str, Any]], Any] = getattr(self, f"_op_{op}")
            reply = handler(request_id, message)
            if asyncio.iscoroutine(reply):
                reply = await reply
            if reply:
                self._reply(reply, after_queued=op == "ping")
        except FrameError as exc:
            self.server.counters["errors"] += 1
            self._reply(error_line(exc.request_id, exc.code, exc.message))
        except _RequestError as exc:
            self.server.counters["errors"] += 1
            self._reply(error_line(request_id, exc.code, exc.message))
        except CommandRejected as exc:
            self._reply(error_line(request_id, exc.code, exc.message))
        except Exception:
            self.server.counters["errors"] += 1
            log.exception("request from %r failed", self)
            self._reply(error_line(request_id, ErrorCode.INTERNAL, "internal error; see the log"))

    def _reply(self, data: bytes, *, after_queued: bool = False) -> None:
        """Write a reply, keeping replies in request order.

        With ``after_queued`` (ping), the reply waits until the sender has taken every
        item queued for this connection now; any reply after a waiting one waits too.
        """
        due = -1
        if after_queued and self.sub is not None:
            queued = self.sub.qsize()
            if queued:
                due = self._taken + queued
        if self._deferred:
            due = max(due, self._deferred[-1][0])
        if due < 0:
            self.write(data)
        else:
            self._deferred.append((due, data))

    def _state(self, message: dict[str, Any], *, optional: bool = False) -> DashboardState | None:
        registry = self.server.target.registry
        strategy = message.get("strategy")
        if strategy is None:
            if optional:
                return None
            ids = registry.ids()
            if len(ids) == 1:
                return registry[ids[0]]
            if not ids:
                raise _RequestError(ErrorCode.UNAVAILABLE, "no strategy is being served yet")
            raise _RequestError(
                ErrorCode.BAD_REQUEST,
                f"several strategies are served ({', '.join(ids)}); name one in 'strategy'",
            )
        if not isinstance(strategy, str):
            raise _RequestError(ErrorCode.BAD_REQUEST, "'strategy' must be a string")
        state = registry.get(strategy)
        if state is None:
            raise _RequestError(ErrorCode.UNKNOWN_STRATEGY, f"no strategy {strategy!r}")
        return state

    def _op_hello(self, request_id: Any, message: dict[str, Any]) -> bytes:
        return response_line(request_id, self.server.hello())

    def _op_strategies(self, request_id: Any, message: dict[str, Any]) -> bytes:
        result = []
        for state in self.server.target.registry.states():
            doc = state.snapshot().doc
            result.append(
                {
                    "strategy": state.strategy_id,
                    "seq": doc["seq"],
                    "mode": doc.get("mode"),
                    "status": doc.get("status"),
                }
            )
        return response_line(request_id, {"strategies": result})

    def _op_snapshot(self, request_id: Any, message: dict[str, Any]) -> bytes:
        state = self._state(message)
        assert state is not None
        snap = state.snapshot()
        return b"".join(
            (
                response_prefix(request_id),
                b'{"strategy":',
                orjson.dumps(snap.strategy),
                b',"seq":%d,"snapshot":' % snap.seq,
                snap.payload,
                b"}}\n",
            )
        )

    def _op_ping(self, request_id: Any, message: dict[str, Any]) -> bytes:
        states = self.server.target.registry.states()
        result: dict[str, Any] = {
            "time": wall_time(),
            "uptime": round(self.server.uptime(), 3),
            "seq": {s.strategy_id: s.seq for s in states},
            "clock": {
                s.strategy_id: s.snapshot().doc["clock"]
                for s in states
                if "clock" in s.snapshot().doc
            },
        }
        # optional on the target: members to add, such as a replay's own clock
        ping_info = getattr(self.server.target, "ping_info", None)
        if callable(ping_info):
            result.update(ping_info())
        # ping is a command too: the target may audit it (never awaited, never fatal)
        audit = getattr(self.server.target, "audit", None)
        if callable(audit):
            try:
                audit("ping", message.get("strategy"), {}, self.peer, result)
            except Exception:
                log.exception("auditing a ping from %r failed", self)
        return response_line(request_id, result)

    def _op_subscribe(self, request_id: Any, message: dict[str, Any]) -> bytes:
        mode = message.get("mode", "patch")
        if mode not in ("patch", "full"):
            raise _RequestError(ErrorCode.BAD_REQUEST, '\'mode\' must be "patch" or "full"')
        rate = message.get("max_rate")
        if rate is not None and (
            isinstance(rate, bool)
            or not isinstance(rate, int | float)
            or not _MIN_RATE <= rate <= _MAX_RATE
        ):
            raise _RequestError(
                ErrorCode.BAD_REQUEST,
                f"'max_rate' must be a number of events per second in [{_MIN_RATE:.4g}, "
                f"{_MAX_RATE:g}]",
            )
        state = self._state(message, optional=True)
        states = (state,) if state is not None else self.server.target.registry.states()
        if not states:
            raise _RequestError(ErrorCode.UNAVAILABLE, "no strategy is being served yet")
        self._ensure_sub()
        interval = 1.0 / rate if rate else 0.0
        now = self._loop.time()
        lines = [
            response_line(
                request_id,
                {
                    "strategies": [s.strategy_id for s in states],
                    "mode": mode,
                    "max_rate": rate,
                },
            )
        ]
        for st in states:
            snap = st.snapshot()
            old = self.feeds.get(st.strategy_id)
            if old is not None and old.timer is not None:
                old.timer.cancel()
            self.feeds[st.strategy_id] = _Feed(mode, interval, snap, None, now + interval)
            lines.append(self.server.lines.snapshot(snap))
        return b"".join(lines)

    def _op_unsubscribe(self, request_id: Any, message: dict[str, Any]) -> bytes:
        state = self._state(message, optional=True)
        if state is None:
            gone = list(self.feeds)
        else:
            gone = [state.strategy_id] if state.strategy_id in self.feeds else []
        for strategy in gone:
            timer = self.feeds.pop(strategy).timer
            if timer is not None:
                timer.cancel()
        return response_line(request_id, {"unsubscribed": gone})

    async def _op_close_position(self, request_id: Any, message: dict[str, Any]) -> bytes:
        state = self._state(message)
        assert state is not None
        position = message.get("position")
        if not isinstance(position, str) or not position:
            raise _RequestError(ErrorCode.BAD_REQUEST, "'position' must be a non-empty position id")
        reason = message.get("reason", "operator")
        key = message.get("idempotency_key")
        if not isinstance(reason, str) or not reason:
            raise _RequestError(ErrorCode.BAD_REQUEST, "'reason' must be a non-empty string")
        if key is not None and (not isinstance(key, str) or not key):
            raise _RequestError(
                ErrorCode.BAD_REQUEST, "'idempotency_key' must be a non-empty string"
            )
        self._ensure_sub()
        # The outcome may be published while we wait for the ticket; its event must not
        # overtake the reply.
        held: list[bytes] = []
        self._held = held
        try:
            try:
                async with asyncio.timeout(_COMMAND_TIMEOUT_S):
                    ticket = await self.server.target.close_position(
                        state.strategy_id, position, reason, key, self.peer
                    )
            except TimeoutError:
                raise _RequestError(
                    ErrorCode.UNAVAILABLE, "the strategy did not accept the command in time"
                ) from None
            self._commands.add(ticket.command_id)
            result: dict[str, Any] = {
                "strategy": state.strategy_id,
                "position": position,
                "command_id": ticket.command_id,
                "status": ticket.status,
                "duplicate": ticket.duplicate,
            }
            if ticket.outcome is not None:
                result["outcome"] = jsonable(dict(ticket.outcome))
            self._reply(response_line(request_id, result))
        finally:
            self._held = None
            for line in held:
                self._reply(line)
        return b""

    async def _op_replay(self, request_id: Any, message: dict[str, Any]) -> bytes:
        # optional on the target: only a replay (dash replay) has a clock to move
        replay = getattr(self.server.target, "replay", None)
        if not callable(replay):
            raise _RequestError(
                ErrorCode.UNKNOWN_OP,
                "op 'replay' is only served by dash replay; this server is a live strategy",
            )
        action = message.get("action")
        if action not in REPLAY_ACTIONS:
            raise _RequestError(
                ErrorCode.BAD_REQUEST,
                f"'action' must be one of {', '.join(map(repr, REPLAY_ACTIONS))}",
            )
        to = _seek_time(message.get("to")) if "to" in message else None
        by = _seek_seconds(message.get("by")) if "by" in message else None
        if action == "seek" and (to is None) == (by is None):
            raise _RequestError(
                ErrorCode.BAD_REQUEST,
                "seek takes one of 'to' (an ISO-8601 time) or 'by' (signed seconds)",
            )
        if action != "seek" and (to is not None or by is not None):
            raise _RequestError(ErrorCode.BAD_REQUEST, "'to' and 'by' go with action 'seek'")
        result = await replay(action, to=to, by=by)
        return response_line(request_id, result)

    # -- events --

    def _ensure_sub(self) -> None:
        if self.sub is None:
            self.sub = self.server.target.bus.subscribe(
                f"ipc:{self.id}:pid{self.peer.pid}", maxsize=SUBSCRIBER_QUEUE_SIZE
            )
            self.server._subscribed[self] = None

    def pump(self) -> bool:
        """One fan-out turn: True if items remain that the peer could take now.

        Never raises: a connection that fails here is aborted, the others go on. A peer
        past the high-water mark is handed to a catch-up task and left out until then.
        """
        if self.closing or self._catch_up_task is not None:
            return False
        try:
            taken = self._take()
        except (ConnectionError, OSError):
            self.abort()
            return False
        except Exception:
            log.exception("sending to %r failed", self)
            self.abort()
            return False
        if taken is _Turn.BLOCKED:
            self._catch_up_task = asyncio.create_task(
                self._catch_up(), name=f"ipc-catch-up-{self.id}"
            )
        return taken is _Turn.MORE

    async def _catch_up(self) -> None:
        """Send at the pace of a lagging peer: wait below the high-water mark, take a
        batch, repeat until the queue is empty (or the peer stalls and is dropped)."""
        try:
            while not self.closing:
                if self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
                    if not await self._writable():
                        return
                    self._flush_due(self._loop.time())
                taken = self._take()
                if taken is _Turn.IDLE:
                    return
                if taken is _Turn.MORE:
                    await asyncio.sleep(0)
        except (ConnectionError, OSError):
            self.abort()
        except Exception:
            log.exception("sending to %r failed", self)
            self.abort()
        finally:
            if self._catch_up_task is asyncio.current_task():
                self._catch_up_task = None

    def _take(self) -> _Turn:
        """Take up to ``_BATCH`` queued items, render them and write them at once,
        releasing replies that were waiting for them (ping ordering)."""
        sub = self.sub
        if self.closing or sub is None:
            return _Turn.IDLE
        if self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            return _Turn.BLOCKED
        queued = sub.qsize()
        deferred = self._deferred
        if not queued and not deferred:
            return _Turn.IDLE
        now = self._loop.time()
        out: list[bytes] = []
        for _ in range(min(queued, _BATCH)):
            item = sub.get_nowait()
            while deferred and deferred[0][0] <= self._taken:
                out.append(deferred.popleft()[1])
            self._taken += 1
            self._render(item, out, now)
        if deferred:
            # Taken everything queued (an overflow may have shrunk the queue, so a due
            # count can exceed what was left): release what is due.
            drained = not sub.qsize()
            while deferred and (drained or deferred[0][0] <= self._taken):
                out.append(deferred.popleft()[1])
        if out:
            self.write(b"".join(out))
        if self.closing:
            return _Turn.IDLE
        if self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
            return _Turn.BLOCKED
        return _Turn.MORE if sub.qsize() else _Turn.IDLE

    def _render(self, item: Any, out: list[bytes], now: float) -> None:
        kind = type(item)
        if kind is Change:
            feed = self.feeds.get(item.strategy)
            if feed is None or item.seq <= feed.last.seq:
                return
            if feed.min_interval and now < feed.next_at:
                feed.pending = item.snapshot
                if feed.timer is None:
                    feed.timer = self._loop.call_at(feed.next_at, self._flush_due)
                return
            if feed.mode == "full":
                out.append(self.server.lines.snapshot(item.snapshot))
            elif item.prev == feed.last.seq:
                out.append(self.server.lines.patch(item))
            else:
                out.append(self._diff(item.strategy, feed, item.snapshot))
            self._sent(feed, item.snapshot, now)
        elif kind is Notice:
            if item.kind == "command":
                command_id = item.data.get("command_id")
                if item.strategy not in self.feeds and command_id not in self._commands:
                    return
                self._commands.discard(command_id)
                line = self.server.lines.notice(item)
                if self._held is not None:
                    self._held.append(line)
                else:
                    out.append(line)
            elif item.strategy in self.feeds:
                out.append(self.server.lines.notice(item))
        elif kind is Resync:
            feed = self.feeds.get(item.strategy)
            if feed is None:
                return
            snap = item.snapshot
            state = self.server.target.registry.get(item.strategy)
            if state is not None and state.seq > snap.seq:
                snap = state.snapshot()
            self.server.counters["resyncs"] += 1
            out.append(snapshot_line(snap, resync=True))
            self._sent(feed, snap, now)

    def _diff(self, strategy: str, feed: _Feed, snapshot: Snapshot) -> bytes:
        patch = merge_patch_diff(feed.last.doc, snapshot.doc)
        return diff_patch_line(strategy, feed.last.seq, snapshot, patch)

    def _sent(self, feed: _Feed, snapshot: Snapshot, now: float) -> None:
        feed.last = snapshot
        feed.pending = None
        if feed.timer is not None:
            feed.timer.cancel()
            feed.timer = None
        if feed.min_interval:
            feed.next_at = max(feed.next_at + feed.min_interval, now)

    def _flush_due(self, now: float | None = None) -> None:
        """Send what ``max_rate`` held back once its time has come (a timer callback)."""
        if self.closing:
            return
        now = self._loop.time() if now is None else now
        out: list[bytes] = []
        for strategy, feed in self.feeds.items():
            pending = feed.pending
            if pending is None:
                continue
            if now < feed.next_at:
                if feed.timer is None:
                    feed.timer = self._loop.call_at(feed.next_at, self._flush_due)
                continue
            feed.timer = None
            if self.transport.get_write_buffer_size() > WRITE_HIGH_WATER:
                continue  # the sender flushes once the peer catches up
            if pending.seq > feed.last.seq:
                if feed.mode == "full":
                    out.append(self.server.lines.snapshot(pending))
                else:
                    out.append(self._diff(strategy, feed, pending))
            self._sent(feed, pending, now)
        if out:
            self.write(b"".join(out))


def _seek_time(value: Any) -> datetime:
    """A ``replay`` seek's ``to``: an ISO-8601 time, UTC when it names no offset."""
    when = parse_utc(value) if isinstance(value, str) else None
    if when is None:
        raise _RequestError(
            ErrorCode.BAD_REQUEST,
            "'to' must be an ISO-8601 time such as \"2023-01-10T05:30:00Z\"",
        )
    return when


def _seek_seconds(value: Any) -> float:
    """A ``replay`` seek's ``by``: signed seconds of market time."""
    if (
        isinstance(value, bool)
        or not isinstance(value, int | float)
        or not math.isfinite(value)
        or abs(value) > _MAX_SEEK_S
    ):
        raise _RequestError(
            ErrorCode.BAD_REQUEST,
            f"'by' must be a number of seconds of market time, at most {_MAX_SEEK_S:g} either way",
        )
    return float(value)
