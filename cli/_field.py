"""``--field PATH``: one value of the snapshot document, printed for shell scripts.

A path is dot-separated keys (``totals.net_pnl``, ``positions.p-7f3a.pnl.net``); a
number indexes an array (``positions.p-7f3a.risk.reasons.0``). Strings print bare (no
quotes, so ``$(dash snapshot --field totals.net_pnl)`` is the amount itself), objects and
arrays as compact JSON.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cli._errors import FAILURE, USAGE, CliError

__all__ = ["lookup", "render"]


def lookup(doc: Any, path: str) -> Any:
    """The value at ``path``.

    Raises:
        CliError: an empty path (2), or a key the document does not have (1), naming
            the keys that exist at that level.
    """
    if not path or any(not part for part in path.split(".")):
        raise CliError(f"--field {path!r} is not a dot-separated path like totals.net_pnl", USAGE)
    value = doc
    walked: list[str] = []
    for part in path.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            where = ".".join(walked) or "the document"
            if isinstance(value, Mapping):
                keys = ", ".join(sorted(value)) or "none"
                detail = f"{where} has no key {part!r} (keys: {keys})"
            elif isinstance(value, list):
                detail = f"{where} has {len(value)} item(s); no index {part!r}"
            else:
                detail = f"{where} is a value, not an object"
            raise CliError(f"no field {path!r} in the snapshot: {detail}", FAILURE)
        walked.append(part)
    return value


def render(value: Any) -> str:
    if isinstance(value, str):
        return value
    import orjson

    return orjson.dumps(value).decode()
