"""Strategy configuration: one frozen dataclass, loadable from TOML.

Every threshold the strategy and its risk manager use lives here, with a default tuned on
the recorded 2023-01..2024-06 Binance/Bybit/OKX data, so ``dash run`` with no config opens,
holds and closes positions. A TOML file only lists what it changes; an unknown key is an
error naming the key, because a typo silently falling back to a default would trade.

Example (every key optional)::

    id = "funding-arb"
    venues = ["binance", "bybit", "okx"]
    symbols = ["BTC/USDT", "ETH/USDT"]
    notional_per_position = "10000"     # money: a string, an int or a float
    entry_margin = "0.03"               # APR points above break-even (0.03 = 3 % a year)

    [venue_intervals]                   # hours between settlements, per venue
    hyperliquid = 1

    [interval_overrides.okx]            # per (venue, symbol), beats everything else
    "BTC/USDT" = 4
"""

from __future__ import annotations

import dataclasses
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from types import MappingProxyType
from typing import Any

from strategy.errors import ConfigError

__all__ = [
    "BACKTEST_CYCLE_S",
    "DEFAULT_INTERVAL_H",
    "DEFAULT_VENUE_INTERVALS",
    "ConfigError",
    "StrategyConfig",
    "config_from_mapping",
    "load_config",
]

#: Settlement period of a venue nobody told us about: Binance, Bybit and OKX settle every 8 h.
DEFAULT_INTERVAL_H = 8
#: Venues known to settle hourly; a config's ``venue_intervals`` extends or overrides this.
DEFAULT_VENUE_INTERVALS: Mapping[str, int] = MappingProxyType({"hyperliquid": 1, "dydx": 1})
#: Market seconds per cycle for ``--speed max``: funding settles every 1-8 h, so an hourly
#: cycle sees every settlement and keeps an 18-month backtest well under a minute.
BACKTEST_CYCLE_S = 3600


def _frozen(mapping: Mapping[Any, Any] | None = None) -> Mapping[Any, Any]:
    return MappingProxyType(dict(mapping or {}))


