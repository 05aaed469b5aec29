"""Live state: per-strategy snapshot documents, merge-patch diffs, fan-out, persistence.

Nothing here imports ``strategy/``: the strategy writes through
``DashboardState.transaction``; the socket server, the flusher and alert sinks read
through ``EventBus`` subscriptions. See docs/strategy-internals.md, "Live state cache".
"""

from __future__ import annotations

from state._bus import DEFAULT_MAXSIZE, EventBus, Subscription, SubscriptionClosed
from state._flusher import REASONS, SnapshotFlusher, SnapshotWriter
from state._json import FrozenDict, FrozenList, freeze, iso_utc, jsonable, parse_utc
from state._patch import apply_merge_patch, merge_patch_diff
from state._records import BusItem, Change, Notice, Resync, Snapshot
from state._registry import StateRegistry
from state._state import COLLECTIONS, SCHEMA_VERSION, DashboardState, Tx

__all__ = [
    "COLLECTIONS",
    "DEFAULT_MAXSIZE",
    "REASONS",
    "SCHEMA_VERSION",
    "BusItem",
    "Change",
    "DashboardState",
    "EventBus",
    "FrozenDict",
    "FrozenList",
    "Notice",
    "Resync",
    "Snapshot",
    "SnapshotFlusher",
    "SnapshotWriter",
    "StateRegistry",
    "Subscription",
    "SubscriptionClosed",
    "Tx",
    "apply_merge_patch",
    "freeze",
    "iso_utc",
    "jsonable",
    "merge_patch_diff",
    "parse_utc",
]
