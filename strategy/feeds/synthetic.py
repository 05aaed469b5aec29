"""A seeded make-believe market for venues and periods no recording covers.

Recorded data has three 8 h venues; the strategy must also cope with hourly venues
(Hyperliquid), odd per-symbol intervals and markets we never recorded. This feed makes
them up, deterministically from ``seed``:

* **Prices**: one geometric Brownian motion per symbol (the common factor every venue
  follows) times ``1 + basis``, where each venue's basis is a fast Ornstein-Uhlenbeck
  process of a few basis points. Sampled every 5 minutes, linear in between.
* **Funding**: per (venue, symbol) an hourly Ornstein-Uhlenbeck process, in per-8 h
  units, around a venue/symbol mean. Now and then a *regime* pushes one venue's mean up
  or down by 3-9 bp per 8 h for half a day to three days, so cross-venue spreads open
  and close the way they do in real data. A venue settling every ``h`` hours pays the
  process value at the settlement hour times ``h / 8``.

Evaluation at any instant must not depend on the order of questions, yet both processes
are path-dependent. So market time is cut into one-day chunks on a grid starting at the
UTC midnight on or before ``start``; chunk ``k`` is drawn from its own RNG (seeded with
``seed`` and ``k``) starting from the state chunk ``k - 1`` ended in. Chunks are made on
demand, only the last few are kept, and only the small end state of each day is
remembered, so an open-ended run costs a few floats per market day.
"""

from __future__ import annotations

import math
import random
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from strategy.feeds.base import FundingEvent, MarketFeed
from strategy.feeds.lively import find_lively_start

__all__ = ["DEFAULT_INTERVALS", "OPEN_ENDED_SPAN", "SyntheticFeed"]

#: Settlement hours of venues that do not settle every 8 h.
DEFAULT_INTERVALS: Mapping[str, int] = {"hyperliquid": 1}
#: Span of a feed built without ``end``: long enough to be unbounded for any run.
OPEN_ENDED_SPAN = timedelta(days=3650)

_CHUNK_S = 86_400
_PRICE_STEP_S = 300
_STEPS = _CHUNK_S // _PRICE_STEP_S
_HOURS = _CHUNK_S // 3600
#: Chunks kept in memory: a run reads around "now", a funding history a little behind it.
_CACHED_CHUNKS = 8
#: How far a demo start is looked for.
_LIVELY_HORIZON = timedelta(days=30)

_START_PRICE = {"BTC": 60_000.0, "ETH": 3_000.0, "SOL": 150.0}
_VOLATILITY = {"BTC": 0.55, "ETH": 0.70}  # annualised
_BASIS_SD = 3e-4  # 3 bp stationary spread of a venue's price around the common factor
_BASIS_TAU_S = 2 * 3600
_FUNDING_MEAN = 1e-4  # per 8 h: the 0.01 % most venues sit at when nothing happens
_VENUE_BIAS = 4e-5  # per 8 h: venues differ a little even in calm markets
_FUNDING_TAU_H = 12.0
_FUNDING_NOISE = 2.5e-5  # per 8 h, per hourly step
_REGIME_PER_HOUR = 1 / 36  # per symbol: a new regime every 1.5 days on average
_REGIME_SIZE = (3e-4, 9e-4)
_REGIME_HOURS = (12, 72)
_YEAR_S = 365 * 86_400
_ZERO_RATE = Decimal("0.00000000")


@dataclass(frozen=True, slots=True)
class _Regime:
    symbol: str
    venue: str
    offset: float
    hours_left: int


@dataclass(frozen=True, slots=True)
class _State:
    """Where a chunk starts: everything the next day's draws depend on."""

    log_price: dict[str, float]
    basis: dict[tuple[str, str], float]
    funding: dict[tuple[str, str], float]
    regimes: tuple[_Regime, ...]


@dataclass(frozen=True, slots=True)
class _Chunk:
    prices: dict[tuple[str, str], list[float]]  # _STEPS + 1 points, the last = next start
    rates: dict[tuple[str, str], list[Decimal]]  # per-interval rate at each hour


