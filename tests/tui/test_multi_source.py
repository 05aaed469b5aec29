"""One app over two servers (two processes, as far as the app can tell): a server that
stops keeps its strategy listed, marked in the header, and the app goes on."""

from __future__ import annotations

from pathlib import Path

from tests.tui._fixed import FixedServer
from tests.tui._pilot import header, until
from tui.app import DashApp
from tui.widgets import StrategyPicker

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
