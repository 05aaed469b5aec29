"""The strategy's DashboardState: one change per cycle, significant flags, consistent totals."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from decimal import Decimal as D

from state import Change, Notice
from strategy.clock import ScaledClock
from tests.strategy.conftest import T0, TEST_CONFIG
from tests.strategy.handfeed import HandFeed

H = timedelta(hours=1)
BTC, ETH = "BTC/USDT", "ETH/USDT"
CONFIG = TEST_CONFIG.replace(symbols=(BTC, ETH), reentry_hours=100)


def market() -> HandFeed:
    feed = HandFeed(T0, venues=("binance", "bybit"), symbols=(BTC, ETH))
    feed.set_marks(BTC, T0, "30000")
    feed.set_marks(ETH, T0, "2000")
    feed.set_marks(BTC, T0 + 5 * H, "30150")
    feed.set_marks(ETH, T0 + 9 * H, "1990")
    for symbol, rich in ((BTC, "0.0004"), (ETH, "0.0006")):
        feed.settle_every("binance", symbol, "0.0001", T0, T0 + 240 * H)
        feed.settle_every("bybit", symbol, rich, T0, T0 + 240 * H)
    return feed


def drain(sub):
    items = []
    while sub.qsize():
        items.append(sub.get_nowait())
    return items


def has_none(value) -> bool:
    if value is None:
        return True
    if isinstance(value, dict):
        return any(has_none(v) for v in value.values())
    if isinstance(value, list):
        return any(has_none(v) for v in value)
    return False


async def test_one_cycle_is_one_change(make_rig):
    rig = await make_rig(market(), CONFIG)
    sub = rig.bus.subscribe("t", kinds=("change",))
    for i in range(1, 12):
        before = rig.state.seq
        await rig.cycle(1)
        changes = drain(sub)
        assert len(changes) == 1 and rig.state.seq == before + 1, f"cycle {i}"
        assert changes[0].reason == "cycle"


async def test_open_close_and_critical_alert_are_significant(make_rig):
    feed = market()
    rig = await make_rig(feed, CONFIG)
    sub = rig.bus.subscribe("t")
    await rig.cycle()
    [change] = [i for i in drain(sub) if isinstance(i, Change)]
    assert change.significant == ("position_opened",)
    assert set(change.patch["positions"]) == {p.id for p in rig.strategy.positions}

    await rig.cycle(1)
    [quiet] = [i for i in drain(sub) if isinstance(i, Change)]
    assert quiet.significant == ()

    btc = rig.strategy.positions.for_symbol(BTC)
    feed.set_mark("bybit", BTC, T0 + 2 * H, "30600")  # 200 bps: divergence critical
    await rig.cycle(1)
    items = drain(sub)
    [change] = [i for i in items if isinstance(i, Change)]
    assert set(change.significant) == {"critical_alert", "position_closed"}
    assert change.patch["positions"][btc.id] is None  # removed in the same change
    kinds = [i.kind for i in items if isinstance(i, Notice)]
    assert kinds == ["position_closed", "alert"]
    [alert] = [i for i in items if isinstance(i, Notice) and i.kind == "alert"]
    assert alert.data["level"] == "critical" and alert.data["code"] == "divergence"

    eth = rig.strategy.positions.for_symbol(ETH)
    await rig.strategy.close_position(eth.id, "operator")
    [change] = [i for i in drain(sub) if isinstance(i, Change)]
    assert change.significant == ("position_closed",) and change.reason == "close"


async def test_document_totals_equal_the_sum_of_positions(make_rig):
    rig = await make_rig(market(), CONFIG)
    await rig.cycles_until(T0 + 30 * H)
    doc = rig.state.snapshot().to_dict()
    positions = doc["positions"]
    assert len(positions) == 2 and not has_none(doc)

    def total(path):
        out = D(0)
        for p in positions.values():
            value = p
            for key in path:
                value = value[key]
            out += D(value)
        return str(out)

    totals = doc["totals"]
    assert totals["open_positions"] == 2
    assert totals["notional"] == total(["notional"])
    assert totals["funding_collected"] == total(["funding_collected"]) == total(["pnl", "funding"])
    assert totals["fees"] == total(["fees"])
    assert totals["unrealized_pnl"] == total(["pnl", "legs"])
    assert totals["net_pnl"] == total(["pnl", "net"])  # nothing realised yet
    assert D(totals["funding_collected"]) > 0

    # after a close, realised PnL joins the totals and the sums still hold
    btc = rig.strategy.positions.for_symbol(BTC)
    result = await rig.strategy.close_position(btc.id, "operator")
    doc = rig.state.snapshot().to_dict()
    totals = doc["totals"]
    [(_pid, eth)] = doc["positions"].items()
    assert totals["realized_pnl"] == result.to_dict()["realized_pnl"]
    assert D(totals["net_pnl"]) == D(totals["realized_pnl"]) + D(eth["pnl"]["net"])


async def test_position_and_market_document_shape(make_rig):
    rig = await make_rig(market(), CONFIG)
    await rig.cycles_until(T0 + 10 * H)
    doc = rig.state.snapshot().to_dict()
    eth = rig.strategy.positions.for_symbol(ETH)
    p = doc["positions"][eth.id]
    assert set(p) >= {
        "symbol",
        "long",
        "short",
        "qty",
        "notional",
        "opened_at",
        "entry_spread_apr",
        "spread_apr",
        "erosion",
        "divergence_bps",
        "funding_collected",
        "fees",
        "pnl",
        "next_funding",
        "risk",
    }
    assert p["long"] == {
        "venue": "binance",
        "entry_price": "2000.2000",
        "mark": "1990",
        "pnl": "-51.00",
        "funding": "-1.00",  # 5 * (1990 - 2000.2); -5 * 2000 * 0.0001
        "last_funding": "2024-03-01T08:00:00.000Z",  # the venue's settlement, not the cycle
    }
    assert p["qty"] == "5.000" and p["opened_at"] == "2024-03-01T01:00:00.000Z"
    assert p["next_funding"] == {
        "binance": "2024-03-01T16:00:00.000Z",
        "bybit": "2024-03-01T16:00:00.000Z",
    }
    assert p["entry_spread_apr"] == "0.5475" and p["erosion"] == "0.0000"
    assert p["risk"] == {"level": "ok", "reasons": []}
    m = doc["markets"][ETH]
    assert m["bybit"] == {
        "rate": "0.0006",
        "apr": "0.6570",
        "interval_h": 8,
        "next_funding_time": "2024-03-01T16:00:00.000Z",
        "mark": "1990",
    }
    assert m["best"]["long"] == "binance" and m["best"]["short"] == "bybit"
    assert doc["clock"] == "2024-03-01T10:00:00.000Z"


async def test_run_reports_start_stop_and_survives_a_failing_cycle(make_rig):
    feed = HandFeed(T0, venues=("binance", "bybit"), symbols=(BTC, ETH))
    feed.set_marks(BTC, T0, "30000")  # ETH has no marks yet: its cycles raise
    for venue in ("binance", "bybit"):
        feed.settle_every(venue, BTC, "0.0001", T0, T0 + 240 * H)
        feed.settle_every(venue, ETH, "0.0001", T0, T0 + 240 * H)
    rig = await make_rig(feed, CONFIG.replace(max_cycle_errors=10))
    sub = rig.bus.subscribe("t", kinds=("notice",))
    stop = asyncio.Event()
    reason = await rig.strategy.run(stop, until=T0 + 3 * H)
    assert reason == "until" and rig.strategy.cycle_errors == 4
    doc = rig.state.snapshot().doc
    [error] = [a for a in doc["alerts"].values() if a["code"] == "cycle_error"]
    assert "no mark for binance ETH/USDT" in error["message"]
    assert doc["status"] == "stopped"
    kinds = [n.kind for n in drain(sub)]
    assert kinds[0] == "strategy_started" and kinds[-1] == "strategy_stopped"

    feed.set_marks(ETH, T0, "2000")
    rig.clock.advance(3600)
    await rig.strategy.run(stop, until=T0 + 5 * H)
    assert rig.strategy.cycle_errors == 4
    doc = rig.state.snapshot().doc
    assert not [a for a in doc["alerts"].values() if a["code"] == "cycle_error"]
    await rig.store.flush()
    assert await rig.store.runtime_clock("test-arb") == T0 + 5 * H


async def test_repeated_cycle_errors_fail_the_strategy(make_rig):
    feed = HandFeed(T0, venues=("binance", "bybit"), symbols=(BTC, ETH))
    feed.set_marks(BTC, T0, "30000")  # ETH has no marks: every cycle raises
    for venue in ("binance", "bybit"):
        feed.settle_every(venue, BTC, "0.0001", T0, T0 + 240 * H)
        feed.settle_every(venue, ETH, "0.0001", T0, T0 + 240 * H)
    rig = await make_rig(feed, CONFIG.replace(max_cycle_errors=3))
    sub = rig.bus.subscribe("t", kinds=("notice",))
    reason = await rig.strategy.run(asyncio.Event(), until=T0 + 24 * H)
    assert reason == "failed" and rig.strategy.cycle_errors == 3
    doc = rig.state.snapshot().doc
    assert doc["status"] == "failed"
    [failed] = [a for a in doc["alerts"].values() if a["code"] == "strategy_failed"]
    assert failed["level"] == "critical"
    notices = drain(sub)
    assert ("alert", "strategy_failed") in [(n.kind, n.data.get("code")) for n in notices]
    assert notices[-1].kind == "strategy_stopped" and notices[-1].data["reason"] == "failed"


async def test_run_stops_when_asked(make_rig):
    rig = await make_rig(market(), CONFIG)
    stop = asyncio.Event()

    sub = rig.bus.subscribe("stopper", kinds=("change",))

    async def stopper():
        async for change in sub:
            if change.reason == "cycle" and rig.strategy.cycles >= 3:
                stop.set()
                return

    task = asyncio.create_task(stopper())
    assert await rig.strategy.run(stop) == "stopped"
    await task
    assert 3 <= rig.strategy.cycles <= 4


async def test_a_real_time_sleep_is_cut_short_by_stop(make_rig):
    rig = await make_rig(market(), CONFIG)
    clock = ScaledClock(T0, speed=1.0)  # one cycle = an hour of wall time
    rig.strategy.clock = clock
    stop = asyncio.Event()
    sub = rig.bus.subscribe("stopper", kinds=("change",))

    async def stopper():
        await sub.get()
        stop.set()

    task = asyncio.create_task(stopper())
    started = time.monotonic()
    assert await asyncio.wait_for(rig.strategy.run(stop), timeout=10) == "stopped"
    await task
    assert time.monotonic() - started < 5 and rig.strategy.cycles == 1
