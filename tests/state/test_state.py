"""DashboardState: document shape, conversions, exact patches per update path, seq rules."""

from __future__ import annotations

import asyncio
import copy
import enum
import pickle
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import orjson
import pytest

from state import (
    SCHEMA_VERSION,
    Change,
    DashboardState,
    EventBus,
    FrozenDict,
    Subscription,
    apply_merge_patch,
)
from tests.state._helpers import T0, StepClock, position_doc


class Side(enum.IntEnum):
    LONG = 1
    SHORT = -1


class Level(enum.StrEnum):
    WARN = "warn"


def _changes(sub: Subscription) -> list[Change]:
    out = []
    while sub.qsize():
        item = sub.get_nowait()
        assert isinstance(item, Change)
        out.append(item)
    return out


@pytest.fixture
def clock() -> StepClock:
    return StepClock()


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def state(clock: StepClock, bus: EventBus) -> DashboardState:
    return DashboardState("funding-arb", bus=bus, now=clock)


def test_initial_document(state: DashboardState) -> None:
    snap = state.snapshot()
    assert snap.seq == state.seq == 0
    assert snap.ts == T0
    assert snap.to_dict() == {
        "schema": SCHEMA_VERSION,
        "strategy": "funding-arb",
        "seq": 0,
        "ts": "2024-03-01T08:00:00.000Z",
        "mode": "paper",
        "status": "starting",
        "totals": {},
        "positions": {},
        "markets": {},
        "alerts": {},
    }
    assert orjson.loads(snap.payload) == snap.doc


async def test_open_monitor_alert_close_produce_exact_patches(
    state: DashboardState, bus: EventBus, clock: StepClock
) -> None:
    sub = bus.subscribe("test")
    first = state.snapshot().to_dict()

    # open
    clock.advance(1)
    async with state.transaction("open") as tx:
        tx.put_position("p-1", position_doc())
        tx.set_totals({"open_positions": 1, "notional": Decimal("12003.0"),
                       "net_pnl": Decimal("-13.20")})
        tx.significant("position_opened")
    (opened,) = _changes(sub)
    assert opened.seq == 1 and opened.prev == 0
    assert opened.significant == ("position_opened",)
    assert opened.reason == "open"
    assert opened.patch == {
        "positions": {
            "p-1": {
                "symbol": "BTC/USDT",
                "long": {"venue": "binance", "entry_price": "60000", "mark": "60000"},
                "short": {"venue": "bybit", "entry_price": "60030", "mark": "60030"},
                "qty": "0.1",
                "opened_at": "2024-03-01T08:00:00.000Z",
                "entry_spread_apr": "0.2190",
                "divergence_bps": "0.0",
                "pnl": {"legs": "0", "funding": "0", "fees": "13.20", "net": "-13.20"},
                "risk": {"level": "ok", "reasons": []},
            }
        },
        "totals": {"open_positions": 1, "notional": "12003.0", "net_pnl": "-13.20"},
        "seq": 1,
        "ts": "2024-03-01T08:00:01.000Z",
    }

    # monitor refresh: marks, divergence and PnL move; the clock advances
    clock.advance(1)
    async with state.transaction("monitor") as tx:
        tx.set_clock(clock.t - timedelta(milliseconds=250))
        tx.put_position(
            "p-1", position_doc(long_mark="60100", short_mark="60110", divergence_bps="-3.3",
                                net="-12.20")
        )
        tx.set_totals({"open_positions": 1, "notional": Decimal("12003.0"),
                       "net_pnl": Decimal("-12.20")})
    (refreshed,) = _changes(sub)
    assert refreshed.significant == ()
    assert refreshed.patch == {
        "clock": "2024-03-01T08:00:01.750Z",
        "positions": {
            "p-1": {
                "long": {"mark": "60100"},
                "short": {"mark": "60110"},
                "divergence_bps": "-3.3",
                "pnl": {"net": "-12.20"},
            }
        },
        "totals": {"net_pnl": "-12.20"},
        "seq": 2,
        "ts": "2024-03-01T08:00:02.000Z",
    }

    # risk alert
    clock.advance(1)
    async with state.transaction("risk") as tx:
        tx.put_alert("a-1", {"level": "critical", "code": "divergence", "position": "p-1",
                             "message": "divergence 41 bps", "ts": clock.t})
        tx.put_position(
            "p-1", position_doc(long_mark="60100", short_mark="60110", divergence_bps="-3.3",
                                net="-12.20", risk="critical", reasons=("divergence",))
        )
        tx.significant("critical_alert")
    (alerted,) = _changes(sub)
    assert alerted.significant == ("critical_alert",)
    assert alerted.patch == {
        "positions": {"p-1": {"risk": {"level": "critical", "reasons": ["divergence"]}}},
        "alerts": {"a-1": {"level": "critical", "code": "divergence", "position": "p-1",
                           "message": "divergence 41 bps", "ts": "2024-03-01T08:00:03.000Z"}},
        "seq": 3,
        "ts": "2024-03-01T08:00:03.000Z",
    }

    # close
    clock.advance(1)
    async with state.transaction("close") as tx:
        tx.remove_position("p-1")
        tx.set_totals({"open_positions": 0, "net_pnl": Decimal("-12.20")})
        tx.significant("position_closed")
    (closed,) = _changes(sub)
    assert closed.patch == {
        "positions": {"p-1": None},
        "totals": {"open_positions": 0, "notional": None},
        "seq": 4,
        "ts": "2024-03-01T08:00:04.000Z",
    }

    # the four patches rebuild the document, and the encoded patches say the same
    doc: Any = first
    for change in (opened, refreshed, alerted, closed):
        assert orjson.loads(change.patch_bytes) == change.patch
        doc = apply_merge_patch(doc, orjson.loads(change.patch_bytes))
        assert doc == change.snapshot.to_dict()
    assert doc == state.snapshot().to_dict()
    assert doc["positions"] == {} and list(doc["alerts"]) == ["a-1"]


