"""``dash alerts``: check the alert sinks of a config before a strategy depends on them.

A front end only: :func:`state.alerts.send_test` sends one message per sink, once, and
returns each HTTP outcome; this module finds the config file, prints the outcomes (text
or ``--json``) and turns them into the exit status: 0 every sink answered ok, 1 any
failed, 2 the command line or the config is wrong. Whatever is printed passes through
the alerts redactor first, so a webhook URL or bot token can only ever show as ``***``.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from cli._emit import fail, out
from cli._errors import FAILURE, OK, USAGE, CliError

if TYPE_CHECKING:
    from state.alerts import TestResult

__all__ = ["app", "test"]

PROG = "dash alerts test"

app = typer.Typer(
    name="alerts",
    help="Alert sinks (Slack, Telegram, webhook): send a test message to each.",
    no_args_is_help=True,
    rich_markup_mode=None,
)


def _document(config: Path | None) -> tuple[Path, dict[str, Any]]:
    """The config file to read (``--config``, else the client config) and its contents."""
    from cli._config import config_path, read_toml

    path = config if config is not None else config_path()
    data = read_toml(path)
    if data is None:
        hint = None if config is not None else "name one with --config FILE (or DASH_CONFIG)"
        raise CliError(f"no config file at {path}", USAGE, hint=hint)
    if "alerts" not in data:
        raise CliError(f"config {path} has no [alerts] table", USAGE)
    return path, data


def _run(path: Path, document: dict[str, Any], sink: str | None) -> list[TestResult]:
    import asyncio

    from state.alerts import AlertConfigError, from_toml_dict, install_log_redaction, send_test

    install_log_redaction()
    try:
        alerts = from_toml_dict(document)
        if sink is None and not alerts.active_sinks:
            raise AlertConfigError("no enabled alert sink to test")
        return asyncio.run(send_test(alerts, sink))
    except AlertConfigError as exc:
        raise CliError(f"config {path}: {exc}", USAGE) from None


def _line(result: TestResult) -> str:
    status = "" if result.http_status is None else f" (HTTP {result.http_status})"
    if result.ok:
        return f"{result.sink}: ok{status}"
    return f"{result.sink}: FAILED{status}: {result.error or 'no detail'}"


@app.command("test")
def test(
    config: Annotated[
        Path | None,
        typer.Option(
            "--config",
            metavar="FILE",
            help="TOML file with an [alerts] table, as for dash run --config (default: "
            "$DASH_CONFIG or $XDG_CONFIG_HOME/dash/config.toml).",
            show_default=False,
        ),
    ] = None,
    sink: Annotated[
        str | None,
        typer.Option(
            "--sink",
            metavar="NAME",
            help="Only this sink (default: every enabled sink).",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the outcomes as one JSON document.")
    ] = False,
) -> None:
    """Send one test message to each enabled sink (or --sink NAME), without retries, and
    print each HTTP status or error; secrets are masked as ***.

    Exit status: 0 every sink answered ok, 1 any failed, 2 a bad option or config.
    """
    from state.alerts import redact

    try:
        path, document = _document(config)
        results = _run(path, document, sink)
    except CliError as exc:
        fail(PROG, CliError(redact(exc.message), exc.code, exc.hint))
    ok = all(r.ok for r in results)
    if as_json:
        import orjson

        report = {
            "config": str(path),
            "ok": ok,
            "sinks": [
                {"sink": r.sink, "ok": r.ok, "http_status": r.http_status, "error": r.error}
                for r in results
            ],
        }
        out(redact(orjson.dumps(report, option=orjson.OPT_INDENT_2).decode()))
    else:
        for result in results:
            out(redact(_line(result)))
    raise typer.Exit(OK if ok else FAILURE)
