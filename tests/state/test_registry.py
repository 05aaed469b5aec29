"""StateRegistry and the package's public surface."""

from __future__ import annotations

import pytest

import state
from state import DashboardState, EventBus, StateRegistry


async def test_registry_hosts_several_strategies_on_one_bus() -> None:
    bus = EventBus()
    registry = StateRegistry()
    a = registry.add(DashboardState("alpha", bus=bus))
    b = registry.add(DashboardState("beta", bus=bus, mode="live"))
    assert registry.ids() == ("alpha", "beta")
    assert list(registry) == ["alpha", "beta"]
    assert len(registry) == 2 and "beta" in registry and "gamma" not in registry
    assert registry["alpha"] is a and registry.get("beta") is b
    assert registry.get("gamma") is None
    assert registry.states() == (a, b)
    with pytest.raises(KeyError):
        registry["gamma"]
    with pytest.raises(ValueError, match="already registered"):
        registry.add(DashboardState("alpha"))

    sub = bus.subscribe("beta-only", strategy="beta")
    async with a.transaction() as tx:
        tx.set_status("running")
    async with b.transaction() as tx:
        tx.set_status("running")
    item = sub.get_nowait()
    assert item.strategy == "beta" and sub.qsize() == 0
    assert (a.seq, b.seq) == (1, 1)
    assert b.snapshot().doc["strategy"] == "beta" and b.snapshot().doc["mode"] == "live"

    assert registry.remove("alpha") is a
    assert registry.ids() == ("beta",)


def test_all_is_sorted_and_complete() -> None:
    public = {name for name in vars(state) if not name.startswith("_")}
    modules = {"alerts", "replay"}  # subpackages: alert sinks, historical replay
    assert set(state.__all__) == public - modules - {"annotations"}
    assert state.__all__ == sorted(state.__all__, key=lambda n: (not n.isupper(), n))