async def test_a_transaction_without_effect_commits_nothing(
    state: DashboardState, bus: EventBus
) -> None:
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc())
        tx.set_status("running")
    sub = bus.subscribe("after")
    before = state.snapshot()
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc())  # same values, rebuilt objects
        tx.set_status("running")
        tx.remove_position("p-unknown")
        tx.remove_alert("a-unknown")
        tx.significant("position_opened")
    async with state.transaction():
        pass
    assert state.seq == 1
    assert state.snapshot() is before
    assert sub.qsize() == 0


async def test_an_exception_discards_the_transaction(state: DashboardState) -> None:
    with pytest.raises(RuntimeError, match="boom"):
        async with state.transaction() as tx:
            tx.put_position("p-1", position_doc())
            raise RuntimeError("boom")
    assert state.seq == 0
    assert state.snapshot().doc["positions"] == {}
    async with state.transaction() as tx:  # the lock was released
        tx.set_status("running")
    assert state.seq == 1


async def test_values_are_converted_when_put(state: DashboardState) -> None:
    plus2 = timezone(timedelta(hours=2))
    async with state.transaction() as tx:
        tx.put_market("ETH/USDT", {
            "binance": {"rate": Decimal("0.00010"), "interval_h": 8,
                        "next_funding_time": datetime(2024, 3, 1, 10, 0, 0, 123456, plus2),
                        "mark": Decimal("3500.5"), "ratio": 0.25, "stale": False,
                        "note": None, "tags": ("a", Decimal("1.5")),
                        "side": Side.SHORT, "level": Level.WARN},
        })
    market = state.snapshot().to_dict()["markets"]["ETH/USDT"]["binance"]
    assert market == {"rate": "0.00010", "interval_h": 8,
                      "next_funding_time": "2024-03-01T08:00:00.123Z", "mark": "3500.5",
                      "ratio": 0.25, "stale": False, "tags": ["a", "1.5"], "side": -1,
                      "level": "warn"}


