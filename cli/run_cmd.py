"""``dash run``: the strategy in the foreground, or a backtest with ``--speed max``."""

from __future__ import annotations

import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from cli._when import parse_time

__all__ = ["run"]


def _parse_time(value: str | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint=name) from None


def _parse_speed(value: str | None) -> str | float | None:
    if value is None or value in ("max", "realtime"):
        return value
    try:
        factor = float(value)
    except ValueError:
        raise typer.BadParameter(
            "a positive number, 'realtime' or 'max'", param_hint="--speed"
        ) from None
    if factor <= 0:
        raise typer.BadParameter("must be positive", param_hint="--speed")
    return factor


def run(
    config: Annotated[
        Path | None, typer.Option("--config", help="TOML file: [strategy], [run], [alerts].")
    ] = None,
    db: Annotated[
        Path | None, typer.Option(help="SQLite file (default: $XDG_DATA_HOME/dash/<id>.db).")
    ] = None,
    speed: Annotated[
        str | None,
        typer.Option(help="Market seconds per wall second (3600: 8h in 8s), or 'max'."),
    ] = None,
    data: Annotated[
        Path | None, typer.Option(help="Recorded market data CSV to run over (backtest).")
    ] = None,
    feed: Annotated[str, typer.Option(help="Market feed: recorded or synthetic.")] = "recorded",
    seed: Annotated[int, typer.Option(help="Seed of the synthetic feed.")] = 0,
    start: Annotated[
        str | None, typer.Option(help="Market time to start at (ISO-8601, UTC).")
    ] = None,
    until: Annotated[str | None, typer.Option(help="Market time to stop at (ISO-8601).")] = None,
    socket: Annotated[Path | None, typer.Option(help="Control socket path.")] = None,
    no_serve: Annotated[bool, typer.Option("--no-serve", help="Do not open the socket.")] = False,
    read_only: Annotated[
        bool, typer.Option("--read-only", help="Serve state but refuse control commands.")
    ] = False,
    strategy_id: Annotated[
        str | None, typer.Option(help="Strategy id (default from config).")
    ] = None,
    snapshot_interval: Annotated[
        float | None, typer.Option(help="Seconds of market time between snapshot rows; 0: off.")
    ] = None,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Ignore the market time saved in the DB.")
    ] = False,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING or ERROR.")] = "INFO",
) -> None:
    """Run the funding-arbitrage strategy in the foreground (paper exchange on recorded data).

    SIGINT or SIGTERM stops it cleanly: the DB writer is flushed and the socket removed.
    With --speed max it runs over the whole data as fast as it can and prints a summary.
    """
    import asyncio

    from strategy.config import ConfigError
    from strategy.runner import RunOptions, format_summary, load_run_file, run_until_signal

    logging.basicConfig(
        level=log_level.upper(),
        format="%(asctime)s %(levelname)-7s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    try:
        options = RunOptions()
        if config is not None:
            configs, run_table, alerts = load_run_file(config)
            options.strategies = configs
            options.name = run_table.get("name")
            options.alerts = alerts
            options.db = Path(run_table["db"]) if "db" in run_table else None
            options.speed = run_table.get("speed")
            options.socket = Path(run_table["socket"]) if "socket" in run_table else None
            options.snapshot_interval_s = float(run_table.get("snapshot_interval_s", 60.0))
            options.allow_uids = tuple(int(u) for u in run_table.get("allow_uids", ()))
            options.read_only = bool(run_table.get("read_only", False))
        if strategy_id:
            if len(options.strategies) != 1:
                raise ConfigError("--strategy-id needs a config with exactly one strategy")
            options.config = options.config.replace(id=strategy_id)
        if db is not None:
            options.db = db
        if speed is not None:
            options.speed = _parse_speed(speed)
        elif isinstance(options.speed, (int, float, str)):
            options.speed = _parse_speed(str(options.speed))
        options.data = data
        options.feed = feed
        options.seed = seed
        options.start = _parse_time(start, "--start")
        options.until = _parse_time(until, "--until")
        if socket is not None:
            options.socket = socket
        options.serve = not no_serve
        options.read_only = options.read_only or read_only
        if snapshot_interval is not None:
            options.snapshot_interval_s = snapshot_interval
        options.resume = not fresh
        summary = asyncio.run(run_until_signal(options))
    except ConfigError as exc:
        typer.echo(f"dash run: {exc}", err=True)
        raise typer.Exit(2) from None
    except Exception as exc:
        from ipc import ServerStartError

        if isinstance(exc, ServerStartError):
            typer.echo(f"dash run: {exc}", err=True)
            raise typer.Exit(1) from None
        raise
    typer.echo(format_summary(summary))
