"""The Typer application: one place that lists every ``dash`` command.

Each command lives in its own module as a plain function and is registered here, so the
command modules stay importable (and testable) without the app. Only ``cli.main``
imports this module, and only when its fast paths do not apply.
"""

from __future__ import annotations

import typer

from cli import (
    alerts_cmd,
    close_cmd,
    db_cmd,
    demo_cmd,
    ls_cmd,
    ping_cmd,
    replay_cmd,
    run_cmd,
    snapshot_cmd,
    tui_cmd,
    watch_cmd,
)

__all__ = ["app"]

app = typer.Typer(
    name="dash",
    help="Funding-rate arbitrage strategy: run it, watch it, control it.",
    no_args_is_help=True,
    add_completion=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

app.command("run")(run_cmd.run)
app.command("snapshot")(snapshot_cmd.snapshot)
app.command("watch")(watch_cmd.watch)
app.command("close")(close_cmd.close)
app.command("ping")(ping_cmd.ping)
app.command("ls")(ls_cmd.ls)
app.command("demo")(demo_cmd.demo)
app.command("tui")(tui_cmd.tui)
app.add_typer(db_cmd.app, name="db")
app.command("replay")(replay_cmd.replay)
app.add_typer(alerts_cmd.app, name="alerts")
