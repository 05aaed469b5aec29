"""Hand-built markets shared by a test and the processes it starts."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from tests.strategy.conftest import T0, TEST_CONFIG
from tests.strategy.handfeed import HandFeed

H = timedelta(hours=1)
CRASH_CONFIG = TEST_CONFIG.replace(symbols=("BTC/USDT", "ETH/USDT"), min_hold_hours=10_000)


def crash_market() -> HandFeed:
    """Two symbols with wide, steady spreads and drifting marks, for days on end."""
    feed = HandFeed(T0, venues=("binance", "bybit"), symbols=("BTC/USDT", "ETH/USDT"), days=30)
    for i in range(30 * 24):
        feed.set_marks("BTC/USDT", T0 + i * H, Decimal(30000 + 7 * i))
        feed.set_marks("ETH/USDT", T0 + i * H, Decimal(2000) + Decimal(i) / 4)
    for symbol, rich in (("BTC/USDT", "0.0004"), ("ETH/USDT", "0.0006")):
        feed.settle_every("binance", symbol, "0.0001", T0, feed.end)
        feed.settle_every("bybit", symbol, rich, T0, feed.end)
    return feed
