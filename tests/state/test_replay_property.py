"""Property: replaying the merge patches from the first snapshot rebuilds every version."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from state import Change, DashboardState, EventBus, apply_merge_patch
from tests.state._helpers import StepClock, position_doc

PIDS = [f"p-{n}" for n in range(4)]
AIDS = [f"a-{n}" for n in range(6)]
_money = st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False,
                     allow_infinity=False)

_open = st.tuples(st.just("open"), st.sampled_from(PIDS), _money)
_update = st.tuples(st.just("update"), st.sampled_from(PIDS), _money)
_partial = st.tuples(st.just("partial"), st.sampled_from(PIDS), _money)
_moved = st.tuples(st.just("moved"), st.sampled_from(PIDS), _money)
_close = st.tuples(st.just("close"), st.sampled_from(PIDS), st.none())
_alert = st.tuples(st.just("alert"), st.sampled_from(AIDS), st.sampled_from(["warn", "critical"]))
_clear = st.tuples(st.just("clear"), st.sampled_from(AIDS), st.none())
_market = st.tuples(st.just("market"), st.sampled_from(["BTC/USDT", "ETH/USDT"]), _money)
_status = st.tuples(st.just("status"), st.sampled_from(["running", "paused"]), st.none())
_op = st.one_of(_open, _update, _partial, _moved, _close, _alert, _clear, _market, _status)
_transactions = st.lists(st.lists(_op, min_size=0, max_size=4), min_size=1, max_size=25)


async def _play(transactions: list[list[tuple[str, str, Any]]]) -> None:
    clock = StepClock()
    bus = EventBus()
    state = DashboardState("prop", bus=bus, now=clock, max_alerts=3)
    sub = bus.subscribe("replay", maxsize=10_000)
    first = state.snapshot()
    for n, ops in enumerate(transactions):
        clock.advance(0.5)
        async with state.transaction(f"tx{n}") as tx:
            for kind, key, value in ops:
                if kind == "open":
                    tx.put_position(key, position_doc(long_mark=str(60000 + value)))
                elif kind == "update":
                    tx.put_position(key, position_doc(net=str(value), divergence_bps=str(value),
                                                      reasons=("x",) if value > 0 else ()))
                elif kind == "partial":
                    tx.update_position(key, {"pnl": {"net": value}, "opened_at": None})
                elif kind == "moved":  # the document builder's unchecked update
                    tx.update_position(key, {"pnl": {"net": str(value)},
                                             "divergence_bps": str(value)}, moved=True)
                elif kind == "close":
                    tx.remove_position(key)
                elif kind == "alert":
                    tx.put_alert(key, {"level": value, "code": "c", "message": key})
                elif kind == "clear":
                    tx.remove_alert(key)
                elif kind == "market":
                    tx.put_market(key, {"binance": {"rate": value / Decimal(10000)}})
                else:
                    tx.set_status(key)
            tx.set_totals({"open_positions": len(state.snapshot().doc["positions"]),
                           "parity": n % 2})

    changes: list[Change] = []
    while sub.qsize():
        item = sub.get_nowait()
        assert isinstance(item, Change)
        changes.append(item)

    assert [c.seq for c in changes] == list(range(1, state.seq + 1))
    doc: Any = first.to_dict()
    for change in changes:
        assert change.prev == change.seq - 1
        assert change.patch, "a published change is never empty"
        patch = orjson.loads(change.patch_bytes)
        assert patch == change.patch
        doc = apply_merge_patch(doc, patch)
        assert doc == change.snapshot.to_dict()
        assert len(doc["alerts"]) <= 3
    assert doc == state.snapshot().to_dict()
    assert orjson.loads(state.snapshot().payload) == doc


@settings(max_examples=200, deadline=None)
@given(transactions=_transactions)
def test_patches_replayed_in_order_reproduce_the_snapshot(
    transactions: list[list[tuple[str, str, Any]]],
) -> None:
    asyncio.run(_play(transactions))
