"""Every op and every error code, driven by foreign clients (raw streams, socket, socat)."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ipc import MAX_LINE_BYTES, SocketInUse, SocketServer
from state import DashboardState, EventBus, StateRegistry
from tests.ipc._double import STRATEGY, StrategyDouble, make_target, seed, tick
from tests.ipc.conftest import RawConn, ServerFactory


def _padded_ping(total: int) -> bytes:
    """A valid ping request whose line (without newline) is exactly ``total`` bytes."""
    head = b'{"id":"big","op":"ping","pad":"'
    tail = b'"}'
    return head + b"x" * (total - len(head) - len(tail)) + tail


async def test_hello_line_and_hello_op(server: SocketServer) -> None:
    conn = await RawConn.open(server.path)
    hello = await conn.line()
    assert hello["type"] == "hello"
    assert hello["protocol"] == 1
    assert hello["server"] == "dash test"
    assert hello["session"] == server.session
    assert hello["strategies"] == [STRATEGY]
    assert hello["read_only"] is False
    assert hello["limits"] == {
        "max_line_bytes": MAX_LINE_BYTES,
        "queue_size": 256,
        "heartbeat_s": 2.0,
        "stall_timeout_s": 10.0,
    }
    reply = await conn.request(1, "hello")
    assert reply["ok"] is True
    assert reply["result"] == {k: v for k, v in hello.items() if k != "type"}
    await conn.close()


async def test_strategies(raw: RawConn, target: StrategyDouble) -> None:
    reply = await raw.request("s", "strategies")
    assert reply["result"] == {
        "strategies": [{"strategy": STRATEGY, "seq": 1, "mode": "paper", "status": "running"}]
    }


async def test_snapshot_is_the_committed_document(raw: RawConn, target: StrategyDouble) -> None:
    state = target.registry[STRATEGY]
    await tick(state, 1, 50)
    reply = await raw.request(1, "snapshot")
    assert reply["result"]["strategy"] == STRATEGY
    assert reply["result"]["seq"] == state.seq == 2
    assert reply["result"]["snapshot"] == state.snapshot().to_dict()
    assert len(reply["result"]["snapshot"]["positions"]) == 50
    named = await raw.request(2, "snapshot", strategy=STRATEGY)
    assert named["result"] == reply["result"]


async def test_unknown_strategy(raw: RawConn) -> None:
    for op, args in [("snapshot", {}), ("subscribe", {}), ("close_position", {"position": "p"})]:
        reply = await raw.request(op, op, strategy="nope", **args)
        assert reply["ok"] is False
        assert reply["error"]["code"] == "unknown_strategy", op
        assert "nope" in reply["error"]["message"]


async def test_several_strategies_need_a_name(make_server: ServerFactory, short_tmp: Path) -> None:
    target = make_target(strategies=("a", "b"))
    server = await make_server(target=target)
    conn = await RawConn.open(server.path)
    await conn.line()
    reply = await conn.request(1, "snapshot")
    assert reply["error"]["code"] == "bad_request"
    assert "a, b" in reply["error"]["message"]
    assert (await conn.request(2, "snapshot", strategy="b"))["result"]["strategy"] == "b"
    # subscribe without a name covers every strategy: one snapshot each.
    await conn.send({"id": 3, "op": "subscribe"})
    assert (await conn.line())["result"]["strategies"] == ["a", "b"]
    firsts = [await conn.line(), await conn.line()]
    assert [(e["event"], e["strategy"]) for e in firsts] == [("snapshot", "a"), ("snapshot", "b")]
    await tick(target.registry["b"], 1, 0)
    patch = await conn.line()
    assert (patch["event"], patch["strategy"], patch["seq"], patch["prev"]) == ("patch", "b", 1, 0)
    await conn.close()


async def test_no_strategy_yet_is_unavailable(make_server: ServerFactory) -> None:
    server = await make_server(target=StrategyDouble(StateRegistry(), EventBus()))
    conn = await RawConn.open(server.path)
    assert (await conn.line())["strategies"] == []
    for request_id, op in enumerate(("snapshot", "subscribe")):
        reply = await conn.request(request_id, op)
        assert reply["error"]["code"] == "unavailable"
    assert (await conn.request(9, "strategies"))["result"] == {"strategies": []}
    await conn.close()


async def test_subscribe_snapshot_then_patches(raw: RawConn, target: StrategyDouble) -> None:
    state = target.registry[STRATEGY]
    reply = await raw.request(1, "subscribe", mode="patch")
    assert reply["result"] == {"strategies": [STRATEGY], "mode": "patch", "max_rate": None}
    first = await raw.line()
    assert first["event"] == "snapshot" and first["resync"] is False
    assert first["seq"] == 1 and first["snapshot"] == state.snapshot().to_dict()
    doc = first["snapshot"]
    for n in range(5):
        await tick(state, n, 50)
    from state import apply_merge_patch

    for expected in range(2, 7):
        event = await raw.line()
        assert event["event"] == "patch"
        assert (event["seq"], event["prev"]) == (expected, expected - 1)
        assert event["strategy"] == STRATEGY
        doc = apply_merge_patch(doc, event["patch"])
    assert doc == state.snapshot().to_dict()


async def test_full_mode_sends_whole_documents(raw: RawConn, target: StrategyDouble) -> None:
    state = target.registry[STRATEGY]
    await raw.request(1, "subscribe", mode="full")
    await raw.line()
    await tick(state, 1, 50)
    event = await raw.line()
    assert event["event"] == "snapshot" and event["resync"] is False
    assert event["seq"] == 2 and event["snapshot"] == state.snapshot().to_dict()


@pytest.mark.parametrize(
    "args",
    [{"mode": "diff"}, {"max_rate": 0}, {"max_rate": "5"}, {"max_rate": True}, {"strategy": 3}],
)
async def test_subscribe_rejects_bad_arguments(raw: RawConn, args: dict[str, Any]) -> None:
    reply = await raw.request(1, "subscribe", **args)
    assert reply["ok"] is False and reply["error"]["code"] == "bad_request"


async def test_unsubscribe_stops_patches(raw: RawConn, target: StrategyDouble) -> None:
    state = target.registry[STRATEGY]
    await raw.request(1, "subscribe")
    await raw.line()
    reply = await raw.request(2, "unsubscribe")
    assert reply["result"] == {"unsubscribed": [STRATEGY]}
    await tick(state, 1, 50)
    # The ping reply follows every event queued before it; there must be none.
    await raw.send({"id": 3, "op": "ping"})
    nxt = await raw.line()
    assert (nxt["type"], nxt["id"]) == ("response", 3)
    assert (await raw.request(4, "unsubscribe"))["result"] == {"unsubscribed": []}


async def test_ping_reply_follows_queued_events(raw: RawConn, target: StrategyDouble) -> None:
    state = target.registry[STRATEGY]
    await raw.request(1, "subscribe")
    await raw.line()
    for n in range(20):
        await tick(state, n, 50)
    await raw.send({"id": "p", "op": "ping"})
    seen = []
    while True:
        message = await raw.line()
        if message["type"] == "response":
            break
        seen.append(message["seq"])
    assert seen == list(range(2, 22))
    assert message["id"] == "p"
    result = message["result"]
    assert result["seq"] == {STRATEGY: 21}
    assert result["uptime"] >= 0
    assert result["time"].endswith("Z")


async def test_pipelined_requests_get_replies_in_order(raw: RawConn) -> None:
    ops = ["ping", "strategies", "hello", "snapshot", "nope"] * 10
    batch = b"".join(json.dumps({"id": i, "op": op}).encode() + b"\n" for i, op in enumerate(ops))
    await raw.send(batch)
    for i, op in enumerate(ops):
        reply = await raw.line()
        assert reply["id"] == i
        assert reply["ok"] is (op != "nope")
        if op == "nope":
            assert reply["error"]["code"] == "unknown_op"


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        (b"\xff\xfe\xfd\n", "bad_json", None),
        (b'{"id": 1, "op": "ping"\n', "bad_json", None),
        (b"[1,2,3]\n", "bad_request", None),
        (b"42\n", "bad_request", None),
        (b'{"id": 5}\n', "bad_request", 5),
        (b'{"id": 6, "op": null}\n', "bad_request", 6),
        (b'{"id": 7, "op": "launch_missiles"}\n', "unknown_op", 7),
    ],
)
async def test_bad_input_gets_a_clear_error_and_the_connection_lives(
    raw: RawConn, line: bytes, code: str, request_id: Any
) -> None:
    await raw.send(line)
    reply = await raw.line()
    assert reply == {
        "type": "response",
        "id": request_id,
        "ok": False,
        "error": {"code": code, "message": reply["error"]["message"]},
    }
    assert reply["error"]["message"]
    assert (await raw.request(99, "ping"))["ok"] is True


async def test_blank_lines_are_ignored(raw: RawConn) -> None:
    await raw.send(b"\n   \n\r\n")
    assert (await raw.request(1, "ping"))["ok"] is True


async def test_line_of_exactly_one_mebibyte_is_accepted(raw: RawConn) -> None:
    line = _padded_ping(MAX_LINE_BYTES)
    assert len(line) == MAX_LINE_BYTES
    await raw.send(line + b"\n")
    reply = await raw.line()
    assert (reply["id"], reply["ok"]) == ("big", True)


async def test_line_over_one_mebibyte_is_too_large_then_closed(
    server: SocketServer, raw: RawConn
) -> None:
    other = await RawConn.open(server.path)
    await other.line()
    await raw.send(_padded_ping(MAX_LINE_BYTES + 1) + b"\n")
    reply = await raw.line()
    assert reply["ok"] is False and reply["error"]["code"] == "too_large"
    assert await raw.at_eof()
    assert (await other.request(1, "ping"))["ok"] is True  # nobody else noticed
    assert server.counters["too_large"] == 1
    await other.close()


async def test_endless_line_without_newline_is_too_large(raw: RawConn) -> None:
    raw.writer.write(b"{" + b"x" * (MAX_LINE_BYTES + 10))
    reply = await raw.line()
    assert reply["error"]["code"] == "too_large"
    assert await raw.at_eof()


async def test_close_position_accepted_then_completed_then_patch(
    raw: RawConn, target: StrategyDouble
) -> None:
    await raw.request(1, "subscribe")
    await raw.line()
    await raw.send(
        {
            "id": 2,
            "op": "close_position",
            "position": "p-0003",
            "reason": "manual",
            "idempotency_key": "k-1",
        }
    )
    reply = await raw.response(2)
    assert reply["result"] == {
        "strategy": STRATEGY,
        "position": "p-0003",
        "command_id": "c-1",
        "status": "accepted",
        "duplicate": False,
    }
    later = [await raw.line(), await raw.line()]
    command = next(m for m in later if m["event"] == "command")
    patch = next(m for m in later if m["event"] == "patch")
    assert command["strategy"] == STRATEGY
    assert command["data"]["command_id"] == "c-1"
    assert command["data"]["status"] == "completed"
    assert command["data"]["position"] == "p-0003"
    assert patch["patch"]["positions"] == {"p-0003": None}
    assert target.legs_closed["p-0003"] == 2
    audit = target.audit[0]
    assert audit["peer_pid"] == os.getpid() and audit["peer_uid"] == os.getuid()
    assert audit["args"] == {"position": "p-0003", "reason": "manual"}
    assert audit["idempotency_key"] == "k-1" and audit["status"] == "completed"

    again = await raw.request(3, "close_position", position="p-0003", idempotency_key="k-1")
    assert again["result"]["command_id"] == "c-1"
    assert again["result"]["duplicate"] is True
    assert again["result"]["status"] == "completed"
    assert again["result"]["outcome"]["status"] == "completed"
    assert target.legs_closed["p-0003"] == 2  # never traded twice
    assert len(target.audit) == 1


async def test_command_event_reaches_an_unsubscribed_issuer(
    raw: RawConn, target: StrategyDouble
) -> None:
    reply = await raw.request(1, "close_position", position="p-0001")
    event = await raw.line()
    assert event["event"] == "command"
    assert event["data"]["command_id"] == reply["result"]["command_id"]
    # Not subscribed: the state change itself is not sent.
    await raw.send({"id": 2, "op": "ping"})
    assert (await raw.line())["id"] == 2


async def test_repeated_key_while_running_returns_the_first_command(
    raw: RawConn, target: StrategyDouble
) -> None:
    target.close_delay_s = 0.2
    await raw.send(
        b'{"id":1,"op":"close_position","position":"p-0002","idempotency_key":"k"}\n'
        b'{"id":2,"op":"close_position","position":"p-0002","idempotency_key":"k"}\n'
    )
    first, second = await raw.response(1), await raw.response(2)
    assert first["result"]["duplicate"] is False
    assert second["result"]["duplicate"] is True
    assert second["result"]["command_id"] == first["result"]["command_id"]
    assert second["result"]["status"] == "accepted"
    await raw.until(lambda m: m.get("event") == "command")
    assert target.legs_closed["p-0002"] == 2


async def test_close_position_errors(raw: RawConn, target: StrategyDouble) -> None:
    missing = await raw.request(1, "close_position", position="p-9999")
    assert missing["error"]["code"] == "not_found"
    assert "p-9999" in missing["error"]["message"]
    bad_args: list[dict[str, Any]] = [
        {},
        {"position": ""},
        {"position": 5},
        {"position": "p-0001", "reason": 3},
        {"position": "p-0001", "idempotency_key": ""},
    ]
    for request_id, args in enumerate(bad_args, start=10):
        reply = await raw.request(request_id, "close_position", **args)
        assert reply["error"]["code"] == "bad_request", args
    await raw.request(20, "close_position", position="p-0004", idempotency_key="shared")
    conflict = await raw.request(21, "close_position", position="p-0005", idempotency_key="shared")
    assert conflict["error"]["code"] == "conflict"
    assert target.legs_closed["p-0005"] == 0


async def test_a_failed_close_reports_why(raw: RawConn, target: StrategyDouble) -> None:
    async with target.registry[STRATEGY].transaction("seed") as tx:
        tx.put_position("p-fail-1", {"symbol": "BTC/USDT"})
    reply = await raw.request(1, "close_position", position="p-fail-1")
    assert reply["result"]["status"] == "accepted"
    event = await raw.until(lambda m: m.get("event") == "command")
    assert event["data"]["status"] == "failed"
    assert event["data"]["error"] == "exchange rejected the order"


class _BrokenTarget(StrategyDouble):
    async def close_position(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("bug in the strategy")


async def test_a_crashing_handler_is_internal_and_contained(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    broken = _BrokenTarget(target.registry, target.bus)
    server = await make_server(target=broken)
    conn = await RawConn.open(server.path)
    await conn.line()
    reply = await conn.request(1, "close_position", position="p-0001")
    assert reply["error"] == {"code": "internal", "message": "internal error; see the log"}
    assert (await conn.request(2, "ping"))["ok"] is True
    await conn.close()


async def test_disconnect_mid_line_and_mid_stream(
    server: SocketServer, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    half = await RawConn.open(server.path)
    await half.line()
    await half.send(b'{"id":1,"op":"pi')
    await half.close()
    streaming = await RawConn.open(server.path)
    await streaming.line()
    await streaming.send({"id": 1, "op": "subscribe"})
    for n in range(5):
        await tick(state, n, 50)
    streaming.writer.transport.abort()  # gone without reading
    watcher = await RawConn.open(server.path)
    await watcher.line()
    await watcher.request(1, "subscribe")
    await watcher.line()
    for n in range(5, 10):
        await tick(state, n, 50)
    seqs = [(await watcher.line())["seq"] for _ in range(5)]
    assert seqs == [state.seq - 4 + i for i in range(5)]
    for _ in range(100):
        if server.connection_count == 1:
            break
        await asyncio.sleep(0.01)
    assert server.connection_count == 1
    await watcher.close()


async def test_plain_blocking_socket_client(server: SocketServer) -> None:
    def talk() -> list[dict[str, Any]]:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(3)
            sock.connect(str(server.path))
            sock.sendall(b'{"id":1,"op":"ping"}\n{"id":2,"op":"strategies"}\n')
            data = b""
            while data.count(b"\n") < 3:
                data += sock.recv(65536)
        return [json.loads(line) for line in data.splitlines()]

    hello, ping, strategies = await asyncio.to_thread(talk)
    assert hello["type"] == "hello"
    assert (ping["id"], strategies["id"]) == (1, 2)


async def test_socat_session(server: SocketServer) -> None:
    socat = shutil.which("socat")
    assert socat is not None, "socat is a test dependency (scripts/ensure-test-tools.sh)"
    requests = b'{"id":1,"op":"ping"}\n{"id":2,"op":"snapshot"}\nnot json\n'

    def run() -> subprocess.CompletedProcess[bytes]:
        return subprocess.run(
            [socat, "-t", "1", "-", f"UNIX-CONNECT:{server.path}"],
            input=requests,
            capture_output=True,
            timeout=10,
        )

    done = await asyncio.to_thread(run)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [m.get("type") for m in lines] == ["hello", "response", "response", "response"]
    assert lines[1]["id"] == 1 and lines[1]["ok"]
    assert lines[2]["result"]["strategy"] == STRATEGY
    assert lines[3]["error"]["code"] == "bad_json"


async def test_second_instance_is_refused_and_stale_file_replaced(
    short_tmp: Path, target: StrategyDouble
) -> None:
    path = short_tmp / "dash.sock"
    first = SocketServer(target, path)
    await first.start()
    try:
        with pytest.raises(SocketInUse, match="already serving"):
            await SocketServer(target, path).start()
        assert (await asyncio.to_thread(_ping_once, path))["ok"]
    finally:
        await first.stop()
    assert not path.exists()  # removed on clean exit

    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # what a SIGKILLed server leaves behind
    dead.close()
    second = SocketServer(target, path)
    await second.start()
    try:
        assert stat.S_IMODE(os.lstat(path).st_mode) == 0o600
        assert (await asyncio.to_thread(_ping_once, path))["ok"]
    finally:
        await second.stop()


def _ping_once(path: Path) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(3)
        sock.connect(str(path))
        reader = sock.makefile("rb")
        reader.readline()
        sock.sendall(b'{"id":1,"op":"ping"}\n')
        reply: dict[str, Any] = json.loads(reader.readline())
        return reply


async def test_stop_says_bye_and_removes_the_socket(server: SocketServer, raw: RawConn) -> None:
    await raw.request(1, "subscribe")
    await raw.line()
    await server.stop()
    bye = await raw.line()
    assert bye == {
        "type": "event",
        "event": "bye",
        "reason": "shutdown",
        "message": "the server is shutting down",
    }
    assert await raw.at_eof()
    assert not server.path.exists()


async def test_states_are_served_live_from_the_registry(
    raw: RawConn, target: StrategyDouble
) -> None:
    extra = DashboardState("second", bus=target.bus)
    target.registry.add(extra)
    await seed(extra, 3)
    reply = await raw.request(1, "snapshot", strategy="second")
    assert reply["result"]["seq"] == 1
    assert len(reply["result"]["snapshot"]["positions"]) == 3


async def test_replies_keep_request_order_behind_a_waiting_ping(
    raw: RawConn, target: StrategyDouble
) -> None:
    state = target.registry[STRATEGY]
    await raw.request(1, "subscribe")
    await raw.line()
    # The requests reach the socket, then 20 changes are queued before the server (on
    # this same loop) gets to run: the ping must wait for them, the rest for the ping.
    raw.writer.write(
        b'{"id":"p","op":"ping"}\n{"id":"s","op":"strategies"}\n{"id":"x","op":"nope"}\n'
    )
    for n in range(20):
        await tick(state, n, 50)
    order = []
    while len(order) < 23:
        message = await raw.line()
        order.append(message.get("id") if message["type"] == "response" else message["seq"])
    assert order == [*range(2, 22), "p", "s", "x"]


async def test_a_ping_handled_with_events_queued_waits_for_them(
    server: SocketServer, raw: RawConn, target: StrategyDouble
) -> None:
    """White-box timing: the requests are handled while the changes are still queued
    (no await in between lets the sender run), so the ping's reply must be held back."""
    state = target.registry[STRATEGY]
    await raw.request(1, "subscribe")
    await raw.line()
    (conn,) = server._conns
    for n in range(20):
        await tick(state, n, 50)
    assert conn.sub is not None and conn.sub.qsize() == 20
    await conn._handle(b'{"id":"p","op":"ping"}\n')
    await conn._handle(b'{"id":"s","op":"strategies"}\n')
    await conn._handle(b'{"id":"x","op":"nope"}\n')
    order = []
    while len(order) < 23:
        message = await raw.line()
        order.append(message.get("id") if message["type"] == "response" else message["seq"])
    assert order == [*range(2, 22), "p", "s", "x"]


async def test_replay_op_on_a_live_server_is_an_unknown_op(raw: RawConn) -> None:
    """Only ``dash replay`` serves ``replay``; a live strategy has no clock to move."""
    for action in ("pause", "seek", "nonsense"):
        reply = await raw.request(3, "replay", action=action, by=-60)
        assert reply["ok"] is False
        assert reply["error"]["code"] == "unknown_op"
        assert "only served by dash replay" in reply["error"]["message"]
    assert (await raw.request(4, "ping"))["ok"] is True  # the connection carries on
