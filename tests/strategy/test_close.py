"""Closing is one idempotent operation: a position's legs are traded once, whatever happens."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from state import Notice
from strategy.errors import CommandError
from tests.strategy.conftest import T0, TEST_CONFIG
from tests.strategy.handfeed import HandFeed

H = timedelta(hours=1)
SYM = "BTC/USDT"


def market() -> HandFeed:
    feed = HandFeed(T0, venues=("binance", "bybit"))
    feed.set_marks(SYM, T0, "30000")
    feed.settle_every("binance", SYM, "0.0001", T0, T0 + 240 * H)
    feed.settle_every("bybit", SYM, "0.0005", T0, T0 + 240 * H)
    return feed


async def opened(make_rig):
    rig = await make_rig(market(), TEST_CONFIG.replace(reentry_hours=48))
    await rig.cycle()
    [position] = list(rig.strategy.positions)
    return rig, position


def fill_counts(rig) -> dict[str, int]:
    return {name: len(ex.fills) for name, ex in rig.exchanges.items()}


async def test_closing_twice_trades_once(make_rig):
    rig, position = await opened(make_rig)
    first = await rig.strategy.close_position(position.id, "operator", requested_by="uid 1000")
    second = await rig.strategy.close_position(position.id, "operator again")
    assert (first.status, second.status) == ("closed", "already_closed")
    assert second.realized_pnl == first.realized_pnl and second.reason == "operator"
    assert fill_counts(rig) == {"binance": 2, "bybit": 2}  # open + close on each venue
    assert rig.exchanges["binance"].position(SYM) == 0 == rig.exchanges["bybit"].position(SYM)
    await rig.cycle(1)
    await rig.store.flush()
    [row] = await rig.store.positions("test-arb")
    assert row.closed_at == T0 and row.close_reason == "operator"


async def test_concurrent_close_requests_trade_once(make_rig):
    rig, position = await opened(make_rig)
    results = await asyncio.gather(
        rig.strategy.close_position(position.id, "a"),
        rig.strategy.close_position(position.id, "b"),
        rig.strategy.run_cycle(),
    )
    statuses = sorted(r.status for r in results[:2])
    assert statuses == ["already_closed", "closed"]
    assert fill_counts(rig) == {"binance": 2, "bybit": 2}


async def test_a_failed_leg_is_retried_without_trading_the_other_again(make_rig):
    rig, position = await opened(make_rig)
    rig.exchanges["bybit"].fail_next_orders(1)
    with pytest.raises(CommandError) as info:
        await rig.strategy.close_position(position.id, "operator")
    assert info.value.code == "unavailable"
    assert position.status == "closing"
    assert fill_counts(rig) == {"binance": 2, "bybit": 1}  # long closed, short still open
    # the next cycle finishes the close with the same client order ids
    await rig.cycle(1)
    assert position.status == "closed" and position.close_reason == "operator"
    assert fill_counts(rig) == {"binance": 2, "bybit": 2}
    binance_fills = rig.exchanges["binance"].fills
    [long_close] = [f for f in binance_fills if f.client_order_id.endswith("close")]
    assert long_close.ts == T0  # filled once, by the first attempt


async def test_unknown_position_is_not_found(make_rig):
    rig, _ = await opened(make_rig)
    with pytest.raises(CommandError) as info:
        await rig.strategy.close_position("p-nope", "operator")
    assert info.value.code == "not_found"


async def test_close_publishes_a_notice_with_the_outcome(make_rig):
    rig, position = await opened(make_rig)
    sub = rig.bus.subscribe("t", kinds=("position_closed",))
    result = await rig.strategy.close_position(position.id, "operator")
    notice = sub.get_nowait()
    assert isinstance(notice, Notice) and notice.kind == "position_closed"
    assert notice.data == {
        "position": position.id,
        "symbol": SYM,
        "reason": "operator",
        "realized_pnl": result.to_dict()["realized_pnl"],
        "funding_collected": "0.00",
        "fees": result.to_dict()["fees"],
    }
    await rig.strategy.close_position(position.id, "operator")
    assert sub.qsize() == 0  # a repeated close announces nothing
