"""Shared test helpers: a settable clock and position documents as the strategy builds them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

T0 = datetime(2024, 3, 1, 8, 0, tzinfo=UTC)


class StepClock:
    """``now`` for DashboardState: a fixed time the test moves explicitly."""

    def __init__(self, start: datetime = T0) -> None:
        self.t = start

    def __call__(self) -> datetime:
        return self.t

    def advance(self, seconds: float) -> datetime:
        self.t += timedelta(seconds=seconds)
        return self.t


def position_doc(
    *,
    symbol: str = "BTC/USDT",
    qty: str = "0.1",
    long_mark: str = "60000",
    short_mark: str = "60030",
    divergence_bps: str = "0.0",
    net: str = "-13.20",
    risk: str = "ok",
    reasons: tuple[str, ...] = (),
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "long": {"venue": "binance", "entry_price": Decimal("60000"), "mark": Decimal(long_mark)},
        "short": {"venue": "bybit", "entry_price": Decimal("60030"), "mark": Decimal(short_mark)},
        "qty": Decimal(qty),
        "opened_at": T0,
        "entry_spread_apr": Decimal("0.2190"),
        "divergence_bps": Decimal(divergence_bps),
        "pnl": {"legs": Decimal("0"), "funding": Decimal("0"), "fees": Decimal("13.20"),
                "net": Decimal(net)},
        "risk": {"level": risk, "reasons": list(reasons)},
        "closed_at": None,
    }
