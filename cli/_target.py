"""Which socket and strategy a client command talks to.

The operator usually runs one strategy and should not have to name it. Resolution, in
order: ``--socket``/``DASH_SOCKET``/config ``socket`` is used as given; otherwise
``--strategy``/``DASH_STRATEGY``/config ``strategy`` selects ``<runtime dir>/<name>.sock``,
or, when a process serves several strategies on one socket named after the process
(``[run] name``), the live socket whose hello lists that strategy; otherwise the only live
socket in the runtime dir. None running is "unreachable" (69); several is a usage error
(2) that lists them, so the fix is in the message. A socket serving several strategies
with none named is caught by :func:`require_one_strategy` or, for one-shot requests, by
the server's own ``bad_request`` reply, which lists them.

Standard library only (plus ``ipc._paths``, which is too), and no dataclasses (they
import ``inspect``, 5 ms): the fast path uses it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import Final, NamedTuple

from cli import _config
from cli._errors import UNAVAILABLE, USAGE, CliError

__all__ = [
    "RESCAN_S",
    "SocketEntry",
    "Target",
    "nothing_running",
    "require_one_strategy",
    "rescan",
    "resolve",
    "scan",
    "served_by",
]

# Asking a live socket which strategies it serves (its hello); a hung server must not
# hang the command that is only looking for a name.
_HELLO_TIMEOUT_S = 1.0
# How often a view of every process (``dash watch --all``, ``dash tui`` without a socket
# named) lists the runtime dir for processes that started or stopped: a new strategy
# shows up within a couple of seconds without probing sockets constantly.
RESCAN_S: Final = 2.0


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


def rescan(followed: Iterable[Path], directory: Path | None = None) -> list[Path]:
    """The sockets a view of every process follows now, ``followed`` being those it
    follows already: each of them whose file is still in the runtime dir (a killed
    process leaves it behind and may come back; a clean stop removes it), and every other
    socket there that is live. Blocking (it probes the new ones): run it off the loop."""
    from ipc._paths import list_sockets, probe

    known = {str(path) for path in followed}
    return [p for p in list_sockets(directory) if str(p) in known or probe(p)]


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
    if os.path.exists(path):
        return path
    running: list[str] = []
    for entry in scan():
        if entry.live:
            served = served_by(entry.path)
            if strategy in served:
                return entry.path
            running += served or [entry.name]
    listing = ", ".join(running) or "none"
    raise CliError(
        f"strategy {strategy!r} is not running: no socket at {path} and no live socket "
        f"serves it (running: {listing})",
        UNAVAILABLE,
        hint=f"start it with `dash run --strategy-id {strategy}`, or pass --socket PATH",
    )


def served_by(path: Path) -> list[str]:
    """The strategy ids a live socket's hello lists (empty if it does not answer)."""
    from ipc._blocking import BlockingClient
    from ipc._exceptions import ClientError

    try:
        with BlockingClient(path, timeout=_HELLO_TIMEOUT_S) as client:
            return [str(s) for s in client.hello.get("strategies", [])]
    except ClientError:
        return []


def require_one_strategy(target: Target) -> Target:
    """``target`` with its strategy named: for long-lived commands (``watch``) that must
    follow exactly one. A socket serving several with none chosen is a usage error."""
    if target.strategy is not None:
        return target
    served = served_by(target.socket)
    if len(served) > 1:
        raise CliError(
            f"{target.socket} serves several strategies: {', '.join(served)}",
            USAGE,
            hint="choose one with --strategy NAME (or DASH_STRATEGY)",
        )
    return target


def nothing_running(entries: list[SocketEntry]) -> CliError:
    """The error (69) for a runtime dir without a live socket, counting stale ones."""
    from ipc._paths import runtime_dir

    stale = f" ({len(entries)} stale socket(s))" if entries else ""
    return CliError(
        f"no dash strategy is running: no live socket in {runtime_dir()}{stale}",
        UNAVAILABLE,
        hint="start one with `dash run` (foreground) or `dash demo`, or pass --socket PATH",
    )


def _only_socket() -> Path:
    entries = scan()
    if len(entries) == 1:
        # A lone stale socket still names the strategy the operator means; connecting
        # then reports it unreachable with its path.
        return entries[0].path
    live = [e for e in entries if e.live]
    if len(live) == 1:
        return live[0].path
    if not live:
        raise nothing_running(entries)
    listing = "; ".join(f"{e.name} ({e.path})" for e in live)
    raise CliError(
        f"several strategies are running: {listing}",
        USAGE,
        hint="choose one with --strategy NAME (or DASH_STRATEGY), or --socket PATH",
    )
