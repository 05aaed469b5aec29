"""Cost of one monitoring-cycle commit: 50 open positions re-marked, 100 subscribers.

What is timed is what ``FundingArbitrageStrategy._commit`` does each cycle, on real
``Position`` and ``MarketQuote`` objects moved the way ``_refresh_markets`` and
``_monitor_positions`` move them (every mark moves every cycle; an 8-hour settlement
every 96 five-minute cycles books funding and moves rates, APRs and spreads):

* **commit + fan-out**: the whole ``async with state.transaction()`` block of the engine:
  status, clock, ``Documents.write`` (``update_position``/``update_market``: the state
  converts, diffs against the committed entry and builds the patch there), the commit (new
  snapshot, one orjson encoding of the patch) and ``publish`` to 100 subscribers, whose
  queues are either drained between cycles (idle) or awaited by 100 tasks (parked: their
  wake-ups are part of the publish);
* **whole cycle**: ``DocumentBuilder.build`` (strategy/documents.py: each entry's moved
  members, JSON-ready, and the totals) + commit + fan-out + ``DocumentBuilder.committed``.

The engine keeps one position per symbol, so 50 positions come with 50 market entries
(3 venues each), re-marked every cycle too: that is the engine's cycle. The issue's
scenario counts positions only; both are reported, and one row writes the engine's cycle
the former way (whole ``position_doc``/``market_doc`` documents re-put) for comparison.

Target (issue 3): commit + fan-out median < 200 us, p99 < 1 ms on the 2-core dev box. The
table says per case whether it is met; the asserts are regression guards. The issue's
case (50 positions, idle queues) meets it, at about 170 us: the document builder marks its
updates ``moved`` (it compared their inputs), so the state applies them without comparing
each member again (``state._entry.apply_moved``). "Idle queues" is the socket server's
shape: every connection has a bus queue but one fan-out task is woken, not 100 (see
ipc/_server.py); "parked" adds 100 waiting tasks' wake-ups (about 0.7 us each). The
engine's cycle, with 50 market entries re-marked too, costs about 0.3 ms: ~2 us of
CPython per re-marked entry (new read-only objects and the patch) times 100 entries.
The box is shared, so each case runs ``ROUNDS`` times and the round with the lowest p99
is reported (the median barely moves between rounds; p99 is mostly other processes).

Run: ``make bench`` or ``pytest -q -s -m benchmark tests/benchmarks/test_state_commit.py``.
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from state import DashboardState, EventBus, Subscription, Tx
from strategy.documents import (
    DocumentBuilder,
    Documents,
    MarketInputs,
    market_doc,
    position_doc,
)
from strategy.funding import LONG, SHORT, annualise, best_pair, funding_payment, round_trip_cost
from strategy.models import Leg, MarketQuote, Position

POSITIONS = 50
SUBSCRIBERS = 100
VENUES = ("binance", "bybit", "okx")
CYCLE_S = 300
SETTLE_EVERY = 96  # 8 h of 5-minute cycles
WARMUP = 150
CYCLES = 1000
ROUNDS = 3
TAKER_FEE = Decimal("0.0005")
TARGET_MEDIAN_US = 200.0
TARGET_P99_US = 1000.0
T0 = datetime(2024, 3, 1, tzinfo=UTC)


class Book:
    """50 open pairs on 50 symbols and the quotes of 3 venues, moved like a live feed."""

    def __init__(self, seed: int = 7) -> None:
        self.rnd = random.Random(seed)
        self.symbols = [f"C{i:02d}/USDT" for i in range(POSITIONS)]
        self.price = {s: self.rnd.uniform(0.5, 60_000) for s in self.symbols}
        self.fmt = {s: "%.2f" if p > 100 else "%.5f" for s, p in self.price.items()}
        self.rates = {(v, s): self._rate() for s in self.symbols for v in VENUES}
        self.next_funding = T0 + timedelta(hours=8)
        self.quotes: dict[tuple[str, str], MarketQuote] = {}
        self.markets: dict[str, MarketInputs] = {}
        self.now = T0
        self._quote(T0)
        self.positions: list[Position] = []
        for i, symbol in enumerate(self.symbols):
            inputs = self.markets[symbol]
            assert inputs.best is not None
            lq = self.quotes[inputs.best.long_venue, symbol]
            sq = self.quotes[inputs.best.short_venue, symbol]
            qty = (Decimal(10_000) / lq.mark).quantize(Decimal("0.001"))
            self.positions.append(
                Position(
                    id=f"p-{i:08x}",
                    strategy="bench",
                    symbol=symbol,
                    qty=qty,
                    opened_at=T0,
                    entry_spread_apr=inputs.best.spread_apr,
                    long=Leg(lq.venue, LONG, lq.mark * Decimal("1.0002"), lq.mark,
                             next_funding_time=lq.next_funding_time),
                    short=Leg(sq.venue, SHORT, sq.mark * Decimal("0.9998"), sq.mark,
                              next_funding_time=sq.next_funding_time),
                    entry_fees=(lq.mark + sq.mark) * qty * TAKER_FEE,
                )
            )

    def _rate(self) -> Decimal:
        return Decimal(self.rnd.randint(-40, 400)) / 1_000_000

    def _quote(self, now: datetime) -> None:
        for symbol in self.symbols:
            self.price[symbol] *= 1 + self.rnd.gauss(0, 0.0008)
            quotes = []
            for venue in VENUES:
                drift = self.rnd.uniform(0.9997, 1.0003)
                mark = Decimal(self.fmt[symbol] % (self.price[symbol] * drift))
                rate = self.rates[venue, symbol]
                apr = annualise(rate, 8)
                quote = MarketQuote(venue, symbol, rate, 8, apr, mark, self.next_funding, now, apr)
                self.quotes[venue, symbol] = quote
                quotes.append(quote)
            best = best_pair({q.venue: q.signal_apr for q in quotes}, VENUES)
            cost = None if best is None else round_trip_cost(TAKER_FEE, TAKER_FEE)
            self.markets[symbol] = MarketInputs(quotes, best, cost)

    def tick(self, cycle: int) -> None:
        """One cycle of market time: settle if due, quote, then monitor like the engine."""
        self.now = T0 + timedelta(seconds=CYCLE_S * cycle)
        if self.now >= self.next_funding:
            for position in self.positions:
                for leg in position.legs:
                    mark = self.quotes[leg.venue, position.symbol].mark
                    rate = self.rates[leg.venue, position.symbol]
                    leg.funding += funding_payment(leg.side, position.qty, mark, rate)
                    leg.last_funding_time = self.next_funding
            self.next_funding += timedelta(hours=8)
            self.rates = {key: self._rate() for key in self.rates}
        self._quote(self.now)
        for position in self.positions:  # FundingArbitrageStrategy._monitor_positions
            for leg in position.legs:
                quote = self.quotes[leg.venue, position.symbol]
                leg.mark = quote.mark
                leg.next_funding_time = quote.next_funding_time
            position.spread_apr = (
                self.quotes[position.short.venue, position.symbol].signal_apr
                - self.quotes[position.long.venue, position.symbol].signal_apr
            )


Writer = Callable[[Tx], None]


class _Writer:
    """Writes a cycle the engine's way (``DocumentBuilder``), or, with ``whole``, the
    former way: whole documents re-put every cycle."""

    def __init__(self, book: Book, *, markets: bool, whole: bool) -> None:
        self.book = book
        self.markets = markets
        self.whole = whole
        self.builder = DocumentBuilder()
        self.docs: Documents | None = None

    def build(self, state: DashboardState) -> Writer:
        book = self.book
        markets = book.markets if self.markets else {}
        if not self.whole:
            self.docs = self.builder.build(
                state.snapshot().doc, book.positions, markets, Decimal(0)
            )
            return self.docs.write
        positions = {p.id: position_doc(p) for p in book.positions}
        market_docs = {s: market_doc(*inputs) for s, inputs in markets.items()}

        def write(tx: Tx) -> None:
            for pid, doc in positions.items():
                tx.put_position(pid, doc)
            for symbol, doc in market_docs.items():
                tx.put_market(symbol, doc)

        return write

    def committed(self, state: DashboardState) -> None:
        if self.docs is not None:
            self.builder.committed(self.docs, state.snapshot().doc)


async def _cycle(state: DashboardState, writer: _Writer, now: datetime) -> tuple[int, int]:
    """One ``_commit`` of the engine: (whole cycle, commit + fan-out) in ns.

    A function of its own, as in the engine, so the previous cycle's transaction is
    freed before the clock starts."""
    started = time.perf_counter_ns()
    write = writer.build(state)
    staged = time.perf_counter_ns()
    async with state.transaction("cycle") as tx:
        tx.set_status("running")
        tx.set_clock(now)
        write(tx)
    committed = time.perf_counter_ns()
    writer.committed(state)
    return time.perf_counter_ns() - started, committed - staged


async def _round(*, markets: bool, parked: bool, whole: bool) -> tuple[list[int], list[int]]:
    book = Book()
    bus = EventBus()
    state = DashboardState("bench", bus=bus, now=lambda: book.now)
    subs = [bus.subscribe(f"s{n}", maxsize=1024) for n in range(SUBSCRIBERS)]
    received = [0]

    async def consume(sub: Subscription) -> None:
        async for _ in sub:
            received[0] += 1

    tasks = [asyncio.create_task(consume(s)) for s in subs] if parked else []
    await asyncio.sleep(0)
    writer = _Writer(book, markets=markets, whole=whole)
    whole_ns: list[int] = []
    commit_ns: list[int] = []
    for cycle in range(WARMUP + CYCLES):
        book.tick(cycle)
        cycle_ns, commit = await _cycle(state, writer, book.now)
        if cycle >= WARMUP:
            whole_ns.append(cycle_ns)
            commit_ns.append(commit)
        if parked:
            await asyncio.sleep(0)
        else:
            for sub in subs:
                while sub.qsize():
                    sub.get_nowait()
    for sub in subs:
        sub.close()
    await asyncio.gather(*tasks)
    # what was committed is what the engine's documents say, however it was written
    doc = state.snapshot().doc
    assert state.seq == WARMUP + CYCLES
    assert doc["positions"] == {p.id: position_doc(p) for p in book.positions}
    if markets:
        assert doc["markets"] == {s: market_doc(*i) for s, i in book.markets.items()}
    assert all(sub.dropped == 0 for sub in subs)
    if parked:
        assert received[0] == (WARMUP + CYCLES) * SUBSCRIBERS
    return whole_ns, commit_ns


def _stats(samples: list[int]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) / 1000, ordered[int(len(ordered) * 0.99) - 1] / 1000


ENGINE = "engine: 50 pos + 50 mkts, idle queues"
FORMER = "engine, whole docs re-put (former way)"
CASES = (
    # label, markets, parked, whole documents
    (ENGINE, True, False, False),
    ("engine: 50 pos + 50 mkts, 100 parked", True, True, False),
    ("issue: 50 pos, idle queues", False, False, False),
    ("issue: 50 pos, 100 parked readers", False, True, False),
    (FORMER, True, False, True),
)


@pytest.mark.benchmark
async def test_monitoring_cycle_commit_cost() -> None:
    print(f"\none monitoring cycle: {POSITIONS} positions re-marked, {SUBSCRIBERS} subscribers,"
          f" {CYCLES} cycles, best of {ROUNDS} rounds; target for commit + fan-out: median <"
          f" {TARGET_MEDIAN_US:.0f} us, p99 < {TARGET_P99_US:.0f} us")
    print(f"{'case':<40} {'part':<17} {'median us':>9} {'p99 us':>8}  target")
    results: dict[tuple[str, str], tuple[float, float]] = {}
    for label, markets, parked, whole in CASES:
        rounds = [await _round(markets=markets, parked=parked, whole=whole) for _ in range(ROUNDS)]
        best = min(rounds, key=lambda r: _stats(r[1])[1])
        for part, samples in (("whole cycle", best[0]), ("commit + fan-out", best[1])):
            median, p99 = _stats(samples)
            results[label, part] = (median, p99)
            verdict = ""
            if part == "commit + fan-out":
                met = median < TARGET_MEDIAN_US and p99 < TARGET_P99_US
                verdict = "met" if met else "MISSED"
            print(f"{label:<40} {part:<17} {median:>9.1f} {p99:>8.1f}  {verdict}")
    # Regression guards, not the target (which the engine's cycle misses; see the
    # report printed above): about twice today's figures on this box.
    for (label, part), (median, p99) in results.items():
        if label == FORMER:
            continue
        if part == "commit + fan-out":
            assert median < 1000 and p99 < 5000
        else:
            assert median < 2500 and p99 < 10_000
    # writing moved members must stay well ahead of re-putting whole documents
    assert results[ENGINE, "commit + fan-out"][0] < 0.75 * results[FORMER, "commit + fan-out"][0]
