"""The package's public surface, and the import rule that state/ never pulls in strategy/."""

from __future__ import annotations

import subprocess
import sys

import state.alerts


def test_all_is_sorted_and_complete() -> None:
    exported = state.alerts.__all__
    assert exported == sorted(exported, key=lambda n: (not n.isupper(), n))
    public = {
        name
        for name, value in vars(state.alerts).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith("state.alerts")
    }
    assert public <= set(exported)
    assert all(hasattr(state.alerts, name) for name in exported)


def test_importing_alerts_does_not_import_strategy_and_state_does_not_import_httpx() -> None:
    code = (
        "import sys, state; assert 'httpx' not in sys.modules; "
        "import state.alerts; "
        "assert not any(m == 'strategy' or m.startswith('strategy.') for m in sys.modules)"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
