"""Database maintenance behind ``dash db``: check, stats, prune, restore, replay sources.

Everything here works on a database file with plain ``sqlite3`` connections, outside any
event loop, and can run while a strategy writes to the same file (see each function).
The store package itself (``strategy.store``) does not import this module.
"""

from __future__ import annotations

from strategy.store._archive import ArchivedRow, read_archive, write_archive
from strategy.store._check import CheckReport, Mismatch, check_db
from strategy.store._prune import (
    TRANSACTION_ROWS,
    PruneResult,
    RestoreResult,
    StrategyPrune,
    prune,
    restore,
)
from strategy.store._sources import ArchiveSnapshotSource, DbSnapshotSource
from strategy.store._sqlite import MaintenanceError
from strategy.store._stats import DbStats, TableStats, db_stats

__all__ = [
    "TRANSACTION_ROWS",
    "ArchiveSnapshotSource",
    "ArchivedRow",
    "CheckReport",
    "DbSnapshotSource",
    "DbStats",
    "MaintenanceError",
    "Mismatch",
    "PruneResult",
    "RestoreResult",
    "StrategyPrune",
    "TableStats",
    "check_db",
    "db_stats",
    "prune",
    "read_archive",
    "restore",
    "write_archive",
]
