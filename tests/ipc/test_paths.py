"""Socket paths: the private directory, modes, stale sockets and live instances."""

from __future__ import annotations

import os
import socket
import stat
from pathlib import Path

import pytest

from ipc import (
    ConnectFailed,
    SocketInUse,
    UnsafeSocketPath,
    claim_socket,
    default_socket_path,
    discover_socket,
    list_sockets,
    probe,
    runtime_dir,
)


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def test_runtime_dir_prefers_xdg(short_tmp: Path) -> None:
    assert runtime_dir({"XDG_RUNTIME_DIR": str(short_tmp)}) == short_tmp / "dash"
    assert runtime_dir({}, uid=1234) == Path("/tmp/dash-1234")
    # A relative or missing runtime dir is not trusted.
    assert runtime_dir({"XDG_RUNTIME_DIR": "rel/dir"}, uid=5) == Path("/tmp/dash-5")
    assert runtime_dir({"XDG_RUNTIME_DIR": str(short_tmp / "gone")}, uid=5) == Path("/tmp/dash-5")


def test_default_socket_path_is_named_after_the_strategy(short_tmp: Path) -> None:
    env = {"XDG_RUNTIME_DIR": str(short_tmp)}
    assert default_socket_path("funding-arb", env) == short_tmp / "dash" / "funding-arb.sock"
    for bad in ("", "../x", "a/b", "-x", "x" * 65):
        with pytest.raises(ValueError):
            default_socket_path(bad, env)


def test_claim_creates_a_private_dir_and_a_0600_socket(short_tmp: Path) -> None:
    path = short_tmp / "run" / "dash" / "s.sock"
    claim = claim_socket(path, private_dir=True)
    try:
        assert stat.S_ISSOCK(os.lstat(path).st_mode)
        assert _mode(path) == 0o600
        assert _mode(path.parent) == 0o700
        assert [p.name for p in path.parent.iterdir()] == ["s.sock"]  # no temp left behind
    finally:
        claim.sock.close()
        claim.release()
    assert not path.exists()


def test_private_dir_with_loose_mode_is_repaired(short_tmp: Path) -> None:
    directory = short_tmp / "d"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    claim = claim_socket(directory / "s.sock", private_dir=True)
    claim.sock.close()
    claim.release()
    assert _mode(directory) == 0o700


def test_a_chosen_existing_dir_is_left_alone(short_tmp: Path) -> None:
    directory = short_tmp / "shared"
    directory.mkdir()
    os.chmod(directory, 0o755)
    claim = claim_socket(directory / "s.sock", private_dir=False)
    try:
        assert _mode(directory) == 0o755
        assert _mode(directory / "s.sock") == 0o600
    finally:
        claim.sock.close()
        claim.release()


def test_private_dir_owned_by_someone_else_is_refused(
    short_tmp: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = short_tmp / "d"
    directory.mkdir(mode=0o700)
    real_uid = os.getuid()
    monkeypatch.setattr(os, "getuid", lambda: real_uid + 1)
    with pytest.raises(UnsafeSocketPath, match="belongs to uid"):
        claim_socket(directory / "s.sock", private_dir=True)


def test_stale_socket_is_replaced(short_tmp: Path) -> None:
    path = short_tmp / "s.sock"
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(path))  # a killed server leaves exactly this: a file nobody accepts on
    dead.close()
    old_inode = os.lstat(path).st_ino
    assert not probe(path)
    claim = claim_socket(path, private_dir=False)
    try:
        claim.sock.listen()
        assert os.lstat(path).st_ino != old_inode
        assert probe(path)
    finally:
        claim.sock.close()
        claim.release()


def test_live_socket_refuses_a_second_instance(short_tmp: Path) -> None:
    path = short_tmp / "s.sock"
    first = claim_socket(path, private_dir=False)
    first.sock.listen()
    try:
        with pytest.raises(SocketInUse, match="already serving"):
            claim_socket(path, private_dir=False)
        assert probe(path)  # the live one is untouched
    finally:
        first.sock.close()
        first.release()


def test_a_regular_file_is_never_replaced(short_tmp: Path) -> None:
    path = short_tmp / "s.sock"
    path.write_text("precious")
    with pytest.raises(UnsafeSocketPath, match="not a socket"):
        claim_socket(path, private_dir=False)
    assert path.read_text() == "precious"


def test_too_long_a_path_is_refused(short_tmp: Path) -> None:
    with pytest.raises(UnsafeSocketPath, match="longer than"):
        claim_socket(short_tmp / ("x" * 120 + ".sock"), private_dir=False)


def test_release_leaves_a_successors_socket(short_tmp: Path) -> None:
    path = short_tmp / "s.sock"
    old = claim_socket(path, private_dir=False)
    old.sock.close()  # the old process hangs; a new one takes over the stale path
    new = claim_socket(path, private_dir=False)
    new.sock.listen()
    try:
        old.release()
        assert path.exists() and probe(path)
    finally:
        new.sock.close()
        new.release()
    assert not path.exists()


def test_discover_socket(short_tmp: Path) -> None:
    with pytest.raises(ConnectFailed, match="no dash server"):
        discover_socket(directory=short_tmp)
    a = claim_socket(short_tmp / "a.sock", private_dir=False)
    (short_tmp / "notes.txt").write_text("x")
    try:
        assert discover_socket(directory=short_tmp) == short_tmp / "a.sock"
        b = claim_socket(short_tmp / "b.sock", private_dir=False)
        try:
            assert list_sockets(short_tmp) == [short_tmp / "a.sock", short_tmp / "b.sock"]
            with pytest.raises(ConnectFailed, match=r"a\.sock, b\.sock"):
                discover_socket(directory=short_tmp)
        finally:
            b.sock.close()
            b.release()
    finally:
        a.sock.close()
        a.release()
