"""One app over two servers (two processes, as far as the app can tell): a server that
stops keeps its strategy listed, marked in the header, and the app goes on. With
discovery (``dash tui`` following every process), servers that start later join and
those that stop cleanly leave."""

from __future__ import annotations

from functools import partial
from pathlib import Path

from cli._target import rescan
from tests.tui._fixed import FixedServer
from tests.tui._pilot import header, toasts, until
from tui.app import DashApp
from tui.source import Discovery, MultiSource
from tui.widgets import OverviewScreen, StrategyPicker

SIZE = (160, 48)


async def test_a_server_that_stops_stays_listed_and_comes_back(short_tmp: Path) -> None:
    with (
        FixedServer(short_tmp / "a.sock") as first,
        FixedServer(short_tmp / "b.sock", strategies=("basis-arb",)) as second,
    ):
        app = DashApp([first.path, second.path], strategy="basis-arb", backoff=(0.05, 0.2))
        async with app.run_test(size=SIZE) as pilot:
            await until(pilot, lambda: len(app.source.docs) == 2, "both servers' documents")
            await until(pilot, lambda: app.rendered_seq > 0, "the first frame")
            assert app.strategy == "basis-arb"  # served by the second socket
            rows = {key.value for key in app.table.rows}
            assert rows and rows == set(app.source.docs["basis-arb"]["positions"])
            assert app.doc["strategy"] == "basis-arb"
            await until(pilot, lambda: "2/2 linked" in header(app), "both linked")

            second.stop()
            await until(pilot, lambda: "1/2 linked" in header(app), "one gone")
            assert "DISCONNECTED" in header(app)
            assert app.source.strategies() == ["basis-arb", "funding-arb"]
            await pilot.press("s")
            assert isinstance(app.screen, StrategyPicker)
            assert app.screen.strategies == ["basis-arb", "funding-arb"]
            await pilot.press("escape")
            # The live one still updates.
            seq = first.tick()
            await until(pilot, lambda: app.source.docs["funding-arb"]["seq"] == seq, "its patch")

            second.start()
            await until(pilot, lambda: "2/2 linked" in header(app), "back again")
            assert "DISCONNECTED" not in header(app)


async def test_servers_that_start_later_join_and_those_that_stop_leave(short_tmp: Path) -> None:
    discovery = Discovery(partial(rescan, directory=short_tmp), 0.1)
    with (
        FixedServer(short_tmp / "a.sock") as first,
        FixedServer(short_tmp / "b.sock", strategies=("basis-arb",)) as second,
    ):
        app = DashApp(
            [first.path, second.path], strategy="basis-arb", backoff=(0.05, 0.2),
            discovery=discovery,
        )  # fmt: skip
        assert isinstance(app.source, MultiSource)
        async with app.run_test(size=SIZE, notifications=True) as pilot:
            await until(pilot, lambda: len(app.source.docs) == 2, "both servers' documents")
            await until(pilot, lambda: "2/2 linked" in header(app), "both linked")
            assert app.source.strategies() == ["basis-arb", "funding-arb"]

            # A third process, started after the app: found by the rescan.
            with FixedServer(short_tmp / "c.sock", strategies=("carry-arb",)) as third:
                await until(pilot, lambda: "carry-arb" in app.source.docs, "the new strategy")
                assert app.source.strategies() == ["basis-arb", "carry-arb", "funding-arb"]
                await until(pilot, lambda: "3/3 linked" in header(app), "three linked")
                assert app.strategy == "basis-arb"  # the one shown stays
                await pilot.press("s")
                assert isinstance(app.screen, StrategyPicker)
                assert app.screen.strategies == ["basis-arb", "carry-arb", "funding-arb"]
                await pilot.press("escape")
                await pilot.press("a")
                await until(pilot, lambda: isinstance(app.screen, OverviewScreen), "overview")
                overview = app.screen
                assert isinstance(overview, OverviewScreen)
                rows = overview.table.model.summaries
                await until(pilot, lambda: set(rows) == {*app.source.strategies()}, "3 rows")
                # It follows the new process like the others.
                seq = third.tick(strategy="carry-arb")
                await until(
                    pilot, lambda: app.source.docs["carry-arb"]["seq"] == seq, "its patch"
                )

                # The process of the strategy shown stops cleanly: its socket file goes,
                # and so does it, from the overview too, while it is open.
                second.stop()
                assert not second.path.exists()
                await until(
                    pilot,
                    lambda: set(overview.table.model.summaries) == {"carry-arb", "funding-arb"},
                    "its row to go",
                )
                assert app.source.strategies() == ["carry-arb", "funding-arb"]
                assert "basis-arb" not in app.source.docs
                await until(pilot, lambda: "2/2 linked" in header(app), "two linked")
                assert "DISCONNECTED" not in header(app)
                await pilot.press("escape")
                await until(pilot, lambda: app.screen is app.screen_stack[0], "the main view")
                # Another strategy is shown instead, and the operator is told.
                assert app.strategy == "carry-arb"
                assert {key.value for key in app.table.rows} == set(
                    app.source.docs["carry-arb"]["positions"]
                )
                assert any("basis-arb is gone" in t for t in toasts(app))
                await pilot.press("s")
                assert isinstance(app.screen, StrategyPicker)
                assert app.screen.strategies == ["carry-arb", "funding-arb"]
                await pilot.press("escape")
                # The app goes on: the others still update.
                seq = first.tick()
                await until(
                    pilot, lambda: app.source.docs["funding-arb"]["seq"] == seq, "a patch"
                )

            # The third stops as well; then it starts again and is followed again.
            await until(pilot, lambda: app.source.strategies() == ["funding-arb"], "one left")
            await until(pilot, lambda: app.strategy == "funding-arb", "the last one shown")
            assert any("carry-arb is gone" in t for t in toasts(app))
            second.start()
            await until(pilot, lambda: "basis-arb" in app.source.docs, "basis-arb back")
            await until(pilot, lambda: "2/2 linked" in header(app), "two linked again")
