"""The database schema as forward-only migrations tracked by ``PRAGMA user_version``.

``MIGRATIONS[i]`` takes a database from version ``i`` to ``i + 1``; a fresh file is version
0. Scripts are never edited once released: a change is a new script appended to the list.
Everything pending is applied in one ``BEGIN IMMEDIATE`` transaction together with the new
``user_version``, so a crash mid-migration leaves the file at its old version, and two
processes opening the same old file cannot both migrate it.

Column conventions: money, quantities, prices and rates are TEXT holding ``str(Decimal)``;
times are TEXT ``YYYY-MM-DDTHH:MM:SS.mmmZ`` (sortable) with an INTEGER ``*_ms`` twin for
range queries.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator, Sequence

import aiosqlite

from strategy.store.errors import MigrationError, SchemaVersionError

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "TABLES",
    "configure",
    "migrate",
    "split_statements",
    "user_version",
]

# How long a connection waits for another process's write lock before failing with
# "database is locked": long enough to ride out a `dash db` query or a checkpoint.
BUSY_TIMEOUT_MS = 5_000

_V1_CORE = """
CREATE TABLE strategy_positions (
    id                TEXT PRIMARY KEY,
    strategy          TEXT NOT NULL,
    symbol            TEXT NOT NULL,
    long_venue        TEXT NOT NULL,
    short_venue       TEXT NOT NULL,
    qty               TEXT NOT NULL,
    long_entry_price  TEXT NOT NULL,
    short_entry_price TEXT NOT NULL,
    entry_spread_apr  TEXT NOT NULL,
    opened_at         TEXT NOT NULL,
    opened_at_ms      INTEGER NOT NULL,
    entry_fees        TEXT NOT NULL,
    closed_at         TEXT,
    closed_at_ms      INTEGER,
    close_reason      TEXT,
    long_exit_price   TEXT,
    short_exit_price  TEXT,
    exit_fees         TEXT,
    realized_pnl      TEXT
);
CREATE INDEX strategy_positions_strategy_closed ON strategy_positions (strategy, closed_at);

CREATE TABLE funding_payments (
    id              INTEGER PRIMARY KEY,
    position_id     TEXT NOT NULL REFERENCES strategy_positions (id),
    strategy        TEXT NOT NULL,
    venue           TEXT NOT NULL,
    funding_time    TEXT NOT NULL,
    funding_time_ms INTEGER NOT NULL,
    side            INTEGER NOT NULL CHECK (side IN (-1, 1)),
    rate            TEXT NOT NULL,
    qty             TEXT NOT NULL,
    mark            TEXT NOT NULL,
    amount          TEXT NOT NULL,
    UNIQUE (position_id, venue, funding_time)
);
CREATE INDEX funding_payments_strategy_time ON funding_payments (strategy, funding_time_ms);

-- An alert id may be raised again (escalation, restart): every raise is its own row.
CREATE TABLE alerts (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL,
    strategy    TEXT NOT NULL,
    ts          TEXT NOT NULL,
    ts_ms       INTEGER NOT NULL,
    level       TEXT NOT NULL,
    code        TEXT NOT NULL,
    message     TEXT NOT NULL,
    position_id TEXT
);
CREATE INDEX alerts_strategy_ts ON alerts (strategy, ts_ms);

CREATE TABLE commands (
    id              TEXT PRIMARY KEY,
    strategy        TEXT NOT NULL,
    ts              TEXT NOT NULL,
    ts_ms           INTEGER NOT NULL,
    op              TEXT NOT NULL,
    args_json       TEXT NOT NULL,
    peer_uid        INTEGER,
    peer_pid        INTEGER,
    idempotency_key TEXT,
    status          TEXT NOT NULL,
    outcome_json    TEXT,
    completed_at    TEXT,
    completed_at_ms INTEGER
);
CREATE UNIQUE INDEX commands_strategy_idempotency_key
    ON commands (strategy, idempotency_key) WHERE idempotency_key IS NOT NULL;

