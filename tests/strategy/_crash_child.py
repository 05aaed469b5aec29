"""A strategy process for the crash test: runs hour by hour until killed with SIGKILL.

Usage: ``python -m tests.strategy._crash_child DB``. Prints ``ready`` once positions are
open and some funding is committed, then keeps cycling (slowly, so the kill lands
mid-run with writes in flight).
"""

from __future__ import annotations

import asyncio
import sys

from strategy.clock import ManualClock
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import PaperExchange
from strategy.store import Store
from tests.strategy.markets import CRASH_CONFIG, crash_market


async def main(db: str) -> None:
    feed = crash_market()
    store = await Store.open(db)
    clock = ManualClock(feed.start)
    exchanges = {v: PaperExchange(v, feed, clock) for v in CRASH_CONFIG.venues}
    strategy = FundingArbitrageStrategy(CRASH_CONFIG, exchanges, clock, store)
    announced = False
    while True:
        await strategy.run_cycle()
        clock.advance(CRASH_CONFIG.cycle_s)
        if not announced and strategy.cycles >= 30:
            await store.flush()
            print("ready", flush=True)
            announced = True
        await asyncio.sleep(0.002 if announced else 0)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
