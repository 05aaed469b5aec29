from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.alerts._http import BlackHole, FakeService


@pytest.fixture
def service() -> Iterator[FakeService]:
    with FakeService() as svc:
        yield svc


@pytest.fixture
def black_hole() -> Iterator[BlackHole]:
    hole = BlackHole()
    try:
        yield hole
    finally:
        hole.close()
