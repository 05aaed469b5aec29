"""Writing command output: data to stdout, messages to stderr (clig.dev), one place.

Typer front ends call :func:`fail` with a :class:`~cli._errors.CliError`; it prints the
message (and hint) on stderr and exits with the error's code.
"""

from __future__ import annotations

import sys
from typing import NoReturn

from cli._errors import CliError

__all__ = ["fail", "message", "out"]


def out(text: str) -> None:
    """A line of data on stdout."""
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def message(prog: str, text: str) -> None:
    """A line for the human on stderr, prefixed with the command."""
    sys.stderr.write(f"{prog}: {text}\n")
    sys.stderr.flush()


def fail(prog: str, error: CliError) -> NoReturn:
    import typer

    sys.stderr.write(error.render(prog) + "\n")
    sys.stderr.flush()
    raise typer.Exit(error.code)
