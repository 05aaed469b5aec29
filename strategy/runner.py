"""Process wiring for ``dash run``: feed -> exchanges -> strategy -> state -> publishers.

The runner owns lifetimes, nothing else: it builds each part from the options, starts
them in dependency order and stops them in the reverse order on SIGINT/SIGTERM, the end
of the data or ``--until``, so the writer is flushed and nothing is lost:

1. stop the strategy loop (its last commit marks the state ``stopped``);
2. let control commands in flight finish (their audit rows need the store);
3. stop the socket server (clients get ``bye``, the socket file is removed);
4. stop the alert sinks (bounded drain) and the snapshot flusher (``shutdown`` row);
5. close the store (drains the writer queue).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from state import DashboardState, EventBus, SnapshotFlusher, StateRegistry
from strategy.clock import Clock, clock_for_speed
from strategy.config import ConfigError, StrategyConfig, config_from_mapping
from strategy.engine import FundingArbitrageStrategy
from strategy.exchanges import Exchange, PaperExchange
from strategy.feeds import MarketFeed, RecordedFeed, SyntheticFeed
from strategy.store import Store

__all__ = [
    "RunOptions",
    "StrategyProcess",
    "default_db_path",
    "format_summary",
    "load_run_file",
    "run",
    "run_until_signal",
]

log = logging.getLogger("dash.run")

VERSION = "0.1.0"
BACKTEST_CYCLE_S = 3600
"""A backtest steps an hour of market time per cycle: the recorded data moves at 8h
resolution, and an hour keeps an 18-month run well under a minute."""


@dataclass
class RunOptions:
    """Everything ``dash run`` can be told, from flags or the ``[run]`` table."""

    config: StrategyConfig = field(default_factory=StrategyConfig)
    db: Path | None = None
    speed: str | float | None = None
    data: Path | None = None
    feed: str = "recorded"
    seed: int = 0
    start: datetime | None = None
    until: datetime | None = None
    socket: Path | None = None
    serve: bool = True
    read_only: bool = False
    allow_uids: tuple[int, ...] = ()
    snapshot_interval_s: float = 60.0
    alerts: Mapping[str, Any] | None = None
    resume: bool = True


def default_db_path(strategy_id: str, env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/dash/<strategy>.db`` (``~/.local/share`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dash" / f"{strategy_id}.db"


def load_run_file(path: Path) -> tuple[StrategyConfig, dict[str, Any], Mapping[str, Any] | None]:
    """Read a ``dash run --config`` TOML file.

    The file has a ``[strategy]`` table (``StrategyConfig`` keys), an optional ``[run]``
    table (``db``, ``speed``, ``socket``, ``snapshot_interval_s``, ``allow_uids``,
    ``read_only``) and an optional ``[alerts]`` table for the alert sinks.
    """
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"strategy", "run", "alerts"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}")
    config = config_from_mapping(data.get("strategy", {}), source=f"{path} [strategy]")
    run_table = data.get("run", {})
    known_run = {"db", "speed", "socket", "snapshot_interval_s", "allow_uids", "read_only"}
    bad = set(run_table) - known_run
    if bad:
        raise ConfigError(f"{path} [run]: unknown key(s) {', '.join(sorted(bad))}")
    return config, dict(run_table), data.get("alerts")


def _build_feed(options: RunOptions) -> MarketFeed:
    if options.data is not None:
        return RecordedFeed.from_csv(options.data)
    if options.feed == "synthetic":
        return SyntheticFeed(seed=options.seed, venues=options.config.venues,
                             symbols=options.config.symbols)
    if options.feed == "recorded":
        return RecordedFeed.default()
    raise ConfigError(f"unknown feed {options.feed!r} (recorded or synthetic)")


def _start_time(options: RunOptions, feed: MarketFeed, resumed: datetime | None) -> datetime:
    if options.start is not None:
        return options.start
    if resumed is not None:
        return resumed
    if options.speed == "max":
        return feed.start
    return feed.default_start()


class StrategyProcess:
    """One process's parts, built and torn down in order."""

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.config = options.config
        self.stop_event = asyncio.Event()
        self.store: Store | None = None
        self.flusher: SnapshotFlusher | None = None
        self.server: Any = None
        self.control: Any = None
        self.alerts: Any = None
        self.strategy: FundingArbitrageStrategy | None = None
        self.clock: Clock | None = None

    async def start(self) -> None:
        options, config = self.options, self.config
        if options.speed == "max" and config.cycle_s < BACKTEST_CYCLE_S:
            config = self.config = config.replace(cycle_s=BACKTEST_CYCLE_S)
        feed = _build_feed(options)
        missing = [v for v in config.venues if v not in feed.venues]
        if missing:
            raise ConfigError(
                f"venue(s) {', '.join(missing)} not in the feed (it has {', '.join(feed.venues)})"
            )
        db_path = options.db or default_db_path(config.id)
        self.store = store = await Store.open(db_path)
        resumed = await store.runtime_clock(config.id) if options.resume else None
        start = _start_time(options, feed, resumed)
        self.clock = clock = clock_for_speed(options.speed, start)
        log.info("strategy %s: db %s, market time %s%s, speed %s", config.id, db_path,
                 start.isoformat(), " (resumed)" if resumed and options.start is None else "",
                 options.speed or 1)
        exchanges: dict[str, Exchange] = {
            venue: PaperExchange(venue, feed, clock) for venue in config.venues
        }
        bus = EventBus()
        state = DashboardState(config.id, mode="paper", bus=bus, now=clock.now)
        registry = StateRegistry([state])
        self.strategy = strategy = FundingArbitrageStrategy(
            config, exchanges, clock, store, state, bus, mode="paper"
        )
        await strategy.restore()
        self.flusher = SnapshotFlusher(
            state, store, interval_s=options.snapshot_interval_s, now=clock.now
        )
        self.flusher.start()
        if options.alerts and options.speed != "max":
            # Cooldowns and retries run on wall time; a backtest must not page anyone.
            from state.alerts import AlertManager, from_toml_dict

            self.alerts = AlertManager(from_toml_dict(dict(options.alerts)), bus)
            self.alerts.start()
        if options.serve:
            await self._serve(registry, bus, store, {config.id: strategy})
        self.until = self._until(feed)

    async def _serve(
        self,
        registry: StateRegistry,
        bus: EventBus,
        store: Store,
        strategies: Mapping[str, FundingArbitrageStrategy],
    ) -> None:
        from ipc import SocketServer, default_socket_path
        from strategy.control import StrategyControl

        path = self.options.socket or default_socket_path(self.config.id)
        self.control = StrategyControl(
            strategies, registry, bus, store, read_only=self.options.read_only
        )
        self.server = SocketServer(
            self.control,
            path,
            allow_uids=self.options.allow_uids,
            read_only=self.options.read_only,
            version=f"dash {VERSION}",
        )
        await self.server.start()
        log.info("serving %s on %s%s", self.config.id, path,
                 " (read-only)" if self.options.read_only else "")

    def _until(self, feed: MarketFeed) -> datetime | None:
        until = self.options.until
        if isinstance(feed, RecordedFeed) or self.options.data is not None:
            until = feed.end if until is None else min(until, feed.end)
        return until

    async def run(self) -> str:
        assert self.strategy is not None
        return await self.strategy.run(self.stop_event, until=self.until)

    async def stop(self) -> None:
        """Tear down in reverse order; every step runs even if an earlier one failed."""
        if self.control is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.control.drain(), timeout=5)
        if self.server is not None:
            with contextlib.suppress(Exception):
                await self.server.stop()
        if self.alerts is not None:
            with contextlib.suppress(Exception):
                await self.alerts.stop()
        if self.flusher is not None:
            with contextlib.suppress(Exception):
                await self.flusher.stop()
        if self.store is not None:
            await self.store.close()