async def test_bad_values_fail_at_put_or_commit_and_leave_no_trace(
    state: DashboardState,
) -> None:
    async with state.transaction() as tx:
        with pytest.raises(ValueError, match="naive"):
            tx.put_position("p-1", {"opened_at": datetime(2024, 3, 1)})
        with pytest.raises(ValueError, match="non-finite"):
            tx.put_position("p-1", {"ratio": float("nan")})
        with pytest.raises(TypeError, match="cannot go into"):
            tx.put_position("p-1", {"obj": object()})
        with pytest.raises(ValueError, match="non-empty string"):
            tx.put_position("", {})
        with pytest.raises(TypeError, match="mapping"):
            tx.put_position("p-1", ["not", "a", "mapping"])  # type: ignore[arg-type]
    assert state.seq == 0
    with pytest.raises(TypeError, match="JSON cannot hold"):
        async with state.transaction("bad-key") as tx:
            tx.put_position("p-1", {1: "int key"})  # type: ignore[dict-item]
    assert state.seq == 0
    assert state.snapshot().doc["positions"] == {}


async def test_the_document_is_deeply_read_only(state: DashboardState) -> None:
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc(reasons=("x",)))
    snap = state.snapshot()
    doc = snap.doc
    assert isinstance(doc, FrozenDict)
    position = doc["positions"]["p-1"]
    with pytest.raises(TypeError):
        doc["status"] = "hacked"
    with pytest.raises(TypeError):
        position["long"]["mark"] = "1"
    with pytest.raises(TypeError):
        position["risk"]["reasons"].append("y")
    with pytest.raises(TypeError):
        doc["positions"].pop("p-1")
    with pytest.raises(TypeError):
        position.update(qty="2")
    assert copy.deepcopy(doc) is doc
    revived = pickle.loads(pickle.dumps(doc))
    assert revived == doc and isinstance(revived["positions"], FrozenDict)
    with pytest.raises(TypeError):
        revived["positions"]["p-1"]["risk"]["reasons"].clear()
    plain = snap.to_dict()
    plain["positions"]["p-1"]["long"]["mark"] = "1"
    plain["positions"]["p-1"]["risk"]["reasons"].append("y")
    assert doc["positions"]["p-1"]["long"]["mark"] == "60000"
    assert doc["positions"]["p-1"]["risk"]["reasons"] == ["x"]


async def test_alerts_beyond_the_limit_are_evicted_in_the_same_patch(
    clock: StepClock, bus: EventBus
) -> None:
    state = DashboardState("s", bus=bus, now=clock, max_alerts=3)
    sub = bus.subscribe("t")
    async with state.transaction() as tx:
        for n in range(1, 4):
            tx.put_alert(f"a-{n}", {"level": "warn", "code": "c", "message": f"m{n}"})
    _changes(sub)
    async with state.transaction() as tx:
        tx.put_alert("a-2", {"level": "critical", "code": "c", "message": "m2"})  # update
        tx.put_alert("a-4", {"level": "warn", "code": "c", "message": "m4"})
        tx.put_alert("a-5", {"level": "warn", "code": "c", "message": "m5"})
    (change,) = _changes(sub)
    assert change.patch["alerts"] == {
        "a-4": {"level": "warn", "code": "c", "message": "m4"},
        "a-5": {"level": "warn", "code": "c", "message": "m5"},
        "a-1": None,
        "a-2": None,
    }
    assert list(state.snapshot().doc["alerts"]) == ["a-3", "a-4", "a-5"]
    # an alert added and evicted in one transaction never shows up in the patch
    async with state.transaction() as tx:
        for n in range(6, 11):
            tx.put_alert(f"a-{n}", {"level": "warn", "code": "c", "message": f"m{n}"})
    (change,) = _changes(sub)
    assert change.patch["alerts"] == {
        "a-8": {"level": "warn", "code": "c", "message": "m8"},
        "a-9": {"level": "warn", "code": "c", "message": "m9"},
        "a-10": {"level": "warn", "code": "c", "message": "m10"},
        "a-3": None, "a-4": None, "a-5": None,
    }


