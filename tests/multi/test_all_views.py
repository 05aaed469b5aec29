"""Two strategies in one process and a third in another: ls, snapshot --all, watch --all,
a close routed to the owner, and DB rows attributed, all through the real `dash`."""

from __future__ import annotations

import json
import re
import socket
import sqlite3
import uuid
from decimal import Decimal
from pathlib import Path
from typing import Any

from ipc import one_shot
from tests.cli._procs import DASH, Tmux, dash, wait_for
from tests.cli.test_fast_path import imported_by
from tests.multi._trio import IDS, Trio


def _rows(db: Path, sql: str, *args: object) -> list[tuple[Any, ...]]:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        return conn.execute(sql, args).fetchall()


def test_ls_lists_the_three_strategies_with_their_sockets(trio: Trio) -> None:
    result = dash("ls", env=trio.env)
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[1:]]
    assert {(r[0], r[1], r[2], r[4]) for r in rows} == {
        (sid, "live", "running", str(trio.sockets[sid])) for sid in IDS
    }
    listed = [json.loads(line) for line in dash("ls", "--json", env=trio.env).stdout.splitlines()]
    assert {row["socket"]: sorted(s["strategy"] for s in row["strategies"]) for row in listed} == {
        str(trio.desk.socket): ["btc-arb", "eth-arb"],
        str(trio.solo.socket): ["solo"],
    }


def test_snapshot_all_json_holds_each_document_as_served(trio: Trio) -> None:
    for _ in range(3):  # documents are compared at one seq; retry if a cycle slipped in
        result = dash("snapshot", "--all", "--json", env=trio.env)
        assert result.returncode == 0, result.stderr
        assert result.stdout.count("\n") == 1
        everything = json.loads(result.stdout)
        assert list(everything) == sorted(IDS)
        singles = {}
        for sid in IDS:
            one = dash("snapshot", "--strategy", sid, "--json", env=trio.env)
            assert one.returncode == 0, one.stderr
            singles[sid] = json.loads(one.stdout)
        if all(everything[s]["seq"] == singles[s]["seq"] for s in IDS):
            break
    assert everything == singles
    assert {sid: doc["strategy"] for sid, doc in everything.items()} == {s: s for s in IDS}
    assert set(everything["btc-arb"]["markets"]) == {"BTC/USDT"}
    assert set(everything["eth-arb"]["markets"]) == {"ETH/USDT"}

    # --socket narrows --all to one process; --positions keeps only the positions
    desk = dash("snapshot", "--all", "--json", "--positions", "--socket", str(trio.desk.socket),
                env=trio.env)  # fmt: skip
    positions = json.loads(desk.stdout)
    assert list(positions) == ["btc-arb", "eth-arb"]
    assert positions["btc-arb"] == everything["btc-arb"]["positions"]


def test_snapshot_all_json_stays_on_the_fast_path(trio: Trio) -> None:
    assert imported_by(["snapshot", "--all", "--json"], trio.env) == []


