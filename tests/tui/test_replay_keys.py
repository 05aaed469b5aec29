"""On a replay (``dash replay`` on a real socket over a real SQLite file), space pauses
the replay itself and the bracket keys seek it; on a live server they do not."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from ipc import Client
from state import iso_utc
from strategy.store._codec import time_from_text
from strategy.store.maintenance import DbSnapshotSource
from tests.persistence.test_replay import HOUR, replaying
from tests.tui._fixed import FixedServer
from tests.tui._pilot import header, screen_text, until
from tui.app import DashApp
from tui.widgets import HelpScreen

SIZE = (160, 48)
SINCE = datetime(2023, 1, 12, tzinfo=UTC)


async def _clock(client: Client) -> datetime:
    return time_from_text((await client.ping())["replay"]["clock"])


def _at(when: datetime) -> str:
    return iso_utc(when)  # what the wire shows: milliseconds


async def test_space_pauses_the_replay_and_brackets_seek_it(replay_db: Path, short_tmp: Path):
    sock = short_tmp / "r.sock"
    source = DbSnapshotSource(replay_db)
    async with replaying(source, sock, speed=float(HOUR), since=SINCE) as player:
        app = DashApp(sock)
        async with app.run_test(size=SIZE) as pilot, Client(sock) as client:
            await until(pilot, lambda: app.rendered_seq > 0 and app.replay, "the replay")
            await until(pilot, lambda: "▶ replay 2023-01-" in header(app), "the replay clock")
            footer = screen_text(app).splitlines()[-1]
            assert "[ -1h" in footer and "} +1d" in footer and "space Pause" in footer

            await pilot.press("space")
            await until(pilot, lambda: player.paused, "the replay to pause")
            frozen = await _clock(client)
            await pilot.pause(0.5)
            assert await _clock(client) == frozen  # half an hour at 3600x, were it running
            assert app.paused is False  # the replay stopped, not the display
            when = frozen.strftime("%Y-%m-%d %H:%M:%S")
            await until(pilot, lambda: f"⏸ replay {when} paused" in header(app), "paused")

            await pilot.press("right_square_bracket")
            ahead = frozen + timedelta(hours=1)
            await until(pilot, lambda: _at(player.clock()) == _at(ahead), "an hour ahead")
            assert await _clock(client) == ahead
            await pilot.press("right_curly_bracket")
            later = ahead + timedelta(days=1)
            await until(pilot, lambda: _at(player.clock()) == _at(later), "a day later")
            await pilot.press("left_square_bracket", "left_curly_bracket")
            back = later - timedelta(days=1, hours=1)
            await until(pilot, lambda: _at(player.clock()) == _at(back), "back where it was")
            assert back == frozen
            seq = (await client.snapshot())["seq"]
            await until(pilot, lambda: app.rendered_seq == seq, "the sought state on screen")

            await pilot.press("space")
            await until(pilot, lambda: not player.paused, "the replay to resume")
            await pilot.pause(0.3)
            assert await _clock(client) > back

            await pilot.press("question_mark")
            assert isinstance(app.screen, HelpScreen)
            text = screen_text(app)
            assert "Seek the replay back / forward 1 hour" in text
            assert "Pause or resume live updates" not in text


async def test_live_servers_keep_the_display_pause(fixed: FixedServer):
    app = DashApp(fixed.path)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: app.rendered_seq == fixed.seq(), "the snapshot")
        assert app.replay is False
        await pilot.press("right_square_bracket", "space")
        assert app.paused is True and "⏸ PAUSED" in header(app)
        assert "replay" not in header(app) and "+1h" not in screen_text(app)
        await pilot.press("question_mark")
        assert "Seek the replay" not in screen_text(app)
