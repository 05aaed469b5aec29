"""The no-Typer paths of `cli.main`: same meaning as the Typer app, fewer imports."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
import typer.main
from typer import _click as click

from cli._fast import parse_snapshot
from cli._snapshot import SnapshotArgs
from cli.app import app

HEAVY = ("typer", "rich", "textual", "asyncio", "click")

AGREED = [
    [],
    ["--json"],
    ["--json", "--positions"],
    ["--field", "totals.net_pnl"],
    ["--field=totals.net_pnl", "--socket", "/tmp/x.sock"],
    ["--strategy", "funding-arb", "--timeout", "2.5", "--json"],
    ["--timeout=0.5", "--field", "seq", "--field", "status"],
    ["--socket=/a", "--socket", "/b"],
]


def typer_args(argv: list[str]) -> SnapshotArgs:
    group = typer.main.get_command(app)
    root = click.Context(group, info_name="dash")
    command = group.get_command(root, "snapshot")
    ctx = command.make_context("snapshot", list(argv), parent=root)
    return SnapshotArgs(**ctx.params)


@pytest.mark.parametrize("argv", AGREED)
def test_fast_parser_agrees_with_typer(argv, monkeypatch):
    monkeypatch.delenv("DASH_SOCKET", raising=False)
    monkeypatch.delenv("DASH_STRATEGY", raising=False)
    assert parse_snapshot(argv) == typer_args(argv)


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["-h"], ["--json", "--bogus"], ["--field"], ["--timeout", "soon"], ["--", "x"],
     ["extra"], ["--json=yes"]],
)  # fmt: skip
def test_anything_unusual_falls_back_to_typer(argv):
    assert parse_snapshot(argv) is None


def imported_by(argv: list[str], env: dict[str, str]) -> list[str]:
    """Heavy top-level packages imported while `dash ARGV` runs, reported through a pipe
    (stdout and stderr belong to the command)."""
    read, write = os.pipe()
    code = (
        "import os, sys\n"
        "from cli.main import main\n"
        f"sys.argv = ['dash', *{argv!r}]\n"
        "try:\n    main()\n"
        "except SystemExit:\n    pass\n"
        f"heavy = sorted({{m.split('.')[0] for m in sys.modules}} & set({HEAVY!r}))\n"
        f"os.write({write}, ('imported:' + ' '.join(heavy)).encode())\n"
    )
    with os.fdopen(read) as stream:
        try:
            subprocess.run(
                [sys.executable, "-c", code],
                env=env,
                pass_fds=(write,),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                timeout=30,
                check=False,
            )
        finally:
            os.close(write)
        report = stream.read()
    assert report.startswith("imported:"), "the child did not report"
    return report.removeprefix("imported:").split()


def test_snapshot_json_and_field_import_no_typer_rich_or_asyncio(steady):
    _, env = steady
    assert imported_by(["snapshot", "--json"], env) == []
    assert imported_by(["snapshot", "--field", "totals.net_pnl"], env) == []
    # The table needs Rich, still not Typer.
    assert imported_by(["snapshot"], env) == ["rich"]
    # --help is Typer's job.
    assert "typer" in imported_by(["snapshot", "--help"], env)


def test_completion_imports_no_typer(steady):
    _, env = steady
    env = {**env, "_DASH_COMPLETE": "complete_bash", "COMP_WORDS": "dash snap", "COMP_CWORD": "1"}
    assert imported_by([], env) == []
