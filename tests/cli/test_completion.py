"""Shell completion: the fast answers equal Typer's, and know the live strategy."""

from __future__ import annotations

import subprocess

import pytest

from tests.cli._procs import DASH

LINES = [
    "dash ",
    "dash sn",
    "dash --",
    "dash snapshot --",
    "dash snapshot --json --",
    "dash snapshot --field=",
    "dash snapshot --strategy ",
    "dash close ",
    "dash close p-",
    "dash close --yes -",
    "dash close p-1 ",
    "dash watch --interval ",
    "dash run --fe",
    "dash db ",
    "dash db st",
    "dash db -",
    "dash db prune --",
    "dash db prune --dry-run --archive ",
    "dash db restore ",
    "dash alerts ",
    "dash alerts test --",
    "dash alerts test --sink x --",
    "dash bogus -",
]


def shell_env(env: dict[str, str], shell: str, line: str) -> dict[str, str]:
    words = line.split()
    cword = len(words) if line.endswith(" ") else len(words) - 1
    return {
        **env,
        "_DASH_COMPLETE": f"complete_{shell}",
        "_TYPER_COMPLETE_ARGS": line,
        "_TYPER_COMPLETE_FISH_ACTION": "get-args",
        "COMP_WORDS": line,
        "COMP_CWORD": str(cword),
    }


def answer(command: list[str], env: dict[str, str]) -> tuple[int, str]:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    return result.returncode, result.stdout.rstrip("\n")


def typer_answer(request: dict[str, str], monkeypatch, capsys) -> tuple[int, str]:
    """Typer's own completion, in this process (spawning it costs ~0.3 s a line)."""
    from cli.app import app

    with monkeypatch.context() as patch:
        for key, value in request.items():
            patch.setenv(key, value)
        with pytest.raises(SystemExit) as caught:
            app(prog_name="dash")
    return int(caught.value.code or 0), capsys.readouterr().out.rstrip("\n")


def fast_answer(request: dict[str, str], monkeypatch, capsys) -> tuple[int, str]:
    from cli._complete import fast_complete

    with monkeypatch.context() as patch:
        for key, value in request.items():
            patch.setenv(key, value)
        status = fast_complete(request)
    if status is None:  # not handled: cli.main would hand it to Typer
        return typer_answer(request, monkeypatch, capsys)
    return status, capsys.readouterr().out.rstrip("\n")


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_fast_completion_answers_like_typer(steady, shell, monkeypatch, capsys):
    _, env = steady
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
    for line in LINES:
        request = shell_env({}, shell, line)
        fast = fast_answer(request, monkeypatch, capsys)
        typer = typer_answer(request, monkeypatch, capsys)
        if shell == "fish":
            # Typer renders fish help through Rich at the console width, so a help longer
            # than that wraps onto a line of its own; the fast path keeps one candidate a
            # line. Same candidates and words, in the same order.
            fast, typer = (
                (fast[0], " ".join(fast[1].split())),
                (typer[0], " ".join(typer[1].split())),
            )
        assert fast == typer, (shell, line)


def test_only_unknown_commands_fall_back_to_typer(steady, monkeypatch, capsys):
    from cli._complete import fast_complete

    _, env = steady
    monkeypatch.setenv("XDG_RUNTIME_DIR", env["XDG_RUNTIME_DIR"])
    for line in LINES:
        handled = fast_complete(shell_env({}, "bash", line)) is not None
        capsys.readouterr()
        assert handled == (line != "dash bogus -"), line


def test_the_console_script_answers_through_the_fast_path(steady):
    _, env = steady
    code, out = answer([DASH], shell_env(env, "bash", "dash sn"))
    assert (code, out) == (0, "snapshot")


def test_close_completes_open_position_ids(steady):
    strategy, env = steady
    from ipc import one_shot

    ids = sorted(one_shot("snapshot", path=strategy.socket)["snapshot"]["positions"])
    code, out = answer([DASH], shell_env(env, "bash", "dash close "))
    assert code == 0 and out.split("\n") == ids
    code, out = answer([DASH], shell_env(env, "fish", "dash close p-"))
    assert [line.split("\t")[0] for line in out.split("\n")] == ids
    assert all("/USDT " in line for line in out.split("\n"))


def test_strategy_option_completes_running_names(steady):
    _, env = steady
    code, out = answer([DASH], shell_env(env, "bash", "dash watch --strategy f"))
    assert (code, out) == (0, "funding-arb")


def test_fish_is_args_reports_whether_there_are_candidates(steady):
    _, env = steady
    yes = {**shell_env(env, "fish", "dash sn"), "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
    no = {**shell_env(env, "fish", "dash close p-1 "), "_TYPER_COMPLETE_FISH_ACTION": "is-args"}
    assert answer([DASH], yes)[0] == 0
    assert answer([DASH], no)[0] == 1


def test_sub_apps_complete_their_commands_and_options():
    from cli._complete import candidates

    assert [v for v, _ in candidates(["db"], "") or []] == ["check", "stats", "prune", "restore"]
    assert [v for v, _ in candidates(["alerts"], "t") or []] == ["test"]
    options = [v for v, _ in candidates(["alerts", "test", "--json"], "--") or []]
    assert options == ["--config", "--sink", "--help"]
    assert candidates(["db", "bogus"], "-") is None  # unknown: Typer decides
