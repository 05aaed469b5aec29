"""Fixed snapshot-document parts for the TUI tests: shaped like strategy/documents.py
produces them (money as strings, ISO ``Z`` times, no nulls)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

STRATEGY = "funding-arb"
NOW = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)
CLOCK = "2024-03-01T09:00:00.000Z"
NEXT = "2024-03-01T16:00:00.000Z"  # 7 hours after CLOCK

_SYMBOLS = ("BTC/USDT", "ETH/USDT", "SOL/USDT", "DOGE/USDT", "XRP/USDT", "BNB/USDT")
_VENUES = (("bybit", "binance"), ("okx", "binance"), ("bybit", "okx"))
_LEVELS = ("ok", "ok", "warn", "ok", "critical", "ok")


def position(i: int, tick: int = 0) -> dict[str, Any]:
    """Position ``i`` after ``tick`` monitoring cycles (marks and PnL move with it)."""
    long_venue, short_venue = _VENUES[i % len(_VENUES)]
    level = _LEVELS[i % len(_LEVELS)]
    entry = 1000 * (i + 1)
    mark = entry + tick * (i + 1)
    legs = f"{(tick * (i % 3) - 4):.2f}"
    net = f"{(tick * (i % 3) - 4) + 3.5 - 2:.2f}"
    return {
        "symbol": _SYMBOLS[i % len(_SYMBOLS)],
        "status": "open",
        "long": {
            "venue": long_venue,
            "entry_price": f"{entry}.5",
            "mark": f"{mark}.5",
            "pnl": f"{tick * (i + 1):.2f}",
            "funding": "2.00",
        },
        "short": {
            "venue": short_venue,
            "entry_price": f"{entry}.7",
            "mark": f"{mark}.9",
            "pnl": f"{-tick * (i + 1):.2f}",
            "funding": "1.50",
        },
        "qty": "0.5",
        "notional": f"{entry}.00",
        "opened_at": (NOW - timedelta(hours=i + 1)).strftime("%Y-%m-%dT%H:%M:%S.000Z"),
        "entry_spread_apr": "0.2100",
        "spread_apr": f"{0.18 + 0.001 * tick:.4f}",
        "erosion": "0.1429",
        "divergence_bps": f"{1.5 * i:.1f}",
        "funding_collected": "3.50",
        "fees": "2.00",
        "pnl": {"legs": legs, "funding": "3.50", "fees": "2.00", "net": net},
        "risk": {"level": level, "reasons": [] if level == "ok" else ["divergence"]},
        "next_funding": {long_venue: NEXT, short_venue: NEXT},
    }


def markets() -> dict[str, Any]:
    return {
        "BTC/USDT": {
            "binance": {
                "rate": "0.0001",
                "apr": "0.1095",
                "interval_h": 8,
                "next_funding_time": NEXT,
                "mark": "60000.5",
            },
            "bybit": {
                "rate": "-0.0002",
                "apr": "-0.2190",
                "interval_h": 8,
                "next_funding_time": NEXT,
                "mark": "60001.0",
            },
            "best": {
                "long": "bybit",
                "short": "binance",
                "spread_apr": "0.3285",
                "days_to_break_even": "2.1",
            },
        },
        "ETH/USDT": {
            "okx": {
                "rate": "0.00005",
                "apr": "0.0548",
                "interval_h": 8,
                "next_funding_time": "2024-03-01T09:30:00.000Z",
                "mark": "3000.1",
            },
            "binance": {
                "rate": "0.0001",
                "apr": "0.1095",
                "interval_h": 8,
                "next_funding_time": NEXT,
                "mark": "3000.3",
            },
            "best": {"long": "okx", "short": "binance", "spread_apr": "0.0547"},
        },
    }


def alerts() -> dict[str, Any]:
    return {
        "a-1": {
            "level": "warn",
            "code": "divergence",
            "position": "p-0002",
            "message": "divergence 3.0 bps beyond warn",
            "ts": "2024-03-01T08:10:00.000Z",
        },
        "a-2": {
            "level": "critical",
            "code": "margin",
            "position": "p-0004",
            "message": "margin distance 4%",
            "ts": "2024-03-01T08:50:00.000Z",
        },
    }


def totals(count: int) -> dict[str, Any]:
    return {
        "open_positions": count,
        "notional": "21000.00",
        "funding_collected": "21.00",
        "fees": "12.00",
        "unrealized_pnl": "-24.00",
        "realized_pnl": "5.00",
        "net_pnl": "-10.00",
    }
