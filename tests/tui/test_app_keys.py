"""The keys and panes, against a real server over fixed documents (deterministic)."""

from __future__ import annotations

import pytest

from tests.tui._fixed import FixedServer
from tests.tui._pilot import header, screen_text, toasts, until
from tui.app import DashApp
from tui.widgets import FilterBar, HelpScreen, PositionTable, StrategyPicker

SIZE = (160, 48)


def _ready(app: DashApp, server: FixedServer) -> bool:
    return app.rendered_seq == server.seq()


def _rows(app: DashApp) -> list[str]:
    table = app.table
    return [str(table.coordinate_to_cell_key((i, 0)).row_key.value) for i in range(table.row_count)]


async def test_filter_narrows_the_rows_and_escape_clears_it(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        assert app.table.row_count == 6
        await pilot.press("slash")
        assert isinstance(app.focused, FilterBar)
        await pilot.press("e", "t", "h")
        assert _rows(app) == ["p-0001"]
        assert app.table.border_title == "Positions 1 of 6"
        await pilot.press("enter")
        assert app.focused is app.table
        fixed.tick()  # later patches respect the filter
        await until(pilot, lambda: _ready(app, fixed), "the patch")
        assert _rows(app) == ["p-0001"]
        await pilot.press("slash", "escape")
        assert app.table.row_count == 6 and app.table.border_title == "Positions 6"


async def test_sort_keys_order_rows_and_keep_the_cursor_on_its_position(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        await pilot.press("down", "down")
        assert app.table.selected_id == "p-0002"
        await pilot.press("o", "o")  # id, then symbol
        assert app.table.model.sort_column == "symbol"
        symbols = [app.table.get_cell(pid, "symbol").plain for pid in _rows(app)]
        assert symbols == sorted(symbols)
        assert app.table.selected_id == "p-0002"
        await pilot.press("r")
        assert _rows(app)[0] == "p-0004"  # XRP/USDT sorts last
        assert "sorted by Symbol ▼" in app.table.border_subtitle
        assert app.table.selected_id == "p-0002"
        # A click on a header sorts by that column (below the table's top border).
        net_x = sum(c.get_render_width(app.table) for c in app.table.ordered_columns[:10])
        await pilot.click(PositionTable, offset=(net_x + 2, 1))
        assert app.table.model.sort_column == "net"
        nets = [app.table.model.sort_value(pid)[0] for pid in _rows(app)]
        assert nets == sorted(nets)
        await pilot.click(PositionTable, offset=(net_x + 2, 1))
        assert app.table.model.sort_reverse


async def test_rows_removed_above_keep_the_cursor_and_patches_keep_the_scroll(short_tmp):
    with FixedServer(short_tmp / "f.sock", positions=60) as server:
        app = DashApp(server.path)
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: _ready(app, server), "the snapshot")
            app.table.move_cursor(row=40)
            await pilot.pause()
            table = app.table
            assert table.selected_id == "p-0040"
            scroll = table.scroll_y
            assert scroll > 0
            server.tick()
            await until(pilot, lambda: _ready(app, server), "a patch of every row")
            assert table.selected_id == "p-0040" and table.scroll_y == scroll
            server.commit(lambda tx: tx.remove_position("p-0003"))
            await until(pilot, lambda: _ready(app, server), "the removal")
            assert "p-0003" not in table.rows
            assert table.selected_id == "p-0040" and table.cursor_row == 39


async def test_space_pauses_live_updates_and_resumes_from_the_latest(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        before = app.table.get_cell("p-0001", "net").plain
        await pilot.press("space")
        fixed.tick()
        seq = fixed.tick()
        await until(
            pilot,
            lambda: app.source.subscription.seqs.get("funding-arb") == seq,
            "the patches to arrive",
        )
        await pilot.pause(0.6)
        assert app.table.get_cell("p-0001", "net").plain == before
        assert "⏸ PAUSED +2" in header(app)
        assert before == "-2.50"
        await pilot.press("space")
        assert app.doc["seq"] == seq
        assert app.table.get_cell("p-0001", "net").plain == "-0.50"
        await pilot.pause(0.6)
        assert "PAUSED" not in header(app)


async def test_ping_shows_the_round_trip(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        await pilot.press("p")
        await until(pilot, lambda: app.last_ping is not None, "the pong")
        await until(pilot, lambda: any("Round trip" in t for t in toasts(app)), "the toast")
        assert any(f"server seq {fixed.seq()}" in t for t in toasts(app))


async def test_help_lists_the_keys(fixed: FixedServer):
    app = DashApp(fixed.path, read_only=True)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        assert "Pause or resume live updates" in text and "Command palette" in text
        assert "Close the selected position" not in text  # read-only
        assert "closing positions is disabled" in text
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_switching_strategy(fixed_two: FixedServer):
    app = DashApp(fixed_two.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(
            pilot, lambda: len(app.source.docs) == 2 and app.rendered_seq > 0, "both strategies"
        )
        assert app.strategy == "funding-arb" and app.table.row_count == 6
        await pilot.pause()
        assert "s Strategy" in screen_text(app).splitlines()[-1]
        await pilot.press("s")
        assert isinstance(app.screen, StrategyPicker)
        await pilot.press("up", "enter")  # strategies are listed by name
        await pilot.pause()
        assert app.strategy == "basis-arb"
        assert sorted(_rows(app)) == ["p-0100", "p-0101", "p-0102"]
        await pilot.pause(0.6)
        assert "basis-arb (1 of 2)" in header(app)
        fixed_two.tick()  # the other strategy's patches do not touch the table
        await pilot.pause(0.3)
        assert sorted(_rows(app)) == ["p-0100", "p-0101", "p-0102"]


async def test_a_reconnect_keeps_the_strategy_shown(fixed_two: FixedServer):
    app = DashApp(fixed_two.path, backoff=(0.05, 0.2))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: len(app.source.docs) == 2, "both strategies")
        await pilot.press("s", "up", "enter")
        await until(pilot, lambda: app.strategy == "basis-arb", "the switch")
        session = app.source.subscription.session
        fixed_two.stop()
        await until(pilot, lambda: app.source.link == "disconnected", "the disconnect")
        fixed_two.start()
        await until(
            pilot,
            lambda: (
                app.source.subscription.session not in (None, session)
                and len(app.source.docs) == 2
                and app.rendered_seq == app.source.docs["basis-arb"]["seq"]
            ),
            "the new session on screen",
        )
        assert app.strategy == "basis-arb"
        assert sorted(_rows(app)) == ["p-0100", "p-0101", "p-0102"]


async def test_the_palette_offers_the_actions(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        for title in (
            "Close position",
            "Ping",
            "Filter positions",
            "Sort by Net PnL",
            "Pause / resume",
            "Help",
            "Quit",
        ):
            assert title in titles
        assert "Switch strategy" not in titles  # only one strategy
        sort = next(c for c in app.get_system_commands(app.screen) if c.title == "Sort by APR")
        sort.callback()
        assert app.table.model.sort_column == "apr"


async def test_unknown_strategy_falls_back_with_a_warning(fixed: FixedServer):
    app = DashApp(fixed.path, strategy="nope")
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        assert app.strategy == "funding-arb"
        await until(pilot, lambda: any("No strategy 'nope'" in t for t in toasts(app)), "toast")


async def test_no_color_is_honoured(fixed: FixedServer, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        await pilot.pause()
        assert app.no_color
        plain = screen_colours(app)
        assert "critical" in screen_text(app)  # the level is in words, not only colour
    monkeypatch.delenv("NO_COLOR", raising=False)
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _ready(app, fixed), "the snapshot")
        await pilot.pause()
        coloured = screen_colours(app)
    assert all(c.red == c.green == c.blue for c in plain), "NO_COLOR leaves only greys"
    assert any(not c.red == c.green == c.blue for c in coloured)


def screen_colours(app: DashApp) -> set:
    """Every foreground and background colour on screen as the terminal would receive
    it (the app's line filters, NO_COLOR among them, are already applied)."""
    colours = set()
    update = app.screen._compositor.render_full_update()
    for line in update.strips:
        for strip in line:
            for segment in strip:
                style = segment.style
                if style is None:
                    continue
                for colour in (style.color, style.bgcolor):
                    if colour is not None:
                        colours.add(colour.get_truecolor())
    return colours
