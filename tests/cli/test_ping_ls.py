"""`dash ping` and `dash ls` against real strategies in a private runtime dir."""

from __future__ import annotations

import json
import socket

from ipc import one_shot
from tests.cli._procs import dash


def test_ping_reports_rtt_version_protocol_seq_uptime(steady):
    strategy, env = steady
    result = dash("ping", env=env)
    assert result.returncode == 0, result.stderr
    fields = dict(line.split(None, 1) for line in result.stdout.splitlines())
    assert fields["socket"] == str(strategy.socket)
    assert fields["server"].startswith("dash ")
    assert fields["protocol"] == "1"
    assert fields["rtt"].endswith(" ms") and float(fields["rtt"].split()[0]) > 0
    seq = one_shot("snapshot", path=strategy.socket)["seq"]
    assert fields["seq"] == f"funding-arb={seq}"
    assert fields["uptime"].endswith("s")


def test_ping_json(steady):
    _, env = steady
    info = json.loads(dash("ping", "--json", env=env).stdout)
    assert info["protocol"] == 1 and info["strategies"] == ["funding-arb"]
    assert info["rtt_ms"] > 0 and info["uptime_s"] > 0
    assert set(info["seq"]) == {"funding-arb"}


def test_ping_unreachable_exits_69(env, short_tmp):
    result = dash("ping", "--socket", str(short_tmp / "x.sock"), env=env)
    assert result.returncode == 69 and "x.sock" in result.stderr


def test_ls_lists_live_and_stale_sockets(steady):
    strategy, env = steady
    stale = strategy.socket.parent / "crashed.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))  # bound, never listening: what a killed process leaves
    try:
        result = dash("ls", env=env)
        assert result.returncode == 0, result.stderr
        rows = [line.split() for line in result.stdout.splitlines()]
        assert rows[0] == ["NAME", "STATE", "STATUS", "SEQ", "SOCKET"]
        by_name = {row[0]: row for row in rows[1:]}
        assert by_name["funding-arb"][1:3] == ["live", "running"]
        assert by_name["funding-arb"][4] == str(strategy.socket)
        assert by_name["crashed"][1] == "stale" and by_name["crashed"][4] == str(stale)
        entries = [json.loads(line) for line in dash("ls", "--json", env=env).stdout.splitlines()]
        assert {(e["name"], e["live"]) for e in entries} == {
            ("funding-arb", True),
            ("crashed", False),
        }
    finally:
        stale.unlink()


def test_ls_with_nothing_running_says_so_on_stderr(env):
    result = dash("ls", env=env)
    assert result.returncode == 0
    assert result.stdout == ""
    assert "no strategies running" in result.stderr
