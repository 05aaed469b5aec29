"""Real funding settlements and 8 h candles replayed as a :class:`MarketFeed`.

The packaged file holds Binance, Bybit and OKX BTC/ETH USDT perpetuals from 2023-01 to
2024-06 (see ``data/ATTRIBUTION.md``). Funding is exact: a rate is known from its
settlement on, never before. Prices only exist as 8 h OHLC candles, so a mark between
candle edges is a reconstruction.

**Reference path.** Per symbol one venue is the reference: Binance when present (its
windows ``[t, t+8h)`` start at settlements), else the first venue by name. Its mark is a
straight line through each candle's four prices in the order a candle of that colour most
plausibly traded them,

* up candle (``close >= open``): open -> low -> high -> close,
* down candle: open -> high -> low -> close,

at 0, 1/3, 2/3 and 1 of the candle's window. Windows are half-open ``[start, end)``; at
a window's end the next candle's open applies. Before the first and after the last candle
the mark is clamped to the first open and the last close.

**Other venues: reference times a basis.** Bybit/OKX windows are ``[t-4h, t+4h)``.
Interpolating each venue's candle on its own would put the two legs of a pair at
different points of two differently timed paths, an artificial gap of 1-2 % in a volatile
candle that the strategy would read as divergence. So a non-reference venue's mark is
``reference(t) * (1 + basis(t))``, where the basis is sampled where the venue's price is
known exactly (its candles' opens and closes: ``price / reference - 1`` at the window
edges; the two samples at a shared edge are averaged), clamped to ``MAX_BASIS`` (the
reference itself is only a reconstruction there) and linear in between. When the sample
is within the clamp the mark equals the venue's own open or close exactly.

Interpolated marks are rounded to the series' own price precision.
"""

from __future__ import annotations

import csv
import functools
import math
from bisect import bisect_right
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from importlib import resources
from pathlib import Path

from strategy.feeds.base import FundingEvent, MarketFeed
from strategy.feeds.lively import find_lively_start

__all__ = ["DEFAULT_DATA_FILE", "MAX_BASIS", "RecordedFeed"]

#: Largest |basis| of a venue against the reference path (0.25 %). Perp books of one
#: coin rarely sit further apart; beyond it a sample says more about the reconstruction
#: of the reference between its candle edges than about the venues.
MAX_BASIS = 0.0025

#: Venues preferred as the reference path, in order (windows aligned with settlements).
_REFERENCE_VENUES = ("binance",)

#: The packaged recording, under ``strategy/feeds/data/``.
DEFAULT_DATA_FILE = "usdt_perp_8h_binance_bybit_okx_2023-01_2024-06_utc.csv"

_REQUIRED = (
    "exchange", "symbol", "funding_rate", "candle_start_utc", "candle_end_utc",
    "open", "high", "low", "close",
)
_QUOTES = ("USDT", "USDC", "BUSD", "USD")


def _symbol(raw: str) -> str:
    """``BTCUSDT`` -> ``BTC/USDT``; the file keeps the venues' spelling."""
    if "/" in raw:
        return raw
    for quote in _QUOTES:
        if raw.endswith(quote) and len(raw) > len(quote):
            return f"{raw[: -len(quote)]}/{quote}"
    raise ValueError(f"cannot split symbol {raw!r} into base and quote")


