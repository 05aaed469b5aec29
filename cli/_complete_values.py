"""Dynamic completion values: running strategy names and open position ids.

Shared by the Typer parameters (``autocompletion=``) and the fast completer in
``cli._complete``, so both offer the same words. Each call must stay well under the
150 ms a TAB may take: the runtime dir is listed without probing, and the position ids
come from one snapshot with a short timeout; any failure just completes nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

__all__ = ["positions", "strategies"]

# A TAB that hangs is worse than one that offers nothing.
_SNAPSHOT_TIMEOUT_S: Final = 0.3


def strategies(incomplete: str) -> list[str]:
    """Strategy ids served in the runtime dir that start with ``incomplete``: what each
    live socket's hello lists (a process may serve several), else the socket's name."""
    from cli._target import scan, served_by

    names: dict[str, None] = {}
    for entry in scan():
        for name in (served_by(entry.path) if entry.live else []) or [entry.name]:
            names[name] = None
    return [n for n in names if n.startswith(incomplete)]


def positions(incomplete: str, args: Sequence[str] = ()) -> list[tuple[str, str]]:
    """Open position ids (with ``symbol long/short`` as help) of the strategy that the
    words already typed (``--socket``, ``--strategy``) point at."""
    try:
        from cli._snapshot import fetch
        from cli._target import resolve

        target = resolve(
            _option_value(args, "--socket"),
            _option_value(args, "--strategy"),
            _SNAPSHOT_TIMEOUT_S,
        )
        doc = fetch(target)["snapshot"]
    except Exception:  # completion must never print a traceback into the prompt
        return []
    found = doc.get("positions")
    if not isinstance(found, Mapping):
        return []
    return [
        (pid, _describe(pos))
        for pid, pos in sorted(found.items())
        if pid.startswith(incomplete) and isinstance(pos, Mapping)
    ]


def _describe(pos: Mapping[str, Any]) -> str:
    long = pos.get("long") if isinstance(pos.get("long"), Mapping) else {}
    short = pos.get("short") if isinstance(pos.get("short"), Mapping) else {}
    assert isinstance(long, Mapping) and isinstance(short, Mapping)
    return f"{pos.get('symbol', '?')} {long.get('venue', '?')}/{short.get('venue', '?')}"


def _option_value(args: Sequence[str], name: str) -> str | None:
    value = None
    for i, word in enumerate(args):
        if word == name and i + 1 < len(args):
            value = args[i + 1]
        elif word.startswith(name + "="):
            value = word[len(name) + 1 :]
    return value
