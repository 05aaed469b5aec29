"""Helpers for driving the app with Pilot: wait for a condition, read the screen."""

from __future__ import annotations

import time
from collections.abc import Callable

from textual.pilot import Pilot
from textual.widgets._toast import Toast

from tui.app import DashApp


async def until(
    pilot: Pilot[None], condition: Callable[[], bool], what: str, within: float = 10.0
) -> None:
    """Let the app run until ``condition()`` holds; fail naming ``what`` otherwise."""
    deadline = time.monotonic() + within
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await pilot.pause(0.02)


def screen_text(app: DashApp) -> str:
    """The screen as plain text, line by line (what a user would read)."""
    update = app.screen._compositor.render_full_update()
    return "\n".join("".join(strip.text for strip in line) for line in update.strips)


def toasts(app: DashApp) -> list[str]:
    """The notifications on screen (needs ``run_test(notifications=True)``)."""
    return [str(toast.render()) for toast in app.screen.query(Toast)]


def header(app: DashApp) -> str:
    return screen_text(app).splitlines()[0]
