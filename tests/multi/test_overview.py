"""The figures and drawing of the "all" views, from documents, with no server."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from cli._aggregate import Collection, Entry
from cli._errors import CliError
from cli._fast import parse_snapshot
from cli._snapshot import SnapshotArgs
from cli._summary import combine, plain_line, summarize, worst
from cli._views_all import OverviewTable
from cli._watch_all import AllView, Board, SocketLink
from ipc import Update
from strategy.runner import load_run_file
from tests.cli.test_fast_path import typer_args
from tests.multi._trio import guide_config


def doc(
    strategy: str,
    *,
    status: str = "running",
    seq: int = 5,
    net: str = "-12.50",
    levels: tuple[str, ...] = ("ok",),
    alerts: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "schema": 1, "strategy": strategy, "seq": seq, "status": status, "mode": "paper",
        "clock": "2023-01-13T07:00:00.000Z",
        "totals": {"open_positions": len(levels), "notional": "10000.10",
                   "funding_collected": "1.25", "fees": "10.50", "unrealized_pnl": "-3.25",
                   "net_pnl": net},
        "positions": {f"p-{i}": {"risk": {"level": lv}} for i, lv in enumerate(levels)},
        "alerts": {f"a-{i}": {"level": lv} for i, lv in enumerate(alerts)},
        "markets": {},
    }  # fmt: skip


def draw(renderable: object, width: int) -> list[str]:
    console = Console(width=width, color_system=None, highlight=False)
    with console.capture() as capture:
        console.print(renderable)
    return [line.rstrip() for line in capture.get().splitlines()]


def test_summary_reads_the_documents_totals_and_worst_risk() -> None:
    row = summarize(doc("a", levels=("ok", "warn")), "desk.sock")
    assert (row.strategy, row.socket, row.status, row.seq, row.open) == (
        "a",
        "desk.sock",
        "running",
        5,
        2,
    )
    assert (row.notional, row.net, row.risk) == (Decimal("10000.10"), Decimal("-12.50"), "warn")
    # a failed strategy's critical alert outranks calm positions
    assert summarize(doc("b", status="failed", alerts=("critical",))).risk == "critical"
    assert worst([]) == "ok" and worst(["odd", "warn"]) == "warn"
    bare = summarize({"strategy": "c"})
    assert (bare.seq, bare.open, bare.net, bare.status) == (None, 0, None, "-")


def test_combined_total_sums_decimals_and_counts_statuses() -> None:
    rows = [summarize(doc("a", net="-12.50"), "desk.sock"),
            summarize(doc("b", net="0.10", status="failed"), "desk.sock"),
            summarize(doc("c", net="3.30", levels=("ok", "critical")), "solo.sock")]  # fmt: skip
    total = combine(rows)
    assert total.net == Decimal("-9.10")  # exact: no float rounding
    assert total.notional == Decimal("30000.30")
    assert (total.open, total.risk, total.socket) == (4, "critical", "2 sockets")
    assert total.status == "1 failed, 2 running"
    line = plain_line(rows[2], total)
    assert line.startswith("2023-01-13T07:00:00.000Z strategy=c socket=solo.sock seq=5 ")
    assert line.endswith(" net_pnl=3.30 risk=critical total_open=4 total_net_pnl=-9.10")


def test_overview_table_draws_rows_a_rule_and_the_total() -> None:
    rows = [summarize(doc("btc-arb"), "desk.sock"),
            summarize(doc("solo", status="failed", alerts=("critical",)), "solo.sock")]  # fmt: skip
    lines = draw(OverviewTable(rows), 120)
    assert lines[0].split() == ["strategy", "socket", "status", "seq", "open", "notional",
                                "funding", "fees", "unrealized", "net", "risk"]  # fmt: skip
    assert lines[2].split() == ["btc-arb", "desk.sock", "running", "5", "1", "10,000.10",
                                "+1.25", "10.50", "-3.25", "-12.50", "ok"]  # fmt: skip
    assert lines[3].split()[2] == "failed" and lines[3].split()[-1] == "critical"
    assert set(lines[4]) == {"─"}
    assert lines[5].split() == ["total", "2", "sockets", "1", "failed,", "1", "running", "-",
                                "2", "20,000.20", "+2.50", "21.00", "-6.50", "-25.00",
                                "critical"]  # fmt: skip


def test_overview_table_drops_columns_to_fit_but_keeps_net_and_risk() -> None:
    rows = [summarize(doc("btc-arb"), "desk.sock")]
    lines = draw(OverviewTable(rows), 60)
    assert all(len(line) <= 60 for line in lines)
    header = lines[0].split()
    assert {"strategy", "status", "net", "risk"} <= set(header)
    assert "unrealized" not in header and "fees" not in header


def test_a_disconnected_socket_keeps_its_rows_with_the_link_state() -> None:
    rows = [summarize(doc("btc-arb"), "desk.sock"), summarize(doc("solo"), "solo.sock")]
    lines = draw(OverviewTable(rows, {"desk.sock": "live", "solo.sock": "disconnected"}), 120)
    assert lines[2].split()[2] == "running"
    assert lines[3].split()[:3] == ["solo", "solo.sock", "disconnected"]
    assert lines[3].split()[-2] == "-12.50"  # last known figures still shown
    assert lines[5].split()[-2] == "-25.00"


def update(kind: str, strategy: str, document: dict[str, Any], session: str = "s1") -> Update:
    return Update(kind, strategy, document.get("seq", 0), document, {"event": kind}, False,
                  session)  # fmt: skip


def test_board_keeps_one_row_per_socket_and_strategy_and_forgets_a_replaced_process() -> None:
    board = Board()
    desk = SocketLink("/run/dash/desk.sock", board)
    solo = SocketLink("/run/dash/solo.sock", board)
    board.links = {desk.socket: desk, solo.socket: solo}
    desk.apply(update("snapshot", "btc-arb", doc("btc-arb")), 1.0)
    desk.apply(update("snapshot", "eth-arb", doc("eth-arb")), 1.0)
    line = solo.apply(update("snapshot", "solo", doc("solo", net="1.00")), 2.0)
    assert line is not None and line.endswith("total_open=3 total_net_pnl=-24.00")
    assert [(r.strategy, r.socket) for r in board.summaries()] == [
        ("btc-arb", "desk.sock"),
        ("eth-arb", "desk.sock"),
        ("solo", "solo.sock"),
    ]
    # the desk process restarted serving only btc-arb: eth-arb's row must not linger
    desk.apply(update("snapshot", "btc-arb", doc("btc-arb", seq=1), session="s2"), 3.0)
    assert [r.strategy for r in board.summaries()] == ["btc-arb", "solo"]
    assert board.summaries()[0].seq == 1
    data = {"level": "critical", "code": "strategy_failed", "message": "boom"}
    event = {"event": "alert", "strategy": "solo", "ts": "2023-01-13T07:05:00.000Z", "data": data}
    text = solo.apply(Update("event", "solo", 5, doc("solo"), event, False, "s1"), 4.0)
    assert text is not None and "event=alert" in text
    desk.state = solo.state = "live"
    screen = "\n".join(draw(AllView(board), 120))
    assert "all strategies  2 on 2 sockets  ● live" in screen
    assert "solo: alert CRITICAL strategy_failed: boom" in screen


def test_one_id_served_by_two_processes_cannot_be_a_json_key() -> None:
    twice = Collection([Entry(Path("/r/a.sock"), "x", {}), Entry(Path("/r/b.sock"), "x", {})], [])
    with pytest.raises(CliError, match=r"served by two processes: /r/a\.sock and /r/b\.sock"):
        twice.by_id()
    pair = Collection([Entry(Path("/r/b.sock"), "z", {}), Entry(Path("/r/a.sock"), "y", {})], [])
    assert list(pair.by_id()) == ["y", "z"]


def test_fast_parser_takes_all_like_typer() -> None:
    for argv in (["--all"], ["--all", "--json"], ["--json", "--all", "--positions"],
                 ["--all", "--socket", "/tmp/x.sock", "--timeout=2"]):  # fmt: skip
        assert parse_snapshot(argv) == typer_args(argv)
    assert parse_snapshot(["--all", "--json"]) == SnapshotArgs(as_json=True, all_strategies=True)
    assert parse_snapshot(["--all=yes"]) is None


def test_the_operator_guides_multi_strategy_config_parses(tmp_path: Path) -> None:
    path = tmp_path / "desk.toml"
    path.write_text(guide_config())
    configs, run_table, alerts = load_run_file(path)
    assert [c.id for c in configs] == ["btc-arb", "eth-arb"]
    assert configs[0].symbols == ("BTC/USDT",) and configs[0].max_open_positions == 2
    assert configs[1].venues == ("bybit", "okx", "binance")
    assert configs[1].notional_per_position == Decimal("5000")
    assert run_table == {"name": "desk"} and alerts is None
