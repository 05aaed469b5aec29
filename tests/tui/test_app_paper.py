"""The app against a real paper strategy (``dash run --speed 3600``) on a real socket."""

from __future__ import annotations

import asyncio
from typing import Any

from textual.css.query import NoMatches

from tests.tui._pilot import header, screen_text, toasts, until
from tests.tui.conftest import Paper
from tui.app import DashApp
from tui.view import market_time, money, position_cells
from tui.widgets import ConfirmClose

SIZE = (160, 48)


def _filled(app: DashApp, rows: int = 1) -> bool:
    return app.rendered_seq > 0 and app.table.row_count >= rows


async def test_the_table_fills_from_the_snapshot(paper: Paper):
    app = DashApp(paper.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _filled(app, 2), "the first positions")
        doc, table = app.doc, app.table
        positions = doc["positions"]
        assert {key.value for key in table.rows} == set(positions)
        for pid, pos in positions.items():
            assert table.get_cell(pid, "symbol").plain == pos["symbol"]
            assert table.get_cell(pid, "venues").plain == (
                f"{pos['long']['venue']}/{pos['short']['venue']}"
            )
            assert table.get_cell(pid, "net").plain == money(pos["pnl"]["net"], signed=True)
            assert table.get_cell(pid, "risk").plain == pos["risk"]["level"]
        top = header(app)
        assert "funding-arb" in top and "paper" in top and "● live" in top
        assert f"seq {doc['seq']}" in top
        text = screen_text(app)
        assert f"Open {doc['totals']['open_positions']}" in text
        assert "BTC/USDT" in text and "Markets" in text and "Alerts" in text


async def test_a_patch_updates_exactly_the_changed_cells(paper: Paper):
    frames: list[tuple[int, dict[str, Any], dict[tuple[str, str], Any], str | None]] = []
    app = DashApp(paper.socket)

    def capture(seq: int, ts: str) -> None:
        try:
            table = app.table
        except NoMatches:  # the app is shutting down
            return
        cells = {
            (key.value, col): table.get_cell(key.value, col)
            for key in table.rows
            for col in table.column_keys
        }
        frames.append((app.doc["seq"], app.doc, cells, table.selected_id))

    app._on_render = capture
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _filled(app, 2), "two positions")
        await pilot.press("down")
        selected = app.table.selected_id
        assert selected is not None and app.table.cursor_row == 1
        start = len(frames)
        await until(pilot, lambda: len(frames) > start + 20, "twenty more frames")
        columns = app.table.column_keys

    pairs = [
        (a, b)
        for a, b in zip(frames[start:], frames[start + 1 :], strict=False)
        if b[0] == a[0] + 1 and set(a[1]["positions"]) == set(b[1]["positions"])
    ]
    assert pairs, "no two consecutive seqs were drawn one frame apart"
    changed = unchanged = 0
    for (_, doc_a, cells_a, _), (_, doc_b, cells_b, cursor) in pairs:
        assert cursor == selected  # the cursor stays on its position
        now_a, now_b = market_time(doc_a), market_time(doc_b)
        for pid in doc_b["positions"]:
            want_a = position_cells(pid, doc_a["positions"][pid], now_a)
            want_b = position_cells(pid, doc_b["positions"][pid], now_b)
            for col in columns:
                cell = cells_b[(pid, col)]
                assert cell.plain == want_b[col].text
                if want_a[col] == want_b[col]:
                    assert cell is cells_a[(pid, col)], f"{pid}/{col} was redrawn unchanged"
                    unchanged += 1
                else:
                    assert cell is not cells_a[(pid, col)]
                    changed += 1
    assert changed and unchanged


async def test_closing_a_position_with_c_and_confirm(paper: Paper):
    app = DashApp(paper.socket)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: _filled(app), "a position")
        pid = app.table.selected_id
        assert pid is not None
        await pilot.press("c")
        await until(pilot, lambda: isinstance(app.screen, ConfirmClose), "the dialog")
        dialog = screen_text(app)
        assert f"Close position {pid}?" in dialog
        assert "Current net PnL:" in dialog and "USDT" in dialog
        await pilot.press("y")
        await until(pilot, lambda: pid not in app.table.rows, "the row to go")
        await until(
            pilot,
            lambda: any(f"Close of {pid} completed" in t for t in toasts(app)),
            "the completed notification",
        )
        assert pid not in app.doc["positions"]


async def test_disconnect_then_reconnect_rerenders_from_the_fresh_snapshot(paper: Paper):
    app = DashApp(paper.socket, backoff=(0.05, 0.3))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _filled(app, 2), "two positions")
        session = app.source.subscription.session
        before = {key.value: app.table.get_cell(key.value, "symbol") for key in app.table.rows}
        await asyncio.to_thread(paper.stop)
        await until(pilot, lambda: app.source.link == "disconnected", "the disconnected state")
        await pilot.pause(0.6)  # a tick of the header
        assert "DISCONNECTED" in header(app) and "reconnecting" in header(app)
        assert app.has_class("-stale")
        await asyncio.to_thread(paper.start)
        await until(
            pilot,
            lambda: (
                app.source.link == "connected"
                and app.source.subscription.session not in (None, session)
                and app.rendered_seq == app.doc.get("seq")
            ),
            "the new session's snapshot on screen",
        )
        await pilot.pause(0.6)
        assert "● live" in header(app) and not app.has_class("-stale")
        shown = {key.value for key in app.table.rows}
        assert shown == set(app.doc["positions"])
        kept = shown & set(before)
        assert kept, "the restarted strategy should resume its open positions"
        for pid in kept:  # rows it kept were updated in place, not rebuilt
            assert app.table.get_cell(pid, "symbol") is before[pid]


async def test_read_only_hides_and_refuses_closing(paper: Paper):
    app = DashApp(paper.socket, read_only=True)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await until(pilot, lambda: _filled(app), "a position")
        count = len(app.doc["positions"])
        assert "read-only" in header(app)
        assert "Close" not in screen_text(app).splitlines()[-1]  # the footer
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert "Close position" not in titles and "Ping" in titles
        await pilot.press("c")
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmClose)
        app.table.request_close()  # even when asked directly, nothing is sent
        await pilot.pause(0.3)
        assert not isinstance(app.screen, ConfirmClose)
        assert len(app.doc["positions"]) == count


async def test_a_read_only_server_makes_the_app_read_only(paper_read_only: Paper):
    app = DashApp(paper_read_only.socket)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: _filled(app), "a position")
        await until(pilot, lambda: not app.table.allow_close, "read-only from the hello")
        assert app.read_only
        await pilot.pause(0.6)
        assert "read-only" in header(app)
        assert "Close" not in screen_text(app).splitlines()[-1]
