"""A tiny argv parser for ``dash snapshot``, so the scripting path never imports Typer.

``import typer`` alone costs about 60 ms (it brings Click and Rich); a shell loop calling
``dash snapshot --field totals.net_pnl`` pays that on every call. This parser accepts
exactly the options the Typer command declares and gives up (returns ``None``) on
anything else: ``--help``, an unknown option, a missing value, ``--``. The caller then
runs the Typer app, which prints the proper help or usage error (exit 2). So behaviour
is the Typer command's; only the common case is faster. ``tests/cli/test_fast_path.py``
checks that both parsers agree.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

from cli._snapshot import SnapshotArgs

__all__ = ["parse_snapshot"]

_FLAGS: Final = {"--json": "as_json", "--positions": "positions", "--all": "all_strategies"}
_VALUED: Final = {
    "--socket": "socket",
    "--strategy": "strategy",
    "--timeout": "timeout",
    "--field": "field",
}


def parse_snapshot(argv: Sequence[str]) -> SnapshotArgs | None:
    """Options after ``snapshot``, or ``None`` when only Typer can handle them."""
    values: dict[str, object] = {}
    i = 0
    while i < len(argv):
        word = argv[i]
        i += 1
        name, eq, inline = word.partition("=")
        if name in _FLAGS and not eq:
            values[_FLAGS[name]] = True
        elif name in _VALUED:
            if eq:
                value = inline
            elif i < len(argv):
                value = argv[i]
                i += 1
            else:
                return None
            values[_VALUED[name]] = value
        else:
            return None
    timeout = values.get("timeout")
    if timeout is not None:
        try:
            values["timeout"] = float(str(timeout))
        except ValueError:
            return None
    return SnapshotArgs(**values)  # type: ignore[arg-type]
