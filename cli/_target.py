"""Which socket and strategy a client command talks to.

The operator usually runs one strategy and should not have to name it. Resolution, in
order: ``--socket``/``DASH_SOCKET``/config ``socket`` is used as given; otherwise
``--strategy``/``DASH_STRATEGY``/config ``strategy`` selects ``<runtime dir>/<name>.sock``;
otherwise the only live socket in the runtime dir. None running is "unreachable" (69);
several is a usage error (2) that lists them, so the fix is in the message.

Standard library only (plus ``ipc._paths``, which is too), and no dataclasses (they
import ``inspect``, 5 ms): the fast path uses it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from cli import _config
from cli._errors import UNAVAILABLE, USAGE, CliError

__all__ = ["SocketEntry", "Target", "resolve", "scan"]


class Target(NamedTuple):
    """Where a command connects, and the strategy it names in requests (``None``: let
    the server pick its only one)."""

    socket: Path
    strategy: str | None
    timeout: float


class SocketEntry(NamedTuple):
    """A socket file in the runtime dir; ``live`` if something accepts on it now."""

    name: str
    path: Path
    live: bool


def scan(directory: Path | None = None) -> list[SocketEntry]:
    """Every dash socket in the runtime dir, probed."""
    from ipc._paths import SOCKET_SUFFIX, list_sockets, probe

    return [
        SocketEntry(p.name.removesuffix(SOCKET_SUFFIX), p, probe(p))
        for p in list_sockets(directory)
    ]


def resolve(
    socket: str | os.PathLike[str] | None = None,
    strategy: str | None = None,
    timeout: float | None = None,
) -> Target:
    """The target named by flags, environment and config (see the module docstring).

    Raises:
        CliError: nothing to connect to (69), or an ambiguous or invalid choice (2).
    """
    env = os.environ
    socket = socket or env.get("DASH_SOCKET") or None
    strategy = strategy or env.get("DASH_STRATEGY") or None
    config = _config.Config()
    if socket is None or strategy is None or timeout is None:
        config = _config.load(env)
    socket = socket or config.socket
    strategy = strategy or config.strategy
    if timeout is None:
        timeout = config.timeout if config.timeout is not None else _config.DEFAULT_TIMEOUT_S
    if timeout <= 0:
        raise CliError("--timeout must be positive", USAGE)
    if socket is not None:
        return Target(Path(socket), strategy, timeout)
    if strategy is not None:
        return Target(_named_socket(strategy), strategy, timeout)
    return Target(_only_socket(), None, timeout)


def _named_socket(strategy: str) -> Path:
    from ipc._paths import default_socket_path

    try:
        path = default_socket_path(strategy)
    except ValueError as exc:
        raise CliError(str(exc), USAGE) from exc
    if not os.path.exists(path):
        running = ", ".join(e.name for e in scan() if e.live) or "none"
        raise CliError(
            f"strategy {strategy!r} is not running: no socket at {path} (running: {running})",
            UNAVAILABLE,
            hint=f"start it with `dash run --strategy-id {strategy}`, or pass --socket PATH",
        )
    return path


def _only_socket() -> Path:
    from ipc._paths import runtime_dir

    entries = scan()
    if len(entries) == 1:
        # A lone stale socket still names the strategy the operator means; connecting
        # then reports it unreachable with its path.
        return entries[0].path
    live = [e for e in entries if e.live]
    if len(live) == 1:
        return live[0].path
    directory = runtime_dir()
    if not live:
        stale = f" ({len(entries)} stale socket(s))" if entries else ""
        raise CliError(
            f"no dash strategy is running: no live socket in {directory}{stale}",
            UNAVAILABLE,
            hint="start one with `dash run` (foreground) or `dash demo`, or pass --socket PATH",
        )
    listing = "; ".join(f"{e.name} ({e.path})" for e in live)
    raise CliError(
        f"several strategies are running: {listing}",
        USAGE,
        hint="choose one with --strategy NAME (or DASH_STRATEGY), or --socket PATH",
    )