def test_snapshot_all_table_has_a_row_each_and_the_total(trio: Trio) -> None:
    result = dash("snapshot", "--all", env={**trio.env, "COLUMNS": "120"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["strategy", "socket", "status", "seq", "open", "notional",
                                "funding", "fees", "unrealized", "net", "risk"]  # fmt: skip
    rows = {line.split()[0]: line.split() for line in lines[2:] if line[:1].isalpha()}
    assert set(rows) == {*IDS, "total"}
    assert rows["btc-arb"][1] == "desk.sock" and rows["solo"][1] == "solo.sock"
    docs = {sid: trio.doc(sid) for sid in IDS}
    for sid in IDS:
        assert rows[sid][4] == str(docs[sid]["totals"]["open_positions"])
    net = sum(Decimal(d["totals"]["net_pnl"]) for d in docs.values())
    assert rows["total"][:3] == ["total", "2", "sockets"]
    assert rows["total"][-2].replace(",", "") == f"{net:.2f}"


def test_all_refuses_field_and_an_explicit_strategy(trio: Trio) -> None:
    for extra in (("--field", "seq"), ("--strategy", "solo")):
        result = dash("snapshot", "--all", *extra, env=trio.env)
        assert result.returncode == 2 and "--all" in result.stderr
    # DASH_STRATEGY is only a default: --all still shows everyone
    result = dash("snapshot", "--all", "--json", env={**trio.env, "DASH_STRATEGY": "solo"})
    assert result.returncode == 0 and list(json.loads(result.stdout)) == sorted(IDS)


def _row(screen: str, name: str) -> list[str]:
    for line in screen.splitlines():
        words = line.split()
        if words and words[0] == name:
            return words
    return []


def test_watch_all_in_tmux_shows_rows_and_total_and_follows_changes(trio: Trio) -> None:
    tmux = Tmux(trio.env)
    try:
        tmux.start([DASH, "watch", "--all", "--interval", "0.2"], 120, 40)
        screen = tmux.wait_screen(
            lambda s: "● live" in s and all(_row(s, n) for n in (*IDS, "total"))
        )
        assert "3 on 2 sockets" in screen
        lines = screen.splitlines()
        assert all(len(line) <= 120 for line in lines)
        before = {n: _row(screen, n) for n in (*IDS, "total")}
        assert before["eth-arb"][1:3] == ["desk.sock", "running"]
        assert before["total"][:5] == ["total", "2", "sockets", "3", "running"]

        # a change in one process shows up in its row and in the total
        pid = sorted(trio.positions("btc-arb"))[0]
        one_shot("close_position", path=trio.desk.socket, strategy="btc-arb", position=pid,
                 idempotency_key=uuid.uuid4().hex)  # fmt: skip
        seq_before = int(before["btc-arb"][3])
        open_before = int(before["total"][6])
        screen = tmux.wait_screen(
            lambda s: (
                int((_row(s, "btc-arb") or ["", "", "", "0"])[3]) > seq_before
                and "closed " + pid in s
            )
        )
        btc = _row(screen, "btc-arb")
        assert btc[4] == str(len(trio.positions("btc-arb")))
        assert int(_row(screen, "total")[6]) == open_before - 1
        assert _row(screen, "solo") == before["solo"]
        tmux.send_keys("q")
        tmux.wait_screen(lambda s: "EXIT=0" in s)
    finally:
        tmux.kill()


def test_watch_all_piped_prints_a_line_per_update(trio: Trio) -> None:
    result = dash("watch", "--all", "--duration", "1.5", env=trio.env)
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stdout.splitlines() if "event=" not in line]
    seen = {re.search(r"strategy=(\S+)", line).group(1) for line in lines}  # type: ignore[union-attr]
    assert seen == set(IDS)
    last = lines[-1].split()
    total_open = sum(int(trio.doc(s)["totals"]["open_positions"]) for s in IDS)
    assert f"total_open={total_open}" in last
    assert result.stderr.count("connected to") == 2

    result = dash("watch", "--all", "--json", "--duration", "1", env=trio.env)
    events = [json.loads(line) for line in result.stdout.splitlines()]
    assert {e["strategy"] for e in events if e["event"] == "snapshot"} == set(IDS)


def test_close_without_strategy_is_routed_to_the_owner(trio: Trio) -> None:
    pid = sorted(trio.positions("solo"))[0]
    desk_before = {s: dict(trio.positions(s)) for s in ("btc-arb", "eth-arb")}
    result = dash("close", pid, "--yes", "--json", env=trio.env)
    assert result.returncode == 0, result.stderr
    assert f"{pid} is held by solo ({trio.solo.socket})" in result.stderr
    outcome = json.loads(result.stdout)
    assert (outcome["position"], outcome["status"]) == (pid, "completed")
    assert pid not in trio.positions("solo")
    assert {s: dict(trio.positions(s)) for s in desk_before} == desk_before

    # the solo process ran and audited it; the desk process never heard of it
    command = outcome["command_id"]
    wait_for(lambda: _rows(trio.solo.db, "SELECT 1 FROM commands WHERE id = ?", command))
    assert _rows(trio.solo.db, "SELECT strategy, op, status FROM commands WHERE id = ?",
                 command) == [("solo", "close_position", "completed")]  # fmt: skip
    wait_for(lambda: _rows(trio.solo.db, "SELECT 1 FROM strategy_positions WHERE id = ? AND "
                                         "closed_at IS NOT NULL", pid))  # fmt: skip
    assert _rows(trio.solo.db, "SELECT strategy, close_reason FROM strategy_positions "
                 "WHERE id = ?", pid) == [("solo", "operator")]  # fmt: skip
    assert _rows(trio.desk.db, "SELECT id FROM commands WHERE op = 'close_position' AND "
                 "args_json LIKE ?", f"%{pid}%") == []  # fmt: skip


def test_close_of_an_id_nobody_holds_exits_1_naming_who_was_asked(trio: Trio) -> None:
    result = dash("close", "p-00000000", "--yes", env=trio.env)
    assert result.returncode == 1
    assert "no open position 'p-00000000' in any running strategy" in result.stderr
    for sid in IDS:
        assert sid in result.stderr
    # narrowed to the desk process, solo's positions are not found there
    solo_pid = sorted(trio.positions("solo"))[-1]
    result = dash("close", solo_pid, "--yes", "--socket", str(trio.desk.socket), env=trio.env)
    assert result.returncode == 1 and "solo" not in result.stderr.split("searched:")[1]
    assert solo_pid in trio.positions("solo")


def test_db_rows_carry_their_strategy(trio: Trio) -> None:
    def by_strategy(db: Path, table: str, column: str) -> dict[str, set[str]]:
        found: dict[str, set[str]] = {}
        for strategy, value in _rows(db, f"SELECT strategy, {column} FROM {table}"):
            found.setdefault(strategy, set()).add(value)
        return found

    desk_positions = {s: set(trio.positions(s)) for s in ("btc-arb", "eth-arb")}
    wait_for(lambda: len(by_strategy(trio.desk.db, "strategy_positions", "id")) == 2)
    symbols = by_strategy(trio.desk.db, "strategy_positions", "symbol")
    assert symbols == {"btc-arb": {"BTC/USDT"}, "eth-arb": {"ETH/USDT"}}
    ids = by_strategy(trio.desk.db, "strategy_positions", "id")
    for sid, open_ids in desk_positions.items():
        assert open_ids <= ids[sid]
    wait_for(lambda: by_strategy(trio.solo.db, "strategy_positions", "id"))
    assert set(by_strategy(trio.solo.db, "strategy_positions", "id")) == {"solo"}
    wait_for(lambda: len(by_strategy(trio.desk.db, "dashboard_snapshots", "seq")) == 2)
    assert set(by_strategy(trio.solo.db, "dashboard_snapshots", "seq")) <= {"solo"}


def test_a_process_that_does_not_answer_is_reported_not_fatal(trio: Trio) -> None:
    """A socket that accepts but never says hello (a hung process): the others are still
    printed, and the exit status (69) tells a script the picture is incomplete."""
    mute = trio.root / "run" / "dash" / "mute.sock"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(str(mute))
    listener.listen(8)
    try:
        result = dash("snapshot", "--all", "--json", "--timeout", "0.5", env=trio.env)
        assert result.returncode == 69
        assert list(json.loads(result.stdout)) == sorted(IDS)
        assert "skipped" in result.stderr and "mute.sock" in result.stderr

        pid = sorted(trio.positions("eth-arb"))[0]  # still found: its owner answered
        result = dash("close", pid, "--yes", "--timeout", "0.5", env=trio.env)
        assert result.returncode == 0, result.stderr
        assert pid not in trio.positions("eth-arb")
        result = dash("close", "p-00000000", "--yes", "--timeout", "0.5", env=trio.env)
        assert result.returncode == 69 and "did not answer" in result.stderr
    finally:
        listener.close()
        mute.unlink()
