"""Every strategy at once: their documents from every live socket, and who owns a position.

An operator running several strategy instances (several per process, several processes)
should not have to name each one to see them together, nor know which one holds the
position they want closed. :func:`collect` asks every live socket in the runtime dir (or
only the one given) for each strategy its hello lists, over one connection per socket;
:func:`route` finds the strategy that owns a position. ``dash snapshot --all --json``
runs through here without Typer, so this module imports only the standard library, the
blocking client and the light ``cli`` modules (Rich for the table, lazily).

A socket that does not answer is reported, not fatal: the others are still shown, and the
command exits 69 so a script knows the picture is incomplete.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from cli import _config
from cli._errors import FAILURE, OK, UNAVAILABLE, USAGE, CliError, from_ipc
from cli._target import Target, nothing_running, resolve, scan, served_by

if TYPE_CHECKING:
    from cli._snapshot import SnapshotArgs

__all__ = ["Collection", "Entry", "collect", "live_sockets", "route", "snapshot_all"]

PROG = "dash snapshot"


class Entry(NamedTuple):
    """One strategy's document and the socket that served it."""

    socket: Path
    strategy: str
    doc: dict[str, Any]


class Collection(NamedTuple):
    """What :func:`collect` found: documents in socket then hello order, and the sockets
    that did not answer (as errors to report)."""

    entries: list[Entry]
    errors: list[CliError]

    def by_id(self) -> dict[str, Entry]:
        """Entries keyed by strategy id.

        Raises:
            CliError: two processes serve the same id (1); keys must be unique.
        """
        found: dict[str, Entry] = {}
        for entry in self.entries:
            other = found.get(entry.strategy)
            if other is not None:
                raise CliError(
                    f"strategy id {entry.strategy!r} is served by two processes: "
                    f"{other.socket} and {entry.socket}",
                    FAILURE,
                    hint="give each strategy instance its own id, or pass --socket PATH",
                )
            found[entry.strategy] = entry
        return dict(sorted(found.items()))


def _timeout(timeout: float | None, config: _config.Config) -> float:
    if timeout is None:
        timeout = config.timeout if config.timeout is not None else _config.DEFAULT_TIMEOUT_S
    if timeout <= 0:
        raise CliError("--timeout must be positive", USAGE)
    return timeout


def live_sockets() -> list[Path]:
    """Live sockets in the runtime dir; none is "unreachable" (69), like ``resolve``."""
    entries = scan()
    live = [e.path for e in entries if e.live]
    if not live:
        raise nothing_running(entries)
    return live


def _fetch(path: Path, timeout: float) -> list[Entry]:
    """Every strategy ``path`` serves, read over one connection."""
    from ipc._blocking import BlockingClient
    from ipc._exceptions import ClientError

    try:
        with BlockingClient(path, timeout=timeout) as client:
            return [
                Entry(path, sid, client.request("snapshot", strategy=sid)["snapshot"])
                for sid in (str(s) for s in client.hello.get("strategies", []))
            ]
    except ClientError as exc:
        raise from_ipc(exc, path) from exc


def collect(
    socket: str | os.PathLike[str] | None = None, timeout: float | None = None
) -> Collection:
    """Every strategy's current document from ``socket``, or from every live socket.

    ``socket`` falls back to ``DASH_SOCKET`` (the Typer option reads it too); the config
    file's ``socket`` and ``strategy`` are defaults for one-strategy commands and are not
    used here.

    Raises:
        CliError: nothing running (69), bad timeout (2), or the only socket asked did not
            answer (its error).
    """
    config = _config.load()
    timeout = _timeout(timeout, config)
    socket = socket or os.environ.get("DASH_SOCKET") or None
    paths = [Path(socket)] if socket is not None else live_sockets()
    entries: list[Entry] = []
    errors: list[CliError] = []
    for path in paths:
        try:
            entries += _fetch(path, timeout)
        except CliError as exc:
            errors.append(exc)
    if not entries and errors:
        raise errors[0]
    return Collection(entries, errors)


