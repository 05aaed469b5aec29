"""Records with realistic, awkward values (long Decimals, trailing zeros)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from strategy.store import FundingPaymentRecord, PositionRecord

T0 = datetime(2023, 6, 1, 8, 0, tzinfo=UTC)


def position(pid: str = "p-1", strategy: str = "funding-arb", **changes: object) -> PositionRecord:
    fields: dict[str, object] = {
        "id": pid,
        "strategy": strategy,
        "symbol": "BTC/USDT",
        "long_venue": "binance",
        "short_venue": "bybit",
        "qty": Decimal("0.125"),
        "long_entry_price": Decimal("27000.10"),
        "short_entry_price": Decimal("27012.3456789012345678901234"),
        "entry_spread_apr": Decimal("0.2190"),
        "opened_at": T0,
        "entry_fees": Decimal("1.6875"),
    }
    fields.update(changes)
    return PositionRecord(**fields)  # type: ignore[arg-type]


def funding(
    pid: str = "p-1",
    venue: str = "binance",
    hours: int = 0,
    strategy: str = "funding-arb",
    amount: str = "-0.3375",
) -> FundingPaymentRecord:
    return FundingPaymentRecord(
        position_id=pid,
        strategy=strategy,
        venue=venue,
        funding_time=T0 + timedelta(hours=hours),
        side=1 if venue == "binance" else -1,
        rate=Decimal("0.0001"),
        qty=Decimal("0.125"),
        mark=Decimal("27000"),
        amount=Decimal(amount),
    )
