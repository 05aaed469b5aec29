"""One `dash run` serving several strategies on one socket: the client picks by id."""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli._procs import DASH, Strategy, dash, isolated_env

CONFIG = """\
[run]
name = "desk"

[[strategies]]
id = "btc-arb"
symbols = ["BTC/USDT"]

[[strategies]]
id = "eth-arb"
symbols = ["ETH/USDT"]
"""


@pytest.fixture(scope="module")
def desk() -> Iterator[tuple[Strategy, dict[str, str]]]:
    root = Path(tempfile.mkdtemp(prefix="dm-", dir="/tmp"))
    env = isolated_env(root)
    (root / "desk.toml").write_text(CONFIG)
    running = Strategy(
        root,
        env,
        speed="3600",
        socket=root / "run" / "dash" / "desk.sock",
        default_socket=True,
        extra=("--config", str(root / "desk.toml")),
    ).start()
    try:
        yield running, env
    finally:
        running.stop()
        shutil.rmtree(root, ignore_errors=True)


def test_strategy_is_found_on_the_shared_socket(desk):
    _, env = desk
    for name in ("btc-arb", "eth-arb"):
        result = dash("snapshot", "--strategy", name, "--field", "strategy", env=env)
        assert (result.returncode, result.stdout) == (0, f"{name}\n"), result.stderr
    result = dash("snapshot", "--json", env={**env, "DASH_STRATEGY": "eth-arb"})
    assert set(json.loads(result.stdout)["markets"]) == {"ETH/USDT"}


def test_without_a_name_the_error_lists_the_strategies(desk):
    _, env = desk
    result = dash("snapshot", "--json", env=env)
    assert result.returncode == 2
    assert "btc-arb" in result.stderr and "eth-arb" in result.stderr
    assert "--strategy" in result.stderr
    result = dash("watch", "--duration", "1", env=env)
    assert result.returncode == 2
    assert "btc-arb, eth-arb" in result.stderr and "--strategy" in result.stderr


def test_unknown_name_lists_what_runs(desk):
    _, env = desk
    result = dash("snapshot", "--strategy", "sol-arb", env=env)
    assert result.returncode == 69
    assert "btc-arb" in result.stderr and "eth-arb" in result.stderr


def test_watch_follows_the_named_strategy_only(desk):
    _, env = desk
    result = dash("watch", "--strategy", "btc-arb", "--interval", "0.1", "--duration", "1.5",
                  env=env)  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "event=" not in line]
    assert len(lines) >= 3
    assert all("strategy=btc-arb" in line for line in lines)


def test_ls_and_completion_show_each_strategy(desk):
    strategy, env = desk
    rows = [line.split() for line in dash("ls", env=env).stdout.splitlines()[1:]]
    assert sorted(row[0] for row in rows) == ["btc-arb", "eth-arb"]
    assert {row[4] for row in rows} == {str(strategy.socket)}
    request = {**env, "_DASH_COMPLETE": "complete_bash", "COMP_WORDS": "dash watch --strategy ",
               "COMP_CWORD": "3"}  # fmt: skip
    out = subprocess.run([DASH], env=request, capture_output=True, text=True, timeout=30).stdout
    assert sorted(out.split()) == ["btc-arb", "eth-arb"]
