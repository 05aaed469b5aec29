"""Every error ipc/ raises, in one tree, so callers catch a family rather than a list.

::

    IPCError
    ├── ServerStartError          the server cannot take its socket path
    │   ├── SocketInUse           another live instance answers on that path
    │   └── UnsafeSocketPath      the path or its directory is not ours / not a socket
    ├── ClientError               talking to a server failed
    │   ├── ConnectFailed         no server there (missing file, refused, no hello in time)
    │   ├── ConnectionLost        the server closed the connection (EOF or ``bye``)
    │   ├── ProtocolViolation     the server sent something that is not protocol v1
    │   ├── RequestTimeout        no reply to a request in time
    │   └── RequestFailed         the server replied ``ok: false`` (``.code``, ``.message``)
    └── CommandRejected           raised by a ControlTarget; the server maps it to a reply

Foreign errors (``OSError``, ``asyncio.TimeoutError``, orjson's decode errors) are
translated at the boundary with ``raise Mapped(...) from exc``; nothing else escapes the
public client API.
"""

from __future__ import annotations

__all__ = [
    "ClientError",
    "CommandRejected",
    "ConnectFailed",
    "ConnectionLost",
    "IPCError",
    "ProtocolViolation",
    "RequestFailed",
    "RequestTimeout",
    "ServerStartError",
    "SocketInUse",
    "UnsafeSocketPath",
]


class IPCError(Exception):
    """Base of everything ipc/ raises."""


class ServerStartError(IPCError):
    pass


class SocketInUse(ServerStartError):
    pass


class UnsafeSocketPath(ServerStartError):
    pass


class ClientError(IPCError):
    pass


class ConnectFailed(ClientError):
    pass


class ConnectionLost(ClientError):
    """The server closed the connection; ``reason`` is the ``bye`` reason when one came."""

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason


class ProtocolViolation(ClientError):
    pass


class RequestTimeout(ClientError):
    pass


class RequestFailed(ClientError):
    """An ``ok: false`` reply. ``code`` is one of :class:`ipc.ErrorCode`'s values."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


class CommandRejected(IPCError):
    """A control command the strategy refuses at once (``not_found``, ``conflict``, ...).

    The one error type a :class:`ipc.ControlTarget` raises; the server turns it into an
    error reply with the same code, so the strategy never formats wire messages.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
