"""The whole recorded period at ``--speed max``: positions open, collect funding, close."""

from __future__ import annotations

import time
from decimal import Decimal as D

from state import DashboardState, EventBus
from strategy.clock import ManualClock
from strategy.config import BACKTEST_CYCLE_S, StrategyConfig
from strategy.documents import money
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import PaperExchange
from strategy.feeds import RecordedFeed
from strategy.store import Store

#: What the issue allows for 18 months, 2 symbols, 3 venues on this 2-core machine.
BUDGET_S = 60


async def test_backtest_over_the_recorded_period(tmp_path):
    feed = RecordedFeed.default()
    config = StrategyConfig(cycle_s=BACKTEST_CYCLE_S)
    clock = ManualClock(feed.start)
    store = await Store.open(tmp_path / "backtest.db")
    bus = EventBus()
    state = DashboardState(config.id, bus=bus, now=clock.now)
    exchanges = {v: PaperExchange(v, feed, clock) for v in config.venues}
    strategy = FundingArbitrageStrategy(config, exchanges, clock, store, state, bus)
    started = time.perf_counter()
    try:
        await strategy.restore()
        assert await strategy.run(until=feed.end) == "until"
        await store.flush()
        elapsed = time.perf_counter() - started

        summary = strategy.summary()
        rows = await store.positions(config.id)
        closed = [r for r in rows if r.closed_at is not None]
        payments = await store.funding_payments(strategy=config.id)
        print(
            f"\nbacktest {feed.start:%Y-%m-%d}..{feed.end:%Y-%m-%d}: {summary['cycles']} cycles "
            f"in {elapsed:.1f} s; positions opened {summary['positions_opened']}, closed "
            f"{summary['positions_closed']}; funding {money(summary['funding_collected'])}, "
            f"fees {money(summary['fees'])}, net PnL {money(summary['net_pnl'])}, "
            f"max drawdown {money(summary['max_drawdown'])}; exits {summary['close_reasons']}"
        )
        assert elapsed < BUDGET_S
        assert summary["cycle_errors"] == 0
        assert len(rows) == summary["positions_opened"] >= 10
        assert len(closed) == summary["positions_closed"] >= 10
        # the database agrees with the book: funding and realised PnL
        assert sum((p.amount for p in payments), D(0)) == summary["funding_collected"]
        assert summary["funding_collected"] > 0
        assert sum((r.realized_pnl or D(0) for r in closed), D(0)) == summary["realized_pnl"]
        assert state.seq >= summary["cycles"]  # every cycle committed to the state
        totals = state.snapshot().doc["totals"]
        assert totals["open_positions"] == summary["open_positions"]
    finally:
        await store.close()
