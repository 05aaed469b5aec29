"""Write operations: what the strategy queues and the writer task executes.

Building an op encodes the record at once (Decimals to text, times to text and ms), in the
caller, so a bad value fails where the bug is rather than later inside the writer, and the
writer only binds parameters. Ops carry their SQL so consecutive ops of one kind can run as
one ``executemany``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from strategy.store._codec import (
    dec_to_text,
    opt_dec_to_text,
    opt_time_to_ms,
    opt_time_to_text,
    time_to_ms,
    time_to_text,
)
from strategy.store.records import (
    AlertRecord,
    CommandRecord,
    FundingPaymentRecord,
    PositionRecord,
)

__all__ = [
    "SqlValue",
    "WriteOp",
    "alert_insert",
    "command_insert",
    "command_update",
    "funding_insert",
    "position_close",
    "position_insert",
    "runtime_clock_upsert",
    "snapshot_insert",
]

SqlValue = str | int | bytes | None

# How much of a parameter a log line shows: enough to find the row, not a whole snapshot.
_DESCRIBE_CHARS = 80


@dataclass(frozen=True, slots=True)
class WriteOp:
    """One statement with its parameters; ``subject`` names the row for log lines.

    ``must_change`` marks updates that are expected to touch a row; when none was touched
    (unknown id, position already closed) the writer logs it instead of failing.
    """

    kind: str
    subject: str
    sql: str
    params: tuple[SqlValue, ...]
    must_change: bool = False

    def describe(self) -> str:
        shown = []
        for value in self.params:
            if isinstance(value, bytes):
                shown.append(f"<{len(value)} bytes>")
            else:
                text = repr(value)
                shown.append(text if len(text) <= _DESCRIBE_CHARS else text[:_DESCRIBE_CHARS] + "…")
        return f"{self.kind} {self.subject} ({', '.join(shown)})"


_POSITION_INSERT = """INSERT INTO strategy_positions (
    id, strategy, symbol, long_venue, short_venue, qty, long_entry_price, short_entry_price,
    entry_spread_apr, opened_at, opened_at_ms, entry_fees, closed_at, closed_at_ms,
    close_reason, long_exit_price, short_exit_price, exit_fees, realized_pnl
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

_POSITION_CLOSE = """UPDATE strategy_positions SET
    closed_at = ?, closed_at_ms = ?, close_reason = ?, long_exit_price = ?,
    short_exit_price = ?, exit_fees = ?, realized_pnl = ?
WHERE id = ? AND closed_at IS NULL"""

_FUNDING_INSERT = """INSERT OR IGNORE INTO funding_payments (
    position_id, strategy, venue, funding_time, funding_time_ms, side, rate, qty, mark, amount
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

_ALERT_INSERT = """INSERT INTO alerts (
    id, strategy, ts, ts_ms, level, code, message, position_id
) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"""

_COMMAND_INSERT = """INSERT INTO commands (
    id, strategy, ts, ts_ms, op, args_json, peer_uid, peer_pid, idempotency_key, status,
    outcome_json, completed_at, completed_at_ms
) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"""

_COMMAND_UPDATE = """UPDATE commands SET
    status = ?, outcome_json = ?, completed_at = ?, completed_at_ms = ?
WHERE id = ?"""

_SNAPSHOT_INSERT = """INSERT INTO dashboard_snapshots (
    strategy, seq, taken_at, taken_at_ms, reason, payload
) VALUES (?, ?, ?, ?, ?, ?)"""

_RUNTIME_UPSERT = """INSERT INTO strategy_runtime (strategy, clock, clock_ms, updated_at)
VALUES (?, ?, ?, ?)
ON CONFLICT (strategy) DO UPDATE SET
    clock = excluded.clock, clock_ms = excluded.clock_ms, updated_at = excluded.updated_at"""


def position_insert(rec: PositionRecord) -> WriteOp:
    return WriteOp(
        "insert_position",
        rec.id,
        _POSITION_INSERT,
        (
            rec.id,
            rec.strategy,
            rec.symbol,
            rec.long_venue,
            rec.short_venue,
            dec_to_text(rec.qty),
            dec_to_text(rec.long_entry_price),
            dec_to_text(rec.short_entry_price),
            dec_to_text(rec.entry_spread_apr),
            time_to_text(rec.opened_at),
            time_to_ms(rec.opened_at),
            dec_to_text(rec.entry_fees),
            opt_time_to_text(rec.closed_at),
            opt_time_to_ms(rec.closed_at),
            rec.close_reason,
            opt_dec_to_text(rec.long_exit_price),
            opt_dec_to_text(rec.short_exit_price),
            opt_dec_to_text(rec.exit_fees),
            opt_dec_to_text(rec.realized_pnl),
        ),
    )


def position_close(
    position_id: str,
    closed_at: datetime,
    close_reason: str,
    long_exit_price: Decimal,
    short_exit_price: Decimal,
    exit_fees: Decimal,
    realized_pnl: Decimal,
) -> WriteOp:
    """First close wins: closing a closed position touches nothing (and is logged)."""
    _require_aware("closed_at", closed_at)
    for name, value in (
        ("long_exit_price", long_exit_price),
        ("short_exit_price", short_exit_price),
        ("exit_fees", exit_fees),
        ("realized_pnl", realized_pnl),
    ):
        _require_decimal(name, value)
    return WriteOp(
        "close_position",
        position_id,
        _POSITION_CLOSE,
        (
            time_to_text(closed_at),
            time_to_ms(closed_at),
            close_reason,
            dec_to_text(long_exit_price),
            dec_to_text(short_exit_price),
            dec_to_text(exit_fees),
            dec_to_text(realized_pnl),
            position_id,
        ),
        must_change=True,
    )


def funding_insert(rec: FundingPaymentRecord) -> WriteOp:
    return WriteOp(
        "record_funding",
        f"{rec.position_id}/{rec.venue}",
        _FUNDING_INSERT,
        (
            rec.position_id,
            rec.strategy,
            rec.venue,
            time_to_text(rec.funding_time),
            time_to_ms(rec.funding_time),
            rec.side,
            dec_to_text(rec.rate),
            dec_to_text(rec.qty),
            dec_to_text(rec.mark),
            dec_to_text(rec.amount),
        ),
    )


def alert_insert(rec: AlertRecord) -> WriteOp:
    return WriteOp(
        "record_alert",
        rec.id,
        _ALERT_INSERT,
        (
            rec.id,
            rec.strategy,
            time_to_text(rec.ts),
            time_to_ms(rec.ts),
            rec.level,
            rec.code,
            rec.message,
            rec.position_id,
        ),
    )


def command_insert(rec: CommandRecord) -> WriteOp:
    return WriteOp(
        "record_command",
        rec.id,
        _COMMAND_INSERT,
        (
            rec.id,
            rec.strategy,
            time_to_text(rec.ts),
            time_to_ms(rec.ts),
            rec.op,
            rec.args_json,
            rec.peer_uid,
            rec.peer_pid,
            rec.idempotency_key,
            rec.status,
            rec.outcome_json,
            opt_time_to_text(rec.completed_at),
            opt_time_to_ms(rec.completed_at),
        ),
    )


def command_update(
    command_id: str, status: str, outcome_json: str | None, completed_at: datetime | None
) -> WriteOp:
    if completed_at is not None:
        _require_aware("completed_at", completed_at)
    return WriteOp(
        "update_command",
        command_id,
        _COMMAND_UPDATE,
        (
            status,
            outcome_json,
            opt_time_to_text(completed_at),
            opt_time_to_ms(completed_at),
            command_id,
        ),
        must_change=True,
    )


def snapshot_insert(
    strategy: str, seq: int, taken_at: datetime, reason: str, payload: bytes
) -> WriteOp:
    _require_aware("taken_at", taken_at)
    if not isinstance(payload, bytes | bytearray | memoryview):
        raise TypeError(f"snapshot payload must be bytes, not {type(payload).__name__}")
    return WriteOp(
        "write_snapshot",
        f"{strategy}#{seq}",
        _SNAPSHOT_INSERT,
        (strategy, seq, time_to_text(taken_at), time_to_ms(taken_at), reason, bytes(payload)),
    )


def runtime_clock_upsert(strategy: str, clock: datetime, updated_at: datetime) -> WriteOp:
    _require_aware("clock", clock)
    return WriteOp(
        "set_runtime_clock",
        strategy,
        _RUNTIME_UPSERT,
        (strategy, time_to_text(clock), time_to_ms(clock), time_to_text(updated_at)),
    )


def _require_aware(name: str, value: datetime) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime, not {type(value).__name__}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got {value!r}")


def _require_decimal(name: str, value: object) -> None:
    if not isinstance(value, Decimal):
        raise TypeError(f"{name} must be a Decimal, not {type(value).__name__} ({value!r})")
