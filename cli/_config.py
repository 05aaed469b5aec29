"""Defaults for client commands from ``$XDG_CONFIG_HOME/dash/config.toml``.

An operator with one strategy on a non-default socket should not have to type
``--socket`` on every call. Precedence, highest first: the command-line flag, the
environment (``DASH_SOCKET``, ``DASH_STRATEGY``), this file, the built-in default.
``DASH_CONFIG`` names another file (tests, several setups side by side).

The file is optional and only parsed when it exists, so the common case costs one
``stat``. Unknown keys are errors: a typo must not silently leave a default in force.

::

    socket = "/run/user/1000/dash/funding-arb.sock"
    strategy = "funding-arb"
    timeout = 5.0

    [watch]
    interval = 1.0

    [alerts]              # read only by `dash alerts test`; see docs/operator.md
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final, NamedTuple

from cli._errors import USAGE, CliError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "DEFAULT_WATCH_INTERVAL_S",
    "Config",
    "config_path",
    "load",
    "read_toml",
]

DEFAULT_TIMEOUT_S: Final = 5.0
DEFAULT_WATCH_INTERVAL_S: Final = 1.0

# [alerts] is for `dash alerts test` (the same table as in `dash run --config`); the
# client commands accept it here and leave it alone.
_TOP_KEYS: Final = frozenset({"alerts", "socket", "strategy", "timeout", "watch"})
_WATCH_KEYS: Final = frozenset({"interval"})


class Config(NamedTuple):
    """What the config file says; ``None`` where it says nothing."""

    socket: str | None = None
    strategy: str | None = None
    timeout: float | None = None
    watch_interval: float | None = None
    path: Path | None = None


def config_path(env: Mapping[str, str] | None = None) -> Path:
    env = os.environ if env is None else env
    explicit = env.get("DASH_CONFIG")
    if explicit:
        return Path(explicit)
    base = env.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "dash" / "config.toml"


def load(env: Mapping[str, str] | None = None) -> Config:
    """The config file's defaults (an empty :class:`Config` when there is no file).

    Raises:
        CliError: the file exists but is not valid TOML or holds unknown keys (exit 2).
    """
    path = config_path(env)
    data = read_toml(path)
    return Config() if data is None else _parse(data, path)


def read_toml(path: Path) -> dict[str, Any] | None:
    """The parsed TOML file at ``path``, or None when there is none.

    Raises:
        CliError: it cannot be read or is not valid TOML (exit 2).
    """
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise CliError(f"cannot read config {path}: {exc.strerror}", USAGE) from exc
    import tomllib

    try:
        return tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise CliError(f"config {path} is not valid TOML: {exc}", USAGE) from exc


def _parse(data: Mapping[str, Any], path: Path) -> Config:
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise CliError(
            f"config {path}: unknown key(s) {', '.join(unknown)} "
            f"(known: {', '.join(sorted(_TOP_KEYS))})",
            USAGE,
        )
    watch = data.get("watch", {})
    if not isinstance(watch, Mapping):
        raise CliError(f"config {path}: [watch] must be a table", USAGE)
    unknown = sorted(set(watch) - _WATCH_KEYS)
    if unknown:
        raise CliError(f"config {path}: unknown key(s) in [watch]: {', '.join(unknown)}", USAGE)
    return Config(
        socket=_string(data, "socket", path),
        strategy=_string(data, "strategy", path),
        timeout=_positive(data, "timeout", path),
        watch_interval=_positive(watch, "interval", path, allow_zero=True),
        path=path,
    )


def _string(data: Mapping[str, Any], key: str, path: Path) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise CliError(f"config {path}: {key} must be a non-empty string", USAGE)
    return value


def _positive(
    data: Mapping[str, Any], key: str, path: Path, *, allow_zero: bool = False
) -> float | None:
    value = data.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise CliError(f"config {path}: {key} must be a number of seconds", USAGE)
    if value < 0 or (value == 0 and not allow_zero):
        raise CliError(f"config {path}: {key} must be positive", USAGE)
    return float(value)
