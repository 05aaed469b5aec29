"""Where sockets live, and how a server takes its path without trampling a live one.

A socket's directory is the only thing keeping other users away from the control plane
(file modes on the socket itself are advisory on some systems), so the default directory
is private: ``$XDG_RUNTIME_DIR/dash`` (already per-user, mode 0700) or, where no runtime
dir exists, ``/tmp/dash-<uid>`` created 0700 and refused if someone else owns it.

Taking a path is atomic: the server binds a temporary name, sets 0600, then hard-links it
to the final name, which fails if the name exists. An existing socket that still accepts
a connection belongs to a live instance (refuse); one that refuses is the leftover of a
killed process (replace). Two instances racing for one path cannot both win.

Imports only the standard library's light modules: the blocking client uses it.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import socket
import stat
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from ipc._exceptions import ConnectFailed, SocketInUse, UnsafeSocketPath

__all__ = [
    "MAX_SOCKET_PATH_BYTES",
    "SOCKET_SUFFIX",
    "SocketClaim",
    "claim_socket",
    "default_socket_path",
    "discover_socket",
    "list_sockets",
    "probe",
    "runtime_dir",
]

# sun_path is 108 bytes on Linux, including the terminating NUL.
MAX_SOCKET_PATH_BYTES: Final = 107
SOCKET_SUFFIX: Final = ".sock"
_NAME_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
# How long a probe waits for an existing socket to accept before calling it stale.
_PROBE_TIMEOUT_S: Final = 0.5


def runtime_dir(env: Mapping[str, str] | None = None, uid: int | None = None) -> Path:
    """The directory dash sockets live in for this user (not created here)."""
    env = os.environ if env is None else env
    uid = os.getuid() if uid is None else uid
    xdg = env.get("XDG_RUNTIME_DIR", "")
    if xdg and os.path.isabs(xdg) and os.path.isdir(xdg):
        return Path(xdg) / "dash"
    return Path(f"/tmp/dash-{uid}")


def default_socket_path(name: str, env: Mapping[str, str] | None = None) -> Path:
    """``<runtime dir>/<name>.sock`` for a strategy or process name."""
    if not _NAME_RE.fullmatch(name):
        raise ValueError(
            f"socket name {name!r} must be 1-64 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit"
        )
    return runtime_dir(env) / f"{name}{SOCKET_SUFFIX}"


def list_sockets(directory: Path | None = None) -> list[Path]:
    """Socket files in ``directory`` (default: the runtime dir), sorted by name."""
    directory = runtime_dir() if directory is None else directory
    try:
        entries = sorted(directory.iterdir())
    except OSError:
        return []
    found = []
    for entry in entries:
        with contextlib.suppress(OSError):
            if entry.name.endswith(SOCKET_SUFFIX) and stat.S_ISSOCK(entry.lstat().st_mode):
                found.append(entry)
    return found


def discover_socket(name: str | None = None, directory: Path | None = None) -> Path:
    """The socket a client should use when the user named none.

    With ``name``, its default path. Without, the only socket in the runtime dir; zero or
    several is an error that says what was found, so the user knows to pass ``--socket``.
    """
    if name is not None:
        return default_socket_path(name)
    directory = runtime_dir() if directory is None else directory
    found = list_sockets(directory)
    if len(found) == 1:
        return found[0]
    if not found:
        raise ConnectFailed(f"no dash server is running: no socket in {directory}")
    names = ", ".join(p.name for p in found)
    raise ConnectFailed(f"several dash servers in {directory} ({names}); choose one with --socket")


def probe(path: Path, timeout: float = _PROBE_TIMEOUT_S) -> bool:
    """True if something accepts connections on ``path`` right now."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect(os.fspath(path))
    except OSError:
        return False
    else:
        return True
    finally:
        sock.close()


class SocketClaim:
    """A bound, listening-ready socket plus the identity of the file it owns.

    ``release()`` removes the file only if it is still ours: after a stale-socket takeover
    by a newer instance, an old process exiting late must not delete the new socket.
    """

    def __init__(self, path: Path, sock: socket.socket) -> None:
        self.path = path
        self.sock = sock
        st = os.lstat(path)
        self._identity = (st.st_dev, st.st_ino)

    def owns_file(self) -> bool:
        try:
            st = os.lstat(self.path)
        except FileNotFoundError:
            return False
        return (st.st_dev, st.st_ino) == self._identity

    def release(self) -> None:
        if self.owns_file():
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self.path)


def claim_socket(path: Path, *, private_dir: bool | None = None) -> SocketClaim:
    """Bind a Unix socket at ``path`` (mode 0600) or raise :class:`ServerStartError`.

    Args:
        path: where the socket goes.
        private_dir: create/repair the parent as a 0700 directory owned by us. Defaults to
            True for the default runtime dir and False for a path the user chose, whose
            existing directory we must not chmod.
    """
    path = Path(path).absolute()
    if len(os.fsencode(path)) > MAX_SOCKET_PATH_BYTES:
        raise UnsafeSocketPath(
            f"socket path {path} is longer than {MAX_SOCKET_PATH_BYTES} bytes; choose a "
            "shorter one with --socket"
        )
    if private_dir is None:
        private_dir = path.parent == runtime_dir()
    _prepare_dir(path.parent, private=private_dir)

    temp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    use_temp = len(os.fsencode(temp)) <= MAX_SOCKET_PATH_BYTES
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        if use_temp:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp)
            sock.bind(os.fspath(temp))
            os.chmod(temp, 0o600)
            try:
                _link_into_place(temp, path)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(temp)
        else:
            _clear_stale(path)
            sock.bind(os.fspath(path))
            os.chmod(path, 0o600)
        return SocketClaim(path, sock)
    except BaseException:
        sock.close()
        raise


def _link_into_place(temp: Path, path: Path) -> None:
    for _ in range(3):
        try:
            os.link(temp, path)
            return
        except FileExistsError:
            _clear_stale(path)
    raise SocketInUse(f"could not take {path}: it keeps reappearing (another instance starting?)")


def _clear_stale(path: Path) -> None:
    """Remove a dead socket at ``path``; refuse a live one or anything that is not a socket."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISSOCK(st.st_mode):
        raise UnsafeSocketPath(f"{path} exists and is not a socket; refusing to replace it")
    if probe(path):
        raise SocketInUse(
            f"another dash instance is already serving {path}; stop it first or choose "
            "another path with --socket"
        )
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def _prepare_dir(directory: Path, *, private: bool) -> None:
    uid = os.getuid()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=False)
    except FileExistsError:
        pass
    except OSError as exc:
        if exc.errno != errno.EEXIST:
            raise UnsafeSocketPath(f"cannot create socket directory {directory}: {exc}") from exc
    st = os.lstat(directory)
    if not stat.S_ISDIR(st.st_mode):
        raise UnsafeSocketPath(f"socket directory {directory} is not a directory")
    if not private:
        return
    if st.st_uid != uid:
        raise UnsafeSocketPath(
            f"socket directory {directory} belongs to uid {st.st_uid}, not {uid}; refusing "
            "to put a control socket there"
        )
    if stat.S_IMODE(st.st_mode) != 0o700:
        os.chmod(directory, 0o700)
