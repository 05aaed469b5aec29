"""The strategy's SQLite store: records, schema migrations, a batched writer, reads."""

from strategy.store._rows import SnapshotRow
from strategy.store._writer import StoreStats
from strategy.store.errors import MigrationError, SchemaVersionError, StoreClosedError, StoreError
from strategy.store.ops import WriteOp
from strategy.store.records import (
    AlertRecord,
    CommandRecord,
    FundingPaymentRecord,
    PositionRecord,
    PositionStatus,
)
from strategy.store.schema import SCHEMA_VERSION
from strategy.store.store import Store

__all__ = [
    "SCHEMA_VERSION",
    "AlertRecord",
    "CommandRecord",
    "FundingPaymentRecord",
    "MigrationError",
    "PositionRecord",
    "PositionStatus",
    "SchemaVersionError",
    "SnapshotRow",
    "Store",
    "StoreClosedError",
    "StoreError",
    "StoreStats",
    "WriteOp",
]
