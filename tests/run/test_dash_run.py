"""`dash run` as an operator starts it: a real process, a real socket, a real SQLite file.

These are the end-to-end checks of the strategy core: the default run is lively at
3600x, SIGTERM stops it cleanly, and a run killed with SIGKILL at random moments restarts
with exactly the open positions its DB holds and never books a funding payment twice.
"""

from __future__ import annotations

import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pytest

from ipc import BlockingClient, ConnectFailed

DASH = [sys.executable, "-c", "from cli.main import main; main()"]


def start_run(db: Path, sock: Path, *args: str, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as fh:
        return subprocess.Popen(
            [*DASH, "run", "--db", str(db), "--socket", str(sock), *args],
            stdout=fh,
            stderr=subprocess.STDOUT,
        )


def wait_for_socket(sock: Path, proc: subprocess.Popen[bytes], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"dash run exited early with {proc.returncode}"
        if sock.exists():
            try:
                with BlockingClient(sock, timeout=2) as client:
                    client.request("ping")
                return
            except ConnectFailed:
                pass
        time.sleep(0.05)
    raise AssertionError(f"no socket at {sock} after {timeout}s")


def snapshot(sock: Path) -> dict:
    with BlockingClient(sock, timeout=5) as client:
        return client.request("snapshot")["snapshot"]


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    return proc.wait(timeout=30)


def db_rows(db: Path, sql: str, params: tuple = ()) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def assert_funding_matches_db(db: Path, pid: str, position: dict, clock: str) -> None:
    """The live document's funding for ``pid`` equals the DB's payments up to its clock.

    The strategy keeps running while we read, so later settlements are excluded, and the
    writer commits within milliseconds, so a short retry covers one still in its queue.
    """
    expected = Decimal(position["funding_collected"])
    deadline = time.monotonic() + 2
    while True:
        paid = db_rows(
            db,
            "SELECT venue, amount FROM funding_payments "
            "WHERE position_id = ? AND funding_time <= ?",
            (pid, clock),
        )
        per_leg: dict[str, Decimal] = {}
        for venue, amount in paid:
            per_leg[venue] = per_leg.get(venue, Decimal(0)) + Decimal(amount)
        # the document rounds each leg to the cent, then adds, so its figures add up
        total = sum((v.quantize(Decimal("0.01")) for v in per_leg.values()), Decimal(0))
        if total == expected or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert total == expected, f"{pid}: document {expected} != DB {total} up to {clock}"


def test_default_run_is_lively_at_3600x(short_tmp: Path) -> None:
    """At --speed 3600 a position opens and funding is collected within 30 wall seconds."""
    db, sock, log = short_tmp / "d.db", short_tmp / "s.sock", short_tmp / "run.log"
    proc = start_run(db, sock, "--speed", "3600", log=log)
    try:
        wait_for_socket(sock, proc)
        started = time.monotonic()
        opened = funded = False
        while time.monotonic() - started < 30 and not (opened and funded):
            doc = snapshot(sock)
            opened = opened or doc["totals"]["open_positions"] > 0 or bool(doc["positions"])
            funded = funded or Decimal(doc["totals"]["funding_collected"]) != 0
            time.sleep(0.25)
        assert opened, "no position opened within 30 wall seconds"
        assert funded, "no funding collected within 30 wall seconds"
    finally:
        code = stop(proc)
    text = log.read_text()
    assert code == 0, text[-2000:]
    assert " opened p-" in text
    assert "dash.strategy: funding p-" in text


def test_sigterm_stops_cleanly(short_tmp: Path) -> None:
    db, sock, log = short_tmp / "d.db", short_tmp / "s.sock", short_tmp / "run.log"
    proc = start_run(db, sock, "--speed", "3600", log=log)
    wait_for_socket(sock, proc)
    time.sleep(2)
    seq = snapshot(sock)["seq"]
    assert stop(proc, signal.SIGTERM) == 0, log.read_text()[-2000:]
    assert not sock.exists(), "socket file left behind after a clean exit"
    rows = db_rows(db, "SELECT seq, reason FROM dashboard_snapshots ORDER BY id")
    assert rows[-1][1] == "shutdown"
    assert rows[-1][0] >= seq
    # the summary goes to stdout at the end
    assert "net_pnl" in log.read_text()


def listening_tcp_inodes() -> set[str]:
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table) as fh:
            for line in fh.readlines()[1:]:
                fields = line.split()
                if fields[3] == "0A":  # LISTEN
                    inodes.add(fields[9])
    return inodes


def socket_inodes(pid: int) -> set[str]:
    """Inodes of the sockets a process holds; fds may close while we look."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except FileNotFoundError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def test_nothing_listens_on_tcp(short_tmp: Path) -> None:
    db, sock, log = short_tmp / "d.db", short_tmp / "s.sock", short_tmp / "run.log"
    proc = start_run(db, sock, "--speed", "3600", log=log)
    try:
        wait_for_socket(sock, proc)
        sockets = socket_inodes(proc.pid)
        assert sockets, "the process should hold its Unix socket"
        assert not sockets & listening_tcp_inodes()
    finally:
        assert stop(proc) == 0


def test_second_instance_on_a_live_socket_refuses(short_tmp: Path) -> None:
    db, sock, log = short_tmp / "d.db", short_tmp / "s.sock", short_tmp / "run.log"
    first = start_run(db, sock, "--speed", "3600", log=log)
    try:
        wait_for_socket(sock, first)
        second = subprocess.run(
            [*DASH, "run", "--db", str(short_tmp / "e.db"), "--socket", str(sock)],
            capture_output=True, text=True, timeout=30,
        )
        assert second.returncode != 0
        assert "already" in second.stderr.lower() or "in use" in second.stderr.lower()
        assert first.poll() is None
    finally:
        assert stop(first) == 0


def restored_ids(log: Path, offset: int) -> set[str] | None:
    """Ids in the ``restored N open position(s): ...`` line logged after ``offset``."""
    text = log.read_bytes()[offset:].decode(errors="replace")
    found = re.search(r"restored \d+ open position\(s\): (.*)", text)
    return None if found is None else set(found.group(1).strip().split(", "))


def test_kill_9_at_random_moments_restores_positions_and_never_pays_twice(
    short_tmp: Path,
) -> None:
    """SIGKILL mid-run, several times; each restart restores exactly the DB's open
    positions, and what it serves afterwards is backed by the DB."""
    db, sock, log = short_tmp / "d.db", short_tmp / "s.sock", short_tmp / "run.log"
    rng = random.Random(int(os.environ.get("DASH_TEST_SEED", "7")))
    args = ("--feed", "synthetic", "--seed", "3", "--speed", "20000")
    saw_open = 0
    for round_ in range(4):
        open_query = "SELECT id FROM strategy_positions WHERE closed_at IS NULL"
        db_open = {r[0] for r in db_rows(db, open_query)} if db.exists() else set()
        offset = log.stat().st_size if log.exists() else 0
        proc = start_run(db, sock, *args, log=log)
        try:
            wait_for_socket(sock, proc)
            # what the restart restored is what the DB held open when it was killed
            deadline = time.monotonic() + 10
            restored = restored_ids(log, offset)
            while db_open and restored is None and time.monotonic() < deadline:
                time.sleep(0.05)
                restored = restored_ids(log, offset)
            assert (restored or set()) == db_open, f"round {round_}: restored {restored}"
            saw_open += bool(db_open)
            # the strategy runs on at 20000x: every position it serves reaches the DB (the
            # writer is batched, so give it a moment) with the funding the document shows
            doc = snapshot(sock)
            live = set(doc["positions"])
            deadline = time.monotonic() + 2
            while True:
                known = {r[0] for r in db_rows(db, "SELECT id FROM strategy_positions")}
                if live <= known or time.monotonic() > deadline:
                    break
                time.sleep(0.05)
            assert live <= known, f"round {round_}: served {live - known} not in the DB"
            for pid, position in doc["positions"].items():
                assert_funding_matches_db(db, pid, position, doc["clock"])
            time.sleep(rng.uniform(1.0, 4.0))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=10)
        dupes = db_rows(
            db,
            "SELECT position_id, venue, funding_time, COUNT(*) FROM funding_payments "
            "GROUP BY 1, 2, 3 HAVING COUNT(*) > 1",
        )
        assert dupes == []
    assert saw_open >= 1, "no round restored an open position: the test proved nothing"
    assert db_rows(db, "SELECT COUNT(*) FROM funding_payments")[0][0] > 0


@pytest.mark.slow
def test_backtest_from_the_cli_prints_a_summary(short_tmp: Path) -> None:
    out = subprocess.run(
        [*DASH, "run", "--speed", "max", "--no-serve", "--db", str(short_tmp / "b.db"),
         "--until", "2023-04-01T00:00:00Z", "--log-level", "WARNING"],
        capture_output=True, text=True, timeout=120,
    )
    assert out.returncode == 0, out.stderr[-2000:]
    for key in ("positions_opened", "funding_collected", "fees", "net_pnl", "max_drawdown"):
        assert key in out.stdout
