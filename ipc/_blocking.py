"""A small blocking client for one-shot commands (``dash snapshot``, ``dash close``).

It imports ``socket`` and ``orjson`` and nothing that starts slowly (no asyncio, Rich or
Typer), so a script calling ``dash snapshot --json`` in a loop pays for Python's start-up
and one round trip, not for an event loop. Long-lived consumers want
:class:`ipc.Client` and :func:`ipc.subscribe` instead.
"""

from __future__ import annotations

import itertools
import os
import socket
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any

import orjson

from ipc._exceptions import (
    ConnectFailed,
    ConnectionLost,
    ProtocolViolation,
    RequestFailed,
    RequestTimeout,
)
from ipc._paths import discover_socket
from ipc._protocol import MAX_LINE_BYTES, PROTOCOL_VERSION

__all__ = ["BlockingClient", "one_shot"]

_RECV_BYTES = 256 * 1024


class BlockingClient:
    """One connection, used from one thread; requests block until their reply.

    Args:
        path: the server's socket. Defaults to the only socket in the runtime dir.
        timeout: seconds allowed for connecting and for each call. Defaults to 5.0.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, timeout: float = 5.0):
        self.path = Path(path) if path is not None else discover_socket()
        self.timeout = timeout
        self.hello: dict[str, Any] = {}
        self._sock: socket.socket | None = None
        self._buffer = bytearray()
        self._events: deque[dict[str, Any]] = deque()
        self._ids = itertools.count(1)

    def __enter__(self) -> BlockingClient:
        self.connect()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def connect(self) -> dict[str, Any]:
        """Connect and read the server's hello; returns it."""
        if self._sock is not None:
            return self.hello
        deadline = time.monotonic() + self.timeout
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.settimeout(self.timeout)
        try:
            sock.connect(os.fspath(self.path))
        except (FileNotFoundError, ConnectionRefusedError) as exc:
            sock.close()
            raise ConnectFailed(f"no dash server at {self.path}") from exc
        except TimeoutError as exc:
            sock.close()
            raise ConnectFailed(f"timed out connecting to {self.path}") from exc
        except OSError as exc:
            sock.close()
            raise ConnectFailed(f"cannot connect to {self.path}: {exc.strerror}") from exc
        self._sock = sock
        try:
            first = self._read_message(deadline)
        except RequestTimeout as exc:
            self.close()
            raise ConnectFailed(f"no hello from {self.path} within {self.timeout} s") from exc
        except BaseException:
            self.close()
            raise
        if first.get("type") == "response" and first.get("ok") is False:
            self.close()
            error = first.get("error") or {}
            raise RequestFailed(str(error.get("code")), str(error.get("message")))
        if first.get("type") != "hello" or first.get("protocol") != PROTOCOL_VERSION:
            self.close()
            raise ProtocolViolation(f"expected a protocol {PROTOCOL_VERSION} hello, got {first!r}")
        self.hello = first
        return first

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def request(self, op: str, **args: Any) -> Any:
        """Send one request and return its ``result``; raises :class:`RequestFailed`.

        Events that arrive meanwhile are kept for :meth:`wait_event`.
        """
        deadline = time.monotonic() + self.timeout
        request_id = next(self._ids)
        self._send({"id": request_id, "op": op, **args})
        while True:
            message = self._read_message(deadline)
            if message.get("type") == "response" and message.get("id") == request_id:
                if message.get("ok"):
                    return message.get("result")
                error = message.get("error") or {}
                raise RequestFailed(str(error.get("code")), str(error.get("message")))
            if message.get("type") == "event":
                self._events.append(message)

    def wait_event(
        self, match: Callable[[dict[str, Any]], bool], timeout: float | None = None
    ) -> dict[str, Any]:
        """The first event (already received or still to come) for which ``match`` is true."""
        for event in list(self._events):
            if match(event):
                self._events.remove(event)
                return event
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        while True:
            message = self._read_message(deadline)
            if message.get("type") == "event":
                if match(message):
                    return message
                self._events.append(message)

    def _send(self, message: dict[str, Any]) -> None:
        sock = self._require_socket()
        try:
            sock.sendall(orjson.dumps(message) + b"\n")
        except OSError as exc:
            self.close()
            raise ConnectionLost(f"connection to {self.path} lost while sending") from exc

    def _read_message(self, deadline: float) -> dict[str, Any]:
        line = self._read_line(deadline)
        try:
            message = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ProtocolViolation(f"server sent a line that is not JSON: {exc}") from exc
        if not isinstance(message, dict):
            raise ProtocolViolation("server sent a JSON value that is not an object")
        if message.get("type") == "event" and message.get("event") == "bye":
            self.close()
            reason = str(message.get("reason"))
            raise ConnectionLost(f"server said bye ({reason})", reason=reason)
        return message

    def _read_line(self, deadline: float) -> bytes:
        sock = self._require_socket()
        while True:
            end = self._buffer.find(b"\n")
            if end >= 0:
                line = bytes(self._buffer[:end])
                del self._buffer[: end + 1]
                return line
            if len(self._buffer) > MAX_LINE_BYTES:
                self.close()
                raise ProtocolViolation(f"server sent a line over {MAX_LINE_BYTES} bytes")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise RequestTimeout(f"no reply from {self.path} within {self.timeout} s")
            sock.settimeout(remaining)
            try:
                chunk = sock.recv(_RECV_BYTES)
            except TimeoutError as exc:
                raise RequestTimeout(f"no reply from {self.path} within {self.timeout} s") from exc
            except OSError as exc:
                self.close()
                raise ConnectionLost(f"connection to {self.path} lost: {exc.strerror}") from exc
            if not chunk:
                self.close()
                raise ConnectionLost(f"server at {self.path} closed the connection")
            self._buffer += chunk

    def _require_socket(self) -> socket.socket:
        if self._sock is None:
            raise ConnectionLost("the client is not connected (call connect() first)")
        return self._sock


def one_shot(
    op: str,
    *,
    path: str | os.PathLike[str] | None = None,
    timeout: float = 5.0,
    **args: Any,
) -> Any:
    """Connect, send one request, return its result, disconnect."""
    with BlockingClient(path, timeout=timeout) as client:
        return client.request(op, **args)
