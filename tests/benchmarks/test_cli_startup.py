"""Whole-process start-up of `dash snapshot --json` and of a TAB completion.

Scripts call ``dash snapshot --json`` in loops and the shell runs ``dash`` on every TAB,
so what matters is the wall time of the whole process, interpreter start included. Each
case runs 20 times, interleaved round-robin (so load drift hits every case alike),
against one real `dash run` on a real socket; the table shows medians side by side.

Targets: `dash snapshot --json` under 3x a stdlib-only client doing the same request
(``python -c`` with socket + json, same interpreter); a TAB completion under 150 ms.
The "via Typer" rows are references: the same command and completion through the Typer
app, i.e. what the fast paths in ``cli.main`` save.

Run: ``make bench`` or ``pytest -q -s -m benchmark tests/benchmarks/test_cli_startup.py``.
"""

from __future__ import annotations

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from tests.cli._procs import DASH, Strategy, isolated_env

RUNS = 20
SNAPSHOT_RATIO_TARGET = 3.0
COMPLETION_TARGET_MS = 150.0

STDLIB_CLIENT = """\
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
f = s.makefile("rb")
f.readline()
s.sendall(b'{"id":1,"op":"snapshot"}\\n')
reply = json.loads(f.readline())
sys.stdout.write(json.dumps(reply["result"]["snapshot"], separators=(",", ":")) + "\\n")
"""

VIA_TYPER = "import sys; from cli.app import app; sys.argv[0] = 'dash'; app(prog_name='dash')"


def _time(command: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, env=env, capture_output=True)
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, (command, result.stderr[-500:])
    assert result.stdout, command
    return elapsed * 1000


@pytest.mark.benchmark
def test_cli_startup() -> None:
    root = Path(tempfile.mkdtemp(prefix="db-", dir="/tmp"))
    env = isolated_env(root)
    strategy = Strategy(root, env, speed="1").start()
    sock = str(strategy.socket)
    complete_static = {
        **env,
        "_DASH_COMPLETE": "complete_bash",
        "COMP_WORDS": "dash snapshot --",
        "COMP_CWORD": "2",
    }
    complete_close = {**complete_static, "COMP_WORDS": f"dash close --socket {sock} p-",
                      "COMP_CWORD": "4"}  # fmt: skip
    stdlib = [sys.executable, "-c", STDLIB_CLIENT, sock]
    cases: dict[str, tuple[list[str], dict[str, str]]] = {
        "stdlib client (python -c, socket + json)": (stdlib, env),
        "dash snapshot --json": ([DASH, "snapshot", "--json", "--socket", sock], env),
        "dash snapshot --field totals.net_pnl": (
            [DASH, "snapshot", "--field", "totals.net_pnl", "--socket", sock], env),
        "  ref: snapshot --json via Typer": (
            [sys.executable, "-c", VIA_TYPER, "snapshot", "--json", "--socket", sock], env),
        "TAB: dash snapshot --<TAB>": ([DASH], complete_static),
        "TAB: dash close p-<TAB> (asks the strategy)": ([DASH], complete_close),
        "  ref: dash snapshot --<TAB> via Typer": (
            [sys.executable, "-c", VIA_TYPER], complete_static),
    }  # fmt: skip
    samples: dict[str, list[float]] = {name: [] for name in cases}
    try:
        for command, case_env in cases.values():  # warm the page cache and .pyc files
            _time(command, case_env)
        for _ in range(RUNS):
            for name, (command, case_env) in cases.items():
                samples[name].append(_time(command, case_env))
    finally:
        strategy.stop()
        shutil.rmtree(root, ignore_errors=True)

    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["stdlib client (python -c, socket + json)"]
    print(f"\n\nwhole-process wall time, median of {RUNS} (ms); x = / stdlib client")
    print(f"{'case':<46} {'median':>8} {'p90':>8} {'x':>6}")
    for name, values in samples.items():
        p90 = statistics.quantiles(values, n=10)[-1]
        print(f"{name:<46} {medians[name]:8.1f} {p90:8.1f} {medians[name] / base:6.2f}")
    ratio = medians["dash snapshot --json"] / base
    print(f"\ntarget: dash snapshot --json < {SNAPSHOT_RATIO_TARGET}x stdlib: {ratio:.2f}x")
    print(f"target: TAB completion < {COMPLETION_TARGET_MS:.0f} ms")
    assert ratio < SNAPSHOT_RATIO_TARGET
    assert medians["TAB: dash snapshot --<TAB>"] < COMPLETION_TARGET_MS
    assert medians["TAB: dash close p-<TAB> (asks the strategy)"] < COMPLETION_TARGET_MS
