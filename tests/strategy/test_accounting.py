"""Funding accounting on a hand-built market: every figure recomputed by hand, to the cent."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from strategy.config import StrategyConfig
from tests.strategy.conftest import FEES, T0, TEST_CONFIG
from tests.strategy.handfeed import HandFeed

H = timedelta(hours=1)
SYM = "BTC/USDT"


def market() -> HandFeed:
    feed = HandFeed(T0, venues=("binance", "bybit"))
    feed.set_marks(SYM, T0, "50000")
    feed.set_marks(SYM, T0 + 12 * H, "52000")
    feed.set_marks(SYM, T0 + 20 * H, "51000")
    feed.settle_every("binance", SYM, "0.0001", T0, T0 + 40 * H)
    feed.settle_every("bybit", SYM, "0.0006", T0, T0 + 40 * H)
    return feed


async def test_funding_fees_and_pnl_to_the_cent(make_rig):
    rig = await make_rig(market())
    await rig.cycle()
    [position] = list(rig.strategy.positions)
    assert (position.long.venue, position.short.venue) == ("binance", "bybit")
    qty = D("10000") / D("50000")
    assert position.qty == qty == D("0.2")
    # fills at mark moved 1 bp against us; fee = notional * taker fee
    long_in, short_in = D("50000") * D("1.0001"), D("50000") * D("0.9999")
    entry_fees = qty * long_in * FEES["binance"] + qty * short_in * FEES["bybit"]
    assert position.entry_fees == entry_fees
    # 0.0006 - 0.0001 per 8 h = 0.0005 * 1095 APR
    assert position.entry_spread_apr == D("0.5475")

    await rig.cycles_until(T0 + 29 * H)
    # settlements at +8 h (mark 50000), +16 h (52000), +24 h (51000); the one at T0 is
    # before we held anything
    marks = [D("50000"), D("52000"), D("51000")]
    long_paid = sum(-qty * m * D("0.0001") for m in marks)
    short_paid = sum(qty * m * D("0.0006") for m in marks)
    assert (long_paid, short_paid) == (D("-3.06"), D("18.36"))
    assert position.long.funding == long_paid and position.short.funding == short_paid

    await rig.store.flush()
    rows = await rig.store.funding_payments(position_id=position.id)
    assert len(rows) == 6
    assert sum(r.amount for r in rows) == D("15.30")
    assert {(r.venue, r.side, r.amount) for r in rows if r.mark == D("52000")} == {
        ("binance", 1, D("-1.04")),
        ("bybit", -1, D("6.24")),
    }

    doc = rig.state.snapshot().doc["positions"][position.id]
    # open PnL at marks 51000: long 0.2*(51000-50005), short -0.2*(51000-49995)
    assert doc["pnl"] == {"legs": "-2.00", "funding": "15.30", "fees": "10.50", "net": "2.80"}
    assert doc["long"]["funding"] == "-3.06" and doc["short"]["funding"] == "18.36"

    await rig.cycle(1)
    result = await rig.strategy.close_position(position.id, "operator")
    long_out, short_out = D("51000") * D("0.9999"), D("51000") * D("1.0001")
    exit_fees = qty * long_out * FEES["binance"] + qty * short_out * FEES["bybit"]
    legs = qty * (long_out - long_in) - qty * (short_out - short_in)
    realized = legs + (long_paid + short_paid) - entry_fees - exit_fees
    assert legs == D("-4.04")
    assert realized == D("-9.950001")
    assert result.realized_pnl == realized and result.fees == entry_fees + exit_fees
    assert result.to_dict()["realized_pnl"] == "-9.95"

    await rig.store.flush()
    row = await rig.store.position(position.id)
    assert row is not None and row.realized_pnl == realized and row.close_reason == "operator"
    assert row.exit_fees == exit_fees
    totals = rig.state.snapshot().doc["totals"]
    assert totals["realized_pnl"] == "-9.95" and totals["open_positions"] == 0
    assert totals["net_pnl"] == "-9.95"


async def test_funding_is_booked_once_per_settlement_even_if_cycles_repeat(make_rig):
    rig = await make_rig(market())
    await rig.cycle()
    # many cycles inside one interval, and the same instant twice
    for _ in range(5):
        await rig.cycle(2)
    await rig.cycle(0)
    [position] = list(rig.strategy.positions)
    assert len(position.payments) == 2  # one settlement at +8 h on each leg
    await rig.store.flush()
    assert len(await rig.store.funding_payments(position_id=position.id)) == 2


async def test_hourly_venue_is_normalised_and_paid_every_hour(make_rig):
    feed = HandFeed(T0, venues=("binance", "hyper"), intervals={"hyper": 1})
    feed.set_marks(SYM, T0, "40000")
    feed.settle_every("binance", SYM, "0.0001", T0, T0 + 48 * H)
    # 0.00005 an hour is 0.0004 per 8 h: 43.8 % APR against binance's 10.95 %
    feed.settle_every("hyper", SYM, "0.00005", T0, T0 + 48 * H)
    config = TEST_CONFIG.replace(venues=("binance", "hyper"))
    rig = await make_rig(feed, config)
    await rig.cycle()
    [position] = list(rig.strategy.positions)
    assert (position.long.venue, position.short.venue) == ("binance", "hyper")
    assert position.entry_spread_apr == D("0.00005") * 8760 - D("0.0001") * 1095
    market_doc = rig.state.snapshot().doc["markets"][SYM]
    assert market_doc["hyper"]["interval_h"] == 1 and market_doc["hyper"]["apr"] == "0.4380"
    assert market_doc["best"] == {
        "long": "binance",
        "short": "hyper",
        "spread_apr": "0.3285",
        "days_to_break_even": "2.2",  # four fills at 0.0005: 0.002 / 0.3285 * 365
    }
    await rig.cycles_until(T0 + 8 * H)
    qty = position.qty
    assert position.short.funding == 8 * qty * D("40000") * D("0.00005")
    assert position.long.funding == -qty * D("40000") * D("0.0001")


async def test_interval_override_changes_the_apr_and_the_decision(make_rig):
    feed = HandFeed(T0, venues=("binance", "hyper"), intervals={"hyper": 1})
    feed.set_marks(SYM, T0, "40000")
    feed.settle_every("binance", SYM, "0.0001", T0, T0 + 48 * H)
    feed.settle_every("hyper", SYM, "0.00012", T0, T0 + 48 * H)
    # the venue reports 1 h; an operator says this symbol settles every 8 h there, which
    # makes 0.00012 only 13 % APR: not worth entering
    config = TEST_CONFIG.replace(
        venues=("binance", "hyper"), interval_overrides={("hyper", SYM): 8}
    )
    rig = await make_rig(feed, config)
    await rig.cycle()
    assert len(rig.strategy.positions) == 0
    assert rig.state.snapshot().doc["markets"][SYM]["hyper"]["apr"] == "0.1314"


async def test_signal_averages_the_settlements_of_the_window(make_rig):
    feed = HandFeed(T0, venues=("binance", "bybit"))
    feed.set_marks(SYM, T0, "40000")
    feed.settle_every("binance", SYM, "0.0001", T0 - 48 * H, T0 + 48 * H)
    feed.settle_every("bybit", SYM, "0.0001", T0 - 48 * H, T0 - 8 * H)
    feed.settle("bybit", SYM, T0, "0.0007")  # one wide settlement after five flat ones
    config: StrategyConfig = TEST_CONFIG.replace(signal_window_hours=48)
    rig = await make_rig(feed, config)
    await rig.cycle()
    doc = rig.state.snapshot().doc["markets"][SYM]
    # settlements in (T0-48h, T0]: -40,-32,-24,-16,-8 h at 0.0001 and T0 at 0.0007
    mean = (5 * D("0.0001") + D("0.0007")) / 6
    assert doc["bybit"]["apr"] == "0.7665"
    assert doc["bybit"]["signal_apr"] == str((mean * 1095).quantize(D("0.0001")))
    # averaged spread 0.1095 beats 0.0848 (break-even 0.0548 + margin 0.03): enter
    assert len(rig.strategy.positions) == 1
    assert rig.strategy.positions.for_symbol(SYM).entry_spread_apr == mean * 1095 - D("0.1095")
