"""The packaged recording, read two ways: through the feed and straight from the CSV."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from decimal import Decimal
from importlib import resources
from pathlib import Path

import pytest

from strategy.feeds import DEFAULT_DATA_FILE, RecordedFeed

DATA_FILE = Path(str(resources.files("strategy.feeds") / "data" / DEFAULT_DATA_FILE))


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.fixture(scope="session")
def feed() -> RecordedFeed:
    return RecordedFeed.default()


@pytest.fixture(scope="session")
def csv_rows() -> list[dict[str, object]]:
    """Rows parsed independently of the feed, as the oracle for its answers."""
    with DATA_FILE.open(newline="") as fh:
        return [
            {
                "venue": r["exchange"],
                "symbol": r["symbol"].replace("USDT", "/USDT"),
                "t": _utc(r["funding_time_utc"]),
                "rate": Decimal(r["funding_rate"]),
                "start": _utc(r["candle_start_utc"]),
                "end": _utc(r["candle_end_utc"]),
                **{k: Decimal(r[k]) for k in ("open", "high", "low", "close")},
            }
            for r in csv.DictReader(fh)
        ]