@dataclass(frozen=True)
class StrategyConfig:
    """What the funding-arbitrage strategy trades and where its limits are.

    Args:
        id: strategy id; names the state document, DB rows and position ids.
        venues: exchanges to compare; each needs an ``Exchange`` of the same name.
        symbols: perpetuals as ``BASE/QUOTE``.
        venue_intervals: settlement hours per venue; beats what the exchange reports.
        interval_overrides: settlement hours per ``(venue, symbol)``; beats everything.
        notional_per_position: quote-currency size of each leg at entry.
        max_open_positions: open pairs at once, over all symbols.
        max_total_notional: sum of open pairs' notional (one leg each) allowed.
        planned_hold_hours: horizon over which the expected spread must pay the costs.
        entry_margin: absolute APR the spread must clear *above* break-even, where
            break-even APR = round-trip fee fraction * 8760 / planned_hold_hours. Defaults
            to 0.03 (three APR points), which absorbs slippage and rate noise.
        exit_erosion: fraction of the entry spread lost that closes the pair (0.6: the
            spread fell to 40 % of what it was at entry). A flipped spread always closes.
        erosion_warn: fraction lost that raises a warning.
        min_hold_hours: spread-based exits (erosion, flip) wait this long after entry, so
            one noisy settlement does not pay four taker fees; risk exits never wait.
        reentry_hours: after a pair on a symbol closes, wait this long before opening the
            symbol again, so an exit on a price spike is not bought straight back.
        signal_window_hours: settlements of the last this many hours are averaged into the
            APR that entries and exits use (a 1 h venue averages 8 times as many as an 8 h
            one); 0 uses the last settled rate alone.
        divergence_warn_bps / divergence_limit_bps: drift of the legs' price gap since
            entry, in basis points, that warns / closes (50 / 150). The recorded feed
            keeps venues of one symbol within a clamped basis of the same price path, so
            these live-grade limits apply to it too.
        stale_after_s: market data older than this (market seconds) is stale.
        max_drawdown: money lost from the peak of equity that closes everything and stops
            new entries for ``halt_hours``; half of it warns (``drawdown_warn``). After the
            halt, drawdown is measured from the equity at the halt.
        max_cycle_errors: failed cycles in a row after which the strategy stops trading
            with status ``failed`` and a critical alert (a bug, not a venue hiccup).
        exposure_warn: fraction of ``max_total_notional`` in use that warns.
        cycle_s: market seconds between cycles (300 live; ``BACKTEST_CYCLE_S`` backtests).
        leverage / maintenance_margin: the isolated-margin assumptions behind margin
            distance: a long is liquidated near ``entry * (1 - 1/leverage + mm)``.
        margin_warn / margin_critical: distance from mark to liquidation (fraction of mark)
            that warns / closes.
        qty_step: quantity increment both legs are rounded down to.
    """

    id: str = "funding-arb"
    venues: tuple[str, ...] = ("binance", "bybit", "okx")
    symbols: tuple[str, ...] = ("BTC/USDT", "ETH/USDT")
    venue_intervals: Mapping[str, int] = field(default_factory=_frozen)
    interval_overrides: Mapping[tuple[str, str], int] = field(default_factory=_frozen)
    notional_per_position: Decimal = Decimal("10000")
    max_open_positions: int = 4
    max_total_notional: Decimal = Decimal("40000")
    planned_hold_hours: int = 14 * 24
    entry_margin: Decimal = Decimal("0.03")
    exit_erosion: Decimal = Decimal("0.6")
    erosion_warn: Decimal = Decimal("0.4")
    min_hold_hours: int = 24
    reentry_hours: int = 8
    signal_window_hours: int = 7 * 24
    divergence_warn_bps: Decimal = Decimal("50")
    divergence_limit_bps: Decimal = Decimal("150")
    stale_after_s: int = 12 * 3600
    max_drawdown: Decimal = Decimal("2000")
    halt_hours: int = 72
    max_cycle_errors: int = 3
    drawdown_warn: Decimal = Decimal("0.5")
    exposure_warn: Decimal = Decimal("0.9")
    cycle_s: int = 300
    leverage: Decimal = Decimal("2")
    maintenance_margin: Decimal = Decimal("0.005")
    margin_warn: Decimal = Decimal("0.15")
    margin_critical: Decimal = Decimal("0.05")
    qty_step: Decimal = Decimal("0.0001")

    def __post_init__(self) -> None:
        object.__setattr__(self, "venues", tuple(self.venues))
        object.__setattr__(self, "symbols", tuple(self.symbols))
        object.__setattr__(self, "venue_intervals", _frozen(self.venue_intervals))
        object.__setattr__(self, "interval_overrides", _frozen(self.interval_overrides))
        for problem in self._problems():
            raise ConfigError(problem)

    def replace(self, **changes: Any) -> StrategyConfig:
        """A copy with ``changes`` applied and validated again."""
        return dataclasses.replace(self, **changes)

    def interval_h(self, venue: str, symbol: str, reported: int | None = None) -> int:
        """Hours between settlements of ``symbol`` on ``venue``.

        What the operator wrote wins (a ``(venue, symbol)`` override, then the venue's
        ``venue_intervals`` entry); then what the exchange reports; then the built-in table
        of hourly venues; then 8 h.
        """
        override = self.interval_overrides.get((venue, symbol))
        if override is not None:
            return override
        configured = self.venue_intervals.get(venue)
        if configured is not None:
            return configured
        if reported:
            return reported
        return DEFAULT_VENUE_INTERVALS.get(venue, DEFAULT_INTERVAL_H)

    def _problems(self) -> list[str]:
        problems: list[str] = []
        if not self.id:
            problems.append("id must not be empty")
        if len(set(self.venues)) < 2:
            problems.append("venues must name at least two different exchanges")
        if not self.symbols:
            problems.append("symbols must not be empty")
        for name in (
            "max_open_positions",
            "planned_hold_hours",
            "stale_after_s",
            "cycle_s",
            "max_cycle_errors",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        for name in (
            "notional_per_position",
            "max_total_notional",
            "max_drawdown",
            "leverage",
            "qty_step",
            "divergence_warn_bps",
            "divergence_limit_bps",
        ):
            if getattr(self, name) <= 0:
                problems.append(f"{name} must be positive")
        if (
            min(self.min_hold_hours, self.signal_window_hours, self.halt_hours, self.reentry_hours)
            < 0
        ):
            problems.append(
                "min_hold_hours, reentry_hours, signal_window_hours, halt_hours must be >= 0"
            )
        if self.entry_margin < 0:
            problems.append("entry_margin must not be negative")
        for name in (
            "exit_erosion",
            "erosion_warn",
            "drawdown_warn",
            "exposure_warn",
            "maintenance_margin",
            "margin_warn",
            "margin_critical",
        ):
            value = getattr(self, name)
            if not Decimal(0) <= value <= Decimal(1):
                problems.append(f"{name} must be a fraction between 0 and 1, got {value}")
        if self.divergence_warn_bps > self.divergence_limit_bps:
            problems.append("divergence_warn_bps must not exceed divergence_limit_bps")
        if self.erosion_warn > self.exit_erosion:
            problems.append("erosion_warn must not exceed exit_erosion")
        if self.margin_critical > self.margin_warn:
            problems.append("margin_critical must not exceed margin_warn")
        if self.notional_per_position > self.max_total_notional:
            problems.append("notional_per_position must not exceed max_total_notional")
        hours = [*self.venue_intervals.values(), *self.interval_overrides.values()]
        if any(not isinstance(h, int) or h <= 0 for h in hours):
            problems.append("funding intervals must be positive whole hours")
        return problems


_FIELDS = {f.name: f for f in dataclasses.fields(StrategyConfig)}
_DECIMALS = {name for name, f in _FIELDS.items() if f.type in ("Decimal", Decimal)}
_INTS = {name for name, f in _FIELDS.items() if f.type in ("int", int)}
_STR_TUPLES = {"venues", "symbols"}


def _decimal(key: str, value: object) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ConfigError(f"{key}: expected a number or a numeric string, got {value!r}")
    try:
        result = Decimal(str(value))
    except InvalidOperation:
        raise ConfigError(f"{key}: {value!r} is not a number") from None
    if not result.is_finite():
        raise ConfigError(f"{key}: {value!r} is not a finite number")
    return result


def _int(key: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{key}: expected a whole number, got {value!r}")
    return value


def _str_tuple(key: str, value: object) -> tuple[str, ...]:
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise ConfigError(f"{key}: expected a list of names, got {value!r}")
    return tuple(value)


def _hours_table(key: str, value: object) -> dict[str, int]:
    if not isinstance(value, dict):
        raise ConfigError(f"{key}: expected a table of hours, got {value!r}")
    return {str(k): _int(f"{key}.{k}", v) for k, v in value.items()}


def config_from_mapping(data: Mapping[str, Any], *, source: str = "config") -> StrategyConfig:
    """Build a :class:`StrategyConfig` from parsed TOML (or any mapping of the same shape).

    Raises:
        ConfigError: on an unknown key, a value of the wrong type or a failed check; the
            message starts with ``source``.
    """
    unknown = sorted(set(data) - set(_FIELDS))
    if unknown:
        raise ConfigError(
            f"{source}: unknown key{'s' if len(unknown) > 1 else ''} "
            f"{', '.join(repr(k) for k in unknown)} (known: {', '.join(sorted(_FIELDS))})"
        )
    kwargs: dict[str, Any] = {}
    try:
        for key, value in data.items():
            if key in _DECIMALS:
                kwargs[key] = _decimal(key, value)
            elif key in _INTS:
                kwargs[key] = _int(key, value)
            elif key in _STR_TUPLES:
                kwargs[key] = _str_tuple(key, value)
            elif key == "venue_intervals":
                kwargs[key] = _hours_table(key, value)
            elif key == "interval_overrides":
                if not isinstance(value, dict):
                    raise ConfigError(f"{key}: expected [interval_overrides.<venue>] tables")
                kwargs[key] = {
                    (venue, symbol): hours
                    for venue, table in value.items()
                    for symbol, hours in _hours_table(f"{key}.{venue}", table).items()
                }
            elif key == "id":
                if not isinstance(value, str):
                    raise ConfigError(f"id: expected a string, got {value!r}")
                kwargs[key] = value
        return StrategyConfig(**kwargs)
    except ConfigError as exc:
        raise ConfigError(f"{source}: {exc}") from None


def load_config(path: str | Path, *, section: str | None = None) -> StrategyConfig:
    """Read a strategy config from a TOML file.

    Args:
        path: the TOML file.
        section: a table holding the strategy keys (``"strategy"`` for a file shared with
            other settings). Defaults to ``None``: the whole file is the strategy's.

    Raises:
        ConfigError: the file is missing, not TOML, or holds a key or value we refuse.
    """
    path = Path(path)
    try:
        with path.open("rb") as fh:
            data: dict[str, Any] = tomllib.load(fh)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    source = str(path)
    if section is not None:
        table = data.get(section, {})
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table")
        data, source = table, f"{path} [{section}]"
    return config_from_mapping(data, source=source)
