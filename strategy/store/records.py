"""The points of record the strategy writes and reads back after a restart.

Records are frozen so a queued write can never change under the writer. Construction
checks the two mistakes that would silently corrupt the books: a float where money
belongs, and a naive datetime (whose meaning depends on the host's zone). Aware times are
normalised to UTC here, so equality after a database round trip holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Literal

__all__ = [
    "AlertRecord",
    "CommandRecord",
    "FundingPaymentRecord",
    "PositionRecord",
    "PositionStatus",
]

PositionStatus = Literal["open", "closed"]


def _check(record: object, decimals: tuple[str, ...], times: tuple[str, ...]) -> None:
    """Reject floats for money and naive times; store aware times as UTC."""
    name = type(record).__name__
    for field_name in decimals:
        value = getattr(record, field_name)
        if value is not None and not isinstance(value, Decimal):
            raise TypeError(
                f"{name}.{field_name} must be a Decimal, not {type(value).__name__} ({value!r})"
            )
    for field_name in times:
        value = getattr(record, field_name)
        if value is None:
            continue
        if not isinstance(value, datetime):
            raise TypeError(f"{name}.{field_name} must be a datetime, not {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{name}.{field_name} must be timezone-aware, got {value!r}")
        object.__setattr__(record, field_name, value.astimezone(UTC))


@dataclass(frozen=True, slots=True)
class PositionRecord:
    """One pair position: long on one venue, short on another, same quantity."""

    id: str
    strategy: str
    symbol: str
    long_venue: str
    short_venue: str
    qty: Decimal
    long_entry_price: Decimal
    short_entry_price: Decimal
    entry_spread_apr: Decimal
    opened_at: datetime
    entry_fees: Decimal
    closed_at: datetime | None = None
    close_reason: str | None = None
    long_exit_price: Decimal | None = None
    short_exit_price: Decimal | None = None
    exit_fees: Decimal | None = None
    realized_pnl: Decimal | None = None

    def __post_init__(self) -> None:
        _check(
            self,
            (
                "qty",
                "long_entry_price",
                "short_entry_price",
                "entry_spread_apr",
                "entry_fees",
                "long_exit_price",
                "short_exit_price",
                "exit_fees",
                "realized_pnl",
            ),
            ("opened_at", "closed_at"),
        )

    @property
    def status(self) -> PositionStatus:
        return "open" if self.closed_at is None else "closed"


@dataclass(frozen=True, slots=True)
class FundingPaymentRecord:
    """One settlement on one leg; ``amount`` is signed, positive when we were paid.

    ``side`` is ``+1`` for the long leg and ``-1`` for the short leg, so that
    ``amount == -side * qty * mark * rate`` (see docs/architecture.md).
    """

    position_id: str
    strategy: str
    venue: str
    funding_time: datetime
    side: int
    rate: Decimal
    qty: Decimal
    mark: Decimal
    amount: Decimal

    def __post_init__(self) -> None:
        if self.side not in (1, -1) or isinstance(self.side, bool):
            raise ValueError(f"FundingPaymentRecord.side must be +1 or -1, got {self.side!r}")
        _check(self, ("rate", "qty", "mark", "amount"), ("funding_time",))


@dataclass(frozen=True, slots=True)
class AlertRecord:
    """A risk alert as raised; the same ``id`` raised again is stored as a new row."""

    id: str
    strategy: str
    ts: datetime
    level: str
    code: str
    message: str
    position_id: str | None = None

    def __post_init__(self) -> None:
        _check(self, (), ("ts",))


@dataclass(frozen=True, slots=True)
class CommandRecord:
    """The audit row of one operator command; ``status``/``outcome`` are updated later.

    ``completed_at`` is not in the first contract; it is set by ``Store.update_command``.
    """

    id: str
    strategy: str
    ts: datetime
    op: str
    args_json: str
    peer_uid: int | None
    peer_pid: int | None
    idempotency_key: str | None
    status: str
    outcome_json: str | None = None
    completed_at: datetime | None = None

    def __post_init__(self) -> None:
        _check(self, (), ("ts", "completed_at"))
