"""``dash ls``: the strategies with a socket in the runtime dir, live or stale."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Final

import typer

from cli._emit import message, out
from cli._target import SocketEntry, scan

__all__ = ["list_strategies", "ls"]

PROG = "dash ls"
# A live socket gets one `strategies` request; a hung server must not hang `dash ls`.
_QUERY_TIMEOUT_S: Final = 1.0


def list_strategies(directory: Path | None = None) -> list[dict[str, Any]]:
    """One entry per socket: name, path, ``live``, and for live ones what they serve."""
    rows = []
    for entry in scan(directory):
        row: dict[str, Any] = {"name": entry.name, "socket": str(entry.path), "live": entry.live}
        if entry.live:
            row["strategies"] = _served(entry)
        rows.append(row)
    return rows


def _served(entry: SocketEntry) -> list[dict[str, Any]]:
    from ipc import ClientError, one_shot

    try:
        result = one_shot("strategies", path=entry.path, timeout=_QUERY_TIMEOUT_S)
    except ClientError:
        return []
    served: list[dict[str, Any]] = result.get("strategies", [])
    return served


def ls(
    as_json: Annotated[
        bool, typer.Option("--json", help="One JSON object per socket (NDJSON).")
    ] = False,
) -> None:
    """List strategy sockets, live or stale.

    A stale socket is the leftover of a process that was killed; the next `dash run` with
    that strategy id replaces it.
    """
    from ipc import runtime_dir

    rows = list_strategies()
    if as_json:
        import orjson

        for row in rows:
            out(orjson.dumps(row).decode())
        return
    if not rows:
        message(PROG, f"no strategies running (no sockets in {runtime_dir()})")
        return
    table = [("NAME", "STATE", "STATUS", "SEQ", "SOCKET")]
    for row in rows:
        served = row.get("strategies") or [{}]
        for info in served:
            table.append(
                (
                    str(info.get("strategy", row["name"])),
                    "live" if row["live"] else "stale",
                    str(info.get("status", "-")),
                    str(info.get("seq", "-")),
                    row["socket"],
                )
            )
    widths = [max(len(r[i]) for r in table) for i in range(4)]
    for r in table:
        out("  ".join(c.ljust(w) for c, w in zip(r[:4], widths, strict=True)) + "  " + r[4])
