"""``dash close POSITION_ID``: close both legs of a pair through the control plane.

The request carries a fresh idempotency key, so a retry by the server side never trades
twice; the command then waits for the ``command`` event that reports the outcome and
exits 0 only when the close completed. On a terminal it first shows the position and asks
(``--yes`` skips that); off a terminal it refuses without ``--yes``, since nobody could
have answered.

Without ``--strategy``, when several strategies run (in one process or several), the
command asks each for its snapshot and sends the close to the one holding the position.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Mapping
from typing import Annotated, Any, Final

import typer

from cli import _complete_values
from cli import _format as fmt
from cli._aggregate import route
from cli._emit import fail, message, out
from cli._errors import FAILURE, OK, UNAVAILABLE, USAGE, CliError, from_ipc
from cli._options import SocketOpt, StrategyOpt, TimeoutOpt
from cli._target import Target

__all__ = ["close", "close_position"]

PROG = "dash close"
DEFAULT_WAIT_S: Final = 30.0


def _complete_position(ctx: typer.Context, incomplete: str) -> list[tuple[str, str]]:
    args: list[str] = []
    for name in ("socket", "strategy"):
        value = ctx.params.get(name)
        if value:
            args += [f"--{name}", str(value)]
    return _complete_values.positions(incomplete, args)


def describe(position_id: str, pos: Mapping[str, Any]) -> str:
    long = pos.get("long") if isinstance(pos.get("long"), Mapping) else {}
    short = pos.get("short") if isinstance(pos.get("short"), Mapping) else {}
    pnl = pos.get("pnl") if isinstance(pos.get("pnl"), Mapping) else {}
    assert isinstance(long, Mapping) and isinstance(short, Mapping) and isinstance(pnl, Mapping)
    return (
        f"{position_id} {pos.get('symbol', '?')}: long {long.get('venue', '?')} / short "
        f"{short.get('venue', '?')}, qty {pos.get('qty', '?')}, net PnL "
        f"{fmt.money(pnl.get('net'), signed=True)}"
    )


def _confirm(question: str) -> bool:
    sys.stderr.write(f"{question} [y/N] ")
    sys.stderr.flush()
    answer = sys.stdin.readline()
    return answer.strip().lower() in ("y", "yes")


def close_position(
    target: Target,
    position_id: str,
    *,
    reason: str = "operator",
    assume_yes: bool = False,
    wait_s: float = DEFAULT_WAIT_S,
) -> tuple[int, dict[str, Any]]:
    """Run the whole exchange; returns the exit status and the ``command`` event data.

    Raises:
        CliError: unreachable (69), refused by the server (1), no confirmation (1/2).
    """
    from ipc import BlockingClient, ClientError, RequestTimeout

    interactive = sys.stdin.isatty()
    if not assume_yes and not interactive:
        raise CliError(
            "not closing without confirmation: stdin is not a terminal; pass --yes", USAGE
        )
    strategy_args = {} if target.strategy is None else {"strategy": target.strategy}
    try:
        with BlockingClient(target.socket, timeout=target.timeout) as client:
            if not assume_yes:
                snap = client.request("snapshot", **strategy_args)
                positions = snap["snapshot"].get("positions") or {}
                pos = positions.get(position_id)
                if pos is None:
                    open_ids = ", ".join(sorted(positions)) or "none"
                    raise CliError(
                        f"no open position {position_id!r} in {snap['strategy']} (open: {open_ids})"
                    )
                if not _confirm(f"Close {describe(position_id, pos)}?"):
                    raise CliError("not closed: not confirmed", FAILURE)
            key = uuid.uuid4().hex
            ticket = client.request(
                "close_position",
                position=position_id,
                reason=reason,
                idempotency_key=key,
                **strategy_args,
            )
            command_id = ticket["command_id"]
            message(PROG, f"{position_id}: close accepted as {command_id}; waiting for outcome")
            outcome = ticket.get("outcome")
            if outcome is None:
                try:
                    event = client.wait_event(
                        lambda e: (
                            e.get("event") == "command"
                            and (e.get("data") or {}).get("command_id") == command_id
                        ),
                        timeout=wait_s,
                    )
                except RequestTimeout as exc:
                    raise CliError(
                        f"{command_id} accepted but no outcome within {wait_s:g} s; the close "
                        "may still complete (see `dash snapshot` and the audit trail)",
                        UNAVAILABLE,
                    ) from exc
                outcome = event.get("data") or {}
    except ClientError as exc:
        raise from_ipc(exc, target.socket) from exc
    status = OK if outcome.get("status") == "completed" else FAILURE
    return status, outcome


def _report(outcome: Mapping[str, Any]) -> str:
    status = outcome.get("status", "?")
    position = outcome.get("position", "?")
    if status == "completed":
        result = outcome.get("result") or {}
        already = " (it was already closed)" if result.get("status") == "already_closed" else ""
        return (
            f"closed {position}{already}: realized PnL "
            f"{fmt.money(result.get('realized_pnl'), signed=True)}, funding "
            f"{fmt.money(result.get('funding_collected'), signed=True)}, fees "
            f"{fmt.money(result.get('fees'))}, reason {outcome.get('reason', '?')}, "
            f"command {outcome.get('command_id', '?')}"
        )
    error = outcome.get("error") or {}
    return (
        f"close of {position} {status}: {error.get('message', 'no detail')} "
        f"({error.get('code', '?')}), command {outcome.get('command_id', '?')}"
    )


def close(
    position_id: Annotated[
        str,
        typer.Argument(
            metavar="POSITION_ID",
            help="Position to close (see `dash snapshot --positions`).",
            autocompletion=_complete_position,
            show_default=False,
        ),
    ],
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    reason: Annotated[
        str, typer.Option("--reason", help="Recorded in the audit trail and the alert.")
    ] = "operator",
    wait: Annotated[
        float,
        typer.Option(
            "--wait", metavar="SECONDS", min=0.1, help="How long to wait for the outcome."
        ),
    ] = DEFAULT_WAIT_S,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcome event's data as one JSON line.")
    ] = False,
    socket: SocketOpt = None,
    strategy: StrategyOpt = None,
    timeout: TimeoutOpt = None,
) -> None:
    """Close a position (both legs) and wait.

    Without --strategy, with several strategies running, the position's owner is found
    by asking each one.

    Exit status: 0 closed, 1 refused or failed (unknown id, not confirmed), 2 usage
    (no terminal to confirm on and no --yes), 69 strategy not reachable or no outcome
    in time.
    """
    try:
        target, owner = route(position_id, socket, strategy, timeout)
        if owner is not None:
            message(PROG, f"{position_id} is held by {owner.strategy} ({owner.socket})")
        status, outcome = close_position(
            target,
            position_id,
            reason=reason,
            assume_yes=yes,
            wait_s=wait,
        )
    except CliError as exc:
        fail(PROG, exc)
    if as_json:
        import orjson

        out(orjson.dumps(outcome).decode())
    else:
        out(_report(outcome))
    raise typer.Exit(status)
