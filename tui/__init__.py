"""``dash tui``: the Textual dashboard. See ``tui.app.DashApp``.

Importing this package costs nothing: Textual is loaded when :class:`DashApp` is first
used, so ``dash`` starts without it.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tui.app import DashApp

__all__ = ["DashApp"]


def __getattr__(name: str) -> Any:
    if name == "DashApp":
        value = import_module("tui.app").DashApp
        globals()[name] = value
        return value
    raise AttributeError(f"module 'tui' has no attribute {name!r}")
