"""Ten clients that never read next to fifty that do: nobody else pays for the stalled.

The 50 readers run in a separate process (tests/ipc/_load_client.py) so that the loop
lag measured here is the server's own. The ten silent peers are plain sockets in this
process that nobody ever reads.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from pathlib import Path

from ipc import WRITE_HIGH_WATER, SocketServer
from tests.conftest import REPO_ROOT
from tests.ipc._double import STRATEGY, StrategyDouble, tick
from tests.ipc.conftest import ServerFactory, SilentPeer

READERS = 50
SILENT = 10
CHANGE_EVERY_S = 0.02
RUN_S = 4.0


def rss_bytes() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS in /proc/self/status")


async def _lag_probe(samples: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while True:
        started = loop.time()
        await asyncio.sleep(0.01)
        samples.append(loop.time() - started - 0.01)


def _p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def test_stalled_clients_are_contained(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server: SocketServer = await make_server(stall_timeout_s=1.0)
    state = target.registry[STRATEGY]
    silent = [SilentPeer(server.path) for _ in range(SILENT)]
    for peer in silent:
        peer.send({"id": 1, "op": "subscribe"})
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.ipc._load_client",
        str(server.path),
        str(READERS),
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=64 * 1024 * 1024,
    )
    assert child.stdin is not None and child.stdout is not None
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 20) == b"ready\n"
        assert server.connection_count == READERS + SILENT
        lags: list[float] = []
        probe = asyncio.create_task(_lag_probe(lags))
        rss_before = rss_bytes()
        max_buffer = max_queue = rss_peak = 0
        started = time.monotonic()
        n = 0
        while time.monotonic() - started < RUN_S:
            await tick(state, n, 50, touched=50)  # every position moves: ~5 KB per patch
            n += 1
            for conn in list(server._conns):
                max_buffer = max(max_buffer, conn.transport.get_write_buffer_size())
                if conn.sub is not None:
                    max_queue = max(max_queue, conn.sub.qsize())
            rss_peak = max(rss_peak, rss_bytes())
            await asyncio.sleep(CHANGE_EVERY_S)
        probe.cancel()
        child.stdin.write(f"stop {state.seq}\n".encode())
        await child.stdin.drain()
        report = json.loads(await asyncio.wait_for(child.stdout.readline(), 30))
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
        for peer in silent:
            peer.close()

    # The healthy ones got every patch, in order, with no resync.
    peers = report["peers"]
    assert len(peers) == READERS
    for peer in peers:
        assert peer["last"] == state.seq
        assert peer["gaps"] == 0 and peer["resyncs"] == 0 and peer["bye"] is None
        assert peer["patches"] == state.seq - peer["first"]
    # The stalled ones were resynced (their queues overflowed) and then dropped.
    assert server.counters["stalled"] == SILENT
    assert server.connection_count <= READERS
    # Memory per connection is bounded: the transport buffer stops near the high-water
    # mark (plus one batch of lines), the bus queue at its size.
    assert max_buffer <= WRITE_HIGH_WATER + 64 * 8 * 1024, max_buffer
    assert max_queue <= 256
    assert rss_peak - rss_before < 64 * 1024 * 1024, (rss_before, rss_peak)
    # The strategy's loop kept ticking on time.
    p99 = _p(lags, 0.99)
    print(
        f"\nloop lag p50 {_p(lags, 0.5) * 1e3:.2f} ms p99 {p99 * 1e3:.2f} ms "
        f"max {max(lags) * 1e3:.2f} ms; changes {n}; max buffer {max_buffer} B; "
        f"rss +{(rss_peak - rss_before) / 2**20:.1f} MiB"
    )
    assert p99 < 0.025, p99


async def test_pipelining_without_reading_cannot_grow_buffers(
    make_server: ServerFactory, target: StrategyDouble
) -> None:
    server: SocketServer = await make_server(stall_timeout_s=0.5)
    peer = SilentPeer(server.path)
    # 3,000 snapshot requests of 1 KB (~15 KB each reply, ~45 MB in all), never a read.
    request = b'{"id":1,"op":"snapshot","pad":"' + b"x" * 990 + b'"}\n'
    peer.sock.setblocking(False)
    sent = 0
    max_buffer = 0
    deadline = time.monotonic() + 5
    while sent < 3000 and time.monotonic() < deadline:
        try:
            peer.sock.send(request)
            sent += 1
        except BlockingIOError:
            pass  # the server stopped reading us: the kernel buffer is full
        except BrokenPipeError:
            break  # and then dropped us as stalled
        for conn in server._conns:
            max_buffer = max(max_buffer, conn.transport.get_write_buffer_size())
        await asyncio.sleep(0)
    for _ in range(300):
        if server.counters["stalled"]:
            break
        await asyncio.sleep(0.01)
    assert sent < 3000  # backpressure reached the client
    assert server.counters["stalled"] == 1
    snapshot_bytes = len(target.registry[STRATEGY].snapshot().payload)
    assert max_buffer <= WRITE_HIGH_WATER + 2 * snapshot_bytes, max_buffer
    peer.close()
