"""`dash snapshot` against a real running paper strategy on a real socket."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import orjson
import pytest

from ipc import one_shot
from tests.cli._procs import Strategy, dash
from tests.cli._server import ThreadServer, other_uid


def _server_doc(strategy: Strategy) -> dict:
    return one_shot("snapshot", path=strategy.socket)["snapshot"]


def _raw_reply(path: Path) -> bytes:
    """The server's reply line to a snapshot request, bytes as sent."""
    with socket.socket(socket.AF_UNIX) as sock:
        sock.connect(str(path))
        stream = sock.makefile("rb")
        stream.readline()  # hello
        sock.sendall(b'{"id":1,"op":"snapshot"}\n')
        return stream.readline()


def test_json_prints_the_document_exactly_as_the_server_sent_it(steady):
    strategy, env = steady
    result = dash("snapshot", "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert result.stdout.count("\n") == 1 and result.stdout.endswith("\n")
    doc = json.loads(result.stdout)
    assert doc == _server_doc(strategy)
    assert doc["positions"], "the first cycle should have opened positions"
    # Byte for byte: the reply splices the document in, then closes result and reply.
    assert _raw_reply(strategy.socket).endswith(result.stdout.rstrip("\n").encode() + b"}}\n")


def test_field_prints_bare_values(steady):
    strategy, env = steady
    doc = _server_doc(strategy)
    pid = sorted(doc["positions"])[0]
    cases = {
        "totals.net_pnl": doc["totals"]["net_pnl"],
        "seq": str(doc["seq"]),
        "status": "running",
        f"positions.{pid}.pnl.net": doc["positions"][pid]["pnl"]["net"],
        f"positions.{pid}.risk.reasons": "[]",
        f"positions.{pid}.long": orjson.dumps(doc["positions"][pid]["long"]).decode(),
    }
    for path, expected in cases.items():
        result = dash("snapshot", "--field", path, env=env)
        assert (result.returncode, result.stdout) == (0, f"{expected}\n"), path
    result = dash("snapshot", "--field=totals.open_positions", env=env)
    assert result.stdout == f"{len(doc['positions'])}\n"


def test_positions_limits_json_field_and_table(steady):
    strategy, env = steady
    doc = _server_doc(strategy)
    result = dash("snapshot", "--positions", "--json", env=env)
    assert json.loads(result.stdout) == doc["positions"]
    pid = sorted(doc["positions"])[0]
    result = dash("snapshot", "--positions", "--field", f"{pid}.symbol", env=env)
    assert result.stdout == doc["positions"][pid]["symbol"] + "\n"
    result = dash("snapshot", "--positions", env=env)
    assert result.returncode == 0
    assert "Positions (" in result.stdout and "Markets" not in result.stdout
    for pid in doc["positions"]:
        assert pid in result.stdout


def test_table_off_a_terminal_is_plain_text(steady):
    strategy, env = steady
    doc = _server_doc(strategy)
    result = dash("snapshot", env={**env, "COLUMNS": "200"})
    assert result.returncode == 0
    assert "\x1b[" not in result.stdout
    lines = result.stdout.splitlines()
    assert lines[0].split()[:2] == ["funding-arb", "running"]
    assert f"seq {doc['seq']}" in lines[0]
    for pid, pos in doc["positions"].items():
        row = next(line for line in lines if line.startswith(pid))
        assert pos["symbol"] in row and pos["pnl"]["net"].lstrip("-") in row
    for symbol in doc["markets"]:
        assert any(line.startswith(symbol) for line in lines)


def test_unknown_field_exits_1_naming_the_keys(steady):
    _, env = steady
    result = dash("snapshot", "--field", "totals.nope", env=env)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "no field 'totals.nope'" in result.stderr and "net_pnl" in result.stderr


@pytest.mark.parametrize(
    "args",
    [
        ["--json", "--field", "seq"],
        ["--bogus"],
        ["--timeout", "soon"],
        ["--field"],
        ["--field", "a..b"],
        ["extra-argument"],
    ],
)
def test_usage_errors_exit_2(steady, args):
    _, env = steady
    result = dash("snapshot", *args, env=env)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert result.stderr


def test_unreachable_socket_exits_69_with_how_to_start(steady, short_tmp):
    _, env = steady
    missing = short_tmp / "nobody.sock"
    result = dash("snapshot", "--json", "--socket", str(missing), env=env)
    assert result.returncode == 69
    assert str(missing) in result.stderr and "dash run" in result.stderr
    # A stale socket (its process was killed): the file exists, nobody listens.
    stale = short_tmp / "stale.sock"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(stale))
    result = dash("snapshot", "--socket", str(stale), env=env)
    assert result.returncode == 69 and str(stale) in result.stderr
    # The environment variable names the socket too.
    result = dash("snapshot", "--json", env={**env, "DASH_SOCKET": str(missing)})
    assert result.returncode == 69 and str(missing) in result.stderr


def test_nothing_running_exits_69(env):
    result = dash("snapshot", env=env)
    assert result.returncode == 69
    assert "no dash strategy is running" in result.stderr and "dash run" in result.stderr


def test_several_running_is_a_usage_error_listing_them(steady):
    strategy, env = steady
    other = strategy.socket.parent / "other.sock"
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(other))
        listener.listen()
        try:
            result = dash("snapshot", "--json", env=env)
            assert result.returncode == 2
            assert "funding-arb" in result.stderr and "other" in result.stderr
            assert "--strategy" in result.stderr
            # Naming one resolves it, by flag or by environment.
            result = dash("snapshot", "--field", "strategy", "--strategy", "funding-arb", env=env)
            assert (result.returncode, result.stdout) == (0, "funding-arb\n")
            result = dash("snapshot", "--field", "seq", env={**env, "DASH_STRATEGY": "funding-arb"})
            assert result.returncode == 0
        finally:
            os.unlink(other)


def test_unknown_strategy_on_the_server_exits_2(steady):
    strategy, env = steady
    result = dash("snapshot", "--socket", str(strategy.socket), "--strategy", "nope", env=env)
    assert result.returncode == 2
    assert "nope" in result.stderr


def test_server_refusal_exits_1(short_tmp, env):
    path = short_tmp / "refuse.sock"
    with ThreadServer(path, server_uid=other_uid()):
        result = dash("snapshot", "--json", "--socket", str(path), env=env)
    assert result.returncode == 1
    assert "forbidden" in result.stderr


def test_config_file_supplies_the_socket(steady, short_tmp):
    strategy, env = steady
    config = short_tmp / "dash.toml"
    config.write_text(f'socket = "{strategy.socket}"\ntimeout = 2.5\n')
    result = dash("snapshot", "--field", "strategy", env={**env, "DASH_CONFIG": str(config)})
    assert (result.returncode, result.stdout) == (0, "funding-arb\n")
    config.write_text('sockets = "typo"\n')
    result = dash("snapshot", "--json", env={**env, "DASH_CONFIG": str(config)})
    assert result.returncode == 2 and "sockets" in result.stderr