async def test_update_position_merges_a_partial_document(
    state: DashboardState, bus: EventBus
) -> None:
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc())
    sub = bus.subscribe("t")
    async with state.transaction() as tx:
        tx.update_position("p-1", {"long": {"mark": Decimal("60001")}, "divergence_bps": None,
                                   "pnl": {"net": Decimal("-13.20")}, "note": "hi"})
    (change,) = _changes(sub)
    assert change.patch["positions"] == {
        "p-1": {"long": {"mark": "60001"}, "divergence_bps": None, "note": "hi"}
    }
    position = state.snapshot().doc["positions"]["p-1"]
    assert position["long"] == {"venue": "binance", "entry_price": "60000", "mark": "60001"}
    assert "divergence_bps" not in position and position["qty"] == "0.1"
    # put then update of the same entry in one transaction: one patch from the committed one
    async with state.transaction() as tx:
        tx.put_position("p-1", position_doc(qty="0.2"))
        tx.update_position("p-1", {"qty": Decimal("0.3")})
        tx.update_position("p-new", {"symbol": "ETH/USDT"})
    (change,) = _changes(sub)
    assert change.patch["positions"] == {
        "p-1": {"long": {"mark": "60000"}, "divergence_bps": "0.0", "qty": "0.3",
                "note": None},
        "p-new": {"symbol": "ETH/USDT"},
    }


async def test_scalars_and_their_validation(state: DashboardState, bus: EventBus) -> None:
    sub = bus.subscribe("t")
    async with state.transaction() as tx:
        tx.set_status("running")
        tx.set_mode("live")
        tx.set_clock("2024-03-01T07:59:59.000Z")
        with pytest.raises(ValueError):
            tx.set_status("")
    (change,) = _changes(sub)
    assert change.patch == {"status": "running", "mode": "live",
                            "clock": "2024-03-01T07:59:59.000Z", "seq": 1,
                            "ts": "2024-03-01T08:00:00.000Z"}


async def test_transactions_do_not_nest_and_tx_dies_with_its_block(
    state: DashboardState,
) -> None:
    async with state.transaction() as tx:
        with pytest.raises(RuntimeError, match="do not nest"):
            async with state.transaction():
                pass
        tx.set_status("running")
    with pytest.raises(RuntimeError, match="finished"):
        tx.set_status("paused")
    with pytest.raises(RuntimeError, match="finished"):
        tx.put_position("p-9", {})
    assert state.snapshot().doc["status"] == "running"


async def test_read_waits_for_the_transaction_in_progress(state: DashboardState) -> None:
    entered = asyncio.Event()
    release = asyncio.Event()

    async def writer() -> None:
        async with state.transaction() as tx:
            tx.set_status("running")
            entered.set()
            await release.wait()

    task = asyncio.create_task(writer())
    await entered.wait()
    reader = asyncio.create_task(state.read())
    await asyncio.sleep(0.01)
    assert not reader.done()
    assert state.snapshot().seq == 0  # the non-waiting read sees the committed version
    release.set()
    snap = await reader
    await task
    assert snap.seq == 1 and snap.doc["status"] == "running"


async def test_no_bus_still_versions_and_snapshots(clock: StepClock) -> None:
    state = DashboardState("solo", now=clock, mode="live")
    async with state.transaction() as tx:
        tx.set_status("running")
    assert state.seq == 1 and state.snapshot().doc["mode"] == "live"


def test_constructor_validation() -> None:
    with pytest.raises(ValueError):
        DashboardState("")
    with pytest.raises(ValueError):
        DashboardState("s", max_alerts=0)
    assert DashboardState("s").snapshot().ts.tzinfo is UTC