def _utc(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    if when.tzinfo is None:
        raise ValueError(f"timestamp {text!r} has no time zone")
    return when.astimezone(UTC)


def _decimals(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


class _Candle:
    __slots__ = ("close", "end", "funding_time", "high", "low", "open", "rate", "start")

    def __init__(self, funding_time: datetime, rate: Decimal, start: datetime,
                 end: datetime, ohlc: tuple[Decimal, Decimal, Decimal, Decimal]) -> None:
        self.funding_time, self.rate, self.start, self.end = funding_time, rate, start, end
        self.open, self.high, self.low, self.close = ohlc


class _Series:
    """Sorted arrays for one (venue, symbol), shaped for ``bisect`` on float seconds."""

    __slots__ = (
        "basis", "basis_ts", "edges", "events", "fmt", "funding_times", "funding_ts",
        "interval_h", "last_mark", "last_x", "px", "px_dec", "rates", "reference", "symbol",
        "venue", "vertex_ts",
    )

    def __init__(self, venue: str, symbol: str, candles: list[_Candle]) -> None:
        candles.sort(key=lambda c: c.funding_time)
        self.venue, self.symbol = venue, symbol
        self.funding_times = [c.funding_time for c in candles]
        self.funding_ts = [t.timestamp() for t in self.funding_times]
        self.rates = [c.rate for c in candles]
        for a, b in zip(self.funding_ts, self.funding_ts[1:], strict=False):
            if a == b:
                raise ValueError(
                    f"{venue} {symbol}: two settlements at {datetime.fromtimestamp(a, UTC)}"
                )
        gaps = sorted(b - a for a, b in zip(self.funding_ts, self.funding_ts[1:], strict=False))
        self.interval_h = max(1, round(gaps[len(gaps) // 2] / 3600)) if gaps else 8

        ts: list[float] = []
        prices: list[Decimal] = []
        previous_end = -math.inf
        for c in candles:
            s, e = c.start.timestamp(), c.end.timestamp()
            if e <= s or s < previous_end:
                raise ValueError(
                    f"{venue} {symbol}: candle window {c.start}..{c.end} is empty or overlaps "
                    "the previous one"
                )
            previous_end = e
            middle = (c.low, c.high) if c.close >= c.open else (c.high, c.low)
            third = (e - s) / 3
            ts += [s, s + third, s + 2 * third, e]
            prices += [c.open, middle[0], middle[1], c.close]
        self.vertex_ts = ts
        self.edges = [(c.start.timestamp(), float(c.open), c.end.timestamp(), float(c.close))
                      for c in candles]
        self.reference: _Series | None = None
        self.basis_ts: list[float] = []
        self.basis: list[float] = []
        self.px_dec = prices
        self.px = [float(p) for p in prices]
        self.fmt = f"%.{max(_decimals(p) for p in prices)}f"
        self.last_x = math.nan
        self.last_mark = prices[0]
        self.events: list[FundingEvent] | None = None


    def path(self, x: float) -> float:
        """This venue's own candle path at ``x`` (epoch seconds), as a float."""
        ts = self.vertex_ts
        i = bisect_right(ts, x) - 1
        if i < 0:
            return self.px[0]
        if ts[i] == x or i == len(ts) - 1:
            return self.px[i]
        t0, p0 = ts[i], self.px[i]
        return p0 + (self.px[i + 1] - p0) * (x - t0) / (ts[i + 1] - t0)

    def attach(self, reference: _Series) -> None:
        """Follow ``reference``'s path with this venue's clamped basis (module docstring)."""
        samples: dict[float, list[float]] = defaultdict(list)
        for start, open_, end, close in self.edges:
            samples[start].append(open_ / reference.path(start) - 1)
            samples[end].append(close / reference.path(end) - 1)
        self.reference = reference
        self.basis_ts = sorted(samples)
        self.basis = [
            max(-MAX_BASIS, min(MAX_BASIS, sum(samples[x]) / len(samples[x])))
            for x in self.basis_ts
        ]

    def basis_at(self, x: float) -> float:
        ts, values = self.basis_ts, self.basis
        i = bisect_right(ts, x) - 1
        if i < 0:
            return values[0]
        if i == len(ts) - 1:
            return values[i]
        t0, b0 = ts[i], values[i]
        return b0 + (values[i + 1] - b0) * (x - t0) / (ts[i + 1] - t0)


class RecordedFeed(MarketFeed):
    """A :class:`MarketFeed` over a recorded CSV (see the module docstring).

    Build one with :meth:`default` (the packaged recording) or :meth:`from_csv`. The
    columns are those of the packaged file: ``funding_time_ms`` (or ``funding_time_utc``),
    ``exchange``, ``symbol``, ``funding_rate``, ``candle_start_utc``, ``candle_end_utc``,
    ``open``, ``high``, ``low``, ``close``; others are ignored.
    """

    def __init__(self, candles: dict[tuple[str, str], list[_Candle]], source: str) -> None:
        if not candles:
            raise ValueError(f"{source}: no rows")
        self.source = source
        self._series = {key: _Series(*key, rows) for key, rows in candles.items()}
        for symbol in {sym for _, sym in self._series}:
            venues = sorted(v for v, sym in self._series if sym == symbol)
            preferred = [v for v in _REFERENCE_VENUES if v in venues]
            reference = self._series[(preferred[0] if preferred else venues[0], symbol)]
            for venue in venues:
                if venue != reference.venue:
                    self._series[(venue, symbol)].attach(reference)
        self.venues = tuple(sorted({v for v, _ in self._series}))
        self.symbols = tuple(sorted({s for _, s in self._series}))
        self.start = min(s.funding_times[0] for s in self._series.values())
        self.end = max(s.funding_times[-1] for s in self._series.values())
        self._default_start: datetime | None = None

    @classmethod
    def from_csv(cls, path: str | Path) -> RecordedFeed:
        """Load a recording; raises ``ValueError`` naming the line of any bad row."""
        path = Path(path)
        candles: dict[tuple[str, str], list[_Candle]] = defaultdict(list)
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.DictReader(fh)
            columns = set(reader.fieldnames or ())
            missing = [c for c in _REQUIRED if c not in columns]
            if not {"funding_time_ms", "funding_time_utc"} & columns:
                missing.append("funding_time_ms")
            if missing:
                raise ValueError(f"{path}: missing column(s) {', '.join(missing)}")
            for row in reader:
                try:
                    key, candle = cls._parse(row)
                except (ValueError, InvalidOperation, TypeError) as exc:
                    raise ValueError(f"{path}:{reader.line_num}: {exc}") from None
                candles[key].append(candle)
        return cls(dict(candles), str(path))

    @classmethod
    def default(cls) -> RecordedFeed:
        """The packaged recording, parsed once per process (the feed is immutable)."""
        return _default_feed()

    @staticmethod
    def _parse(row: dict[str, str]) -> tuple[tuple[str, str], _Candle]:
        if row.get("funding_time_ms"):
            funding_time = datetime.fromtimestamp(int(row["funding_time_ms"]) / 1000, UTC)
        else:
            funding_time = _utc(row["funding_time_utc"])
        ohlc = tuple(Decimal(row[k]) for k in ("open", "high", "low", "close"))
        o, h, low, c = ohlc
        if not (low <= min(o, c) and max(o, c) <= h):
            raise ValueError(f"prices o={o} h={h} l={low} c={c} are not a candle")
        candle = _Candle(
            funding_time, Decimal(row["funding_rate"]),
            _utc(row["candle_start_utc"]), _utc(row["candle_end_utc"]), (o, h, low, c),
        )
        return (row["exchange"], _symbol(row["symbol"])), candle

    def _get(self, venue: str, symbol: str) -> _Series:
        series = self._series.get((venue, symbol))
        if series is None:
            raise KeyError(f"{self.source} has no data for {venue} {symbol}")
        return series

    def default_start(self) -> datetime:
        if self._default_start is None:
            self._default_start = find_lively_start(self)
        return self._default_start

    def interval_h(self, venue: str, symbol: str) -> int:
        return self._get(venue, symbol).interval_h

    def mark(self, venue: str, symbol: str, t: datetime) -> Decimal:
        s = self._series.get((venue, symbol)) or self._get(venue, symbol)
        if t.tzinfo is None:
            raise ValueError("market time must be timezone-aware")
        x = t.timestamp()
        if x == s.last_x:
            return s.last_mark
        if s.reference is not None:
            price = s.reference.path(x) * (1 + s.basis_at(x))
            value = Decimal(s.fmt % price)
        else:
            ts = s.vertex_ts
            i = bisect_right(ts, x) - 1
            if i < 0:
                value = s.px_dec[0]
            elif ts[i] == x or i == len(ts) - 1:
                value = s.px_dec[i]
            else:
                value = Decimal(s.fmt % s.path(x))
        s.last_x = x
        s.last_mark = value
        return value

    def current_rate(self, venue: str, symbol: str, t: datetime) -> Decimal:
        s = self._get(venue, symbol)
        i = bisect_right(s.funding_ts, t.timestamp()) - 1
        return s.rates[max(i, 0)]

    def next_funding_time(self, venue: str, symbol: str, t: datetime) -> datetime:
        s = self._get(venue, symbol)
        x = t.timestamp()
        i = bisect_right(s.funding_ts, x)
        if i < len(s.funding_ts):
            return s.funding_times[i]
        step = s.interval_h * 3600
        periods = math.floor((x - s.funding_ts[-1]) / step) + 1
        return s.funding_times[-1] + timedelta(seconds=periods * step)

    def settlements(
        self, venue: str, symbol: str, after: datetime, until: datetime
    ) -> list[FundingEvent]:
        s = self._get(venue, symbol)
        lo = bisect_right(s.funding_ts, after.timestamp())
        hi = bisect_right(s.funding_ts, until.timestamp())
        if lo >= hi:
            return []
        if s.events is None:
            s.events = [
                FundingEvent(venue, symbol, when, rate, self.mark(venue, symbol, when))
                for when, rate in zip(s.funding_times, s.rates, strict=True)
            ]
        return s.events[lo:hi]


@functools.cache
def _default_feed() -> RecordedFeed:
    ref = resources.files("strategy.feeds") / "data" / DEFAULT_DATA_FILE
    with resources.as_file(ref) as path:
        return RecordedFeed.from_csv(path)
