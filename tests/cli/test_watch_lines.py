"""`dash watch` off a terminal: plain lines, NDJSON, reconnection messages, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import time

from tests.cli._procs import DASH, dash, wait_for

LINE = re.compile(
    r"^\S+ strategy=funding-arb seq=(\d+) status=\w+ mode=paper open=\d+ "
    r"funding=\S+ fees=\S+ net_pnl=\S+( alerts=\d+)?$"
)


def test_piped_output_is_one_plain_line_per_update(strategy, env):
    result = dash(
        "watch", "--interval", "0.1", "--duration", "1.5", "--socket", str(strategy.socket), env=env
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout and "\x1b" not in result.stderr
    lines = result.stdout.splitlines()
    updates = [LINE.match(line) for line in lines if "event=" not in line]
    assert len(updates) >= 5 and all(updates), lines[:5]
    seqs = [int(m.group(1)) for m in updates if m]
    assert seqs == sorted(seqs) and seqs[-1] > seqs[0]
    assert "connected to" in result.stderr  # messages on stderr, data on stdout


def test_interval_bounds_the_line_rate(strategy, env):
    result = dash(
        "watch", "--interval", "0.5", "--duration", "2.2", "--socket", str(strategy.socket), env=env
    )
    updates = [line for line in result.stdout.splitlines() if "event=" not in line]
    # ~12 changes a second happen; at most one line per 0.5 s (+ the first snapshot).
    assert 2 <= len(updates) <= 7, updates


def test_json_prints_each_event_as_ndjson(strategy, env):
    result = dash(
        "watch", "--json", "--interval", "0", "--duration", "1.5", "--socket", str(strategy.socket),
        env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert events[0]["event"] == "snapshot" and events[0]["snapshot"]["strategy"] == "funding-arb"
    patches = [e for e in events if e["event"] == "patch"]
    assert len(patches) >= 5
    seq = events[0]["seq"]
    for patch in patches:  # --interval 0: every change, a gap-free chain
        assert patch["prev"] == seq
        seq = patch["seq"]


def test_reconnects_after_the_server_restarts(strategy, env):
    proc = subprocess.Popen(
        [DASH, "watch", "--interval", "0.1", "--socket", str(strategy.socket)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stderr is not None
        assert "strategy=" in proc.stdout.readline()
        strategy.stop()  # clean stop: the server says bye and removes its socket
        line = proc.stderr.readline()
        while "disconnected" not in line:
            line = proc.stderr.readline()
            assert line, "watch exited instead of retrying"
        assert "retrying" in line
        time.sleep(0.5)
        assert proc.poll() is None
        strategy.start()
        line = proc.stderr.readline()
        while "reconnected" not in line:
            line = proc.stderr.readline()
            assert line
        line = proc.stdout.readline()
        while "event=" in line:  # notices (strategy_stopped/started) come as lines too
            line = proc.stdout.readline()
        assert LINE.match(line.rstrip("\n")), line
    finally:
        proc.terminate()
        assert proc.wait(10) == 0  # SIGTERM is a normal way to stop watching


def test_no_strategy_at_start_exits_69(env, short_tmp):
    result = dash("watch", "--socket", str(short_tmp / "none.sock"), "--duration", "1", env=env)
    assert result.returncode == 69
    assert "none.sock" in result.stderr


def test_unknown_strategy_is_not_retried(strategy, env):
    started = time.monotonic()
    result = dash(
        "watch", "--socket", str(strategy.socket), "--strategy", "nope", "--duration", "20",
        env=env,
    )  # fmt: skip
    assert result.returncode == 2 and "nope" in result.stderr
    assert time.monotonic() - started < 10


def test_sigint_exits_0_off_a_terminal(strategy, env):
    proc = subprocess.Popen(
        [DASH, "watch", "--socket", str(strategy.socket)],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    assert "strategy=" in proc.stdout.readline()
    proc.send_signal(2)
    assert proc.wait(10) == 0
    wait_for(lambda: proc.poll() is not None)
