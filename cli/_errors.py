"""Exit codes and the one error type every client command raises.

Scripts branch on the exit status, so it is part of the interface (docs/cli.md lists it):
0 the command did what was asked, 1 the server answered but refused or failed, 2 the
command line (or config) is wrong, 69 (``EX_UNAVAILABLE`` from sysexits.h) no strategy
could be reached. Commands raise :class:`CliError`; the front end prints its message on
stderr and exits with its code, once, in one place.

Imports nothing beyond the standard library: the fast path of ``dash snapshot`` uses it.
"""

from __future__ import annotations

from typing import Final

__all__ = ["FAILURE", "OK", "UNAVAILABLE", "USAGE", "CliError", "from_ipc"]

OK: Final = 0
FAILURE: Final = 1
USAGE: Final = 2
UNAVAILABLE: Final = 69

_START_HINT: Final = (
    "start one with `dash run` (foreground) or `dash demo`, or see `dash ls` for the running ones"
)


class CliError(Exception):
    """A failure to report on stderr and exit with ``code``.

    Args:
        message: one sentence saying what went wrong.
        code: the exit status. Defaults to FAILURE (1).
        hint: what the operator can do about it; printed on its own line. Defaults to
            none.
    """

    def __init__(self, message: str, code: int = FAILURE, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.hint = hint

    def render(self, prog: str) -> str:
        text = f"{prog}: {self.message}"
        if self.hint:
            text += f"\n{prog}: {self.hint}"
        return text


def from_ipc(exc: BaseException, socket: object) -> CliError:
    """Translate an ``ipc`` client error into exit code and words an operator can act on.

    Unreachable (no socket, refused, no hello, timed out, connection dropped) is 69 and
    names the socket; a refusal by a live server (``ok: false``) is 1, except a strategy
    name the server does not serve, which is the caller's mistake (2).
    """
    from ipc._exceptions import (
        ConnectFailed,
        ConnectionLost,
        ProtocolViolation,
        RequestFailed,
        RequestTimeout,
    )

    if isinstance(exc, ConnectFailed):
        return CliError(f"strategy not reachable at {socket}: {exc}", UNAVAILABLE, hint=_START_HINT)
    if isinstance(exc, RequestTimeout):
        return CliError(f"strategy at {socket} did not answer in time: {exc}", UNAVAILABLE)
    if isinstance(exc, ConnectionLost):
        return CliError(f"connection to {socket} lost: {exc}", UNAVAILABLE)
    if isinstance(exc, RequestFailed):
        code = USAGE if exc.code in ("unknown_strategy", "bad_request") else FAILURE
        hint = None
        if exc.code in ("unknown_strategy", "bad_request") and "strateg" in exc.message:
            hint = "choose one with --strategy NAME (or DASH_STRATEGY); `dash ls` lists them"
        return CliError(f"server refused: {exc.message} ({exc.code})", code, hint=hint)
    if isinstance(exc, ProtocolViolation):
        return CliError(f"{socket} does not speak dash protocol 1: {exc}", FAILURE)
    return CliError(f"{type(exc).__name__}: {exc}", FAILURE)
