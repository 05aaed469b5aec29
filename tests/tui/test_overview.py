"""The "all strategies" overview (``a``): two real paper strategies in one process on one
socket, then the keys and the layout against a real server over fixed documents."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from ipc import Client
from tests.tui._fixed import FixedServer
from tests.tui._pilot import header, screen_text, until
from tests.tui.conftest import Paper
from tui.app import DashApp
from tui.view import TOTAL, money
from tui.widgets import OverviewScreen, OverviewTable, StrategyPicker

SIZE = (160, 48)
DESK = ("btc-arb", "eth-arb")


def _table(app: DashApp) -> OverviewTable:
    screen = app.screen
    assert isinstance(screen, OverviewScreen), f"the overview is not shown but {screen}"
    return screen.table


def _keys(table: OverviewTable) -> list[str]:
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


def _cell(table: OverviewTable, row: str, column: str) -> str:
    return table.get_cell(row, column).plain


def _drawn(app: DashApp, names: tuple[str, ...]) -> bool:
    """The overview shows the documents the app holds now (the seq of each)."""
    screen = app.screen
    if not isinstance(screen, OverviewScreen):
        return False
    summaries = screen.table.model.summaries
    docs = app.source.docs
    return all(
        name in summaries and name in docs and summaries[name].seq == docs[name]["seq"]
        for name in names
    )


def _net(doc: dict[str, Any]) -> Decimal:
    return Decimal(doc["totals"]["net_pnl"])


async def test_overview_of_two_paper_strategies_sums_them_and_follows_patches(desk: Paper):
    app = DashApp(desk.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot,
            lambda: all(app.source.docs.get(s, {}).get("positions") for s in DESK),
            "a position in each strategy",
            within=30,
        )
        shown, other = app.strategy, next(s for s in DESK if s != app.strategy)
        assert shown in DESK
        await pilot.press("a")
        await until(pilot, lambda: _drawn(app, DESK), "the overview of both")
        table = _table(app)
        assert _keys(table) == [*DESK, TOTAL]
        docs = {s: app.source.docs[s] for s in DESK}
        want = _net(docs["btc-arb"]) + _net(docs["eth-arb"])
        assert _net(docs["btc-arb"]) != _net(docs["eth-arb"])  # a swapped row would show
        assert table.model.total.net == want  # exact Decimal sum
        assert _cell(table, TOTAL, "net") == money(want, signed=True)
        assert _cell(table, TOTAL, "strategy") == "Total"
        assert _cell(table, TOTAL, "open") == str(
            sum(d["totals"]["open_positions"] for d in docs.values())
        )
        for name, doc in docs.items():
            assert _cell(table, name, "strategy") == name
            assert _cell(table, name, "status") == doc["status"] == "running"
            assert _cell(table, name, "open") == str(doc["totals"]["open_positions"])
            assert _cell(table, name, "net") == money(doc["totals"]["net_pnl"], signed=True)
            assert _cell(table, name, "unrealized") == money(
                doc["totals"]["unrealized_pnl"], signed=True
            )
        assert "All strategies (2)" in header(app)

        # A patch (a position of the strategy shown is closed) changes its row and the
        # total in place; the other row is not redrawn and the cursor stays put.
        await pilot.press(*["down"] * DESK.index(shown))
        assert table.selected_id == shown
        untouched = {c: table.get_cell(other, c) for c in table.column_keys}
        before = docs[shown]
        pid = next(iter(before["positions"]))
        client = Client(desk.socket)
        await client.connect()
        try:
            ticket = await client.close_position(pid, strategy=shown, idempotency_key="ovw-1")
            await client.wait_command(ticket["command_id"], timeout_s=20)
        finally:
            await client.close()
        await until(
            pilot,
            lambda: pid not in app.source.docs[shown]["positions"] and _drawn(app, DESK),
            "the close on the overview",
        )
        after = app.source.docs[shown]
        assert after["totals"]["open_positions"] == before["totals"]["open_positions"] - 1
        assert _cell(table, shown, "open") == str(after["totals"]["open_positions"])
        assert _cell(table, shown, "net") == money(after["totals"]["net_pnl"], signed=True)
        total = _net(after) + _net(app.source.docs[other])
        assert table.model.total.net == total
        assert _cell(table, TOTAL, "net") == money(total, signed=True)
        assert _cell(table, TOTAL, "open") == str(
            after["totals"]["open_positions"] + docs[other]["totals"]["open_positions"]
        )
        assert table.selected_id == shown
        assert all(table.get_cell(other, c) is cell for c, cell in untouched.items())

        # Enter on the other strategy's row shows it in the main view.
        await pilot.press("up" if DESK.index(other) < DESK.index(shown) else "down")
        assert table.selected_id == other
        await pilot.press("enter")
        await until(pilot, lambda: not isinstance(app.screen, OverviewScreen), "the main view")
        assert app.strategy == other
        assert {k.value for k in app.table.rows} == set(app.source.docs[other]["positions"])
        await pilot.pause(0.6)
        assert f"{other} (1 of 2)" in header(app)


async def test_keys_picker_palette_and_footer(fixed_two: FixedServer):
    app = DashApp(fixed_two.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: len(app.source.docs) == 2 and app.rendered_seq > 0, "both strategies"
        )
        await pilot.pause()
        assert " a All " in screen_text(app).splitlines()[-1]
        assert "All strategies" in [c.title for c in app.get_system_commands(app.screen)]
        # The picker's first entry opens the overview; Esc returns.
        await pilot.press("s")
        assert isinstance(app.screen, StrategyPicker)
        assert "All strategies" in screen_text(app)
        await pilot.press("home", "enter")
        await until(pilot, lambda: _drawn(app, ("funding-arb", "basis-arb")), "the overview")
        footer = screen_text(app).splitlines()[-1]
        assert "esc Back" in footer and "Filter" not in footer
        await pilot.press("escape")
        assert app.screen is app.screen_stack[0] and app.strategy == "funding-arb"
        # `a` opens and closes it; a strategy's patch changes its row and the total.
        await pilot.press("a")
        await until(pilot, lambda: _drawn(app, ("funding-arb", "basis-arb")), "the overview")
        table = _table(app)
        assert _keys(table) == ["basis-arb", "funding-arb", TOTAL]  # as the picker lists
        assert _cell(table, TOTAL, "net") == "-20.00"
        assert _cell(table, TOTAL, "open") == "9"
        assert _cell(table, "basis-arb", "risk") == "critical"
        assert table.get_cell("basis-arb", "risk").style == "bold white on red"
        fixed_two.commit(
            lambda tx: tx.set_totals({"open_positions": 3, "net_pnl": "7.25"}), "basis-arb"
        )
        await until(pilot, lambda: _cell(table, "basis-arb", "net") == "+7.25", "the patch")
        assert _cell(table, TOTAL, "net") == "-2.75"
        assert table.model.total.net == Decimal("-2.75")
        # Space pauses it as it pauses the main view; space again shows the newest.
        await pilot.press("space")
        seq = fixed_two.commit(lambda tx: tx.set_totals({"net_pnl": "1.00"}), "basis-arb")
        await until(pilot, lambda: app.source.docs["basis-arb"]["seq"] == seq, "the paused patch")
        await pilot.pause(0.3)
        assert _cell(table, "basis-arb", "net") == "+7.25"
        assert "PAUSED" in header(app)
        await pilot.press("space")
        await until(pilot, lambda: _cell(table, "basis-arb", "net") == "+1.00", "the resume")
        await pilot.press("a")
        assert not isinstance(app.screen, OverviewScreen)
        # The picker from the overview marks "All strategies"; a strategy closes it.
        await pilot.press("a", "s")
        assert "▶ All strategies" in screen_text(app)
        await pilot.press("end", "enter")  # funding-arb
        await until(pilot, lambda: not isinstance(app.screen, OverviewScreen), "the main view")
        assert app.strategy == "funding-arb"
        await pilot.press("question_mark")
        assert "All strategies and their total" in screen_text(app)
        await pilot.press("escape")
        # `a` typed into the filter is text, not the key; the palette offers it by name.
        await pilot.press("slash", "a")
        assert not isinstance(app.screen, OverviewScreen)
        assert app.filter_bar.value == "a"
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"All strategies")
        await until(pilot, lambda: "One row per strategy" in screen_text(app), "the command")
        await pilot.press("enter")
        await until(pilot, lambda: _drawn(app, ("funding-arb", "basis-arb")), "the overview")


async def test_fits_80x24_and_works_read_only(fixed_two: FixedServer):
    app = DashApp(fixed_two.path, read_only=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await until(
            pilot, lambda: len(app.source.docs) == 2 and app.rendered_seq > 0, "both strategies"
        )
        await pilot.press("a")
        await until(pilot, lambda: _drawn(app, ("funding-arb", "basis-arb")), "the overview")
        table = _table(app)
        await pilot.pause()
        assert {"strategy", "status", "net", "risk"} <= set(table.column_keys)
        assert "notional" not in table.column_keys  # dropped to fit
        assert table.virtual_size.width <= table.size.width  # no sideways scrolling
        lines = screen_text(app).splitlines()
        assert "read-only" in lines[0]
        rows = {line.split()[0]: line for line in lines if line.split()[:1]}
        assert "-20.00" in rows["Total"] and "9" in rows["Total"].split()
        assert rows["basis-arb"].split()[-1] == "critical"
        await pilot.press("enter")  # basis-arb, the first row
        await until(pilot, lambda: not isinstance(app.screen, OverviewScreen), "the main view")
        assert app.strategy == "basis-arb" and app.read_only
        assert sorted(app.table.rows) == ["p-0100", "p-0101", "p-0102"]


async def test_hidden_with_one_strategy(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.rendered_seq == fixed.seq(), "the snapshot")
        await pilot.pause()
        assert " a All " not in screen_text(app).splitlines()[-1]
        assert "All strategies" not in [c.title for c in app.get_system_commands(app.screen)]
        await pilot.press("a")
        await pilot.pause()
        assert not isinstance(app.screen, OverviewScreen)
