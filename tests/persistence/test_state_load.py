"""``DashboardState.load``: a stored document served as-is at its stored seq."""

from __future__ import annotations

from datetime import UTC, datetime

import orjson
import pytest

from state import Change, DashboardState, EventBus, apply_merge_patch

T0 = datetime(2024, 3, 1, tzinfo=UTC)


def _doc(seq: int, net: str, positions: dict) -> dict:
    return {
        "schema": 1, "strategy": "s", "seq": seq, "ts": "2024-03-01T08:00:00.250Z",
        "mode": "paper", "status": "running", "clock": "2024-03-01T08:00:00.000Z",
        "totals": {"net_pnl": net}, "positions": positions, "markets": {}, "alerts": {},
    }


async def test_load_jumps_to_the_stored_seq_and_publishes_the_diff():
    bus = EventBus()
    state = DashboardState("s", bus=bus, now=lambda: T0)
    sub = bus.subscribe("t")
    async with state.transaction() as tx:
        tx.put_position("p-1", {"qty": "1"})
    first = state.snapshot()

    stored = _doc(41, "3.10", {"p-2": {"qty": "2", "pnl": {"net": "1"}}})
    payload = orjson.dumps(stored)
    change = await state.load(orjson.loads(payload), 41, reason="timer")

    assert state.seq == 41 and change.seq == 41 and change.prev == first.seq
    assert state.snapshot().payload == payload  # byte for byte what was stored
    assert change.ts == datetime(2024, 3, 1, 8, 0, 0, 250_000, tzinfo=UTC)
    assert change.reason == "timer" and change.significant == ()
    assert change.patch["positions"] == {"p-1": None, "p-2": stored["positions"]["p-2"]}
    assert apply_merge_patch(first.to_dict(), change.patch) == stored
    assert orjson.loads(change.patch_bytes) == change.patch
    await sub.get()  # the transaction's change
    item = await sub.get()
    assert isinstance(item, Change) and item is change
    assert bus.latest("s") is change.snapshot


async def test_load_after_load_diffs_member_by_member():
    state = DashboardState("s", now=lambda: T0)
    await state.load(_doc(5, "1.00", {"p-1": {"qty": "1", "mark": "10"}}), 5)
    change = await state.load(_doc(9, "2.00", {"p-1": {"qty": "1", "mark": "11"}}), 9)
    assert change.patch == {
        "seq": 9,
        "ts": "2024-03-01T08:00:00.250Z",
        "totals": {"net_pnl": "2.00"},
        "positions": {"p-1": {"mark": "11"}},
    }
    # the document's own seq follows the argument, whatever the stored doc said
    other = await state.load({**_doc(3, "2.00", {}), "ts": "garbage"}, 12)
    assert other.snapshot.doc["seq"] == 12
    assert other.snapshot.doc["ts"] == "2024-03-01T00:00:00.000Z"  # unreadable: load time


async def test_load_refuses_going_back_and_foreign_documents():
    state = DashboardState("s", now=lambda: T0)
    await state.load(_doc(5, "1", {}), 5)
    with pytest.raises(ValueError, match="above 5"):
        await state.load(_doc(5, "1", {}), 5)
    with pytest.raises(ValueError, match="strategy 'other'"):
        await state.load({**_doc(6, "1", {}), "strategy": "other"}, 6)
    assert state.seq == 5
    async with state.transaction() as tx:  # transactions carry on from the loaded seq
        tx.set_status("stopped")
    assert state.seq == 6
