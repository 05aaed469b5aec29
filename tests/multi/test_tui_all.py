"""``dash tui`` over every running process: desk (btc-arb, eth-arb) and solo, found in
the runtime dir, in one app; the picker and the overview list all three, and a close of
solo's position goes to solo's socket."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from cli._errors import UNAVAILABLE, CliError
from cli._target import resolve
from cli.tui_cmd import followed
from tests.multi._trio import IDS, Trio
from tests.tui._pilot import header, screen_text, toasts, until
from tui.app import DashApp
from tui.source import LiveSource, MultiSource
from tui.view import TOTAL, money
from tui.widgets import ConfirmClose, OverviewScreen, StrategyPicker

SIZE = (160, 48)


@pytest.fixture
def runtime(trio: Trio, monkeypatch: pytest.MonkeyPatch) -> Iterator[Trio]:
    """This process sees the trio's runtime dir (and no DASH_* settings), as `dash` does."""
    for name in ("DASH_SOCKET", "DASH_STRATEGY", "DASH_CONFIG"):
        monkeypatch.delenv(name, raising=False)
    for name in ("XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", "XDG_DATA_HOME"):
        monkeypatch.setenv(name, trio.env[name])
    yield trio


def test_without_a_socket_every_live_socket_is_followed(runtime: Trio) -> None:
    both = {runtime.desk.socket, runtime.solo.socket}
    sockets, target = followed()
    assert set(sockets) == both and len(sockets) == 2
    assert target.strategy is None
    # --strategy only chooses the strategy shown first, whichever process serves it.
    sockets, target = followed(strategy="solo", timeout=2.0)
    assert set(sockets) == both
    assert (target.strategy, target.timeout) == ("solo", 2.0)
    # The other commands still want one (several running is a usage error there).
    with pytest.raises(CliError, match="several strategies are running"):
        resolve()
    # A strategy that runs nowhere is refused, as with one socket.
    with pytest.raises(CliError, match="'nope' is not running") as refused:
        followed(strategy="nope")
    assert refused.value.code == UNAVAILABLE


def test_a_socket_named_is_the_only_one_followed(
    runtime: Trio, monkeypatch: pytest.MonkeyPatch
) -> None:
    sockets, target = followed(socket=str(runtime.solo.socket))
    assert sockets == [runtime.solo.socket] and target.strategy is None
    monkeypatch.setenv("DASH_SOCKET", str(runtime.desk.socket))
    sockets, target = followed(strategy="eth-arb")
    assert sockets == [runtime.desk.socket] and target.strategy == "eth-arb"
    assert isinstance(DashApp(sockets).source, LiveSource)


def _net(doc: dict[str, object]) -> Decimal:
    totals = doc["totals"]
    assert isinstance(totals, dict)
    return Decimal(totals["net_pnl"])


async def test_one_app_over_both_processes(runtime: Trio) -> None:
    sockets, target = followed(strategy="btc-arb")
    app = DashApp(sockets, strategy=target.strategy, timeout=target.timeout)
    assert isinstance(app.source, MultiSource)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(
            pilot,
            lambda: all(app.source.docs.get(s, {}).get("positions") for s in IDS),
            "a position in each of the three strategies",
            within=30,
        )
        assert app.strategy == "btc-arb"
        await until(pilot, lambda: "2/2 linked" in header(app), "both processes linked")
        # the header is redrawn at its own pace, after the documents arrived
        await until(pilot, lambda: "btc-arb (1 of 3)" in header(app), "the count of three")

        # `s` lists all three, from both processes.
        await pilot.press("s")
        await until(pilot, lambda: isinstance(app.screen, StrategyPicker), "the picker")
        assert isinstance(app.screen, StrategyPicker)
        assert app.screen.strategies == sorted(IDS)
        text = screen_text(app)
        assert all(f"  {s}  paper" in text or f"▶ {s}  paper" in text for s in IDS)
        await pilot.press("escape")

        # `a`: a row each and the exact total of the three documents as served.
        served = {s: runtime.doc(s) for s in IDS}
        await pilot.press("a")
        await until(pilot, lambda: isinstance(app.screen, OverviewScreen), "the overview")
        screen = app.screen
        assert isinstance(screen, OverviewScreen)
        table = screen.table
        await until(pilot, lambda: set(table.model.summaries) == set(IDS), "three rows")
        keys = [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(3 + 1)]
        assert keys == [*sorted(IDS), TOTAL]
        want = sum((_net(served[s]) for s in IDS), Decimal(0))
        assert table.model.total.net == want
        assert table.get_cell(TOTAL, "net").plain == money(want, signed=True)
        for name in IDS:
            assert table.get_cell(name, "net").plain == money(
                served[name]["totals"]["net_pnl"], signed=True
            )
        assert "All strategies (3)" in header(app)

        await pilot.press("escape")
        assert app.strategy == "btc-arb"

        # Switching to solo (the picker's last entry) shows its positions.
        await pilot.press("s", "end", "enter")
        await until(pilot, lambda: app.screen is app.screen_stack[0], "the main view")
        assert app.strategy == "solo"
        solo = set(runtime.positions("solo"))
        assert solo and {k.value for k in app.table.rows} == solo

        # `c` + `y` closes solo's position: sent to solo's socket, not desk's.
        desk_before = {s: set(runtime.positions(s)) for s in ("btc-arb", "eth-arb")}
        pid = app.table.selected_id
        assert pid in solo
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmClose), "the dialog")
        await pilot.press("y")
        await until(pilot, lambda: pid not in app.table.rows, "the row to go", within=20)
        await until(
            pilot,
            lambda: any(f"Close of {pid} completed" in t for t in toasts(app)),
            "the completed notification",
            within=20,
        )
        assert pid not in runtime.positions("solo")
        assert {s: set(runtime.positions(s)) for s in desk_before} == desk_before
        assert not any("refused" in t or "not sent" in t for t in toasts(app))
