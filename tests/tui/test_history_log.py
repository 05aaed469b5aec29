"""What the dashboard collects from the stream: per-position history and the log."""

from __future__ import annotations

from decimal import Decimal

from tests.tui._docs import CLOCK, alerts, position
from tui.view import (
    MAX_POINTS,
    History,
    Payment,
    alert_entries,
    command_outcome,
    merge,
    notice_entry,
)


def test_samples_only_touched_positions_and_forgets_closed_ones():
    history = History()
    positions = {"p-0000": position(0), "p-0001": position(1)}
    history.record(positions, CLOCK)
    positions["p-0001"] = position(1, tick=3)
    history.record(positions, CLOCK, touched=["p-0001"])
    assert list(history.trace("p-0000").spread) == [0.18]
    assert list(history.trace("p-0001").spread) == [0.18, 0.183]
    assert list(history.trace("p-0001").net) == [-2.5, 0.5]
    del positions["p-0000"]
    history.record(positions, CLOCK, touched=["p-0000"])
    assert history.trace("p-0000") is None
    history.record({}, CLOCK)
    assert len(history) == 0


def test_funding_payments_are_changes_of_a_legs_cumulative_funding():
    history = History()
    doc = position(0)
    history.record({"p": doc}, "2024-03-01T07:59:00.000Z")
    paid = {**doc, "short": {**doc["short"], "funding": "2.25"}}
    history.record({"p": paid}, "2024-03-01T08:00:00.000Z", touched=["p"])
    history.record({"p": paid}, "2024-03-01T08:01:00.000Z", touched=["p"])
    assert list(history.trace("p").payments) == [
        Payment("2024-03-01T08:00:00.000Z", "short", "binance", Decimal("0.75"))
    ]


def test_a_payment_is_dated_by_the_venues_settlement_when_the_leg_says_it():
    history = History()
    doc = position(0)
    history.record({"p": doc}, "2024-03-01T07:59:00.000Z")
    paid = {**doc, "long": {**doc["long"], "funding": "3.00",
                            "last_funding": "2024-03-01T08:00:00.000Z"}}
    history.record({"p": paid}, "2024-03-01T08:05:00.000Z", touched=["p"])
    [payment] = history.trace("p").payments
    assert payment.time == "2024-03-01T08:00:00.000Z"
    assert payment.side == "long"


def test_series_are_bounded():
    history = History()
    for tick in range(MAX_POINTS + 10):
        history.record({"p": position(0, tick)}, CLOCK, touched=["p"])
    assert len(history.trace("p").spread) == MAX_POINTS


def test_log_merges_alerts_and_notices_newest_first():
    entries = alert_entries(alerts())
    opened = notice_entry(
        {
            "event": "position_opened",
            "ts": "2024-03-01T08:30:00.000Z",
            "data": {
                "position": "p-9",
                "symbol": "BTC/USDT",
                "long_venue": "bybit",
                "short_venue": "binance",
                "notional": "10000",
            },
        },
        1,
    )
    assert opened is not None and "long bybit / short binance" in opened.message
    merged = merge(entries, [opened], limit=10)
    assert [e.code for e in merged] == ["margin", "opened", "divergence"]
    assert merged[0].level == "critical" and merged[0].position == "p-0004"
    assert len(merge(entries, [opened], limit=2)) == 2


def test_alert_notices_are_left_to_the_document():
    assert notice_entry({"event": "alert", "data": {"id": "a-3"}}, 1) is None
    assert notice_entry({"event": "heartbeat"}, 2) is None


def test_command_outcomes():
    text, severity = command_outcome(
        {
            "command_id": "c-1",
            "position": "p-1",
            "status": "completed",
            "result": {"realized_pnl": "7.54"},
        }
    )
    assert (text, severity) == ("Close of p-1 completed · realised PnL +7.54", "information")
    text, severity = command_outcome(
        {"command_id": "c-2", "position": "p-2", "status": "failed", "error": "exchange down"}
    )
    assert (text, severity) == ("Close of p-2 failed: exchange down", "error")
    entry = notice_entry(
        {
            "event": "command",
            "ts": CLOCK,
            "data": {"position": "p-2", "status": "failed", "error": "x"},
        },
        5,
    )
    assert entry is not None and entry.level == "error" and entry.key == "command:5"


def test_feed_and_lifecycle_notices():
    lost = notice_entry({"event": "feed_lost", "data": {"venue": "okx"}}, 1)
    assert lost is not None and (lost.level, lost.message) == ("warn", "Market data lost: okx")
    stopped = notice_entry({"event": "strategy_stopped", "data": {"reason": "signal"}}, 2)
    assert stopped is not None and stopped.message == "Strategy stopped (signal)"


def test_pending_frame_merges_what_changed_between_frames():
    from tui.view import PendingFrame

    pending = PendingFrame()
    assert not pending and pending.take() is None
    pending.add({"seq": 1}, ["p-1"], ["positions", "seq"])
    pending.add({"seq": 2}, ["p-2"], ["clock", "seq"])
    frame = pending.take()
    assert frame is not None and frame.doc == {"seq": 2}
    assert frame.touched == {"p-1", "p-2"} and frame.keys == {"positions", "clock", "seq"}
    assert not pending
    pending.add({"seq": 3}, ["p-1"], ["positions"])
    pending.add({"seq": 4}, None, None)  # a snapshot: everything may have changed
    pending.add({"seq": 5}, ["p-3"], ["positions"])
    frame = pending.take()
    assert frame is not None and frame.doc == {"seq": 5}
    assert frame.touched is None and frame.keys is None


def test_command_outcomes_are_reported_once_whichever_comes_first():
    from tui.view import CommandTracker

    commands = CommandTracker()
    assert commands.sent({"command_id": "c-1", "status": "accepted"}, "p-1") is None
    assert commands.waiting == {"c-1": "p-1"}
    done = {"command_id": "c-1", "status": "completed"}
    assert commands.finished(done) == done
    assert commands.finished(done) is None  # not twice
    # the event first, then the ticket
    early = {"command_id": "c-2", "status": "failed", "error": "x"}
    assert commands.finished(early) is None
    assert commands.sent({"command_id": "c-2"}, "p-2") == early
    # a repeated idempotency key carries the first outcome
    first = {"command_id": "c-1", "status": "completed"}
    assert commands.sent({"command_id": "c-1", "duplicate": True, "outcome": first}, "p-1") == first
    assert commands.finished("garbage") is None
    assert commands.waiting == {}
