"""Database rows back into records; the inverse of the op builders in ``ops.py``."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from typing import NamedTuple

from strategy.store._codec import (
    dec_from_text,
    opt_dec_from_text,
    opt_time_from_text,
    time_from_text,
)
from strategy.store.records import (
    AlertRecord,
    CommandRecord,
    FundingPaymentRecord,
    PositionRecord,
)

__all__ = [
    "SnapshotRow",
    "alert_from_row",
    "command_from_row",
    "funding_from_row",
    "position_from_row",
    "snapshot_from_row",
]


class SnapshotRow(NamedTuple):
    """A stored dashboard snapshot; a tuple so ``seq, taken_at, reason, payload = row`` works."""

    seq: int
    taken_at: datetime
    reason: str
    payload: bytes


def position_from_row(row: sqlite3.Row) -> PositionRecord:
    return PositionRecord(
        id=row["id"],
        strategy=row["strategy"],
        symbol=row["symbol"],
        long_venue=row["long_venue"],
        short_venue=row["short_venue"],
        qty=dec_from_text(row["qty"]),
        long_entry_price=dec_from_text(row["long_entry_price"]),
        short_entry_price=dec_from_text(row["short_entry_price"]),
        entry_spread_apr=dec_from_text(row["entry_spread_apr"]),
        opened_at=time_from_text(row["opened_at"]),
        entry_fees=dec_from_text(row["entry_fees"]),
        closed_at=opt_time_from_text(row["closed_at"]),
        close_reason=row["close_reason"],
        long_exit_price=opt_dec_from_text(row["long_exit_price"]),
        short_exit_price=opt_dec_from_text(row["short_exit_price"]),
        exit_fees=opt_dec_from_text(row["exit_fees"]),
        realized_pnl=opt_dec_from_text(row["realized_pnl"]),
    )


def funding_from_row(row: sqlite3.Row) -> FundingPaymentRecord:
    return FundingPaymentRecord(
        position_id=row["position_id"],
        strategy=row["strategy"],
        venue=row["venue"],
        funding_time=time_from_text(row["funding_time"]),
        side=int(row["side"]),
        rate=dec_from_text(row["rate"]),
        qty=dec_from_text(row["qty"]),
        mark=dec_from_text(row["mark"]),
        amount=dec_from_text(row["amount"]),
    )


def alert_from_row(row: sqlite3.Row) -> AlertRecord:
    return AlertRecord(
        id=row["id"],
        strategy=row["strategy"],
        ts=time_from_text(row["ts"]),
        level=row["level"],
        code=row["code"],
        message=row["message"],
        position_id=row["position_id"],
    )


def command_from_row(row: sqlite3.Row) -> CommandRecord:
    return CommandRecord(
        id=row["id"],
        strategy=row["strategy"],
        ts=time_from_text(row["ts"]),
        op=row["op"],
        args_json=row["args_json"],
        peer_uid=row["peer_uid"],
        peer_pid=row["peer_pid"],
        idempotency_key=row["idempotency_key"],
        status=row["status"],
        outcome_json=row["outcome_json"],
        completed_at=opt_time_from_text(row["completed_at"]),
    )


def snapshot_from_row(row: sqlite3.Row) -> SnapshotRow:
    return SnapshotRow(
        seq=int(row["seq"]),
        taken_at=time_from_text(row["taken_at"]),
        reason=row["reason"],
        payload=bytes(row["payload"]),
    )
