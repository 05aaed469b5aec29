"""Historical replay: stored snapshot rows played back into live ``DashboardState``\\ s.

A replay is served exactly like a running strategy (the socket server reads the same
registry and bus), so every client works on it unchanged. The rows come from a
:class:`SnapshotSource` (the database or an archive; both live in ``strategy.store``,
which this package must not import); :class:`ReplayPlayer` paces them on a replay clock.
"""

from __future__ import annotations

from state.replay._player import ReplayPlayer
from state.replay._source import SnapshotSource, StoredSnapshot

__all__ = ["ReplayPlayer", "SnapshotSource", "StoredSnapshot"]
