"""``dash snapshot``: fetch one snapshot document and print it as a table, JSON or a field.

This is the scripting path (``dash snapshot --json | jq``, ``--field`` in a shell loop),
so it is built to start fast: ``cli.main`` calls :func:`run` straight from ``sys.argv``
without Typer, and the JSON and field paths import only the blocking client (socket,
orjson). Rich is imported for the table alone.
"""

from __future__ import annotations

import sys
from typing import Any, NamedTuple

from cli._errors import OK, USAGE, CliError, from_ipc
from cli._target import Target, resolve

__all__ = ["SnapshotArgs", "fetch", "run"]

PROG = "dash snapshot"


class SnapshotArgs(NamedTuple):
    """The command line of ``dash snapshot``, parsed (by Typer or the fast path)."""

    socket: str | None = None
    strategy: str | None = None
    timeout: float | None = None
    as_json: bool = False
    field: str | None = None
    positions: bool = False
    all_strategies: bool = False


def fetch(target: Target) -> dict[str, Any]:
    """The ``snapshot`` reply (``strategy``, ``seq``, ``snapshot``) from ``target``.

    Raises:
        CliError: unreachable (69), refused (1, or 2 for an unknown strategy).
    """
    from ipc._blocking import one_shot
    from ipc._exceptions import ClientError

    args = {} if target.strategy is None else {"strategy": target.strategy}
    try:
        result: dict[str, Any] = one_shot(
            "snapshot", path=target.socket, timeout=target.timeout, **args
        )
    except ClientError as exc:
        raise from_ipc(exc, target.socket) from exc
    return result


def run(args: SnapshotArgs) -> int:
    """Do the whole command; returns the exit status (messages already on stderr)."""
    try:
        if args.as_json and args.field is not None:
            raise CliError("--json and --field cannot be used together", USAGE)
        if args.all_strategies:
            from cli._aggregate import snapshot_all

            return snapshot_all(args)
        target = resolve(args.socket, args.strategy, args.timeout)
        full: dict[str, Any] = fetch(target)["snapshot"]
        doc = full.get("positions", {}) if args.positions else full
        if args.as_json:
            import orjson

            _write(orjson.dumps(doc) + b"\n")
        elif args.field is not None:
            from cli._field import lookup, render

            _write((render(lookup(doc, args.field)) + "\n").encode())
        else:
            _print_table(full, positions_only=args.positions)
    except CliError as exc:
        sys.stderr.write(exc.render(PROG) + "\n")
        return exc.code
    except BrokenPipeError:
        # `dash snapshot | head -1`: the reader has what it wanted.
        _silence_stdout()
    return OK


def _write(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _print_table(doc: dict[str, Any], *, positions_only: bool) -> None:
    from cli._console import make_console
    from cli._views import PositionsTable, SnapshotView

    make_console().print(PositionsTable(doc) if positions_only else SnapshotView(doc))


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
