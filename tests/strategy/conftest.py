"""Fixtures for the strategy core: a hand-built market, paper venues, a real store."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from state import DashboardState, EventBus
from strategy.clock import ManualClock
from strategy.config import StrategyConfig
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import PaperExchange
from strategy.store import Store
from tests.strategy.handfeed import HandFeed

T0 = datetime(2024, 3, 1, tzinfo=UTC)
FEES = {"binance": Decimal("0.0005"), "bybit": Decimal("0.00055"), "okx": Decimal("0.0005")}

#: A config whose every threshold the tests reason about; averaging off, so the spread
#: is the last settled rates' difference.
TEST_CONFIG = StrategyConfig(
    id="test-arb",
    venues=("binance", "bybit"),
    symbols=("BTC/USDT",),
    notional_per_position=Decimal("10000"),
    max_total_notional=Decimal("30000"),
    max_open_positions=3,
    planned_hold_hours=336,
    entry_margin=Decimal("0.03"),
    exit_erosion=Decimal("0.6"),
    erosion_warn=Decimal("0.4"),
    min_hold_hours=24,
    reentry_hours=0,
    signal_window_hours=0,
    divergence_warn_bps=Decimal("50"),
    divergence_limit_bps=Decimal("150"),
    stale_after_s=4 * 3600,
    max_drawdown=Decimal("1000"),
    cycle_s=3600,
    qty_step=Decimal("0.001"),
)


@dataclass
class Rig:
    """One strategy wired to paper venues on a HandFeed, a real store and a state."""

    feed: HandFeed
    clock: ManualClock
    store: Store
    state: DashboardState
    bus: EventBus
    exchanges: dict[str, PaperExchange]
    strategy: FundingArbitrageStrategy

    async def cycle(self, hours: float = 0) -> None:
        """Advance market time by ``hours``, then run one cycle."""
        self.clock.advance(hours * 3600)
        await self.strategy.run_cycle()

    async def cycles_until(self, when: datetime) -> None:
        while self.clock.now() < when:
            await self.cycle(1)


@pytest.fixture
async def make_rig(tmp_path) -> AsyncIterator[Callable[..., Any]]:
    stores: list[Store] = []

    async def make(
        feed: HandFeed,
        config: StrategyConfig = TEST_CONFIG,
        *,
        slippage_bps: Decimal = Decimal("1"),
        db: str = "dash.db",
        start: datetime | None = None,
    ) -> Rig:
        clock = ManualClock(start or feed.start)
        store = await Store.open(tmp_path / db)
        stores.append(store)
        bus = EventBus()
        state = DashboardState(config.id, bus=bus, now=clock.now)
        exchanges = {
            v: PaperExchange(
                v, feed, clock, taker_fee=FEES.get(v, Decimal("0.0005")), slippage_bps=slippage_bps
            )
            for v in config.venues
        }
        strategy = FundingArbitrageStrategy(config, exchanges, clock, store, state, bus)
        return Rig(feed, clock, store, state, bus, exchanges, strategy)

    yield make
    for store in stores:
        await store.close()
