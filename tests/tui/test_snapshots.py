"""Screenshots of a deterministic state (pytest-textual-snapshot; update with
``pytest tests/tui/test_snapshots.py --snapshot-update`` and review the SVGs).

The app follows a real server over fixed documents: fixed market clock (so every
countdown is the same), fixed commit times, a frozen monotonic clock for the header's
ages, and a fixed series of patches for the sparklines and a funding payment.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest
from textual.pilot import Pilot

from tests.tui._docs import totals
from tests.tui._fixed import FixedServer
from tests.tui._pilot import until
from tui.app import DashApp
from tui.widgets import OverviewScreen


@pytest.fixture
def server(short_tmp: Path) -> Iterator[FixedServer]:
    with FixedServer(short_tmp / "f.sock") as fixed:
        yield fixed


def _frozen() -> float:
    return 1000.0


def settle(server: FixedServer, *keys: str) -> Callable[[Pilot[None]], Awaitable[None]]:
    """Wait for the snapshot, select p-0001, play eight cycles and a funding payment,
    press ``keys``, and wait until the last seq is on screen."""

    async def run_before(pilot: Pilot[None]) -> None:
        app = pilot.app
        assert isinstance(app, DashApp)
        await until(pilot, lambda: app.rendered_seq == server.seq(), "the snapshot")
        await pilot.press("down")
        for _ in range(8):
            server.tick([1, 2, 3])
        final = server.commit(
            lambda tx: tx.update_position(
                "p-0001", {"short": {"funding": "1.90"}, "funding_collected": "3.90"}
            )
        )
        await until(pilot, lambda: app.rendered_seq == final, "the last patch")
        if keys:
            await pilot.press(*keys)
        await pilot.pause()

    return run_before


def test_dashboard_80x24(snap_compare, server: FixedServer):
    app = DashApp(server.path, monotonic=_frozen)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle(server))


def test_dashboard_160x48(snap_compare, server: FixedServer):
    app = DashApp(server.path, monotonic=_frozen)
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle(server))


def test_close_dialog_80x24(snap_compare, server: FixedServer):
    app = DashApp(server.path, monotonic=_frozen)
    assert snap_compare(app, terminal_size=(80, 24), run_before=settle(server, "c"))


def test_help_160x48(snap_compare, server: FixedServer):
    app = DashApp(server.path, monotonic=_frozen)
    assert snap_compare(app, terminal_size=(160, 48), run_before=settle(server, "question_mark"))


def test_overview_80x24(snap_compare, short_tmp: Path):
    """Two strategies, one with other figures (a patch before the overview opens)."""
    with FixedServer(short_tmp / "f.sock", strategies=("funding-arb", "basis-arb")) as two:

        async def run_before(pilot: Pilot[None]) -> None:
            app = pilot.app
            assert isinstance(app, DashApp)
            await until(pilot, lambda: len(app.source.docs) == 2, "both strategies")
            changed = {**totals(3), "net_pnl": "12.75", "unrealized_pnl": "-1.25"}
            two.commit(lambda tx: tx.set_totals(changed), "basis-arb")
            seq = two.seq("basis-arb")
            await until(pilot, lambda: app.source.docs["basis-arb"]["seq"] == seq, "the patch")
            await pilot.press("a")
            await until(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
            await pilot.pause()

        app = DashApp(two.path, monotonic=_frozen)
        assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
