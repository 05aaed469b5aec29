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

    strategies: list[StrategyConfig] = field(default_factory=lambda: [StrategyConfig()])
    name: str | None = None
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

    @property
    def config(self) -> StrategyConfig:
        """The strategy of a single-strategy run (the common case)."""
        if len(self.strategies) != 1:
            raise ConfigError(f"this run hosts {len(self.strategies)} strategies, not one")
        return self.strategies[0]

    @config.setter
    def config(self, value: StrategyConfig) -> None:
        self.strategies = [value]

    @property
    def process_name(self) -> str:
        """Names the socket: the strategy id, or ``[run] name`` when several share it."""
        if self.name:
            return self.name
        if len(self.strategies) == 1:
            return self.strategies[0].id
        return "dash"


def default_db_path(strategy_id: str, env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_DATA_HOME/dash/<strategy>.db`` (``~/.local/share`` when unset)."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "dash" / f"{strategy_id}.db"


def load_run_file(
    path: Path,
) -> tuple[list[StrategyConfig], dict[str, Any], Mapping[str, Any] | None]:
    """Read a ``dash run --config`` TOML file.

    The file has either one ``[strategy]`` table or several ``[[strategies]]`` tables
    (``StrategyConfig`` keys; ids must differ), an optional ``[run]`` table (``name``,
    ``db``, ``speed``, ``socket``, ``snapshot_interval_s``, ``allow_uids``, ``read_only``)
    and an optional ``[alerts]`` table for the alert sinks.
    """
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    unknown = set(data) - {"strategy", "strategies", "run", "alerts"}
    if unknown:
        raise ConfigError(f"{path}: unknown table(s) {', '.join(sorted(unknown))}")
    if "strategy" in data and "strategies" in data:
        raise ConfigError(f"{path}: use [strategy] or [[strategies]], not both")
    if "strategies" in data:
        tables = data["strategies"]
        if not isinstance(tables, list) or not tables:
            raise ConfigError(f"{path}: [[strategies]] must be a non-empty array of tables")
        configs = [
            config_from_mapping(table, source=f"{path} [[strategies]] #{i + 1}")
            for i, table in enumerate(tables)
        ]
    else:
        configs = [config_from_mapping(data.get("strategy", {}), source=f"{path} [strategy]")]
    ids = [c.id for c in configs]
    if len(set(ids)) != len(ids):
        raise ConfigError(f"{path}: strategy ids must differ (got {', '.join(ids)})")
    run_table = data.get("run", {})
    known_run = {"name", "db", "speed", "socket", "snapshot_interval_s", "allow_uids",
                 "read_only"}
    bad = set(run_table) - known_run
    if bad:
        raise ConfigError(f"{path} [run]: unknown key(s) {', '.join(sorted(bad))}")
    return configs, dict(run_table), data.get("alerts")


def _build_feed(options: RunOptions) -> MarketFeed:
    if options.data is not None:
        return RecordedFeed.from_csv(options.data)
    if options.feed == "synthetic":
        venues = sorted({v for c in options.strategies for v in c.venues})
        symbols = sorted({sym for c in options.strategies for sym in c.symbols})
        return SyntheticFeed(seed=options.seed, venues=tuple(venues), symbols=tuple(symbols))
    if options.feed == "recorded":
        return RecordedFeed.default()
    raise ConfigError(f"unknown feed {options.feed!r} (recorded or synthetic)")


def _start_time(options: RunOptions, feed: MarketFeed, resumed: datetime | None) -> datetime:
    """Where market time starts: ``--start``, else where the DB says the run got to
    (the latest of its strategies, so no strategy sees time go backwards), else the whole
    file for a backtest, else the feed's lively demo start."""
    if options.start is not None:
        return options.start
    if resumed is not None:
        return resumed
    if options.speed == "max":
        return feed.start
    return feed.default_start()


class StrategyProcess:
    """One process's parts, built and torn down in order.

    Several strategies may share the process: one clock, one feed, one DB, one event bus
    and one socket, but each has its own paper accounts, ``DashboardState``, positions,
    risk limits and snapshot flusher, and its own task, so one that fails is reported
    (status ``failed``, a critical alert) while the others keep running and serving.
    """

    def __init__(self, options: RunOptions) -> None:
        self.options = options
        self.stop_event = asyncio.Event()
        self.store: Store | None = None
        self.flushers: list[SnapshotFlusher] = []
        self.server: Any = None
        self.control: Any = None
        self.alerts: Any = None
        self.strategies: dict[str, FundingArbitrageStrategy] = {}
        self.clock: Clock | None = None
        self.until: datetime | None = None

    @property
    def strategy(self) -> FundingArbitrageStrategy | None:
        """The strategy of a single-strategy process."""
        return next(iter(self.strategies.values())) if len(self.strategies) == 1 else None

    async def start(self) -> None:
        options = self.options
        configs = list(options.strategies)
        if options.speed == "max":
            if len(configs) > 1:
                raise ConfigError("--speed max backtests one strategy at a time")
            configs = [
                c.replace(cycle_s=BACKTEST_CYCLE_S) if c.cycle_s < BACKTEST_CYCLE_S else c
                for c in configs
            ]
        feed = _build_feed(options)
        for config in configs:
            missing = [v for v in config.venues if v not in feed.venues]
            if missing:
                raise ConfigError(
                    f"{config.id}: venue(s) {', '.join(missing)} not in the feed "
                    f"(it has {', '.join(feed.venues)})"
                )
        db_path = options.db or default_db_path(options.process_name)
        self.store = store = await Store.open(db_path)
        resumed: datetime | None = None
        if options.resume:
            clocks = [await store.runtime_clock(c.id) for c in configs]
            known = [c for c in clocks if c is not None]
            resumed = max(known) if known else None
        start = _start_time(options, feed, resumed)
        self.clock = clock = clock_for_speed(options.speed, start)
        log.info("%s: db %s, market time %s%s, speed %s", ", ".join(c.id for c in configs),
                 db_path, start.isoformat(),
                 " (resumed)" if resumed and options.start is None else "", options.speed or 1)
        bus = EventBus()
        registry = StateRegistry()
        for config in configs:
            exchanges: dict[str, Exchange] = {
                venue: PaperExchange(venue, feed, clock) for venue in config.venues
            }
            state = registry.add(DashboardState(config.id, mode="paper", bus=bus, now=clock.now))
            strategy = FundingArbitrageStrategy(
                config, exchanges, clock, store, state, bus, mode="paper"
            )
            await strategy.restore()
            self.strategies[config.id] = strategy
            flusher = SnapshotFlusher(
                state, store, interval_s=options.snapshot_interval_s, now=clock.now
            )
            flusher.start()
            self.flushers.append(flusher)
        if options.alerts and options.speed != "max":
            # Cooldowns and retries run on wall time; a backtest must not page anyone.
            from state.alerts import AlertManager, from_toml_dict

            self.alerts = AlertManager(from_toml_dict(dict(options.alerts)), bus)
            self.alerts.start()
        if options.serve:
            await self._serve(registry, bus, store)
        self.until = self._until(feed)

    async def _serve(self, registry: StateRegistry, bus: EventBus, store: Store) -> None:
        from ipc import SocketServer, default_socket_path
        from strategy.control import StrategyControl

        path = self.options.socket or default_socket_path(self.options.process_name)
        self.control = StrategyControl(
            self.strategies, registry, bus, store, read_only=self.options.read_only
        )
        self.server = SocketServer(
            self.control,
            path,
            allow_uids=self.options.allow_uids,
            read_only=self.options.read_only,
            version=f"dash {VERSION}",
        )
        await self.server.start()
        log.info("serving %s on %s%s", ", ".join(self.strategies), path,
                 " (read-only)" if self.options.read_only else "")

    def _until(self, feed: MarketFeed) -> datetime | None:
        until = self.options.until
        if isinstance(feed, RecordedFeed) or self.options.data is not None:
            until = feed.end if until is None else min(until, feed.end)
        return until

    async def run(self) -> dict[str, str]:
        """Run every strategy until the stop event, ``until`` or its own failure.

        Returns why each stopped. A strategy whose task dies of an exception is marked
        failed here; the others are not disturbed.
        """
        tasks = {
            sid: asyncio.create_task(self._run_one(strategy), name=f"strategy-{sid}")
            for sid, strategy in self.strategies.items()
        }
        await asyncio.gather(*tasks.values())
        return {sid: task.result() for sid, task in tasks.items()}

    async def _run_one(self, strategy: FundingArbitrageStrategy) -> str:
        try:
            return await strategy.run(self.stop_event, until=self.until)
        except Exception as exc:
            log.exception("strategy %s died", strategy.config.id)
            await strategy.fail(f"its task died: {exc!r}")
            return "failed"

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
        for flusher in self.flushers:
            with contextlib.suppress(Exception):
                await flusher.stop()
        if self.store is not None:
            await self.store.close()


async def run(options: RunOptions, stop_event: asyncio.Event | None = None) -> dict[str, Any]:
    """Run the strategies until ``stop_event``, ``--until`` or the end of the data.

    Returns the summary of a single strategy (positions, funding collected, fees, net
    PnL, max drawdown) with why it stopped under ``"stopped_by"``; with several, one such
    summary per strategy id under ``"strategies"``.
    """
    parts = StrategyProcess(options)
    if stop_event is not None:
        parts.stop_event = stop_event
    try:
        await parts.start()
        why = await parts.run()
    finally:
        await parts.stop()
    summaries = {}
    for sid, strategy in parts.strategies.items():
        summary = strategy.summary()
        summary["stopped_by"] = why.get(sid, "stopped")
        summaries[sid] = summary
    if len(summaries) == 1:
        return next(iter(summaries.values()))
    return {"strategies": summaries}


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
    if "strategies" in summary:
        return "\n\n".join(format_summary(s) for s in summary["strategies"].values())
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

