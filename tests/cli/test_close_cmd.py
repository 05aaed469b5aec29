"""`dash close` end to end: a real strategy, a real socket, the audit trail in SQLite."""

from __future__ import annotations

import json
import os
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from ipc import one_shot
from tests.cli._procs import DASH, Strategy, Tmux, dash, wait_for
from tests.cli.test_operator_doc import audit_queries


@pytest.fixture
def book(short_tmp: Path, env: dict[str, str]) -> Iterator[Strategy]:
    """A real-time strategy: positions open in the first cycle, then nothing moves."""
    running = Strategy(short_tmp, env, speed="1").start()
    wait_for(lambda: _positions(running))
    try:
        yield running
    finally:
        running.stop()


def _positions(strategy: Strategy) -> dict:
    return one_shot("snapshot", path=strategy.socket)["snapshot"]["positions"]


def _audit(db: Path) -> list[sqlite3.Row]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        conn.row_factory = sqlite3.Row
        return conn.execute("SELECT * FROM commands ORDER BY ts").fetchall()


def test_close_with_yes_closes_waits_and_is_audited(book, env):
    pid = sorted(_positions(book))[0]
    result = dash("close", pid, "--yes", "--socket", str(book.socket), env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"closed {pid}: realized PnL ")
    assert re.search(r"accepted as (c-\w+)", result.stderr)
    assert pid not in _positions(book)
    command_id = re.search(r"command (c-\w+)", result.stdout).group(1)  # type: ignore[union-attr]
    assert book.stop() == 0  # a clean stop flushes the audit rows
    rows = _audit(book.db)
    assert [r["id"] for r in rows] == [command_id]
    row = rows[0]
    assert (row["op"], row["status"], row["peer_uid"]) == (
        "close_position",
        "completed",
        os.getuid(),
    )
    assert json.loads(row["args_json"]) == {"position": pid, "reason": "operator"}
    assert re.fullmatch(r"[0-9a-f]{32}", row["idempotency_key"])
    # The queries docs/operator.md gives for reading the audit trail work on this DB.
    with sqlite3.connect(f"file:{book.db}?mode=ro", uri=True) as conn:
        commands, closed, _alerts = (conn.execute(q).fetchall() for q in audit_queries())
    assert [(c[1], c[3], c[7]) for c in commands] == [(command_id, pid, "completed")]
    assert [c[0] for c in closed] == [pid] and closed[0][7] == "operator"


def test_close_json_prints_the_outcome_event(book, env):
    pid = sorted(_positions(book))[-1]
    result = dash(
        "close", pid, "-y", "--json", "--reason", "test run", "--socket", str(book.socket), env=env
    )
    assert result.returncode == 0, result.stderr
    outcome = json.loads(result.stdout)
    assert outcome["status"] == "completed" and outcome["position"] == pid
    assert outcome["reason"] == "test run"
    assert outcome["result"]["position"] == pid


def test_unknown_position_exits_1(book, env):
    before = _positions(book)
    result = dash("close", "p-00000000", "--yes", "--socket", str(book.socket), env=env)
    assert result.returncode == 1
    assert "p-00000000" in result.stderr and "not_found" in result.stderr
    assert _positions(book) == before


def test_off_a_terminal_without_yes_refuses_with_usage_error(book, env):
    pid = sorted(_positions(book))[0]
    result = dash("close", pid, "--socket", str(book.socket), env=env, input="y\n")
    assert result.returncode == 2
    assert "--yes" in result.stderr
    assert pid in _positions(book)


def _prompt_cmd(book: Strategy, pid: str) -> list[str]:
    return [DASH, "close", pid, "--socket", str(book.socket)]


def test_prompt_answered_yes_in_a_terminal_closes(book, tmux: Tmux):
    pid = sorted(_positions(book))[0]
    tmux.start(_prompt_cmd(book, pid), 120, 20)
    screen = tmux.wait_screen(lambda s: "[y/N]" in s)
    assert f"Close {pid}" in screen and "long " in screen and "net PnL" in screen
    tmux.send_keys("y", "Enter")
    screen = tmux.wait_screen(lambda s: "EXIT=" in s)
    assert "EXIT=0" in screen and f"closed {pid}" in screen
    assert pid not in _positions(book)


def test_prompt_answered_no_keeps_the_position(book, tmux: Tmux):
    pid = sorted(_positions(book))[0]
    tmux.start(_prompt_cmd(book, pid), 120, 20)
    tmux.wait_screen(lambda s: "[y/N]" in s)
    tmux.send_keys("n", "Enter")
    screen = tmux.wait_screen(lambda s: "EXIT=" in s)
    assert "EXIT=1" in screen and "not confirmed" in screen
    assert pid in _positions(book)


def test_unknown_position_in_a_terminal_fails_without_asking(book, tmux: Tmux):
    tmux.start(_prompt_cmd(book, "p-00000000"), 120, 20)
    screen = tmux.wait_screen(lambda s: "EXIT=" in s)
    assert "EXIT=1" in screen and "[y/N]" not in screen
    assert "no open position 'p-00000000'" in screen


def test_read_only_server_refuses(short_tmp, env):
    strategy = Strategy(short_tmp, env, speed="1", extra=("--read-only",)).start()
    try:
        pid = sorted(wait_for(lambda: _positions(strategy)))[0]  # type: ignore[call-overload]
        result = dash("close", pid, "--yes", "--socket", str(strategy.socket), env=env)
        assert result.returncode == 1
        assert "forbidden" in result.stderr
        assert pid in _positions(strategy)
    finally:
        strategy.stop()