def route(
    position_id: str,
    socket: str | None = None,
    strategy: str | None = None,
    timeout: float | None = None,
) -> tuple[Target, Entry | None]:
    """The target to send ``close_position`` to, and the entry found to own it.

    With a strategy named (flag, ``DASH_STRATEGY`` or config), that one, as ever. With a
    single strategy reachable, that one (the server answers for an unknown id). Otherwise
    each live strategy's snapshot (only the named socket's, with one) is searched for
    the position.

    Raises:
        CliError: nobody owns it (1; or 69 when a socket that might did not answer), two
            strategies do (2), nothing reachable (69).
    """
    config = _config.load()
    env = os.environ
    if strategy or env.get("DASH_STRATEGY") or config.strategy:
        return resolve(socket, strategy, timeout), None
    chosen = socket or env.get("DASH_SOCKET") or config.socket
    wait = _timeout(timeout, config)
    if chosen is not None:
        paths = [Path(chosen)]
    else:
        paths = [e.path for e in scan() if e.live]
        if not paths:
            return resolve(socket, strategy, timeout), None  # its "not running" message
    pairs = [(path, sid) for path in paths for sid in served_by(path)]
    if len(pairs) <= 1:
        # One strategy (or nothing answering): the one-strategy path and its messages.
        return Target(pairs[0][0] if pairs else paths[0], None, wait), None
    found = collect(chosen, wait)
    owners = [e for e in found.entries if position_id in (e.doc.get("positions") or {})]
    if len(owners) == 1:
        owner = owners[0]
        return Target(owner.socket, owner.strategy, wait), owner
    searched = ", ".join(f"{e.strategy} ({e.socket.name})" for e in found.entries)
    if owners:
        raise CliError(
            f"position {position_id!r} is open in several strategies: "
            + ", ".join(f"{e.strategy} ({e.socket})" for e in owners),
            USAGE,
            hint="choose one with --strategy NAME",
        )
    if found.errors:
        silent = "; ".join(e.message for e in found.errors)
        raise CliError(
            f"no open position {position_id!r} in {searched}, and some strategies did not "
            f"answer: {silent}",
            UNAVAILABLE,
        )
    raise CliError(
        f"no open position {position_id!r} in any running strategy (searched: {searched})",
        FAILURE,
        hint="`dash snapshot --all --positions` lists the open positions of every strategy",
    )


def snapshot_all(args: SnapshotArgs) -> int:
    """``dash snapshot --all``: every document as one JSON object keyed by strategy id,
    or the overview table (``--positions``: each strategy's positions).

    Returns OK, or UNAVAILABLE when a socket did not answer (what was read is printed).

    Raises:
        CliError: usage (2), nothing reachable (69), duplicate ids (1).
    """
    if args.field is not None:
        raise CliError("--all cannot be combined with --field; use --json and jq", USAGE)
    if args.strategy is not None and args.strategy != os.environ.get("DASH_STRATEGY"):
        raise CliError("--all and --strategy cannot be used together", USAGE)
    found = collect(args.socket, args.timeout)
    if args.as_json:
        import orjson

        docs = {
            sid: (entry.doc.get("positions", {}) if args.positions else entry.doc)
            for sid, entry in found.by_id().items()
        }
        sys.stdout.buffer.write(orjson.dumps(docs) + b"\n")
        sys.stdout.buffer.flush()
    else:
        _print_tables(found.entries, positions_only=args.positions)
    for error in found.errors:
        sys.stderr.write(f"{PROG}: skipped: {error.message}\n")
    return UNAVAILABLE if found.errors else OK


def _print_tables(entries: list[Entry], *, positions_only: bool) -> None:
    from cli._console import make_console
    from cli._summary import summarize
    from cli._views import PositionsTable
    from cli._views_all import OverviewTable

    console = make_console()
    if not positions_only:
        console.print(OverviewTable([summarize(e.doc, e.socket.name) for e in entries]))
        return
    from rich.text import Text

    for entry in entries:
        console.print(Text(f"{entry.strategy} ({entry.socket.name})", style="bold underline"))
        console.print(PositionsTable(entry.doc))
