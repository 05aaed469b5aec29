"""An open store on a real SQLite file in the test's temp dir."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from strategy.store import Store


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "dash.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[Store]:
    s = await Store.open(db_path)
    try:
        yield s
    finally:
        await s.close()
