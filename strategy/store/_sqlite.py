"""Plain ``sqlite3`` connections for maintenance (``dash db ...``), outside any event loop.

Maintenance runs once from a command line, so it needs none of the writer machinery; it
must however share the file safely with a running strategy: every connection waits up to
``BUSY_TIMEOUT_MS`` for the write lock, reads never hold a transaction open longer than
one statement, and a read-only open (``mode=ro``) cannot change the file at all.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from strategy.store.errors import MigrationError, SchemaVersionError, StoreError
from strategy.store.schema import BUSY_TIMEOUT_MS, MIGRATIONS, SCHEMA_VERSION, split_statements

__all__ = ["MaintenanceError", "connect", "create_or_migrate"]


class MaintenanceError(StoreError):
    """A maintenance command could not do what was asked; the message says why."""


def connect(path: str | os.PathLike[str], *, readonly: bool) -> sqlite3.Connection:
    """An autocommit connection to an existing dash database, rows as ``sqlite3.Row``.

    Raises:
        MaintenanceError: no such file, or not a dash database.
        SchemaVersionError: written by a newer dash.
    """
    file = Path(path)
    if not file.is_file():
        raise MaintenanceError(f"no database at {file}")
    try:
        if readonly:
            conn = sqlite3.connect(
                file.resolve().as_uri() + "?mode=ro", uri=True, isolation_level=None
            )
        else:
            conn = sqlite3.connect(file, isolation_level=None)
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    except sqlite3.DatabaseError as exc:
        raise MaintenanceError(f"cannot open {file}: {exc}") from exc
    if version > SCHEMA_VERSION:
        conn.close()
        raise SchemaVersionError(str(file), version, SCHEMA_VERSION)
    if version < 1:
        conn.close()
        raise MaintenanceError(f"{file} is not a dash database (no schema)")
    conn.row_factory = sqlite3.Row
    return conn


def create_or_migrate(path: str | os.PathLike[str]) -> None:
    """Bring ``path`` to the current schema, creating it if needed (for a restore).

    The synchronous twin of ``schema.migrate``: the same scripts, in one
    ``BEGIN IMMEDIATE`` transaction with the new ``user_version``.
    """
    file = Path(path)
    file.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(file, isolation_level=None)
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        conn.execute("PRAGMA journal_mode = WAL").fetchone()
        conn.execute("BEGIN IMMEDIATE")
        try:
            found = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if found > SCHEMA_VERSION:
                raise SchemaVersionError(str(file), found, SCHEMA_VERSION)
            for version in range(found, SCHEMA_VERSION):
                for statement in split_statements(MIGRATIONS[version]):
                    try:
                        conn.execute(statement)
                    except sqlite3.Error as exc:
                        raise MigrationError(
                            f"Cannot migrate {file} to schema version {version + 1}: {exc}"
                        ) from exc
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            raise
    finally:
        conn.close()
