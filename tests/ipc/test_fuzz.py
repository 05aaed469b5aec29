"""Hypothesis throws garbage and odd requests at a live server while a strategy commits
changes and a healthy subscriber watches: the server stays up, every fuzz line gets a
well-formed reply, and the subscriber misses nothing.

The server runs on its own loop in a thread (hypothesis drives examples synchronously),
the fuzz and the subscriber use plain blocking sockets.
"""

from __future__ import annotations

import asyncio
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ipc import ErrorCode, SocketServer
from ipc._protocol import OPS
from tests.ipc._double import STRATEGY, make_target, seed, tick

EXAMPLES = 220
LINES_PER_EXAMPLE = (10, 20)
CODES = {str(code) for code in ErrorCode}

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
requests = st.fixed_dictionaries(
    {"op": st.sampled_from(sorted(OPS)) | st.text(max_size=10)},
    optional={
        "id": st.integers(0, 2**31) | st.text(max_size=8) | st.none(),
        "strategy": st.sampled_from([STRATEGY, "nope"]) | json_values,
        "position": st.sampled_from(["p-9999", "p-fail-x"]) | json_values,
        "reason": json_values,
        "idempotency_key": json_values,
        "mode": json_values,
        "max_rate": json_values,
    },
)
lines = st.one_of(
    st.binary(max_size=300).map(lambda b: b.replace(b"\n", b"")),
    json_values.map(lambda v: json.dumps(v).encode()),
    requests.map(lambda r: json.dumps(r).encode()),
)


class _ServerThread:
    """A server, a ticking strategy and nothing else on a private loop."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.ticks = 0
        self.stop_ticking = threading.Event()

    def call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(10)

    async def _setup(self) -> None:
        self.target = make_target()
        self.state = self.target.registry[STRATEGY]
        await seed(self.state, 50)
        self.server = SocketServer(self.target, self.path, heartbeat_s=0.5)
        await self.server.start()
        self.ticker = asyncio.create_task(self._tick())

    async def _tick(self) -> None:
        while not self.stop_ticking.is_set():
            await tick(self.state, self.ticks, 50)
            self.ticks += 1
            await asyncio.sleep(0.005)

    async def _teardown(self) -> None:
        self.ticker.cancel()
        await self.server.stop(grace_s=0.5)


@contextmanager
def running(path: Path) -> Iterator[_ServerThread]:
    env = _ServerThread(path)
    env.thread.start()
    env.call(env._setup())
    try:
        yield env
    finally:
        env.call(env._teardown())
        env.loop.call_soon_threadsafe(env.loop.stop)
        env.thread.join(5)


class _Watcher(threading.Thread):
    """A healthy subscriber checking seq continuity of every patch."""

    def __init__(self, path: Path) -> None:
        super().__init__(daemon=True)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(path))
        self.sock.sendall(b'{"id":1,"op":"subscribe"}\n')
        self.seq = -1
        self.first = -1
        self.patches = 0
        self.problems: list[str] = []
        self.done = threading.Event()

    def run(self) -> None:
        reader = self.sock.makefile("rb")
        for raw in reader:
            message = json.loads(raw)
            event = message.get("event")
            if event == "snapshot":
                if self.first >= 0:
                    self.problems.append(f"unexpected snapshot {message['seq']}")
                self.first = self.seq = message["seq"]
            elif event == "patch":
                if message["prev"] != self.seq:
                    self.problems.append(f"gap: prev {message['prev']} after {self.seq}")
                self.seq = message["seq"]
                self.patches += 1
            elif event == "bye":
                break
        self.done.set()


def _exchange(path: Path, batch: list[bytes]) -> list[dict[str, Any]]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(5)
        sock.connect(str(path))
        reader = sock.makefile("rb")
        assert json.loads(reader.readline())["type"] == "hello"
        sock.sendall(b"".join(line + b"\n" for line in batch) + b'{"id":"end","op":"ping"}\n')
        replies: list[dict[str, Any]] = []
        while True:
            message = json.loads(reader.readline())
            if message.get("type") != "response":
                continue
            if message.get("id") == "end" and message["ok"] and "uptime" in message["result"]:
                return replies
            replies.append(message)


def test_fuzzed_lines_never_disturb_the_server(short_tmp: Path) -> None:
    sent = 0
    with running(short_tmp / "fuzz.sock") as env:
        watcher = _Watcher(env.path)
        watcher.start()

        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(st.lists(lines, min_size=LINES_PER_EXAMPLE[0], max_size=LINES_PER_EXAMPLE[1]))
        def one_batch(batch: list[bytes]) -> None:
            nonlocal sent
            replies = _exchange(env.path, batch)
            expected = [line for line in batch if line.rstrip(b"\r").strip()]
            sent += len(batch)
            assert len(replies) == len(expected)
            for reply in replies:
                assert isinstance(reply["ok"], bool)
                if not reply["ok"]:
                    assert reply["error"]["code"] in CODES
                    assert reply["error"]["code"] != "internal", reply
                    assert isinstance(reply["error"]["message"], str)

        one_batch()
        env.stop_ticking.set()
        final = env.call(_settled(env))
        for _ in range(200):
            if watcher.seq == final:
                break
            watcher.done.wait(0.01)
        counters = dict(env.server.counters)
    assert sent >= 2000
    assert watcher.problems == []
    assert watcher.seq == final and watcher.patches == final - watcher.first
    assert watcher.patches > 50
    assert counters["stalled"] == 0


async def _settled(env: _ServerThread) -> int:
    await asyncio.sleep(0.05)
    return int(env.state.seq)
