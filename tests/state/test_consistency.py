"""Readers never see half an update, however the writer interleaves with them."""

from __future__ import annotations

import asyncio
import random
import threading
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from state import DashboardState

WRITES = 1000
READERS = 20


def _consistent(doc: Mapping[str, Any]) -> bool:
    positions = doc["positions"]
    totals = doc["totals"]
    if not totals:
        return not positions
    notional = sum((Decimal(p["notional"]) for p in positions.values()), Decimal(0))
    return (
        totals["open_positions"] == len(positions)
        and Decimal(totals["notional"]) == notional
        and totals["seq_hint"] == doc["seq"]
    )


async def test_concurrent_readers_never_see_totals_disagree_with_positions() -> None:
    state = DashboardState("consistency")
    rng = random.Random(7)
    done = asyncio.Event()
    seen: list[set[int]] = [set() for _ in range(READERS)]
    thread_reads = [0, 0]  # reads, inconsistent

    async def writer() -> None:
        live: dict[str, Decimal] = {}
        for n in range(WRITES):
            async with state.transaction("w") as tx:
                pid = f"p-{rng.randrange(12)}"
                if pid in live and rng.random() < 0.3:
                    tx.remove_position(pid)
                    del live[pid]
                else:
                    live[pid] = Decimal(rng.randrange(1, 10_000)) / 100
                    tx.put_position(pid, {"notional": live[pid], "n": n})
                # let every reader run between the position edit and the totals
                await asyncio.sleep(0)
                tx.set_totals({"open_positions": len(live), "notional": sum(live.values()),
                               "seq_hint": state.seq + 1})
            if n % 7 == 0:
                await asyncio.sleep(0)
        done.set()

    async def reader(k: int) -> None:
        last = -1
        while not done.is_set():
            snap = state.snapshot() if k % 2 else await state.read()
            assert snap.seq >= last, "seq went backwards"
            last = snap.seq
            assert snap.doc["seq"] == snap.seq
            assert _consistent(snap.doc), f"torn read at seq {snap.seq}"
            seen[k].add(snap.seq)
            await asyncio.sleep(0)

    def thread_reader() -> None:
        while not done.is_set():
            snap = state.snapshot()
            thread_reads[0] += 1
            if not _consistent(snap.doc) or snap.doc["seq"] != snap.seq:
                thread_reads[1] += 1

    thread = threading.Thread(target=thread_reader, daemon=True)
    thread.start()
    await asyncio.gather(writer(), *(reader(k) for k in range(READERS)))
    thread.join(timeout=5)

    assert state.seq == WRITES
    assert thread_reads[1] == 0, "a thread saw a torn document"
    assert thread_reads[0] > 0
    # readers really ran during the writes: each saw many distinct versions
    assert all(len(s) > WRITES // 4 for s in seen), [len(s) for s in seen]
