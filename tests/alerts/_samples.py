"""One notice of each kind the strategy publishes, shaped as in docs/architecture.md."""

from __future__ import annotations

from typing import Any

from state import Notice

STRATEGY = "funding-arb"
TOKEN = "123456789:AAFakeTelegramTokenForTestsOnly_xyz"
SLACK_PATH = "/services/T00000000/B00000000/XXXXsecretXXXXwebhookXXXX"

DATA: dict[str, dict[str, Any]] = {
    "position_opened": {
        "position": "p-7f3a",
        "symbol": "BTC/USDT",
        "long_venue": "binance",
        "short_venue": "bybit",
        "qty": "0.100",
        "entry_spread_apr": "0.2134",
        "notional": "30012.5",
    },
    "position_closed": {
        "position": "p-7f3a",
        "symbol": "BTC/USDT",
        "reason": "spread_eroded",
        "realized_pnl": "1234.567",
        "funding_collected": "41.2",
        "fees": "33",
    },
    "alert": {
        "id": "a-19",
        "level": "critical",
        "code": "divergence",
        "message": "divergence 52 bps > 50 bps <limit>",
        "position": "p-7f3a",
    },
    "command": {
        "command_id": "c-1",
        "op": "close_position",
        "status": "completed",
        "position": "p-7f3a",
        "reason": "operator",
        "peer_uid": 1000,
    },
    "strategy_started": {"mode": "paper", "reason": None},
    "strategy_stopped": {"mode": "paper", "reason": "signal"},
    "feed_lost": {"venue": "binance", "symbol": None},
    "feed_restored": {"venue": "binance", "symbol": "BTC/USDT"},
}


def notice(kind: str, **overrides: Any) -> Notice:
    return Notice(STRATEGY, kind, {**DATA[kind], **overrides})
