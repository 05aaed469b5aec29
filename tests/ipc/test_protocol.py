"""The codec: what counts as a request, and the exact bytes of replies."""

from __future__ import annotations

import json

import pytest

from ipc._protocol import (
    MAX_LINE_BYTES,
    OPS,
    ErrorCode,
    FrameError,
    decode_line,
    error_line,
    event_line,
    response_line,
    response_prefix,
)


def test_a_request_needs_a_known_op() -> None:
    assert decode_line(b'{"id":1,"op":"ping","extra":[1]}') == {
        "id": 1,
        "op": "ping",
        "extra": [1],
    }
    assert "close_position" in OPS


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        (b"\xff\xfe", ErrorCode.BAD_JSON, None),
        (b'{"op": "ping"', ErrorCode.BAD_JSON, None),
        (b'{"op":"ping"} trailing', ErrorCode.BAD_JSON, None),
        (b"[1, 2]", ErrorCode.BAD_REQUEST, None),
        (b'"ping"', ErrorCode.BAD_REQUEST, None),
        (b'{"id": 9}', ErrorCode.BAD_REQUEST, 9),
        (b'{"id": "x", "op": 3}', ErrorCode.BAD_REQUEST, "x"),
        (b'{"id": 4, "op": "reboot"}', ErrorCode.UNKNOWN_OP, 4),
    ],
)
def test_malformed_lines_map_to_one_code(line: bytes, code: ErrorCode, request_id: object) -> None:
    with pytest.raises(FrameError) as info:
        decode_line(line)
    assert info.value.code == code
    assert info.value.request_id == request_id
    assert info.value.message


def test_invalid_utf8_is_named_in_the_message() -> None:
    with pytest.raises(FrameError, match="UTF-8"):
        decode_line(b'{"op":"\xc3\x28"}')


def test_replies_echo_the_id_and_are_one_line() -> None:
    ok = response_line("abc", {"x": 1})
    assert ok.endswith(b"\n") and ok.count(b"\n") == 1
    assert json.loads(ok) == {"type": "response", "id": "abc", "ok": True, "result": {"x": 1}}
    bad = error_line(7, ErrorCode.NOT_FOUND, "no open position 'p-1'")
    assert json.loads(bad) == {
        "type": "response",
        "id": 7,
        "ok": False,
        "error": {"code": "not_found", "message": "no open position 'p-1'"},
    }


def test_ids_that_cannot_be_echoed_become_null() -> None:
    assert json.loads(error_line({"nested": 1}, "bad_request", "m"))["id"] is None
    assert json.loads(error_line(2**70, "bad_request", "m"))["id"] is None
    assert json.loads(response_prefix([1]) + b"{}}")["id"] is None


def test_event_line_shape() -> None:
    assert json.loads(event_line("bye", reason="shutdown")) == {
        "type": "event",
        "event": "bye",
        "reason": "shutdown",
    }


def test_limit_is_one_mebibyte() -> None:
    assert MAX_LINE_BYTES == 1_048_576
