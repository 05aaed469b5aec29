"""The public surface of ``ipc``: everything in ``__all__`` resolves, lazily or not."""

from __future__ import annotations

import pytest

import ipc


def test_every_exported_name_resolves() -> None:
    for name in ipc.__all__:
        assert getattr(ipc, name) is not None, name
    assert sorted(ipc.__all__) == sorted(set(ipc.__all__))
    assert set(dir(ipc)) >= set(ipc.__all__)


def test_unknown_names_raise() -> None:
    with pytest.raises(AttributeError, match="no attribute 'Nope'"):
        _ = ipc.Nope


def test_error_tree() -> None:
    assert issubclass(ipc.SocketInUse, ipc.ServerStartError)
    assert issubclass(ipc.RequestFailed, ipc.ClientError)
    assert issubclass(ipc.CommandRejected, ipc.IPCError)
    assert issubclass(ipc.ClientError, ipc.IPCError)
