"""SyntheticFeed: seeded, order-independent, hourly venues, spreads that open and close."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from strategy.feeds import LIVELY_MIN_SPREAD, SyntheticFeed, widest_pair

H = timedelta(hours=1)
T0 = datetime(2024, 1, 1, tzinfo=UTC)


def sample_times(days: int, step: timedelta = timedelta(minutes=47)) -> list[datetime]:
    return [T0 + step * i for i in range(int(timedelta(days=days) / step))]


def fingerprint(feed: SyntheticFeed, times: list[datetime]) -> dict:
    return {
        (v, s, t): (feed.mark(v, s, t), feed.current_rate(v, s, t))
        for t in times
        for v in feed.venues
        for s in feed.symbols
    }


def test_same_seed_same_market_whatever_the_question_order():
    times = sample_times(days=12)
    forward = fingerprint(SyntheticFeed(seed=42), times)
    backward_feed = SyntheticFeed(seed=42)
    backward = {k: forward[k] for k in reversed(list(forward))}  # same keys, reversed order
    for (v, s, t), expected in backward.items():
        assert (backward_feed.mark(v, s, t), backward_feed.current_rate(v, s, t)) == expected


def test_evicted_days_come_back_identical():
    feed = SyntheticFeed(seed=3)
    early = T0 + timedelta(hours=5, minutes=13)
    first = (feed.mark("okx", "ETH/USDT", early), feed.current_rate("okx", "ETH/USDT", early))
    feed.mark("okx", "ETH/USDT", T0 + timedelta(days=40))  # pushes day 0 out of the cache
    assert len(feed._chunks) <= 8  # bounded memory: only a few days of arrays are kept
    again = (feed.mark("okx", "ETH/USDT", early), feed.current_rate("okx", "ETH/USDT", early))
    assert again == first


def test_different_seeds_differ():
    times = sample_times(days=2)
    a, b = fingerprint(SyntheticFeed(seed=1), times), fingerprint(SyntheticFeed(seed=2), times)
    differing = sum(a[k] != b[k] for k in a)
    assert differing > 0.9 * len(a)


def test_hyperliquid_settles_hourly_and_the_others_every_8h():
    feed = SyntheticFeed(seed=0)
    day = (T0 + timedelta(days=2), T0 + timedelta(days=3))
    hourly = feed.settlements("hyperliquid", "BTC/USDT", *day)
    assert feed.interval_h("hyperliquid", "BTC/USDT") == 1
    assert [e.funding_time for e in hourly] == [day[0] + H * i for i in range(1, 25)]
    eight = feed.settlements("binance", "BTC/USDT", *day)
    assert feed.interval_h("binance", "BTC/USDT") == 8
    assert [e.funding_time.hour for e in eight] == [8, 16, 0]
    assert feed.next_funding_time("hyperliquid", "ETH/USDT", day[0] + 10 * H) == day[0] + 11 * H
    assert feed.next_funding_time("bybit", "ETH/USDT", day[0] + 10 * H) == day[0] + 16 * H


def test_hourly_rates_are_an_eighth_of_the_8h_scale():
    feed = SyntheticFeed(seed=0)
    events = feed.settlements("hyperliquid", "ETH/USDT", T0, T0 + timedelta(days=20))
    eight = feed.settlements("okx", "ETH/USDT", T0, T0 + timedelta(days=20))
    mean_1h = sum(abs(e.rate) for e in events) / len(events)
    mean_8h = sum(abs(e.rate) for e in eight) / len(eight)
    assert 3 < mean_8h / mean_1h < 20


def test_interval_overrides_by_venue_and_by_pair():
    overrides = {"okx": 4, ("okx", "ETH/USDT"): 2, ("binance", "BTC/USDT"): 1}
    feed = SyntheticFeed(seed=0, intervals=overrides)
    assert feed.interval_h("okx", "BTC/USDT") == 4
    assert feed.interval_h("okx", "ETH/USDT") == 2
    assert feed.interval_h("binance", "BTC/USDT") == 1
    assert feed.interval_h("binance", "ETH/USDT") == 8
    assert feed.interval_h("hyperliquid", "ETH/USDT") == 1
    got = feed.settlements("okx", "BTC/USDT", T0, T0 + 12 * H)
    assert [e.funding_time.hour for e in got] == [4, 8, 12]
    with pytest.raises(ValueError, match="whole hours"):
        SyntheticFeed(intervals={"okx": 0})


def test_current_rate_is_the_last_settlement_and_never_a_later_one():
    feed = SyntheticFeed(seed=5)
    for venue in ("binance", "hyperliquid"):
        events = feed.settlements(venue, "BTC/USDT", T0, T0 + timedelta(days=3))
        for prev, e in itertools.pairwise(events):
            assert feed.current_rate(venue, "BTC/USDT", e.funding_time) == e.rate
            just_before = e.funding_time - timedelta(seconds=1)
            assert feed.current_rate(venue, "BTC/USDT", just_before) == prev.rate
    first = feed.settlements("binance", "BTC/USDT", T0 - H, T0)[0]
    assert first.funding_time == T0
    assert feed.current_rate("binance", "BTC/USDT", T0 - timedelta(days=2)) == first.rate


def test_spreads_open_and_close():
    feed = SyntheticFeed(seed=0)
    spreads = [widest_pair(feed, "BTC/USDT", t)[0] for t in sample_times(30, step=8 * H)]
    assert max(spreads) > LIVELY_MIN_SPREAD
    assert min(spreads) < Decimal("0.0001")
    wide = [s > LIVELY_MIN_SPREAD for s in spreads]
    assert sum(a != b for a, b in itertools.pairwise(wide)) >= 2  # opened and closed


def test_prices_share_a_common_factor_and_move():
    feed = SyntheticFeed(seed=9)
    times = sample_times(days=10, step=timedelta(hours=3))
    for t in times:
        marks = [feed.mark(v, "BTC/USDT", t) for v in feed.venues]
        assert max(marks) / min(marks) < Decimal("1.005")
    first, last = feed.mark("okx", "ETH/USDT", times[0]), feed.mark("okx", "ETH/USDT", times[-1])
    assert first != last
    assert feed.mark("okx", "BTC/USDT", T0) == Decimal("60000.0")
    assert feed.mark("okx", "ETH/USDT", T0) == Decimal("3000.00")


def test_marks_are_continuous_across_day_boundaries():
    feed = SyntheticFeed(seed=4)
    for day in range(1, 6):
        midnight = T0 + timedelta(days=day)
        before = feed.mark("bybit", "BTC/USDT", midnight - timedelta(milliseconds=1))
        after = feed.mark("bybit", "BTC/USDT", midnight)
        assert abs(before - after) <= Decimal("0.2")


def test_a_bounded_feed_clamps_at_its_end():
    end = T0 + timedelta(days=2, hours=5)
    feed = SyntheticFeed(seed=1, end=end)
    later = end + timedelta(days=9)
    assert feed.mark("okx", "BTC/USDT", later) == feed.mark("okx", "BTC/USDT", end)
    assert feed.current_rate("hyperliquid", "BTC/USDT", end + 7 * H) == feed.current_rate(
        "hyperliquid", "BTC/USDT", end)
    assert feed.settlements("binance", "BTC/USDT", end, end + timedelta(days=5)) == []
    assert feed.default_start() < end


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_default_start_shows_a_wide_spread_at_once(seed):
    feed = SyntheticFeed(seed=seed)
    start = feed.default_start()
    assert T0 <= start < T0 + timedelta(days=30)
    assert max(widest_pair(feed, s, start)[0] for s in feed.symbols) >= LIVELY_MIN_SPREAD
    assert SyntheticFeed(seed=seed).default_start() == start
