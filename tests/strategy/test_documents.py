"""DocumentBuilder: writing only moved members keeps the state equal to whole documents.

The engine writes each cycle through the builder; whatever the book did in between
(marks, settlements, closes, risk, quotes, best pairs, a failed transaction, another
writer), the committed document must equal the whole documents built from scratch.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest

from state import DashboardState, EventBus
from strategy.documents import (
    DocumentBuilder,
    Documents,
    MarketInputs,
    market_doc,
    position_doc,
)
from strategy.funding import LONG, SHORT, best_pair
from strategy.models import Leg, MarketQuote, Position

T0 = datetime(2024, 3, 1, tzinfo=UTC)
VENUES = ("binance", "bybit", "okx")
D = Decimal


def _position(n: int, symbol: str) -> Position:
    return Position(
        id=f"p-{n}",
        strategy="t",
        symbol=symbol,
        qty=D("0.500"),
        opened_at=T0,
        entry_spread_apr=D("0.2190"),
        long=Leg("binance", LONG, D("100.10"), D("100.10"), next_funding_time=T0),
        short=Leg("bybit", SHORT, D("100.30"), D("100.30"), next_funding_time=T0),
        entry_fees=D("0.1003"),
    )


_RATES: dict[str, Decimal] = {}  # a feed hands out the same rate object until it settles


def _quote(venue: str, symbol: str, mark: str, rate: str = "0.0001",
           signal: str | None = None, interval_h: int = 8) -> MarketQuote:
    settled = _RATES.setdefault(rate, D(rate))
    apr = settled * 8760 / interval_h
    return MarketQuote(venue, symbol, settled, interval_h, apr, D(mark),
                       T0 + timedelta(hours=8), T0, apr if signal is None else D(signal))


def _market(symbol: str, quotes: list[MarketQuote], cost: str | None = "0.002") -> MarketInputs:
    best = best_pair({q.venue: q.signal_apr for q in quotes}, VENUES)
    return MarketInputs(quotes, best, None if cost is None else D(cost))


class Rig:
    """A state written the way ``FundingArbitrageStrategy._commit`` writes it."""

    def __init__(self) -> None:
        self.t = T0
        self.bus = EventBus()
        self.state = DashboardState("t", bus=self.bus, now=lambda: self.t)
        self.builder = DocumentBuilder()
        self.positions: dict[str, Position] = {}
        self.markets: dict[str, MarketInputs] = {}
        self.realized = D(0)

    def build(self) -> Documents:
        return self.builder.build(
            self.state.snapshot().doc, list(self.positions.values()), self.markets, self.realized
        )

    async def commit(self, removed: tuple[str, ...] = ()) -> Documents:
        self.t += timedelta(seconds=1)
        docs = self.build()
        async with self.state.transaction("cycle") as tx:
            docs.write(tx)
            for pid in removed:
                tx.remove_position(pid)
        self.builder.committed(docs, self.state.snapshot().doc)
        self.check()
        return docs

    def check(self) -> None:
        doc = self.state.snapshot().doc
        assert doc["positions"] == {pid: position_doc(p) for pid, p in self.positions.items()}
        assert doc["markets"] == {s: market_doc(*m) for s, m in self.markets.items()}
        totals = doc["totals"]
        positions = doc["positions"].values()

        def total(*path: str) -> Decimal:
            out = D(0)
            for p in positions:
                value: Any = p
                for key in path:
                    value = value[key]
                out += D(value)
            return out

        assert totals["open_positions"] == len(positions)
        assert D(totals["notional"]) == total("notional")
        assert D(totals["unrealized_pnl"]) == total("pnl", "legs")
        assert D(totals["funding_collected"]) == total("funding_collected")
        assert D(totals["fees"]) == total("fees")
        assert D(totals["net_pnl"]) == D(totals["realized_pnl"]) + total("pnl", "net")


def _writes(docs: Documents) -> dict[str, tuple[bool, dict[str, Any]]]:
    return {key: (whole, doc) for key, whole, doc in [*docs.positions, *docs.markets]}


async def test_documents_are_json_ready_and_rounded() -> None:
    p = _position(1, "BTC/USDT")
    p.long.mark, p.short.mark = D("101.10"), D("100.90")
    doc = position_doc(p)
    assert doc["long"] == {"venue": "binance", "entry_price": "100.10", "mark": "101.10",
                           "pnl": "0.50", "funding": "0.00"}
    assert doc["qty"] == "0.500" and doc["notional"] == "50.50" and doc["fees"] == "0.10"
    assert doc["opened_at"] == "2024-03-01T00:00:00.000Z"
    assert doc["pnl"] == {"legs": "0.20", "funding": "0.00", "fees": "0.10", "net": "0.10"}
    assert doc["next_funding"] == {"binance": "2024-03-01T00:00:00.000Z",
                                   "bybit": "2024-03-01T00:00:00.000Z"}
    m = market_doc([_quote("binance", "BTC/USDT", "100.1", signal="0.2")], None, None)
    assert m == {"binance": {"rate": "0.0001", "apr": "0.1095", "interval_h": 8,
                             "next_funding_time": "2024-03-01T08:00:00.000Z", "mark": "100.1",
                             "signal_apr": "0.2000"}}


async def test_a_monitoring_cycle_writes_only_what_moved() -> None:
    rig = Rig()
    p = rig.positions["p-1"] = _position(1, "BTC/USDT")
    rig.markets["BTC/USDT"] = _market("BTC/USDT", [_quote(v, "BTC/USDT", "100.10")
                                                    for v in VENUES])
    first = _writes(await rig.commit())
    assert first["p-1"][0] and first["BTC/USDT"][0]  # new entries go whole

    p.long.mark, p.short.mark = D("100.50"), D("100.70")
    rig.markets["BTC/USDT"] = _market("BTC/USDT", [_quote("binance", "BTC/USDT", "100.50"),
                                                    _quote("bybit", "BTC/USDT", "100.70"),
                                                    _quote("okx", "BTC/USDT", "100.10")])
    writes = _writes(await rig.commit())
    assert writes["p-1"] == (False, {
        "long": {"mark": "100.50", "pnl": "0.20"},
        "short": {"mark": "100.70", "pnl": "-0.20"},
        "notional": "50.30",
        "divergence_bps": "-0.1",
        "pnl": {"legs": "0.00", "net": "-0.10"},
    })
    # new quote objects: only what reads differently is written (okx and rates did not)
    assert writes["BTC/USDT"] == (False, {"binance": {"mark": "100.50"},
                                          "bybit": {"mark": "100.70"}})
    # nothing moved: nothing is written, and the totals are unchanged
    seq = rig.state.seq
    docs = await rig.commit()
    assert docs.positions == [] and docs.markets == []
    assert rig.state.seq == seq


async def test_equal_but_differently_written_marks_are_rewritten() -> None:
    rig = Rig()
    p = rig.positions["p-1"] = _position(1, "BTC/USDT")
    await rig.commit()
    p.long.mark = D("100.1")  # == 100.10, prints differently
    writes = _writes(await rig.commit())
    assert writes["p-1"][1]["long"]["mark"] == "100.1"
    assert rig.state.snapshot().doc["positions"]["p-1"]["long"]["mark"] == "100.1"


async def test_a_failed_transaction_is_written_again_next_time() -> None:
    rig = Rig()
    p = rig.positions["p-1"] = _position(1, "BTC/USDT")
    await rig.commit()
    p.long.funding += D("1.25")
    p.risk_level, p.risk_reasons = "warn", ("erosion",)
    docs = rig.build()
    with pytest.raises(RuntimeError):
        async with rig.state.transaction("cycle") as tx:
            docs.write(tx)
            raise RuntimeError("store went away")
    # the builder was not told it committed: the next cycle writes the same moves again
    await rig.commit()
    assert rig.state.snapshot().doc["positions"]["p-1"]["risk"]["level"] == "warn"


async def test_another_writer_makes_the_entry_go_whole() -> None:
    rig = Rig()
    p = rig.positions["p-1"] = _position(1, "BTC/USDT")
    rig.markets["ETH/USDT"] = _market("ETH/USDT", [_quote(v, "ETH/USDT", "2000") for v in VENUES])
    await rig.commit()
    async with rig.state.transaction("replay") as tx:
        tx.update_position("p-1", {"long": {"mark": "1"}, "stray": "x"})
        tx.update_market("ETH/USDT", {"okx": None})
    p.short.mark = D("100.40")
    writes = _writes(await rig.commit())
    assert writes["p-1"][0] and writes["ETH/USDT"][0]
    assert "stray" not in rig.state.snapshot().doc["positions"]["p-1"]


async def test_documents_built_against_another_version_are_refused() -> None:
    rig = Rig()
    rig.positions["p-1"] = _position(1, "BTC/USDT")
    docs = rig.build()
    async with rig.state.transaction() as tx:
        tx.set_status("running")
    with pytest.raises(ValueError, match="another version"):
        async with rig.state.transaction() as tx:
            docs.write(tx)


async def test_random_books_stay_equal_to_whole_documents() -> None:
    rnd = random.Random(20240301)
    rig = Rig()
    symbols = [f"S{n}/USDT" for n in range(4)]
    opened = 0

    def quotes(symbol: str) -> list[MarketQuote]:
        venues = [v for v in VENUES if rnd.random() > 0.1] or ["binance", "bybit"]
        return [
            _quote(v, symbol, f"{rnd.choice([100, 101]):d}.{rnd.choice(['1', '10', '2'])}",
                   rate=rnd.choice(["0.0001", "0.0002", "-0.0001"]),
                   signal=rnd.choice([None, "0.3", "0.2190"]), interval_h=rnd.choice([8, 8, 1]))
            for v in venues
        ]

    for _step in range(400):
        for _ in range(rnd.randint(0, 4)):
            op = rnd.choice(["mark", "mark", "settle", "fees", "spread", "risk", "next",
                             "status", "open", "close", "quote", "quote", "cost"])
            if op == "open" or (not rig.positions and op != "quote"):
                opened += 1
                p = _position(opened, rnd.choice(symbols))
                rig.positions[p.id] = p
                continue
            if op in ("quote", "cost"):
                symbol = rnd.choice(symbols)
                cost = rnd.choice([None, "0.002", "0.001"]) if op == "cost" else "0.002"
                rig.markets[symbol] = _market(symbol, quotes(symbol), cost)
                continue
            p = rnd.choice(list(rig.positions.values()))
            leg = rnd.choice(p.legs)
            if op == "mark":
                leg.mark = D(rnd.choice(["100.10", "100.1", "99.95", "101"]))
            elif op == "settle":
                leg.funding += D(rnd.choice(["0.0125", "-0.004", "0"]))
            elif op == "fees":
                p.exit_fees = D(rnd.choice(["0", "0.05", "0.051"]))
                leg.exit_price = rnd.choice([None, D("100.2")])
            elif op == "spread":
                p.spread_apr = D(rnd.choice(["0.2190", "0.1", "0.10", "-0.05"]))
            elif op == "risk":
                p.risk_level = rnd.choice(["ok", "warn", "critical"])
                p.risk_reasons = tuple(rnd.sample(["divergence", "erosion"], rnd.randint(0, 2)))
            elif op == "next":
                leg.next_funding_time = rnd.choice([None, T0, T0 + timedelta(hours=8)])
            elif op == "status":
                p.status = rnd.choice(["open", "closing"])
            elif op == "close":
                del rig.positions[p.id]
                await rig.commit(removed=(p.id,))
        await rig.commit()
    assert opened > 10 and len(rig.markets) == len(symbols)
