"""The control plane: an NDJSON protocol over a Unix socket (spec: docs/protocol.md).

The light parts (protocol constants, paths, exceptions, the blocking one-shot client) are
imported eagerly; the asyncio server and client, which pull in asyncio and ``state``, are
loaded on first attribute access. So ``from ipc import BlockingClient`` costs a socket and
orjson, and ``dash snapshot --json`` starts fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from ipc._blocking import BlockingClient, one_shot
from ipc._exceptions import (
    ClientError,
    CommandRejected,
    ConnectFailed,
    ConnectionLost,
    IPCError,
    ProtocolViolation,
    RequestFailed,
    RequestTimeout,
    ServerStartError,
    SocketInUse,
    UnsafeSocketPath,
)
from ipc._paths import (
    SocketClaim,
    claim_socket,
    default_socket_path,
    discover_socket,
    list_sockets,
    probe,
    runtime_dir,
)
from ipc._protocol import (
    DEFAULT_HEARTBEAT_S,
    DEFAULT_STALL_TIMEOUT_S,
    MAX_LINE_BYTES,
    PROTOCOL_VERSION,
    SUBSCRIBER_QUEUE_SIZE,
    WRITE_HIGH_WATER,
    ErrorCode,
)

if TYPE_CHECKING:
    from ipc._client import Client, Subscription, Update, subscribe
    from ipc._control import CommandTicket, ControlTarget, Peer
    from ipc._server import SocketServer

__all__ = [
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_STALL_TIMEOUT_S",
    "MAX_LINE_BYTES",
    "PROTOCOL_VERSION",
    "SUBSCRIBER_QUEUE_SIZE",
    "WRITE_HIGH_WATER",
    "BlockingClient",
    "Client",
    "ClientError",
    "CommandRejected",
    "CommandTicket",
    "ConnectFailed",
    "ConnectionLost",
    "ControlTarget",
    "ErrorCode",
    "IPCError",
    "Peer",
    "ProtocolViolation",
    "RequestFailed",
    "RequestTimeout",
    "ServerStartError",
    "SocketClaim",
    "SocketInUse",
    "SocketServer",
    "Subscription",
    "UnsafeSocketPath",
    "Update",
    "claim_socket",
    "default_socket_path",
    "discover_socket",
    "list_sockets",
    "one_shot",
    "probe",
    "runtime_dir",
    "subscribe",
]

_LAZY = {
    "Client": "ipc._client",
    "Subscription": "ipc._client",
    "Update": "ipc._client",
    "subscribe": "ipc._client",
    "CommandTicket": "ipc._control",
    "ControlTarget": "ipc._control",
    "Peer": "ipc._control",
    "SocketServer": "ipc._server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'ipc' has no attribute {name!r}")
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
