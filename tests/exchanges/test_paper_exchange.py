"""PaperExchange on the recorded feed: fills, fees, idempotency, positions, trouble."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

import strategy.exchanges as exchanges
from strategy.clock import ManualClock
from strategy.exchanges import (
    DEFAULT_TAKER_FEES,
    Exchange,
    ExchangeError,
    Fill,
    PaperExchange,
    Side,
)
from strategy.feeds import SyntheticFeed

T0 = datetime(2023, 1, 1, tzinfo=UTC)  # binance BTC candle opens at 16537.5, ETH at 1196.1
H = timedelta(hours=1)


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(T0)


@pytest.fixture
def binance(feed, clock) -> PaperExchange:
    return PaperExchange("binance", feed, clock)


def test_exports():
    assert sorted(exchanges.__all__) == sorted(
        ["DEFAULT_TAKER_FEES", "Exchange", "ExchangeError", "Fill", "FundingInfo",
         "PaperExchange", "Side"])
    assert isinstance(PaperExchange("okx", SyntheticFeed(), ManualClock(T0)), Exchange)


def test_side_is_the_sign_in_funding_maths():
    assert Side.LONG * Decimal("2") == Decimal("2")
    assert -Side.SHORT * Decimal("0.1") * Decimal("100") * Decimal("0.0001") == Decimal("0.0010")
    assert Side.LONG.opposite is Side.SHORT and Side.SHORT.opposite is Side.LONG


def test_default_fees_per_venue(feed, clock):
    assert {v: PaperExchange(v, feed, clock).taker_fee for v in feed.venues} == {
        "binance": Decimal("0.0005"), "bybit": Decimal("0.00055"), "okx": Decimal("0.0005")}
    assert DEFAULT_TAKER_FEES["hyperliquid"] == Decimal("0.00035")
    cheap = PaperExchange("okx", feed, clock, taker_fee=Decimal("0.0002"))
    assert cheap.taker_fee == Decimal("0.0002")


async def test_buy_fills_above_mark_with_exact_fee(binance):
    fill = await binance.market_order("BTC/USDT", Side.LONG, Decimal("0.1"), "c-1")
    assert fill == Fill(
        order_id="binance-1", client_order_id="c-1", venue="binance", symbol="BTC/USDT",
        side=Side.LONG, qty=Decimal("0.1"), price=Decimal("16539.15375"),
        fee=Decimal("0.8269576875"), ts=T0,
    )
    assert fill.notional == Decimal("1653.915375")


async def test_sell_fills_below_mark(binance):
    fill = await binance.market_order("ETH/USDT", Side.SHORT, Decimal("2"), "c-2")
    assert fill.price == Decimal("1195.98039")  # 1196.1 * (1 - 0.0001)
    assert fill.fee == Decimal("1.19598039")  # 2 * 1195.98039 * 0.0005


async def test_slippage_is_configurable_and_can_be_zero(feed, clock):
    ex = PaperExchange("okx", feed, clock, taker_fee=Decimal("0.001"), slippage_bps=Decimal("0"))
    mark = await ex.mark_price("BTC/USDT")
    fill = await ex.market_order("BTC/USDT", Side.LONG, Decimal("1"), "z")
    assert fill.price == mark
    assert fill.fee == mark * Decimal("0.001")


async def test_client_order_id_fills_once(binance, clock):
    first = await binance.market_order("BTC/USDT", Side.LONG, Decimal("0.5"), "open-p1-long")
    clock.advance(3600)
    again = await binance.market_order("BTC/USDT", Side.LONG, Decimal("0.5"), "open-p1-long")
    assert again == first and again.ts == T0
    assert binance.position("BTC/USDT") == Decimal("0.5")
    assert binance.fills == [first]


async def test_reusing_a_client_order_id_for_another_order_is_refused(binance):
    await binance.market_order("BTC/USDT", Side.LONG, Decimal("0.5"), "x")
    with pytest.raises(ExchangeError, match="already used"):
        await binance.market_order("BTC/USDT", Side.SHORT, Decimal("0.5"), "x")
    assert binance.position("BTC/USDT") == Decimal("0.5")


async def test_positions_net_per_symbol(binance):
    await binance.market_order("BTC/USDT", Side.LONG, Decimal("0.3"), "a")
    await binance.market_order("BTC/USDT", Side.SHORT, Decimal("0.1"), "b")
    await binance.market_order("ETH/USDT", Side.SHORT, Decimal("4"), "c")
    assert binance.position("BTC/USDT") == Decimal("0.2")
    assert binance.position("ETH/USDT") == Decimal("-4")
    await binance.market_order("BTC/USDT", Side.SHORT, Decimal("0.2"), "d")
    assert binance.position("BTC/USDT") == 0
    assert [f.order_id for f in binance.fills] == [f"binance-{i}" for i in range(1, 5)]


async def test_injected_failures_do_not_fill_and_a_retry_fills_once(binance):
    binance.fail_next_orders(2)
    for _ in range(2):
        with pytest.raises(ExchangeError, match="simulated"):
            await binance.market_order("BTC/USDT", Side.LONG, Decimal("1"), "retry-me")
    assert binance.position("BTC/USDT") == 0 and binance.fills == []
    fill = await binance.market_order("BTC/USDT", Side.LONG, Decimal("1"), "retry-me")
    assert await binance.market_order("BTC/USDT", Side.LONG, Decimal("1"), "retry-me") == fill
    assert binance.position("BTC/USDT") == Decimal("1")


async def test_funding_info_comes_from_the_feed_at_clock_time(feed, clock):
    bybit = PaperExchange("bybit", feed, clock)
    clock.set(datetime(2023, 3, 4, 10, 30, tzinfo=UTC))
    info = await bybit.funding_info("ETH/USDT")
    now = clock.now()
    assert info.rate == feed.current_rate("bybit", "ETH/USDT", now)
    assert info.apr == info.rate * 1095
    assert info.interval_h == 8
    assert info.next_funding_time == datetime(2023, 3, 4, 16, tzinfo=UTC)
    assert info.mark == feed.mark("bybit", "ETH/USDT", now) == await bybit.mark_price("ETH/USDT")
    assert (info.venue, info.symbol, info.as_of) == ("bybit", "ETH/USDT", now)


async def test_hourly_venue_annualises_by_8760():
    feed = SyntheticFeed(seed=0)
    hl = PaperExchange("hyperliquid", feed, ManualClock(datetime(2024, 1, 3, 5, 30, tzinfo=UTC)))
    info = await hl.funding_info("BTC/USDT")
    assert info.interval_h == 1 and info.apr == info.rate * 8760
    assert info.next_funding_time == datetime(2024, 1, 3, 6, tzinfo=UTC)
    assert hl.taker_fee == Decimal("0.00035")


async def test_stale_data_freezes_as_of_and_values(binance, clock):
    clock.advance(2 * 3600)
    frozen_at = clock.now()
    binance.set_stale("BTC/USDT", True)
    before = await binance.funding_info("BTC/USDT")
    clock.advance(9 * 3600)  # past a settlement: fresh data would differ
    stale = await binance.funding_info("BTC/USDT")
    assert stale == before and stale.as_of == frozen_at
    assert await binance.mark_price("BTC/USDT") == before.mark
    live_mark = binance.feed.mark("binance", "BTC/USDT", clock.now())
    assert live_mark != before.mark
    fill = await binance.market_order("BTC/USDT", Side.SHORT, Decimal("1"), "during-stale")
    assert fill.price == live_mark * Decimal("0.9999")  # the matching engine still runs
    assert (await binance.funding_info("ETH/USDT")).as_of == clock.now()  # other symbols fresh
    binance.set_stale("BTC/USDT", False)
    assert (await binance.funding_info("BTC/USDT")).as_of == clock.now()


async def test_funding_history_is_this_venues_settlements(feed, binance):
    after, until = T0, T0 + 24 * H
    history = await binance.funding_history("ETH/USDT", after, until)
    assert history == feed.settlements("binance", "ETH/USDT", after, until)
    assert [e.funding_time.hour for e in history] == [8, 16, 0]
    assert {e.venue for e in history} == {"binance"}


async def test_bad_requests(feed, clock, binance):
    with pytest.raises(ValueError, match="no venue 'hyperliquid'"):
        PaperExchange("hyperliquid", feed, clock)
    with pytest.raises(ExchangeError, match="unknown symbol"):
        await binance.funding_info("DOGE/USDT")
    with pytest.raises(ExchangeError, match="unknown symbol"):
        await binance.market_order("DOGE/USDT", Side.LONG, Decimal("1"), "d")
    with pytest.raises(ValueError, match="positive"):
        await binance.market_order("BTC/USDT", Side.LONG, Decimal("0"), "zero")
    assert binance.fills == []
