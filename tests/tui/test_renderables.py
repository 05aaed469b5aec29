"""The renderables, drawn on a fixed-width console without colour (exact text)."""

from __future__ import annotations

import dataclasses

from rich.console import Console

from tests.tui._docs import NOW, alerts, markets, position, totals
from tui.renderables import (
    AlertsView,
    MarketsView,
    PositionDetailView,
    Sparkline,
    Status,
    StatusLine,
    TotalsLine,
    spark,
)
from tui.view import History, alert_entries, merge


def draw(renderable, width: int) -> str:
    console = Console(width=width, color_system=None, record=True, legacy_windows=False)
    console.print(renderable)
    return console.export_text()


def test_spark_scales_between_the_visible_extremes():
    assert spark([1, 2, 3, 4, 5, 6, 7, 8], 8) == "▁▂▃▄▅▆▇█"
    assert spark([5, 5, 5], 10) == "▄▄▄"
    assert spark([0, 100, 1, 2], 2) == "▁█"  # only the last two values count
    assert spark([], 5) == ""
    assert draw(Sparkline([1, 2, 3], width=2), 10) == "▁█"


def test_status_line_says_the_link_state_in_words():
    live = Status("funding-arb", "paper", "running", "connected", 3.0, 0.4, 1042)
    assert draw(StatusLine(live), 100).rstrip() == (
        "dash │ funding-arb │ paper │ running │ ● live 0.4s ago │ seq 1042"
    )
    gone = Status(
        "funding-arb",
        "paper",
        "running",
        "disconnected",
        12.0,
        12.0,
        1042,
        paused=True,
        behind=3,
        read_only=True,
    )
    text = draw(StatusLine(gone), 200)
    assert "✗ DISCONNECTED 12s · reconnecting" in text
    assert "⏸ PAUSED +3" in text and "read-only" in text


def test_status_line_of_the_overview_names_no_strategy():
    status = Status("funding-arb", "paper", "running", "connected", 3.0, 0.4, 1042)
    status = dataclasses.replace(status, strategies=3, overview=True, read_only=True)
    assert draw(StatusLine(status), 100).rstrip() == (
        "dash │ All strategies (3) │ ● live 0.4s ago │ read-only"
    )


def test_status_line_compacts_then_truncates_on_narrow_terminals():
    live = Status("funding-arb", "paper", "running", "connected", 3.0, 0.4, 1042)
    compact = draw(StatusLine(live), 60).rstrip()
    assert compact == "funding-arb · paper · running · ● live 0.4s ago · seq 1042"
    assert len(draw(StatusLine(live), 30).rstrip()) <= 30


def test_totals_line_shortens_labels_to_fit():
    wide = draw(TotalsLine(totals(6)), 120).rstrip()
    assert wide == (
        "Open 6  Notional 21,000.00  Funding +21.00  Fees 12.00  Unrealised -24.00  "
        "Realised +5.00  Net PnL -10.00"
    )
    narrow = draw(TotalsLine(totals(6)), 80).rstrip()
    assert narrow.startswith("Open 6  Ntl 21,000.00  Fund +21.00") and len(narrow) <= 80
    assert "Net -10.00" in narrow


def test_detail_shows_both_legs_the_breakdown_and_history():
    history = History()
    for tick in range(5):
        history.record({"p-0001": position(1, tick)}, "2024-03-01T09:00:00.000Z", ["p-0001"])
    doc = position(1, 4)
    text = draw(PositionDetailView("p-0001", doc, history.trace("p-0001"), NOW), 80)
    assert "ETH/USDT  qty 0.5  opened 03-01 07:00  risk ok" in text
    assert "long    okx       2,000.50   2,008.50   +8.00     +2.00" in text
    assert "short   binance   2,000.70   2,008.90   -8.00     +1.50" in text
    assert "PnL legs 0.00 · funding +3.50 · fees 2.00 = net +1.50" in text
    assert "Spread   18.40% ▁▃▅▆█" in text
    assert "Net       +1.50 ▁▃▅▆█" in text
    assert "Next funding okx 7h00m binance 7h00m" in text
    assert "Funding payments (none seen yet)" in text


def test_detail_in_a_narrow_pane_puts_each_leg_on_one_line():
    text = draw(PositionDetailView("p-0002", position(2), None, NOW), 44)
    assert "long  bybit    3,000.50 → 3,000.50 0.00" in text
    assert "Funding payments long +2.00 short +1.50" in text
    assert "Risk: divergence" in text
    assert max(len(line) for line in text.splitlines()) <= 44


def test_detail_without_a_position():
    assert draw(PositionDetailView(None), 40).strip() == "No position selected."
    assert draw(PositionDetailView("p-1", None), 40).strip() == "p-1 is closed."


def test_markets_view_lists_venues_and_the_best_pair():
    text = draw(MarketsView(markets(), NOW), 60)
    assert "BTC/USDT  best 32.85% L bybit S binance BE 2.1d" in text
    assert "  binance      +0.0100%   10.95%  7h00m" in text
    assert "  okx          +0.0050%    5.48%    30m" in text
    narrow = draw(MarketsView(markets(), NOW), 30)
    assert "  bybit       -21.90%  7h00m" in narrow
    assert draw(MarketsView({}), 30).strip() == "No market data yet."


def test_alerts_view_is_newest_first_with_the_level_in_words():
    text = draw(AlertsView(merge(alert_entries(alerts()), [], 10)), 80).splitlines()
    assert text[0] == "03-01 08:50 CRIT margin p-0004 margin distance 4%"
    assert text[1] == "03-01 08:10 WARN divergence p-0002 divergence 3.0 bps beyond warn"
    assert draw(AlertsView([]), 20).strip() == "No alerts."
