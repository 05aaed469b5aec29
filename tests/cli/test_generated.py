"""docs/cli.md, completions/ and cli/_spec.py are regenerated and must match the repo."""

from __future__ import annotations

import subprocess
import sys

from cli.gen_docs import COMPLETION_FILES, ROOT, outputs


def test_generated_files_are_fresh():
    stale = [
        str(path.relative_to(ROOT))
        for path, text in outputs().items()
        if not path.exists() or path.read_text() != text
    ]
    assert not stale, f"stale: {stale}; run `python -m cli.gen_docs`"


def test_check_mode_exit_status():
    result = subprocess.run(
        [sys.executable, "-m", "cli.gen_docs", "--check"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0, result.stderr


def test_completion_scripts_call_dash_for_each_shell():
    bash = (ROOT / COMPLETION_FILES["bash"]).read_text()
    assert "complete -o default -F _dash_completion dash" in bash
    assert "_DASH_COMPLETE=complete_bash" in bash
    assert (ROOT / COMPLETION_FILES["zsh"]).read_text().startswith("#compdef dash")
    assert "complete_fish" in (ROOT / COMPLETION_FILES["fish"]).read_text()
    readme = (ROOT / "README.md").read_text()
    for name in COMPLETION_FILES.values():
        assert name in readme


def test_cli_reference_lists_every_command_and_option():
    text = (ROOT / "docs" / "cli.md").read_text()
    for command in ("run", "snapshot", "watch", "close", "ping", "ls", "demo", "db", "alerts"):
        assert f"## dash {command}\n" in text
    # Sub-apps' commands, each with its own options.
    for command in ("db check", "db stats", "db prune", "db restore", "alerts test"):
        assert f"## dash {command}\n" in text
    for option in ("--older-than AGE", "--keep-every SPAN", "--no-live", "--sink NAME"):
        assert f"`{option}" in text
    for option in ("--json", "--field PATH", "--positions", "--socket PATH", "--strategy NAME",
                   "--timeout SECONDS", "--interval SECONDS", "-y, --yes"):  # fmt: skip
        assert f"`{option}" in text
    assert "DASH_SOCKET" in text and "| 69 |" in text


def test_bash_completion_script_works_in_bash(steady):
    """Source the committed script in a real bash and complete a word through it."""
    _, env = steady
    script = ROOT / COMPLETION_FILES["bash"]
    bin_dir = str(ROOT / ".venv" / "bin")
    program = (
        f"source {script}\n"
        "COMP_WORDS=(dash sn); COMP_CWORD=1\n"
        "_dash_completion dash\n"
        'printf "%s\\n" "${COMPREPLY[@]}"\n'
    )
    result = subprocess.run(
        ["bash", "--norc", "--noprofile", "-c", program],
        env={**env, "PATH": f"{bin_dir}:{env['PATH']}"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.stdout.split() == ["snapshot"], result.stderr
