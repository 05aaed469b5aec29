"""docs/operator.md and docs/dash.service stay true: their commands exist, the SQL runs."""

from __future__ import annotations

import re
import shlex

from cli._spec import SPEC
from cli.gen_docs import ROOT

DOC = ROOT / "docs" / "operator.md"


def _blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", DOC.read_text(), flags=re.S)


def _dash_lines() -> list[list[str]]:
    commands = []
    # Shell blocks are commands; console blocks are sessions, whose commands follow "$ ".
    typed = [line for block in _blocks("sh") for line in block.splitlines()]
    for block in _blocks("console"):
        typed += [line[2:] for line in block.splitlines() if line.startswith("$ ")]
    for line in typed:
        lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
        lexer.whitespace_split = True
        words: list[str] = []
        for token in [*lexer, "|"]:
            if token in ("|", "||", "&&", ";", "<", ">"):
                if words and words[0] == "dash":
                    commands.append(words)
                words = []
            else:
                words.append(token)
    return commands


def test_every_dash_command_in_the_operator_guide_exists():
    lines = _dash_lines()
    assert len(lines) >= 15
    for words in lines:
        command = SPEC["commands"].get(words[1])
        assert command is not None, words
        rest = words[2:]
        while "commands" in command:  # a sub-app: `dash db prune ...`
            assert rest and rest[0] in command["commands"], words
            command, rest = command["commands"][rest[0]], rest[1:]
        known = {name for option in command["options"] for name in option["names"]}
        for word in rest:
            if word.startswith("-"):
                assert word.split("=")[0] in known, (words, word)


def test_guide_covers_the_whole_workflow():
    text = DOC.read_text()
    for heading in ("## Start the strategy", "### As a systemd user service", "## Watch it",
                    "## Script it", "## Close a position", "## Read the audit trail",
                    "## Stop it cleanly", "## Alerts"):  # fmt: skip
        assert heading in text
    assert text.startswith("# Operating dash\n")


def test_service_unit_runs_dash_and_stops_it_with_sigterm():
    unit = (ROOT / "docs" / "dash.service").read_text()
    sections = re.findall(r"^\[(\w+)\]$", unit, flags=re.M)
    assert sections == ["Unit", "Service", "Install"]
    exec_start = re.search(r"^ExecStart=(.*)$", unit, flags=re.M)
    assert exec_start and shlex.split(exec_start.group(1))[1:] == ["run"]
    assert re.search(r"^KillSignal=SIGTERM$", unit, flags=re.M)
    assert re.search(r"^WantedBy=default.target$", unit, flags=re.M)
    assert "dash.service" in DOC.read_text()


def audit_queries() -> list[str]:
    (block,) = _blocks("sql")
    return [q.strip() for q in block.split(";") if q.strip()]
