"""Number, time and event text, and the --field path walker."""

from __future__ import annotations

import pytest

from cli import _format as fmt
from cli._errors import FAILURE, USAGE, CliError
from cli._field import lookup, render


def test_money_percent_number():
    assert fmt.money("1234.5") == "1,234.50"
    assert fmt.money("1234.5", signed=True) == "+1,234.50"
    assert fmt.money("-0.104", signed=True) == "-0.10"
    assert fmt.money("0", signed=True) == "0.00"
    assert fmt.money(None) == fmt.money("nan") == fmt.money("x") == "-"
    assert fmt.percent("0.1095") == "10.95%" and fmt.percent("-0.2197", 0) == "-22%"
    assert fmt.number("0.5321") == "0.5321" and fmt.number("26.94", 1) == "26.9"


def test_dust_and_signs():
    assert fmt.money("-0.004", signed=True) == "0.00" and fmt.money("0.004", signed=True) == "0.00"
    assert fmt.percent("0.05", signed=True) == "+5.00%" and fmt.percent("-0.05") == "-5.00%"
    assert [fmt.sign_style(v) for v in ("1.5", "-0.01", "0", None)] == ["green", "red", "", ""]


def test_times_tolerate_odd_values():
    assert fmt.short_time("2023-01-13T07:01:38.175Z") == "2023-01-13 07:01"
    assert fmt.short_time("2023-01-13T07:01:38.175Z", year=False) == "01-13 07:01"
    # Unhashable or non-text values must not reach the memoised parser.
    assert [fmt.parse_time(v) for v in ({"a": 1}, ["x"], 3, "", "not a time")] == [None] * 5
    assert fmt.short_time(None) == fmt.short_time("garbage") == "-"


def test_the_tui_shows_the_same_text():
    """One implementation for both front ends: the TUI re-exports, it does not copy."""
    from tui import view

    shared = ("age", "countdown", "money", "next_funding_seconds", "parse_time", "percent")
    for name in (*shared, "sign_style"):
        assert getattr(view, name) is getattr(fmt, name)
    assert view.dec is fmt.decimal and view.quantity is fmt.number
    assert view.short_time("2023-01-13T07:01:38.175Z") == "01-13 07:01"


def test_countdown_and_age():
    assert [fmt.countdown(s) for s in (None, -1, 45, 720, 28740, 183600)] == [
        "-", "due", "45s", "12m", "7h59m", "2d3h",
    ]  # fmt: skip
    assert [fmt.age(s) for s in (None, 0.42, 12.9, 190, 7500)] == [
        "-", "0.4s", "12s", "3m10s", "2h05m",
    ]  # fmt: skip


def test_next_funding_uses_market_clock():
    pos = {"next_funding": {"a": "2023-01-13T16:00:00.000Z", "b": "2023-01-13T12:00:00.000Z"}}
    assert fmt.next_funding_seconds(pos, "2023-01-13T11:30:00.000Z") == 1800
    assert fmt.next_funding_seconds({}, "2023-01-13T11:30:00.000Z") is None
    now = fmt.parse_time("2023-01-13T11:30:00.000Z")
    assert fmt.next_funding_seconds(pos, now) == 1800


def test_event_lines():
    event = {"event": "position_closed", "strategy": "s", "ts": "2023-01-13T11:30:00.000Z",
             "data": {"position": "p-1", "symbol": "BTC/USDT", "reason": "spread_eroded",
                      "realized_pnl": "12.5"}}  # fmt: skip
    assert fmt.event_text(event) == "closed p-1 BTC/USDT (spread_eroded) PnL +12.50"
    assert fmt.event_line(event) == (
        "2023-01-13T11:30:00.000Z event=position_closed strategy=s "
        "closed p-1 BTC/USDT (spread_eroded) PnL +12.50"
    )
    assert fmt.event_text({"event": "heartbeat"}) is None


def test_field_lookup_and_render():
    doc = {"totals": {"net_pnl": "3.10"}, "p": {"reasons": ["a", "b"]}, "n": 3}
    assert render(lookup(doc, "totals.net_pnl")) == "3.10"
    assert render(lookup(doc, "p.reasons.1")) == "b"
    assert render(lookup(doc, "p")) == '{"reasons":["a","b"]}'
    assert render(lookup(doc, "n")) == "3"
    with pytest.raises(CliError) as caught:
        lookup(doc, "p.reasons.5")
    assert caught.value.code == FAILURE and "2 item(s)" in caught.value.message
    with pytest.raises(CliError) as caught:
        lookup(doc, "n.x")
    assert "is a value" in caught.value.message
    with pytest.raises(CliError) as caught:
        lookup(doc, "")
    assert caught.value.code == USAGE
