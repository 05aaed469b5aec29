"""Every record type goes in and comes back exactly, and survives a reopen."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from strategy.store import AlertRecord, CommandRecord, SnapshotRow, Store
from tests.store.factories import T0, funding, position


async def test_position_round_trip_is_exact(store: Store) -> None:
    rec = position()
    store.insert_position(rec)
    await store.flush()
    [back] = await store.open_positions("funding-arb")
    assert back == rec
    assert str(back.short_entry_price) == "27012.3456789012345678901234"
    assert str(back.long_entry_price) == "27000.10"  # trailing zero kept
    assert back.status == "open"
    assert await store.position("p-1") == rec
    assert await store.position("p-none") is None


async def test_close_position_sets_exit_fields_and_second_close_changes_nothing(
    store: Store,
) -> None:
    store.insert_position(position())
    closed_at = T0 + timedelta(hours=16, milliseconds=250)
    store.close_position(
        "p-1",
        closed_at,
        "spread_eroded",
        Decimal("27100.5"),
        Decimal("27105"),
        Decimal("1.70"),
        Decimal("-0.0000001"),
    )
    store.close_position(
        "p-1",
        closed_at + timedelta(hours=1),
        "operator",
        Decimal("1"),
        Decimal("1"),
        Decimal("1"),
        Decimal("999"),
    )
    await store.flush()
    assert await store.open_positions("funding-arb") == []
    [back] = await store.positions()
    assert back.status == "closed"
    assert (back.closed_at, back.close_reason, back.realized_pnl) == (
        closed_at,
        "spread_eroded",
        Decimal("-0.0000001"),
    )
    assert (back.long_exit_price, back.short_exit_price, back.exit_fees) == (
        Decimal("27100.5"),
        Decimal("27105"),
        Decimal("1.70"),
    )
    assert store.stats.unchanged_ops == 1


async def test_positions_filters(store: Store) -> None:
    store.insert_position(position("p-a", opened_at=T0 + timedelta(hours=2)))
    store.insert_position(position("p-b", opened_at=T0))
    store.insert_position(position("p-c", strategy="other"))
    store.insert_position(
        position(
            "p-d",
            closed_at=T0 + timedelta(hours=3),
            close_reason="x",
            long_exit_price=Decimal(1),
            short_exit_price=Decimal(1),
            exit_fees=Decimal(0),
            realized_pnl=Decimal(0),
        )
    )
    await store.flush()
    assert [p.id for p in await store.positions()] == ["p-b", "p-c", "p-d", "p-a"]
    assert [p.id for p in await store.positions("funding-arb")] == ["p-b", "p-d", "p-a"]
    assert [p.id for p in await store.positions("funding-arb", include_closed=False)] == [
        "p-b",
        "p-a",
    ]
    assert [p.id for p in await store.positions(include_closed=False)] == ["p-b", "p-c", "p-a"]
    assert [p.id for p in await store.open_positions("funding-arb")] == ["p-b", "p-a"]


async def test_funding_round_trip_duplicates_ignored_and_last_times(store: Store) -> None:
    store.insert_position(position("p-1"))
    store.insert_position(position("p-2", strategy="other"))
    first = funding("p-1", "binance", 0, amount="-0.3375")
    store.record_funding(first)
    store.record_funding(funding("p-1", "bybit", 0, amount="0.3375"))
    store.record_funding(funding("p-1", "binance", 8))
    store.record_funding(funding("p-2", "binance", 8, strategy="other"))
    # The same settlement again, even with a different amount, keeps the first row.
    store.record_funding(funding("p-1", "binance", 0, amount="123"))
    await store.flush()
    assert store.stats.failed_ops == 0
    rows = await store.funding_payments(strategy="funding-arb")
    assert len(rows) == 3
    assert rows[0] == first and rows[0].amount == Decimal("-0.3375")
    assert [r.venue for r in await store.funding_payments("p-1")] == [
        "binance",
        "bybit",
        "binance",
    ]
    assert len(await store.funding_payments()) == 4
    assert await store.last_funding_times("funding-arb") == {
        ("p-1", "binance"): T0 + timedelta(hours=8),
        ("p-1", "bybit"): T0,
    }


async def test_alerts_round_trip_and_filters(store: Store) -> None:
    a1 = AlertRecord("a-1", "funding-arb", T0, "warn", "divergence", "drift 35 bps", "p-1")
    a2 = AlertRecord(
        "a-1",
        "funding-arb",
        T0 + timedelta(minutes=5),
        "critical",
        "divergence",
        "drift 80 bps",
        "p-1",
    )
    a3 = AlertRecord(
        "a-2",
        "funding-arb",
        T0 + timedelta(minutes=9),
        "warn",
        "drawdown",
        "portfolio down 3%",
        None,
    )
    a4 = AlertRecord("a-9", "other", T0, "warn", "stale", "no marks", None)
    for rec in (a1, a2, a3, a4):
        store.record_alert(rec)
    await store.flush()
    assert await store.alerts("funding-arb") == [a1, a2, a3]  # an id raised twice: two rows
    assert await store.alerts(position_id="p-1") == [a1, a2]
    assert await store.alerts("funding-arb", since=T0 + timedelta(minutes=5)) == [a2, a3]
    assert await store.alerts(until=T0) == [a1, a4]


async def test_commands_round_trip_update_and_lookup_by_key(store: Store) -> None:
    cmd = CommandRecord(
        "c-1",
        "funding-arb",
        T0,
        "close_position",
        '{"position":"p-1","reason":"operator"}',
        1000,
        4242,
        "key-1",
        "accepted",
    )
    anon = CommandRecord(
        "c-2",
        "funding-arb",
        T0 + timedelta(seconds=1),
        "close_position",
        "{}",
        None,
        None,
        None,
        "accepted",
    )
    store.record_command(cmd)
    store.record_command(anon)
    await store.flush()
    assert await store.command_by_key("funding-arb", "key-1") == cmd
    assert await store.command_by_key("other", "key-1") is None
    done = T0 + timedelta(seconds=2)
    store.update_command("c-1", "completed", '{"realized_pnl":"1.20"}', done)
    store.update_command("c-unknown", "completed", None, done)
    await store.flush()
    [c1, c2] = await store.commands("funding-arb")
    assert (c1.status, c1.outcome_json, c1.completed_at) == (
        "completed",
        '{"realized_pnl":"1.20"}',
        done,
    )
    assert c2 == anon
    assert store.stats.unchanged_ops == 1


async def test_snapshots_latest_and_ranges(store: Store) -> None:
    for seq in range(1, 5):
        store.write_snapshot(
            "funding-arb", seq, T0 + timedelta(minutes=seq), "timer", b'{"seq":%d}' % seq
        )
    store.write_snapshot("other", 1, T0, "shutdown", b"\x00\xff")
    await store.flush()
    latest = await store.latest_snapshot("funding-arb")
    assert latest == SnapshotRow(4, T0 + timedelta(minutes=4), "timer", b'{"seq":4}')
    seq, taken_at, reason, payload = latest  # still a plain tuple for callers that unpack
    assert (seq, taken_at, reason) == (4, T0 + timedelta(minutes=4), "timer")
    assert isinstance(payload, bytes)
    assert await store.latest_snapshot("nobody") is None
    assert (await store.latest_snapshot("other")) == (1, T0, "shutdown", b"\x00\xff")
    window = await store.snapshots(
        "funding-arb", since=T0 + timedelta(minutes=2), until=T0 + timedelta(minutes=3)
    )
    assert [s.seq for s in window] == [2, 3]
    assert len(await store.snapshots("funding-arb")) == 4


async def test_runtime_clock_upserts(store: Store) -> None:
    assert await store.runtime_clock("funding-arb") is None
    store.set_runtime_clock("funding-arb", T0)
    store.set_runtime_clock("funding-arb", T0 + timedelta(hours=1, milliseconds=5))
    await store.flush()
    assert await store.runtime_clock("funding-arb") == T0 + timedelta(hours=1, milliseconds=5)
    assert (await store.table_counts())["strategy_runtime"] == 1


async def test_everything_survives_close_and_reopen(db_path: Path) -> None:
    store = await Store.open(db_path)
    store.insert_position(position())
    store.record_funding(funding())
    store.record_alert(AlertRecord("a-1", "funding-arb", T0, "warn", "x", "y"))
    store.record_command(CommandRecord("c-1", "funding-arb", T0, "op", "{}", 1, 2, "k", "s"))
    store.write_snapshot("funding-arb", 7, T0, "shutdown", b"{}")
    store.set_runtime_clock("funding-arb", T0)
    await store.close()  # no flush: close() drains

    async with await Store.open(db_path) as again:
        assert await again.table_counts() == {
            "strategy_positions": 1,
            "funding_payments": 1,
            "alerts": 1,
            "commands": 1,
            "dashboard_snapshots": 1,
            "strategy_runtime": 1,
        }
        assert await again.open_positions("funding-arb") == [position()]
