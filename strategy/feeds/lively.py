"""Where a demo should start so something happens in its first wall-clock seconds.

At ``--speed 3600`` eight market hours pass in eight wall seconds. Starting at an
arbitrary moment, the strategy may sit idle for minutes because cross-venue spreads are
usually a fraction of the round-trip fees. So a feed picks its demo start from its own
data: the first moment where one pair of venues has disagreed on a symbol's funding by at
least ``min_spread`` (per 8 h) for ``sustain`` settlements in a row, always in the same
direction. The start lies ``lead`` before the second of those settlements: the strategy
sees the (already settled) wide spread at once, opens, and collects the next wide
settlement ``lead`` later, then ``sustain - 2`` more. If no such run exists, the run with
the widest smallest spread is used instead, so the answer is always defined and always
computed from data alone.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from strategy.feeds.base import MarketFeed

__all__ = ["LIVELY_MIN_SPREAD", "find_lively_start", "widest_pair"]

#: Per-8 h spread that makes a demo lively: 0.0003 per 8 h is about 33 % APR, several
#: times the default entry threshold, and sustained it pays the fees within days.
LIVELY_MIN_SPREAD = Decimal("0.0003")


def widest_pair(
    feed: MarketFeed, symbol: str, t: datetime
) -> tuple[Decimal, str, str]:
    """``(spread, long_venue, short_venue)`` of the venues furthest apart at ``t``.

    Rates are compared per 8 h (``rate * 8 / interval_h``) so hourly venues mix with 8 h
    ones; the long leg is where funding is lowest.
    """
    per_8h = {
        venue: feed.current_rate(venue, symbol, t) * 8 / feed.interval_h(venue, symbol)
        for venue in feed.venues
    }
    low = min(per_8h, key=lambda v: (per_8h[v], v))
    high = max(per_8h, key=lambda v: (per_8h[v], v))
    return per_8h[high] - per_8h[low], low, high


def find_lively_start(
    feed: MarketFeed,
    *,
    min_spread: Decimal = LIVELY_MIN_SPREAD,
    sustain: int = 3,
    lead: timedelta = timedelta(hours=1),
    horizon: timedelta | None = None,
) -> datetime:
    """The demo start described in the module docstring.

    Args:
        feed: the data to scan, from ``feed.start``.
        min_spread: per-8 h spread a run must reach at every settlement.
            Defaults to ``LIVELY_MIN_SPREAD``.
        sustain: settlements in a row. Defaults to 3.
        lead: how long before the second settlement of the run to start. Defaults to 1 h.
        horizon: how far past ``feed.start`` to look. Defaults to ``None``: to ``feed.end``.
    """
    if sustain < 2:
        raise ValueError("sustain must be at least 2: the start lies before the second")
    step_s = 3600 * max(feed.interval_h(v, s) for v in feed.venues for s in feed.symbols)
    last = feed.end if horizon is None else min(feed.end, feed.start + horizon)
    first_s = math.ceil(feed.start.timestamp() / step_s) * step_s
    times = [
        datetime.fromtimestamp(x, UTC) for x in range(first_s, int(last.timestamp()) + 1, step_s)
    ]
    if len(times) < sustain:
        return feed.start
    best: tuple[Decimal, int] | None = None
    for symbol in feed.symbols:
        pairs = [widest_pair(feed, symbol, t) for t in times]
        for k in range(len(times) - sustain + 1):
            run = pairs[k : k + sustain]
            if any(p[1:] != run[0][1:] for p in run):
                continue
            weakest = min(p[0] for p in run)
            if weakest >= min_spread:
                # Earliest qualifying run over all symbols wins; later symbols can only
                # beat it by being earlier.
                if best is None or best[0] < min_spread or k < best[1]:
                    best = (weakest, k)
                break
            if best is None or (best[0] < min_spread and weakest > best[0]):
                best = (weakest, k)
    if best is None:
        return feed.start
    return max(feed.start, times[best[1] + 1] - lead)