async def run(options: RunOptions, stop_event: asyncio.Event | None = None) -> dict[str, Any]:
    """Run one strategy until ``stop_event``, ``--until`` or the end of the data.

    Returns the strategy's summary (positions, funding collected, fees, net PnL, max
    drawdown), with why it stopped under ``"stopped_by"``.
    """
    parts = StrategyProcess(options)
    if stop_event is not None:
        parts.stop_event = stop_event
    try:
        await parts.start()
        why = await parts.run()
    finally:
        await parts.stop()
    assert parts.strategy is not None
    summary = parts.strategy.summary()
    summary["stopped_by"] = why
    return summary


async def run_until_signal(options: RunOptions) -> dict[str, Any]:
    """:func:`run` with SIGINT and SIGTERM asking for a clean stop."""
    stop_event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop_event.set)
    try:
        return await run(options, stop_event)
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


def format_summary(summary: Mapping[str, Any]) -> str:
    """The backtest summary as aligned ``key: value`` lines (amounts to the cent)."""
    keys = ("strategy", "start", "end", "stopped_by", "cycles", "positions_opened",
            "positions_closed", "open_positions", "funding_collected", "fees",
            "realized_pnl", "unrealized_pnl", "net_pnl", "max_drawdown")
    lines = []
    for key in keys:
        if key not in summary:
            continue
        value = summary[key]
        if isinstance(value, Decimal):
            value = f"{value.quantize(Decimal('0.01')):,}"
        elif isinstance(value, datetime):
            value = value.isoformat().replace("+00:00", "Z")
        lines.append(f"{key:>18}: {value}")
    return "\n".join(lines)

