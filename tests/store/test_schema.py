"""Migrations: from empty, from an older version with data, refusing a newer one."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from decimal import Decimal
from pathlib import Path

import aiosqlite
import pytest

from strategy.store import (
    SCHEMA_VERSION,
    MigrationError,
    PositionRecord,
    SchemaVersionError,
    Store,
)
from strategy.store.schema import MIGRATIONS, TABLES, configure, migrate, split_statements
from tests.store.factories import funding, position


def _tables(path: Path) -> set[str]:
    with closing(sqlite3.connect(path)) as conn:
        rows = conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall()
    return {r[0] for r in rows}


def _user_version(path: Path) -> int:
    with closing(sqlite3.connect(path)) as conn:
        return int(conn.execute("PRAGMA user_version").fetchone()[0])


async def test_fresh_file_gets_every_table_and_current_version(db_path: Path) -> None:
    store = await Store.open(db_path)
    await store.close()
    assert _user_version(db_path) == SCHEMA_VERSION == len(MIGRATIONS)
    assert set(TABLES) <= _tables(db_path)
    with closing(sqlite3.connect(db_path)) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        indexes = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='index'")}
    assert {
        "strategy_positions_strategy_closed",
        "commands_strategy_idempotency_key",
        "dashboard_snapshots_strategy_taken",
    } <= indexes


async def test_store_connection_enforces_foreign_keys(store: Store) -> None:
    # A funding row for a position that was never inserted is refused, not stored.
    store.record_funding(funding(pid="p-ghost"))
    await store.flush()
    assert store.stats.failed_ops == 1
    assert (await store.table_counts())["funding_payments"] == 0


async def test_opening_twice_is_a_no_op(db_path: Path) -> None:
    for _ in range(2):
        store = await Store.open(db_path)
        store.insert_position(position(pid=f"p-{_}"))
        await store.close()
    assert _user_version(db_path) == SCHEMA_VERSION
    store = await Store.open(db_path)
    assert [p.id for p in await store.positions()] == ["p-0", "p-1"]
    await store.close()


async def test_older_file_is_migrated_and_keeps_its_rows(db_path: Path) -> None:
    # Build a version-1 file (no strategy_runtime) with a position in it, as an older
    # dash would have left it.
    async with aiosqlite.connect(db_path, isolation_level=None) as conn:
        await configure(conn)
        assert await migrate(conn, str(db_path), MIGRATIONS[:1]) == 1
        await conn.execute(
            "INSERT INTO strategy_positions (id, strategy, symbol, long_venue, short_venue, qty,"
            " long_entry_price, short_entry_price, entry_spread_apr, opened_at, opened_at_ms,"
            " entry_fees) VALUES ('p-old', 'funding-arb', 'ETH/USDT', 'okx', 'binance', '1.50',"
            " '1800', '1801.5', '0.3', '2023-06-01T08:00:00.000Z', 1685606400000, '0.90')"
        )
    assert _user_version(db_path) == 1
    assert "strategy_runtime" not in _tables(db_path)

    store = await Store.open(db_path)
    try:
        assert _user_version(db_path) == SCHEMA_VERSION
        [old] = await store.open_positions("funding-arb")
        assert isinstance(old, PositionRecord)
        assert (old.id, old.qty, old.entry_fees) == ("p-old", Decimal("1.50"), Decimal("0.90"))
        assert str(old.qty) == "1.50"
        # The table added by the migration works.
        store.set_runtime_clock("funding-arb", old.opened_at)
        await store.flush()
        assert await store.runtime_clock("funding-arb") == old.opened_at
    finally:
        await store.close()


async def test_newer_file_is_refused_and_left_untouched(db_path: Path) -> None:
    with closing(sqlite3.connect(db_path)) as conn:
        conn.execute("CREATE TABLE future_thing (x)")
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(SchemaVersionError) as info:
        await Store.open(db_path)
    message = str(info.value)
    assert f"schema version is {SCHEMA_VERSION + 1}" in message
    assert f"supports up to {SCHEMA_VERSION}" in message
    assert info.value.found == SCHEMA_VERSION + 1
    assert _user_version(db_path) == SCHEMA_VERSION + 1
    assert _tables(db_path) == {"future_thing"}


async def test_failed_migration_rolls_back_everything(db_path: Path) -> None:
    broken = (*MIGRATIONS, "CREATE TABLE extra (x);\nTHIS IS NOT SQL;")
    async with aiosqlite.connect(db_path, isolation_level=None) as conn:
        await configure(conn)
        with pytest.raises(MigrationError, match="schema version 3"):
            await migrate(conn, str(db_path), broken)
        assert not conn.in_transaction
    # Not even version 1's tables were kept: the whole upgrade is one transaction.
    assert _user_version(db_path) == 0
    assert not set(TABLES) & _tables(db_path)


def test_split_statements_respects_semicolons_in_strings_and_comments() -> None:
    script = (
        "-- lead; comment\nCREATE TABLE a (x TEXT DEFAULT ';');\n\nINSERT INTO a VALUES ('b;c');\n"
    )
    assert list(split_statements(script)) == [
        "-- lead; comment\nCREATE TABLE a (x TEXT DEFAULT ';');",
        "INSERT INTO a VALUES ('b;c');",
    ]
    with pytest.raises(MigrationError, match="incomplete"):
        list(split_statements("CREATE TABLE a (x)"))
