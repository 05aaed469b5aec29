"""Records refuse the values that would silently corrupt the books."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from strategy.store import AlertRecord, CommandRecord, FundingPaymentRecord
from tests.store.factories import T0, funding, position


def test_status_follows_closed_at() -> None:
    assert position().status == "open"
    assert position(closed_at=T0 + timedelta(hours=8)).status == "closed"


def test_float_money_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"PositionRecord\.qty must be a Decimal"):
        position(qty=0.1)
    with pytest.raises(TypeError, match=r"realized_pnl"):
        position(realized_pnl=1.5)


def test_naive_time_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        position(opened_at=datetime(2023, 6, 1, 8))
    with pytest.raises(ValueError, match="timezone-aware"):
        AlertRecord("a-1", "s", datetime(2023, 6, 1), "warn", "divergence", "msg")


def test_aware_times_are_normalised_to_utc() -> None:
    plus2 = timezone(timedelta(hours=2))
    rec = position(opened_at=datetime(2023, 6, 1, 10, tzinfo=plus2))
    assert rec.opened_at == T0
    assert rec.opened_at.utcoffset() == timedelta(0)
    assert rec.opened_at.tzinfo is not None and rec.opened_at.tzname() == "UTC"


def test_funding_side_must_be_plus_or_minus_one() -> None:
    assert funding(venue="bybit").side == -1
    for bad in (0, 2, True):
        with pytest.raises(ValueError, match="side"):
            FundingPaymentRecord(
                "p", "s", "v", T0, bad, Decimal(1), Decimal(1), Decimal(1), Decimal(1)
            )


def test_command_completed_at_defaults_to_none() -> None:
    rec = CommandRecord("c-1", "s", T0, "close_position", "{}", 1000, 42, None, "accepted")
    assert rec.outcome_json is None and rec.completed_at is None
