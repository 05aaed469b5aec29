"""Entry point of the ``dash`` console script.

Kept tiny on purpose: the Typer app (and Rich, Textual) are imported only when a command
needs them. Two hot paths skip Typer entirely: ``dash snapshot ...`` (scripts call it in
loops) and shell completion (the shell runs ``dash`` on every TAB). Each falls back to
the Typer app for anything it does not recognise, so the two paths cannot disagree on
what a command line means, only on how fast they answer.
"""

from __future__ import annotations

import os
import sys

__all__ = ["main"]


def main() -> None:
    argv = sys.argv[1:]
    if "_DASH_COMPLETE" in os.environ:
        from cli._complete import fast_complete

        status = fast_complete(os.environ)
        if status is not None:
            sys.exit(status)
    elif argv[:1] == ["snapshot"]:
        from cli._fast import parse_snapshot

        args = parse_snapshot(argv[1:])
        if args is not None:
            from cli._snapshot import run

            sys.exit(run(args))
    from cli.app import app

    app(prog_name="dash")