CREATE TABLE dashboard_snapshots (
    id          INTEGER PRIMARY KEY,
    strategy    TEXT NOT NULL,
    seq         INTEGER NOT NULL,
    taken_at    TEXT NOT NULL,
    taken_at_ms INTEGER NOT NULL,
    reason      TEXT NOT NULL,
    payload     BLOB NOT NULL
);
CREATE INDEX dashboard_snapshots_strategy_taken ON dashboard_snapshots (strategy, taken_at_ms);
"""

# v2: a restarted run resumes its market clock where the last one stopped.
_V2_RUNTIME = """
CREATE TABLE strategy_runtime (
    strategy   TEXT PRIMARY KEY,
    clock      TEXT NOT NULL,
    clock_ms   INTEGER NOT NULL,
    updated_at TEXT NOT NULL
);
"""

MIGRATIONS: tuple[str, ...] = (_V1_CORE, _V2_RUNTIME)
SCHEMA_VERSION = len(MIGRATIONS)

TABLES: tuple[str, ...] = (
    "strategy_positions",
    "funding_payments",
    "alerts",
    "commands",
    "dashboard_snapshots",
    "strategy_runtime",
)


def split_statements(script: str) -> Iterator[str]:
    """Yield each complete statement of ``script``, using SQLite's own tokenizer.

    ``executescript`` would be simpler but commits first, which would end the
    ``BEGIN IMMEDIATE`` that makes a migration atomic.
    """
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            statement = pending.strip()
            pending = ""
            if statement.rstrip(";").strip():
                yield statement
    if pending.strip() and not all(
        ln.strip().startswith("--") or not ln.strip() for ln in pending.splitlines()
    ):
        raise MigrationError(f"incomplete SQL statement in migration: {pending.strip()[:200]!r}")


async def configure(conn: aiosqlite.Connection) -> None:
    """Per-connection settings; WAL lets the read connection work while the writer commits.

    ``synchronous=NORMAL`` in WAL mode survives a process crash (``kill -9``) without losing
    committed transactions; only a power cut may lose the last few commits, never
    consistency.
    """
    await conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    async with conn.execute("PRAGMA journal_mode = WAL") as cursor:
        await cursor.fetchone()
    await conn.execute("PRAGMA synchronous = NORMAL")
    await conn.execute("PRAGMA foreign_keys = ON")


async def user_version(conn: aiosqlite.Connection) -> int:
    async with conn.execute("PRAGMA user_version") as cursor:
        row = await cursor.fetchone()
    return int(row[0]) if row is not None else 0


async def migrate(
    conn: aiosqlite.Connection, path: str, migrations: Sequence[str] = MIGRATIONS
) -> int:
    """Bring the database up to ``len(migrations)`` and return that version.

    ``conn`` must be in autocommit mode (``isolation_level=None``). Raises
    :class:`SchemaVersionError` for a file from a newer dash (it is left untouched) and
    :class:`MigrationError` if a script fails (the transaction is rolled back).
    """
    target = len(migrations)
    found = await user_version(conn)
    if found == target:
        return found
    if found > target:
        raise SchemaVersionError(path, found, target)
    await conn.execute("BEGIN IMMEDIATE")
    try:
        found = await user_version(conn)  # another process may have migrated meanwhile
        if found > target:
            raise SchemaVersionError(path, found, target)
        for version in range(found, target):
            for statement in split_statements(migrations[version]):
                try:
                    await conn.execute(statement)
                except sqlite3.Error as exc:
                    raise MigrationError(
                        f"Cannot migrate {path} to schema version {version + 1}: {exc} "
                        f"(in {statement[:120]!r}); the file is unchanged."
                    ) from exc
        await conn.execute(f"PRAGMA user_version = {int(target)}")
        await conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            await conn.execute("ROLLBACK")
        raise
    return target
