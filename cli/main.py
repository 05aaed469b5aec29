"""Entry point of the ``dash`` console script.

Kept tiny on purpose: the Typer app (and Rich, Textual) are imported only when a command
needs them, so one-shot scripting commands start fast.
"""

from __future__ import annotations

__all__ = ["main"]


def main() -> None:
    from cli.app import app

    app()
