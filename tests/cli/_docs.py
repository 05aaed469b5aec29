"""A fixed snapshot document in the shape `dash run` serves (strategy/documents.py)."""

from __future__ import annotations

from typing import Any


def position(
    pid_n: int, *, symbol: str = "BTC/USDT", net: str = "-32.16", risk: str = "ok"
) -> dict[str, Any]:
    return {
        "symbol": symbol,
        "status": "open",
        "long": {
            "venue": "bybit",
            "entry_price": "18807.38",
            "mark": "18933.7",
            "pnl": "67.21",
            "funding": "4.30",
        },
        "short": {
            "venue": "binance",
            "entry_price": "18778.12",
            "mark": "18955.1",
            "pnl": "-94.17",
            "funding": "1.00",
        },
        "qty": "0.5321",
        "notional": "10080.32",
        "opened_at": f"2023-01-13T07:0{pid_n}:30.595Z",
        "entry_spread_apr": "0.1291",
        "spread_apr": "0.1575",
        "erosion": "-0.2197",
        "divergence_bps": "26.9",
        "funding_collected": "5.30",
        "fees": "10.50",
        "pnl": {"legs": "-26.96", "funding": "5.30", "fees": "10.50", "net": net},
        "risk": {"level": risk, "reasons": [] if risk == "ok" else ["divergence"]},
        "next_funding": {
            "bybit": "2023-01-13T16:00:00.000Z",
            "binance": "2023-01-13T16:00:00.000Z",
        },
    }


def market(spread: str = "0.1575") -> dict[str, Any]:
    def venue(rate: str, apr: str) -> dict[str, Any]:
        return {
            "rate": rate,
            "apr": apr,
            "interval_h": 8,
            "next_funding_time": "2023-01-13T16:00:00.000Z",
            "mark": "18955.1",
        }

    return {
        "binance": venue("0.0001", "0.1095"),
        "bybit": venue("-0.00042722", "-0.4678"),
        "okx": venue("0.0000257", "0.0282"),
        "best": {
            "long": "bybit",
            "short": "binance",
            "spread_apr": spread,
            "days_to_break_even": "4.9",
        },
    }


def document(seq: int = 54) -> dict[str, Any]:
    return {
        "schema": 1,
        "strategy": "funding-arb",
        "seq": seq,
        "ts": "2023-01-13T11:29:26.950Z",
        "mode": "paper",
        "status": "running",
        "clock": "2023-01-13T11:29:26.296Z",
        "totals": {
            "open_positions": 3,
            "notional": "30059.74",
            "funding_collected": "7.67",
            "fees": "31.50",
            "unrealized_pnl": "-110.88",
            "realized_pnl": "12.00",
            "net_pnl": "1234.21",
        },
        "positions": {
            "p-eaa7f525": position(1),
            "p-6e9bd8d0": position(2, symbol="ETH/USDT", net="12.50", risk="warn"),
            "p-0c0ffee0": position(3, symbol="SOL/USDT", net="-1.00", risk="critical"),
        },
        "markets": {"BTC/USDT": market(), "ETH/USDT": market("0.2184")},
        "alerts": {
            "a-1": {
                "level": "warn",
                "code": "divergence",
                "position": "p-6e9bd8d0",
                "message": "legs diverged 26.9 bps",
                "ts": "2023-01-13T11:00:00.000Z",
            },
            "a-2": {
                "level": "critical",
                "code": "divergence",
                "position": "p-0c0ffee0",
                "message": "legs diverged 80 bps",
                "ts": "2023-01-13T11:20:00.000Z",
            },
        },
    }
