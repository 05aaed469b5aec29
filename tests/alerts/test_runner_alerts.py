"""Alerts from the real runner: a paper strategy with an ``[alerts]`` table, a real socket,
and a real local HTTP server standing in for a webhook receiver and the Telegram Bot API.

Nothing is faked between the strategy and the wire: the notices come from the strategy's
own bus, the sinks send them with httpx, and the close goes through the Unix socket.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from ipc import Client
from tests.alerts._http import FakeService, Reply, wait_until
from tests.alerts._samples import TOKEN
from tests.run._process import running

HOOK_PATH = "/hook/runner-e2e-endpoint-key"
TELEGRAM_PATH = f"/bot{TOKEN}/sendMessage"
STRATEGY = "funding-arb"


def _alerts(base_url: str) -> dict[str, Any]:
    """The ``[alerts]`` table as `dash run --config` would hand it to the runner."""
    return {
        "cooldown_s": 0,  # every event counts here, repeats included
        "timeout_s": 2,
        "sinks": [
            {"name": "hook", "kind": "webhook", "url": base_url + HOOK_PATH},
            {
                "name": "desk",
                "kind": "telegram",
                "token": TOKEN,
                "chat_id": "-1001234567890",
                "parse_mode": "",
                "base_url": base_url,
            },
        ],
    }


def _hook(service: FakeService) -> list[dict[str, Any]]:
    return [r.json() for r in list(service.requests) if r.path == HOOK_PATH]


def _telegram(service: FakeService) -> list[str]:
    return [r.json()["text"] for r in list(service.requests) if r.path == TELEGRAM_PATH]


def _first(service: FakeService, kind: str, **data: Any) -> dict[str, Any] | None:
    for body in _hook(service):
        if body["kind"] == kind and all(body["data"].get(k) == v for k, v in data.items()):
            return body
    return None


async def _arrived(service: FakeService, kind: str, within_s: float = 20.0, **data: Any) -> Any:
    await wait_until(lambda: _first(service, kind, **data) is not None, within_s)
    return _first(service, kind, **data)


async def test_runner_sends_lifecycle_positions_and_commands(
    short_tmp: Path, service: FakeService
) -> None:
    service.default = Reply.json(200, {"ok": True, "result": {}})
    sock = short_tmp / "s.sock"
    async with running(short_tmp / "a.db", sock, alerts=_alerts(service.base_url)) as proc:
        assert proc.alerts is not None
        started = await _arrived(service, "strategy_started")
        assert started["source"] == "dash" and started["strategy"] == STRATEGY
        assert started["data"]["mode"] == "paper"
        assert started["title"] == "▶️ Strategy started (paper)"

        await _arrived(service, "position_opened")
        client = Client(sock)
        await client.connect()
        try:
            doc = (await client.request("snapshot"))["snapshot"]
            # A position still open whose opening was announced.
            pid = next(
                p for p in doc["positions"] if _first(service, "position_opened", position=p)
            )
            opened = _first(service, "position_opened", position=pid)
            assert opened is not None
            position = doc["positions"][pid]
            data = opened["data"]
            assert data["symbol"] == position["symbol"]
            assert (data["long_venue"], data["short_venue"]) == (
                position["long"]["venue"],
                position["short"]["venue"],
            )
            assert data["qty"] == position["qty"]
            assert opened["title"] == f"🟢 Opened {position['symbol']} {pid}"
            assert opened["text"].startswith(opened["title"] + "\n")
            long_short = f"long {data['long_venue']} / short {data['short_venue']}"
            assert f"\n{long_short}\nqty {data['qty']} · notional " in opened["text"]

            ticket = await client.close_position(pid, reason="alerts e2e", idempotency_key="a-1")
            outcome = (await client.wait_command(ticket["command_id"], timeout_s=10))["data"]
            assert outcome["status"] == "completed"
        finally:
            await client.close()

        closed = await _arrived(service, "position_closed", position=pid)
        assert closed["data"]["reason"] == "alerts e2e"
        result = outcome["result"]
        for key in ("realized_pnl", "funding_collected", "fees"):
            assert closed["data"][key] == result[key]
        assert closed["title"] == f"🏁 Closed {position['symbol']} {pid}"
        assert "reason: alerts e2e" in closed["text"]
        command = await _arrived(service, "command", position=pid)
        assert command["data"]["command_id"] == ticket["command_id"]
        assert command["data"]["peer_uid"] == os.getuid()
        assert command["title"] == f"✅ Close {pid} completed"
        assert f"requested by uid {os.getuid()}" in command["text"]
        # The Telegram sink got the same story, as text.
        await wait_until(
            lambda: any(f"requested by uid {os.getuid()}" in t for t in _telegram(service)), 10
        )
    # Leaving `running` stops the process: the manager drains the final notice first.
    stopped = _first(service, "strategy_stopped")
    assert stopped is not None and stopped["data"]["mode"] == "paper"
    assert stopped["title"] == "⏹️ Strategy stopped (paper)"
    telegram = _telegram(service)
    assert telegram[0].startswith("▶️ Strategy started (paper)")
    assert any(t.startswith("⏹️ Strategy stopped (paper)") for t in telegram)
    assert any(t.startswith(f"🏁 Closed {position['symbol']} {pid}") for t in telegram)


async def test_a_backtest_pages_nobody(short_tmp: Path, service: FakeService) -> None:
    """`--speed max` replays weeks in seconds: its openings are history, not news."""
    alerts = _alerts(service.base_url)
    async with running(short_tmp / "b.db", None, speed="max", serve=False, alerts=alerts) as proc:
        assert proc.alerts is None
        state = proc.strategy.state if proc.strategy is not None else None
        assert state is not None
        await wait_until(lambda: bool(state.snapshot().doc.get("positions")), 20)
    assert service.requests == []
