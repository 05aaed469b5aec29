"""Shell completion without Typer: the shell runs ``dash`` on every TAB.

The completion scripts in ``completions/`` are Typer's (``_DASH_COMPLETE=complete_bash``
and friends); Typer would answer by building the whole app, about 100 ms before any
work. This module answers the same requests from ``cli._spec`` (the command tree as
data, generated from the app) following Click's rules: an incomplete word starting with
``-`` completes option names of the current command (minus those already given), a word
after an option that takes a value completes that value, otherwise the next argument or
the subcommand names (of the app, or of a sub-app such as ``dash db``). Output formats
are Typer's, per shell. Anything it does not understand returns ``None`` and ``cli.main``
falls back to the Typer app.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

__all__ = ["candidates", "fast_complete", "split_arg_string"]

Candidate = tuple[str, str]  # value, help


def split_arg_string(string: str) -> list[str]:
    """Split like a POSIX shell, keeping an unterminated last word (Click's helper)."""
    import shlex

    lex = shlex.shlex(string, posix=True)
    lex.whitespace_split = True
    lex.commenters = ""
    out: list[str] = []
    try:
        for token in lex:
            out.append(token)
    except ValueError:
        out.append(lex.token)
    return out


def _is_option(word: str) -> bool:
    return bool(word) and word[0] == "-"


def _find(options: list[dict[str, Any]], name: str) -> dict[str, Any] | None:
    for option in options:
        if name in option["names"]:
            return option
    return None


def _dynamic(source: str | None, incomplete: str, args: list[str]) -> list[Candidate]:
    from cli import _complete_values

    if source == "strategies":
        return [(name, "") for name in _complete_values.strategies(incomplete)]
    if source == "positions":
        return _complete_values.positions(incomplete, args)
    return []


def candidates(args: list[str], incomplete: str) -> list[Candidate] | None:
    """Completions for ``incomplete`` after ``args`` (the words after ``dash``).

    ``None`` means "not a case this module handles": ask Typer.
    """
    from cli._spec import SPEC

    level: dict[str, Any] = SPEC["root"]
    # The subcommands of ``level`` while it is a group (the app, a sub-app such as
    # ``db``); None once a command that takes options and arguments is reached.
    commands: dict[str, Any] | None = SPEC["commands"]
    used: set[str] = set()
    positional: list[str] = []
    expecting: dict[str, Any] | None = None
    double_dash = False
    for word in args:
        if expecting is not None:
            expecting = None
            continue
        if word == "--" and commands is None:
            double_dash = True
            continue
        if _is_option(word) and not double_dash:
            name, eq, _ = word.partition("=")
            option = _find(level["options"], name)
            if option is None:
                return None
            used.add(option["names"][0])
            if not option["flag"] and not eq:
                expecting = option
            continue
        if commands is not None:
            if word not in commands:
                return None
            level, used = commands[word], set()
            commands = level.get("commands")
            continue
        positional.append(word)

    if incomplete == "=":
        incomplete = ""
    elif "=" in incomplete and _is_option(incomplete):
        name, _, incomplete = incomplete.partition("=")
        option = _find(level["options"], name)
        if option is None or option["flag"]:
            return []
        expecting = option

    if expecting is not None:
        return _dynamic(expecting["values"], incomplete, args)
    if _is_option(incomplete) and not double_dash:
        return [
            (name, option["help"])
            for option in level["options"]
            if not option["hidden"] and (option["multiple"] or option["names"][0] not in used)
            for name in option["names"]
            if name.startswith(incomplete)
        ]
    if commands is not None:
        return [
            (name, entry["help"])
            for name, entry in commands.items()
            if not entry["hidden"] and name.startswith(incomplete)
        ]
    arguments = level["arguments"]
    if len(positional) < len(arguments):
        return _dynamic(arguments[len(positional)]["values"], incomplete, args)
    return []


def _zsh_escape(text: str) -> str:
    return (
        text.replace('"', '""')
        .replace("'", "''")
        .replace("$", "\\$")
        .replace("`", "\\`")
        .replace(":", r"\\:")
    )


def fast_complete(env: Mapping[str, str]) -> int | None:
    """Answer one completion request on stdout; ``None`` if Typer must do it."""
    instruction = env.get("_DASH_COMPLETE", "")
    try:
        if instruction == "complete_bash":
            words = split_arg_string(env["COMP_WORDS"])
            cword = int(env["COMP_CWORD"])
            args = words[1:cword]
            incomplete = words[cword] if cword < len(words) else ""
        elif instruction in ("complete_zsh", "complete_fish"):
            line = env.get("_TYPER_COMPLETE_ARGS", "")
            args = split_arg_string(line)[1:]
            incomplete = ""
            if args and not line.endswith(" "):
                incomplete = args.pop()
        else:
            return None
        found = candidates(args, incomplete)
    except (KeyError, ValueError, ImportError):
        return None
    if found is None:
        return None
    if instruction == "complete_bash":
        text = "\n".join(value for value, _ in found)
    elif instruction == "complete_zsh":
        if found:
            items = "\n".join(
                f'"{_zsh_escape(v)}":"{_zsh_escape(h)}"' if h else f'"{_zsh_escape(v)}"'
                for v, h in found
            )
            text = f"_arguments '*: :(({items}))'"
        else:
            text = "_files"
    else:
        action = env.get("_TYPER_COMPLETE_FISH_ACTION", "")
        if action == "is-args":
            return 0 if found else 1
        if action != "get-args" or not found:
            return 0
        text = "\n".join(f"{v}\t{' '.join(h.split())}" if h else v for v, h in found)
    sys.stdout.write(text)
    sys.stdout.flush()
    return 0
