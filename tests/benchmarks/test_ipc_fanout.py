"""Fan-out through the socket server: 10, 100 and 1,000 subscribers, 20 changes/s.

The strategy side is a real DashboardState with 50 open positions; each change re-marks
every position (a monitoring cycle), so each patch line is a few KiB. The subscribers run
in a separate process (tests/ipc/_load_client.py, plain sockets + selectors), so the loop
lag measured here is the server's alone. Reported per case: fan-out latency (commit ->
line received by a client, across all clients and changes) p50/p99, events delivered per
second, the server loop's lag p99 (a task ticking every 10 ms), and the server's RSS.

Targets on the 2-core dev machine: p99 < 10 ms at 100 subscribers, < 100 ms at 1,000;
loop lag p99 < 5 ms.

Run: ``make bench`` or ``pytest -q -s -m benchmark tests/benchmarks/test_ipc_fanout.py``.
"""

from __future__ import annotations

import asyncio
import json
import resource
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from ipc import SocketServer
from tests.conftest import REPO_ROOT
from tests.ipc._double import STRATEGY, make_target, seed, tick

POSITIONS = 50
RATE_HZ = 20
RUN_S = 6.0
COUNTS = (10, 100, 1000)
TARGET_P99_S = {100: 0.010, 1000: 0.100}
TARGET_LAG_P99_S = 0.005


def _rss() -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] if ordered else float("nan")


async def _run(path: Path, subscribers: int) -> dict[str, Any]:
    target = make_target(POSITIONS)
    state = target.registry[STRATEGY]
    await seed(state, POSITIONS)
    server = SocketServer(target, path)
    await server.start()
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.ipc._load_client",
        str(path),
        str(subscribers),
        "--times",
        cwd=REPO_ROOT,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        limit=256 * 1024 * 1024,
    )
    assert child.stdin is not None and child.stdout is not None
    loop = asyncio.get_running_loop()
    lags: list[float] = []

    async def probe() -> None:
        while True:
            started = loop.time()
            await asyncio.sleep(0.01)
            lags.append(loop.time() - started - 0.01)

    committed: dict[int, float] = {}
    rss_peak = 0
    try:
        assert await asyncio.wait_for(child.stdout.readline(), 60) == b"ready\n"
        prober = asyncio.create_task(probe())
        started = time.monotonic()
        n = 0
        while (elapsed := time.monotonic() - started) < RUN_S:
            await tick(state, n, POSITIONS, touched=POSITIONS)
            committed[state.seq] = time.monotonic()
            n += 1
            rss_peak = max(rss_peak, _rss())
            await asyncio.sleep(max(0.0, started + n / RATE_HZ - time.monotonic()))
        child.stdin.write(f"stop {state.seq}\n".encode())
        await child.stdin.drain()
        report = json.loads(await asyncio.wait_for(child.stdout.readline(), 60))
        delivered_s = time.monotonic() - started
        prober.cancel()
    finally:
        if child.returncode is None:
            child.kill()
        await child.wait()
        await server.stop()
    latencies = [
        t - committed[int(seq)]
        for seq, times in report["times"].items()
        if int(seq) in committed
        for t in times
    ]
    peers = report["peers"]
    return {
        "subscribers": subscribers,
        "changes": n,
        "elapsed": elapsed,
        "p50": _pct(latencies, 0.5),
        "p99": _pct(latencies, 0.99),
        "events_s": sum(p["patches"] for p in peers) / delivered_s,
        "lag_p99": _pct(lags, 0.99),
        "rss": rss_peak,
        "complete": sum(1 for p in peers if p["last"] == state.seq and p["gaps"] == 0),
        "resyncs": sum(p["resyncs"] for p in peers),
    }


@pytest.mark.benchmark
async def test_fanout(short_tmp: Path) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, 8192)), hard))
    rows = [await _run(short_tmp / f"f{n}.sock", n) for n in COUNTS]
    print()
    print(f"fan-out: {POSITIONS} positions, {RATE_HZ} changes/s, every position re-marked")
    header = (
        f"{'subs':>5} {'changes':>7} {'p50 ms':>7} {'p99 ms':>7} {'events/s':>9} "
        f"{'lag p99 ms':>10} {'RSS MiB':>8} {'complete':>9} {'resyncs':>7}"
    )
    print(header)
    print("-" * len(header))
    for r in rows:
        print(
            f"{r['subscribers']:>5} {r['changes']:>7} {r['p50'] * 1e3:>7.2f} "
            f"{r['p99'] * 1e3:>7.2f} {r['events_s']:>9.0f} {r['lag_p99'] * 1e3:>10.2f} "
            f"{r['rss'] / 2**20:>8.1f} {r['complete']:>5}/{r['subscribers']:<3} "
            f"{r['resyncs']:>7}"
        )
    for r in rows:
        assert r["complete"] == r["subscribers"], r
        target = TARGET_P99_S.get(r["subscribers"])
        if target is not None:
            assert r["p99"] < target, r
    assert rows[1]["lag_p99"] < TARGET_LAG_P99_S, rows[1]
