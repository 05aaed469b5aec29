"""A dead sink never slows the strategy: its loop lag is the same with and without one.

The "strategy" is a task committing DashboardState changes every few milliseconds and
publishing notices, as the real one does; its lag is how late each wake-up comes.
"""

from __future__ import annotations

import asyncio
import statistics
import time
from datetime import UTC, datetime
from decimal import Decimal

from state import DashboardState, EventBus, Notice
from state.alerts import AlertManager
from tests.alerts._helpers import manager, slack, telegram, webhook
from tests.alerts._http import BlackHole, FakeService, Reply, unused_port
from tests.alerts._samples import DATA, STRATEGY

PERIOD_S = 0.003
TICKS = 300


async def run_strategy(bus: EventBus) -> list[float]:
    state = DashboardState(STRATEGY, bus=bus)
    lags: list[float] = []
    for tick in range(TICKS):
        started = time.monotonic()
        await asyncio.sleep(PERIOD_S)
        lags.append(time.monotonic() - started - PERIOD_S)
        async with state.transaction("tick") as tx:
            tx.set_clock(datetime.now(UTC))
            tx.put_market("BTC/USDT", {"binance": {"mark": str(Decimal(30000) + tick)}})
        if tick % 3 == 0:  # far more notices than a real strategy ever publishes
            bus.publish(Notice(STRATEGY, "alert", {**DATA["alert"], "position": f"p-{tick}"}))
            bus.publish(
                Notice(STRATEGY, "position_opened", {**DATA["position_opened"], "qty": tick})
            )
    return lags


def summary(lags: list[float]) -> tuple[float, float]:
    ordered = sorted(lags)
    return statistics.mean(lags), ordered[int(len(ordered) * 0.95)]


async def test_dead_sinks_leave_the_strategy_loop_lag_unchanged(black_hole: BlackHole) -> None:
    baseline_mean, baseline_p95 = summary(await run_strategy(EventBus()))

    with FakeService(default=Reply(500, b"down for maintenance")) as failing:
        bus = EventBus()
        mgr: AlertManager = manager(
            bus,
            telegram(f"http://127.0.0.1:{unused_port()}", give_up_after_s=30, max_attempts=100),
            webhook(black_hole.base_url, timeout_s=0.2, give_up_after_s=30, max_attempts=100),
            slack(failing.base_url, give_up_after_s=30, max_attempts=100, queue_max=10),
        )
        mgr.start()
        dead_mean, dead_p95 = summary(await run_strategy(bus))
        sinks = {s.name: s.stats for s in mgr.sinks}
        await mgr.stop(grace_s=0.1)
        failing_requests = len(failing.requests)

    print(
        f"\nstrategy lag ms  baseline mean {baseline_mean * 1e3:.3f} p95 {baseline_p95 * 1e3:.3f}"
        f" | dead sinks mean {dead_mean * 1e3:.3f} p95 {dead_p95 * 1e3:.3f}"
    )
    # The sinks really were failing and backed up while the strategy ran...
    assert all(stats.sent == 0 for stats in sinks.values())
    assert all(stats.retries > 0 for stats in sinks.values())
    assert all(stats.dropped > 0 for stats in sinks.values())
    assert failing_requests > 5
    # ...and the strategy did not notice.
    assert dead_mean < baseline_mean + 0.002
    assert dead_p95 < baseline_p95 + 0.004
