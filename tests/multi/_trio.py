"""Three strategies in two real processes, found by discovery alone.

``desk`` runs the two instances of the operator guide's example config on one socket;
``solo`` is a single strategy in a second process. Both take their default socket paths
under a private ``XDG_RUNTIME_DIR``, so every command here finds them the way an operator's
would: by listing the runtime dir, never by ``--socket``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from ipc import one_shot
from tests.cli._procs import Strategy
from tests.cli.test_operator_doc import DOC

IDS = ("btc-arb", "eth-arb", "solo")


def guide_config() -> str:
    """The TOML example under "## Several strategies" in docs/operator.md."""
    section = DOC.read_text().split("\n## Several strategies\n", 1)[1].split("\n## ", 1)[0]
    (block,) = re.findall(r"```toml\n(.*?)```", section, flags=re.S)
    return str(block)


class Trio(NamedTuple):
    root: Path
    env: dict[str, str]
    desk: Strategy
    solo: Strategy

    @property
    def sockets(self) -> dict[str, Path]:
        return {"btc-arb": self.desk.socket, "eth-arb": self.desk.socket, "solo": self.solo.socket}

    def doc(self, strategy: str) -> dict[str, Any]:
        result = one_shot("snapshot", path=self.sockets[strategy], strategy=strategy)
        doc: dict[str, Any] = result["snapshot"]
        return doc

    def positions(self, strategy: str) -> Mapping[str, Any]:
        found: Mapping[str, Any] = self.doc(strategy)["positions"]
        return found


def start(root: Path, env: dict[str, str]) -> Trio:
    """Both processes at speed 1: positions open in the first cycle, then nothing moves
    for five minutes, so documents read twice are equal unless a test changes them."""
    config = root / "desk.toml"
    config.write_text(guide_config())
    run_dir = root / "run" / "dash"
    desk = Strategy(
        root, env, speed="1", socket=run_dir / "desk.sock", default_socket=True,
        db=root / "desk.db", extra=("--config", str(config)),
    )  # fmt: skip
    solo = Strategy(
        root, env, speed="1", socket=run_dir / "solo.sock", default_socket=True,
        db=root / "solo.db", strategy_id="solo",
    )  # fmt: skip
    desk.start()
    try:
        solo.start()
    except BaseException:
        desk.stop()
        raise
    return Trio(root, env, desk, solo)
