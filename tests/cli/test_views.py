"""The Rich views drawn on fixed-width consoles (no terminal, no server)."""

from __future__ import annotations

import re

from rich.console import Console

from cli._views import ConnectionInfo, Header, MarketsTable, PositionsTable, SnapshotView
from tests.cli._docs import document

ANSI = re.compile(r"\x1b\[[0-9;]*m")


def draw(renderable, width: int, *, color: bool = False) -> str:
    console = Console(
        width=width,
        color_system="truecolor" if color else None,
        force_terminal=color,
        record=False,
        file=None,
        highlight=False,
        legacy_windows=False,
    )
    with console.capture() as capture:
        console.print(renderable)
    return capture.get()


def header_row(text: str) -> str:
    return next(line for line in text.splitlines() if line.startswith("id "))


def test_wide_console_shows_every_position_column():
    text = draw(PositionsTable(document()), 200)
    assert header_row(text).split() == [
        "id", "symbol", "long/short", "qty", "entry", "apr", "erosion", "div", "bps",
        "funding", "fees", "net", "next", "risk",
    ]  # fmt: skip
    row = next(line for line in text.splitlines() if line.startswith("p-eaa7f525"))
    assert row.split() == [
        "p-eaa7f525", "BTC/USDT", "bybit/binance", "0.5321", "12.91%", "15.75%", "-22%",
        "26.9", "+5.30", "10.50", "-32.16", "4h30m", "ok",
    ]  # fmt: skip


def test_narrow_console_drops_columns_but_keeps_the_essentials():
    text = draw(PositionsTable(document()), 80)
    assert all(len(line) <= 80 for line in text.splitlines())
    columns = header_row(text).split()
    for essential in ("id", "symbol", "net", "risk"):
        assert essential in columns
    assert "qty" not in columns and "fees" not in columns
    assert "…" not in text  # whole columns go; cells are never squeezed
    for pid in ("p-eaa7f525", "p-6e9bd8d0", "p-0c0ffee0"):
        assert pid in text
    very_narrow = draw(PositionsTable(document()), 50)
    assert header_row(very_narrow).split() == ["id", "symbol", "net", "risk"]


def test_positions_are_ordered_by_opening_and_net_is_signed():
    text = draw(PositionsTable(document()), 200)
    rows = [line.split()[0] for line in text.splitlines() if line.startswith("p-")]
    assert rows == ["p-eaa7f525", "p-6e9bd8d0", "p-0c0ffee0"]
    assert "+12.50" in text and "-1.00" in text


def test_risk_levels_are_coloured_only_with_colour():
    coloured = draw(PositionsTable(document()), 200, color=True)
    red = re.search(r"\x1b\[[0-9;]*31m|\x1b\[1;31m|\x1b\[[0-9;]*38;2;128;0;0m", coloured)
    assert "\x1b[" in coloured and red
    assert "\x1b[" not in draw(PositionsTable(document()), 200)


def test_markets_table_has_a_column_per_venue_and_the_best_pair():
    text = draw(MarketsTable(document()), 120)
    head = next(line for line in text.splitlines() if line.startswith("symbol"))
    assert head.split() == [
        "symbol",
        "binance",
        "bybit",
        "okx",
        "best",
        "pair",
        "spread",
        "days",
        "b/e",
    ]
    btc = next(line for line in text.splitlines() if line.startswith("BTC/USDT"))
    assert btc.split() == [
        "BTC/USDT",
        "10.95%",
        "-46.78%",
        "2.82%",
        "bybit→binance",
        "15.75%",
        "4.9",
    ]


def test_header_shows_link_state_and_age():
    live = draw(Header(document(), ConnectionInfo("live", age_s=0.42)), 100)
    first = live.splitlines()[0]
    assert first.split()[:3] == ["funding-arb", "running", "paper"]
    assert "seq 54" in first and "● live" in first and "updated 0.4s ago" in first
    assert "net +1,234.21" in live.splitlines()[1]
    down = draw(
        Header(document(), ConnectionInfo("disconnected", retry_in_s=1.26, error="gone")), 100
    )
    assert "disconnected, retrying in 1.3s" in down


def test_whole_view_fits_80_by_24():
    text = draw(SnapshotView(document(), ConnectionInfo("live", age_s=1.0)), 80)
    lines = text.splitlines()
    assert len(lines) <= 24
    assert all(len(line) <= 80 for line in lines)
    assert "Alerts (2)" in text
    # newest alert first
    alert_lines = [line for line in lines if "divergence" in line and "p-" in line]
    assert "CRITICAL" in alert_lines[0] and "WARN" in alert_lines[1]


def test_empty_document_draws_placeholders():
    text = draw(SnapshotView({"strategy": "x", "status": "starting", "seq": 0}), 80)
    assert "Positions: none open" in text and "Markets: no data yet" in text
    assert "Alerts: none active" in text
