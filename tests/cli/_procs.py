"""Real processes for the CLI tests: a `dash run` strategy, `dash` invocations, tmux.

Everything here starts genuine subprocesses on real Unix sockets; nothing is faked. Each
test gets private XDG dirs (runtime, config, data) so it never sees the developer's
strategies or config, and a private tmux server (`tmux -L <unique>`).
"""

from __future__ import annotations

import os
import shlex
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

from ipc import probe

DASH = str(Path(sys.executable).parent / "dash")
TMUX = "/usr/bin/tmux"
# Start-up of `dash run` (imports, DB migrations, first cycle) on a loaded 2-core box.
START_TIMEOUT_S = 30.0


def isolated_env(root: Path, **extra: str) -> dict[str, str]:
    """The environment of a `dash` process that sees only ``root``'s XDG dirs."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DASH_", "_DASH_", "XDG_", "NO_COLOR", "COLUMNS", "LINES"))
    }
    for name in ("run", "config", "data"):
        (root / name).mkdir(mode=0o700, exist_ok=True)
    env["XDG_RUNTIME_DIR"] = str(root / "run")
    env["XDG_CONFIG_HOME"] = str(root / "config")
    env["XDG_DATA_HOME"] = str(root / "data")
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra)
    return env


def wait_for(predicate: Callable[[], object], timeout: float = 10.0, every: float = 0.05) -> object:
    """Poll until ``predicate()`` is truthy; returns it, or fails the test with a timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(every)


class Strategy:
    """A real `dash run` (paper exchange, recorded data) serving ``socket``."""

    def __init__(
        self,
        root: Path,
        env: Mapping[str, str],
        *,
        speed: str = "3600",
        socket: Path | None = None,
        strategy_id: str | None = None,
        db: Path | None = None,
        default_socket: bool = False,
        extra: tuple[str, ...] = (),
    ) -> None:
        self.root = root
        self.env = dict(env)
        self.speed = speed
        self.socket = socket or root / "s.sock"
        self.strategy_id = strategy_id
        self.db = db or root / "dash.db"
        self.log = root / f"run-{uuid.uuid4().hex[:6]}.log"
        self.default_socket = default_socket  # let `dash run` pick its path; we expect `socket`
        self.extra = extra
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Strategy:
        command = [DASH, "run", "--speed", self.speed, "--db", str(self.db)]
        command += ["--log-level", "WARNING"]
        if not self.default_socket:
            command += ["--socket", str(self.socket)]
        command += self.extra
        if self.strategy_id:
            command += ["--strategy-id", self.strategy_id]
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (self.socket.exists() and probe(self.socket)):
            if self.proc.poll() is not None:
                raise AssertionError(f"dash run exited {self.proc.returncode}: {self.log_text()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"dash run did not serve {self.socket}: {self.log_text()}")
            time.sleep(0.05)
        return self

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")[-2000:]

    def stop(self) -> int | None:
        proc, self.proc = self.proc, None
        if proc is None:
            return None
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            return proc.wait()

    def kill(self) -> None:
        """SIGKILL: the crash case (the socket file is left behind, stale)."""
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait()
            self.proc = None


def dash(
    *args: str, env: Mapping[str, str], input: str | None = None, timeout: float = 30.0
) -> subprocess.CompletedProcess[str]:
    """Run `dash ARGS` to completion, stdout and stderr captured (not a terminal)."""
    return subprocess.run(
        [DASH, *args],
        env=dict(env),
        input=input,
        capture_output=True,
        text=True,
        timeout=timeout,
        stdin=None if input is not None else subprocess.DEVNULL,
    )


class Tmux:
    """A private tmux server (``-L``) with one session running one command."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.name = f"dash-test-{uuid.uuid4().hex[:10]}"
        self.env = dict(env)
        self.session = "t"

    def _tmux(self, *args: str, check: bool = True) -> str:
        result = subprocess.run(
            [TMUX, "-L", self.name, *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=10,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"tmux {args} failed: {result.stderr}")
        return result.stdout

    def start(self, command: list[str], width: int = 80, height: int = 24) -> None:
        """Run ``command`` in a fresh session; its exit status lands on screen as EXIT=N."""
        line = f"{shlex.join(command)}; echo EXIT=$?; sleep 600"
        self._tmux(
            "-f", "/dev/null", "new-session", "-d", "-s", self.session,
            "-x", str(width), "-y", str(height), "bash", "--norc", "--noprofile", "-c", line,
        )  # fmt: skip

    def capture(self, *, escapes: bool = False) -> str:
        args = ["capture-pane", "-p", "-t", self.session]
        if escapes:
            args.insert(1, "-e")
        return self._tmux(*args)

    def wait_screen(self, predicate: Callable[[str], object], timeout: float = 15.0) -> str:
        last = ""

        def check() -> object:
            nonlocal last
            last = self.capture()
            return predicate(last)

        try:
            wait_for(check, timeout)
        except AssertionError:
            raise AssertionError(f"screen never matched; last screen:\n{last}") from None
        return last

    def send_keys(self, *keys: str) -> None:
        self._tmux("send-keys", "-t", self.session, *keys)

    def resize(self, width: int, height: int) -> None:
        self._tmux("resize-window", "-t", self.session, "-x", str(width), "-y", str(height))

    def size(self) -> tuple[int, int]:
        out = self._tmux(
            "display-message", "-p", "-t", self.session, "#{pane_width} #{pane_height}"
        )
        w, h = out.split()
        return int(w), int(h)

    def kill(self) -> None:
        self._tmux("kill-server", check=False)
