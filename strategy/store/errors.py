"""Errors raised by the store.

::

    StoreError
     +-- SchemaVersionError   the file was written by a newer dash
     +-- MigrationError       a migration script failed; the file is left as it was
     +-- StoreClosedError     a write or read after close()
"""

from __future__ import annotations

__all__ = ["MigrationError", "SchemaVersionError", "StoreClosedError", "StoreError"]


class StoreError(Exception):
    """Base of every error the store raises."""


class SchemaVersionError(StoreError):
    """The database's ``user_version`` is newer than this code knows how to read."""

    def __init__(self, path: str, found: int, supported: int) -> None:
        self.path = path
        self.found = found
        self.supported = supported
        super().__init__(
            f"Cannot open {path}: its schema version is {found}, but this dash supports up to "
            f"{supported}. It was written by a newer dash; upgrade dash or use another --db."
        )


class MigrationError(StoreError):
    """A migration failed and was rolled back."""


class StoreClosedError(StoreError):
    """The store has been closed."""
