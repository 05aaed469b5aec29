"""``dash replay``: stored snapshots served on a socket, as if the strategy were running."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any

import typer

from cli._emit import fail, message
from cli._errors import FAILURE, USAGE, CliError
from cli._options import parse_option

__all__ = ["replay"]

PROG = "dash replay"


def _speed(value: str) -> float | None:
    if value == "max":
        return None
    try:
        speed = float(value)
    except ValueError:
        raise ValueError(
            f"{value!r} is not a number of market seconds per second, or 'max'"
        ) from None
    if not speed > 0:
        raise ValueError("the speed must be positive")
    return speed


def replay(
    db: Annotated[
        Path | None,
        typer.Option(
            "--db",
            metavar="FILE",
            help="Replay this database (default: $XDG_DATA_HOME/dash/<strategy>.db).",
            show_default=False,
        ),
    ] = None,
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            metavar="FILE",
            help="Replay an archive written by dash db prune --archive instead.",
            show_default=False,
        ),
    ] = None,
    from_: Annotated[
        str | None,
        typer.Option(
            "--from", metavar="TIME", help="Start at this market time (ISO-8601).",
            show_default=False,
        ),
    ] = None,
    to: Annotated[
        str | None,
        typer.Option(
            "--to", metavar="TIME", help="Stop at this market time (ISO-8601).",
            show_default=False,
        ),
    ] = None,
    speed: Annotated[
        str,
        typer.Option(
            "--speed", metavar="N", help="Market seconds per wall second, or 'max'."
        ),
    ] = "1",
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy", metavar="NAME", help="Only this strategy (default: all stored).",
            show_default=False,
        ),
    ] = None,
    loop: Annotated[bool, typer.Option("--loop", help="Start over at the end.")] = False,
    socket: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="Serve here (default: <runtime dir>/<strategy>-replay.sock).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Serve stored snapshots on a socket with the live protocol, paced by their times.

    dash snapshot, dash watch and dash tui work on it unchanged; the hello says
    mode "replay", ping reports the replay clock and close_position is refused. At the
    end the last state stays served until Ctrl-C (or, with --loop, it starts over).
    In dash tui, space pauses and resumes the replay and [ ] { } seek it an hour / a
    day back and forward (the protocol's replay op).
    """
    import asyncio

    from cli._when import parse_time

    since = parse_option(parse_time, from_, "--from")
    until = parse_option(parse_time, to, "--to")
    pace = parse_option(_speed, speed, "--speed")
    if db is not None and archive is not None:
        fail(PROG, CliError("--db and --archive cannot be used together", USAGE))
    if since is not None and until is not None and until < since:
        fail(PROG, CliError("--to is before --from", USAGE))
    logging.basicConfig(level=logging.INFO, format=f"{PROG}: %(message)s", stream=sys.stderr)
    try:
        asyncio.run(_main(db, archive, strategy, socket, pace, loop, since, until))
    except CliError as exc:
        fail(PROG, exc)


async def _main(
    db: Path | None,
    archive: Path | None,
    strategy: str | None,
    socket: Path | None,
    speed: float | None,
    loop: bool,
    since: datetime | None,
    until: datetime | None,
) -> None:
    import asyncio
    import signal

    from cli._replay import serve_replay
    from ipc import ServerStartError, default_socket_path
    from state.replay import SnapshotSource
    from strategy.runner import VERSION, default_db_path
    from strategy.store import StoreError
    from strategy.store.maintenance import ArchiveSnapshotSource, DbSnapshotSource

    try:
        source: SnapshotSource
        if archive is not None:
            source = ArchiveSnapshotSource(archive, strategy)
        else:
            from strategy.config import StrategyConfig

            path = db or default_db_path(strategy or StrategyConfig().id)
            source = DbSnapshotSource(path, strategy)
    except StoreError as exc:
        raise CliError(str(exc), FAILURE) from exc
    names = source.strategies()
    if socket is None:
        socket = default_socket_path(f"{names[0]}-replay" if len(names) == 1 else "replay")
    stop = asyncio.Event()
    running = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        running.add_signal_handler(sig, stop.set)

    def ready(server: Any, player: Any) -> None:
        pace = "as fast as possible" if speed is None else f"at {speed:g}x"
        message(
            PROG,
            f"replaying {', '.join(names)} from {source.describe()} {pace} on {server.path} "
            "(Ctrl-C to stop; in dash tui: space pauses, [ ] { } seek)",
        )

    try:
        await serve_replay(
            source,
            socket,
            stop,
            speed=speed,
            loop=loop,
            since=since,
            until=until,
            version=f"dash {VERSION}",
            ready=ready,
        )
    except ServerStartError as exc:
        raise CliError(str(exc), FAILURE) from exc
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            running.remove_signal_handler(sig)
