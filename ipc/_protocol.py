"""Protocol v1: message shapes, the line codec, error codes and limits. No I/O.

Everything both ends must agree on lives here, so the asyncio server, the asyncio client
and the blocking one-shot client cannot drift apart. This module imports only orjson and
the standard library's cheapest parts: the blocking client imports it on the fast path of
``dash snapshot``.

Framing: UTF-8 JSON, one object per line, ``\\n``-terminated, no newline inside a message
(compact JSON never contains a raw one). Three shapes travel on the wire:

* the server's ``hello`` line, sent once on connect;
* a ``response`` to a request, echoing the request's ``id`` verbatim;
* an ``event`` (``snapshot``, ``patch``, ``heartbeat``, ``bye`` and the strategy's notices).

``docs/protocol.md`` is the normative text; the constants below are the numbers it quotes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Final

import orjson

__all__ = [
    "CONTROL_OPS",
    "DEFAULT_HEARTBEAT_S",
    "DEFAULT_STALL_TIMEOUT_S",
    "HELLO_TIMEOUT_S",
    "MAX_LINE_BYTES",
    "OPS",
    "PROTOCOL_VERSION",
    "REPLAY_ACTIONS",
    "STREAM_LIMIT",
    "SUBSCRIBER_QUEUE_SIZE",
    "WRITE_HIGH_WATER",
    "WRITE_LOW_WATER",
    "ErrorCode",
    "FrameError",
    "decode_line",
    "encode",
    "error_line",
    "event_line",
    "response_line",
    "response_prefix",
]

PROTOCOL_VERSION: Final = 1

# A whole snapshot of a busy strategy is tens of KiB; 1 MiB leaves two orders of magnitude
# of headroom while still bounding what one malicious line can pin in memory.
MAX_LINE_BYTES: Final = 1024 * 1024

# asyncio's StreamReader refuses lines longer than its `limit` (64 KiB by default); both
# ends raise it to the protocol limit. (`readline` accepts a line whose newline sits at
# index `limit`, i.e. exactly MAX_LINE_BYTES bytes of content.)
STREAM_LIMIT: Final = MAX_LINE_BYTES

# An idle subscriber hears from the server at least this often, so it can tell a quiet
# strategy from a dead socket without sending anything.
DEFAULT_HEARTBEAT_S: Final = 2.0

# A subscriber whose socket accepts no bytes for this long is told `bye` and dropped: it
# would otherwise pin a full write buffer forever.
DEFAULT_STALL_TIMEOUT_S: Final = 10.0

# Items (changes, notices) the bus may queue for one connection before it drops them and
# owes the connection a resync. 20 changes/s for ~12 s: a client that pauses briefly (a
# terminal being resized, a laptop lid) catches up without a full snapshot.
SUBSCRIBER_QUEUE_SIZE: Final = 256

# Bytes the server lets pile up in one connection's transport buffer before it stops
# taking that connection's events off the bus. Above it, the bus queue fills and turns
# into a resync; memory per connection stays at about this plus one line.
WRITE_HIGH_WATER: Final = 256 * 1024
WRITE_LOW_WATER: Final = 64 * 1024

# How long a client waits for the server's hello before calling the socket dead.
HELLO_TIMEOUT_S: Final = 5.0

OPS: Final = frozenset(
    {
        "hello",
        "snapshot",
        "subscribe",
        "unsubscribe",
        "ping",
        "strategies",
        "close_position",
        "replay",
    }
)
# Ops that change the strategy; `--read-only` answers them with `forbidden`. (`replay`
# is not one: it moves a replay's clock, served only by `dash replay`, always read-only.)
CONTROL_OPS: Final = frozenset({"close_position"})
# The `action`s of the `replay` op.
REPLAY_ACTIONS: Final = ("pause", "resume", "seek")


class ErrorCode(StrEnum):
    """The ``error.code`` values of a failed response; each is documented in protocol.md."""

    BAD_JSON = "bad_json"
    BAD_REQUEST = "bad_request"
    UNKNOWN_OP = "unknown_op"
    UNKNOWN_STRATEGY = "unknown_strategy"
    NOT_FOUND = "not_found"
    TOO_LARGE = "too_large"
    FORBIDDEN = "forbidden"
    CONFLICT = "conflict"
    UNAVAILABLE = "unavailable"
    INTERNAL = "internal"


class FrameError(Exception):
    """A line that is not a request; carries the code and message for the error reply.

    ``request_id`` is the line's ``id`` when one could be read, so the reply still
    correlates (a valid object with an unknown op, say).
    """

    def __init__(self, code: ErrorCode, message: str, request_id: Any = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.request_id = request_id


def encode(message: Any) -> bytes:
    """One wire line: compact JSON plus ``\\n``. Decimals must already be strings."""
    return orjson.dumps(message) + b"\n"


def decode_line(line: bytes) -> dict[str, Any]:
    """Parse one request line (without its newline) or raise :class:`FrameError`.

    Checks only what every op shares: valid UTF-8 JSON, an object, a string ``op``. The
    op's own arguments are checked by its handler.
    """
    try:
        message = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        # orjson reports invalid UTF-8 as a decode error too; keep its wording short.
        reason = str(exc).split(":", 1)[0]
        raise FrameError(ErrorCode.BAD_JSON, f"line is not valid UTF-8 JSON: {reason}") from exc
    if not isinstance(message, dict):
        raise FrameError(
            ErrorCode.BAD_REQUEST, f"a request must be a JSON object, not {_json_type(message)}"
        )
    request_id = message.get("id")
    op = message.get("op")
    if op is None:
        raise FrameError(ErrorCode.BAD_REQUEST, "request has no 'op'", request_id)
    if not isinstance(op, str):
        raise FrameError(ErrorCode.BAD_REQUEST, "'op' must be a string", request_id)
    if op not in OPS:
        raise FrameError(ErrorCode.UNKNOWN_OP, f"unknown op {op!r}", request_id)
    return message


def response_prefix(request_id: Any) -> bytes:
    """The bytes of a successful response up to its ``result`` value.

    Lets the server splice an already-encoded snapshot into a reply without parsing it.
    """
    return b'{"type":"response","id":' + _encode_id(request_id) + b',"ok":true,"result":'


def response_line(request_id: Any, result: Any) -> bytes:
    return response_prefix(request_id) + orjson.dumps(result) + b"}\n"


def error_line(request_id: Any, code: ErrorCode | str, message: str) -> bytes:
    error = orjson.dumps({"code": str(code), "message": message})
    prefix = b'{"type":"response","id":' + _encode_id(request_id) + b',"ok":false,"error":'
    return prefix + error + b"}\n"


def event_line(event: str, **fields: Any) -> bytes:
    return encode({"type": "event", "event": event, **fields})


def _safe_id(request_id: Any) -> Any:
    """An id we can always echo: anything JSON can carry except deep containers."""
    if request_id is None or isinstance(request_id, str | int | float | bool):
        return request_id
    return None


def _encode_id(request_id: Any) -> bytes:
    try:
        return orjson.dumps(_safe_id(request_id))
    except orjson.JSONEncodeError:  # an int beyond 64 bits
        return b"null"


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"