class SyntheticFeed(MarketFeed):
    """A deterministic synthetic :class:`MarketFeed` (see the module docstring).

    Args:
        seed: the same seed and arguments give the same market, in any process.
        venues: venue names. Defaults to binance, bybit, okx and hyperliquid.
        symbols: ``BASE/QUOTE`` names; BTC and ETH get realistic prices and volatility,
            other bases start at 100.
        start: first instant of the market. Defaults to 2024-01-01 00:00 UTC.
        end: last instant; later questions are answered as at ``end``. Defaults to
            ``None``: open-ended (``start + OPEN_ENDED_SPAN``).
        intervals: settlement hours by venue or by ``(venue, symbol)``, the latter
            winning; otherwise ``DEFAULT_INTERVALS`` and then 8.
    """

    def __init__(
        self,
        seed: int = 0,
        venues: tuple[str, ...] = ("binance", "bybit", "okx", "hyperliquid"),
        symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT"),
        start: datetime = datetime(2024, 1, 1, tzinfo=UTC),
        end: datetime | None = None,
        intervals: Mapping[str | tuple[str, str], int] | None = None,
    ) -> None:
        if start.tzinfo is None or (end is not None and end.tzinfo is None):
            raise ValueError("start and end must be timezone-aware")
        if not venues or not symbols:
            raise ValueError("a feed needs at least one venue and one symbol")
        self.seed = seed
        self.venues = tuple(venues)
        self.symbols = tuple(symbols)
        self.start = start.astimezone(UTC)
        self.end = (end.astimezone(UTC) if end is not None else self.start + OPEN_ENDED_SPAN)
        if self.end <= self.start:
            raise ValueError("end must be after start")
        self._keys = [(v, s) for s in self.symbols for v in self.venues]
        overrides = dict(intervals or {})
        self._interval = {
            (v, s): overrides.get((v, s), overrides.get(v, DEFAULT_INTERVALS.get(v, 8)))
            for v, s in self._keys
        }
        if any(not isinstance(h, int) or h <= 0 for h in self._interval.values()):
            raise ValueError("funding intervals must be positive whole hours")
        self._origin = int(self.start.timestamp()) // _CHUNK_S * _CHUNK_S
        self._end_x = self.end.timestamp() - self._origin
        bases = {s: s.split("/")[0] for s in self.symbols}
        self._fmt = {
            s: f"%.{max(0, 5 - int(math.log10(_START_PRICE.get(b, 100.0))))}f"
            for s, b in bases.items()
        }
        self._vol = {s: _VOLATILITY.get(b, 0.9) for s, b in bases.items()}
        setup = random.Random(f"dash-synthetic:{seed}:setup")
        self._mean = {
            key: _FUNDING_MEAN + setup.uniform(-_VENUE_BIAS, _VENUE_BIAS) for key in self._keys
        }
        self._states: list[_State] = [
            _State(
                log_price={s: math.log(_START_PRICE.get(b, 100.0)) for s, b in bases.items()},
                basis=dict.fromkeys(self._keys, 0.0),
                funding=dict(self._mean),
                regimes=(),
            )
        ]
        self._chunks: OrderedDict[int, _Chunk] = OrderedDict()
        self._default_start: datetime | None = None

    # -- generation ----------------------------------------------------------------------

    def _chunk(self, k: int) -> _Chunk:
        chunk = self._chunks.get(k)
        if chunk is not None:
            self._chunks.move_to_end(k)
            return chunk
        while len(self._states) <= k:
            self._generate(len(self._states) - 1)
        chunk = self._generate(k)
        return chunk

    def _generate(self, k: int) -> _Chunk:
        state = self._states[k]
        rng = random.Random(f"dash-synthetic:{self.seed}:chunk:{k}")
        gauss = rng.gauss
        dt = _PRICE_STEP_S / _YEAR_S
        keep = math.exp(-_PRICE_STEP_S / _BASIS_TAU_S)
        basis_kick = _BASIS_SD * math.sqrt(1 - keep * keep)
        log_price = dict(state.log_price)
        basis = dict(state.basis)
        prices: dict[tuple[str, str], list[float]] = {key: [] for key in self._keys}
        for step in range(_STEPS + 1):
            for v, s in self._keys:
                prices[(v, s)].append(math.exp(log_price[s]) * (1 + basis[(v, s)]))
            if step == _STEPS:
                break  # this point is also the next chunk's first: its state carries over
            for s in self.symbols:
                vol = self._vol[s]
                log_price[s] += -0.5 * vol * vol * dt + vol * math.sqrt(dt) * gauss()
            for key in self._keys:
                basis[key] = basis[key] * keep + basis_kick * gauss()

        pull = 1 - math.exp(-1 / _FUNDING_TAU_H)
        funding = dict(state.funding)
        regimes = list(state.regimes)
        rates: dict[tuple[str, str], list[Decimal]] = {key: [] for key in self._keys}
        for _ in range(_HOURS):
            offsets = dict.fromkeys(self._keys, 0.0)
            for r in regimes:
                offsets[(r.venue, r.symbol)] += r.offset
            for key in self._keys:
                per_interval = funding[key] * self._interval[key] / 8
                rate = Decimal(f"{per_interval:.8f}")
                rates[key].append(rate if rate else _ZERO_RATE)  # never "-0E-8"
            for key in self._keys:
                target = self._mean[key] + offsets[key]
                funding[key] += pull * (target - funding[key]) + _FUNDING_NOISE * gauss()
            regimes = [
                _Regime(r.symbol, r.venue, r.offset, r.hours_left - 1)
                for r in regimes if r.hours_left > 1
            ]
            for s in self.symbols:
                if rng.random() < _REGIME_PER_HOUR:
                    size = rng.uniform(*_REGIME_SIZE) * rng.choice((-1, 1))
                    regimes.append(
                        _Regime(s, rng.choice(self.venues), size, rng.randint(*_REGIME_HOURS))
                    )

        chunk = _Chunk(prices, rates)
        if len(self._states) == k + 1:
            self._states.append(_State(log_price, basis, funding, tuple(regimes)))
        self._chunks[k] = chunk
        self._chunks.move_to_end(k)
        while len(self._chunks) > _CACHED_CHUNKS:
            self._chunks.popitem(last=False)
        return chunk

    # -- questions -----------------------------------------------------------------------

    def _offset(self, t: datetime) -> float:
        """Seconds since the chunk grid's origin, clamped to the covered span."""
        if t.tzinfo is None:
            raise ValueError("market time must be timezone-aware")
        x = t.timestamp() - self._origin
        return 0.0 if x < 0 else min(x, self._end_x)

    def _check(self, venue: str, symbol: str) -> int:
        interval = self._interval.get((venue, symbol))
        if interval is None:
            raise KeyError(f"synthetic feed has no {venue} {symbol}")
        return interval

    def _settlement_bounds(self, interval: int) -> tuple[int, int]:
        """First and last settlement (epoch seconds) inside the covered span."""
        step = interval * 3600
        first = -(-self._origin // step) * step
        last = (self._origin + int(self._end_x)) // step * step
        return first, max(first, last)

    def _rate_at(self, venue: str, symbol: str, when: int) -> Decimal:
        x = when - self._origin
        chunk = self._chunk(x // _CHUNK_S)
        return chunk.rates[(venue, symbol)][(x % _CHUNK_S) // 3600]

    def default_start(self) -> datetime:
        if self._default_start is None:
            self._default_start = find_lively_start(self, horizon=_LIVELY_HORIZON)
        return self._default_start

    def interval_h(self, venue: str, symbol: str) -> int:
        return self._check(venue, symbol)

    def mark(self, venue: str, symbol: str, t: datetime) -> Decimal:
        self._check(venue, symbol)
        x = self._offset(t)
        k = int(x // _CHUNK_S)
        points = self._chunk(k).prices[(venue, symbol)]
        within = (x - k * _CHUNK_S) / _PRICE_STEP_S
        j = min(int(within), _STEPS - 1)
        p0 = points[j]
        return Decimal(self._fmt[symbol] % (p0 + (points[j + 1] - p0) * (within - j)))

    def current_rate(self, venue: str, symbol: str, t: datetime) -> Decimal:
        step = self._check(venue, symbol) * 3600
        first, last = self._settlement_bounds(step // 3600)
        when = int(t.timestamp() // step) * step
        return self._rate_at(venue, symbol, min(max(when, first), last))

    def next_funding_time(self, venue: str, symbol: str, t: datetime) -> datetime:
        step = self._check(venue, symbol) * 3600
        first, _ = self._settlement_bounds(step // 3600)
        when = max(int(t.timestamp() // step) * step + step, first)
        return datetime.fromtimestamp(when, UTC)

    def settlements(
        self, venue: str, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        step = self._check(venue, symbol) * 3600
        first, last = self._settlement_bounds(step // 3600)
        lo = max(int(after.timestamp() // step) * step + step, first)
        hi = min(int(until.timestamp() // step) * step, last)
        events = []
        for when in range(lo, hi + 1, step):
            at = datetime.fromtimestamp(when, UTC)
            events.append(FundingEvent(venue, symbol, at, self._rate_at(venue, symbol, when),
                                       self.mark(venue, symbol, at)))
        return events
