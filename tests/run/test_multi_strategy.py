"""Several strategies in one process, each served by id on one socket (issue 9)."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest

from ipc import Client, RequestFailed
from strategy.config import ConfigError, StrategyConfig
from strategy.runner import RunOptions, load_run_file

from ._process import running as run_process

TWO = [
    StrategyConfig(id="btc-arb", symbols=("BTC/USDT",), max_cycle_errors=2),
    StrategyConfig(id="eth-arb", symbols=("ETH/USDT",), venues=("bybit", "okx", "binance")),
]


def running(short_tmp: Path, strategies=TWO):
    return run_process(short_tmp / "m.db", short_tmp / "m.sock", strategies=list(strategies))


async def wait_for_positions(client: Client, strategy: str) -> dict:
    async with asyncio.timeout(20):
        while True:
            doc = (await client.request("snapshot", strategy=strategy))["snapshot"]
            if doc["positions"]:
                return doc
            await asyncio.sleep(0.1)


async def test_two_strategies_served_by_id_with_routed_close_and_attributed_rows(
    short_tmp: Path,
) -> None:
    async with running(short_tmp) as proc:
        client = Client(short_tmp / "m.sock")
        hello = await client.connect()
        assert sorted(hello["strategies"]) == ["btc-arb", "eth-arb"]
        listed = await client.request("strategies")
        assert {s["strategy"] for s in listed["strategies"]} == {"btc-arb", "eth-arb"}

        # without `strategy` the server cannot guess which one is meant
        with pytest.raises(RequestFailed) as info:
            await client.request("snapshot")
        assert info.value.code == "bad_request"

        btc = await wait_for_positions(client, "btc-arb")
        eth = await wait_for_positions(client, "eth-arb")
        assert {p["symbol"] for p in btc["positions"].values()} == {"BTC/USDT"}
        assert {p["symbol"] for p in eth["positions"].values()} == {"ETH/USDT"}
        assert btc["strategy"] == "btc-arb" and eth["strategy"] == "eth-arb"

        eth_pid = next(iter(eth["positions"]))
        # the wrong strategy does not know the position
        with pytest.raises(RequestFailed) as info:
            await client.close_position(eth_pid, strategy="btc-arb", idempotency_key="x1")
        assert info.value.code == "not_found"
        ticket = await client.close_position(eth_pid, strategy="eth-arb", idempotency_key="x2")
        event = await client.wait_command(ticket["command_id"], timeout_s=10)
        assert event["strategy"] == "eth-arb"
        assert event["data"]["status"] == "completed"
        assert proc.strategies["btc-arb"].positions.get(eth_pid) is None
        await client.close()
        assert proc.store is not None
        await proc.store.flush()

    con = sqlite3.connect(short_tmp / "m.db")
    try:
        by_strategy = dict(
            con.execute(
                "SELECT strategy, group_concat(DISTINCT symbol) FROM strategy_positions "
                "GROUP BY strategy"
            ).fetchall()
        )
        closed = con.execute(
            "SELECT strategy, closed_at FROM strategy_positions WHERE id = ?", (eth_pid,)
        ).fetchone()
        commands = con.execute(
            "SELECT strategy FROM commands WHERE op = 'close_position'"
        ).fetchall()
        snapshots = dict(
            con.execute(
                "SELECT strategy, COUNT(*) FROM dashboard_snapshots GROUP BY strategy"
            ).fetchall()
        )
    finally:
        con.close()
    assert by_strategy == {"btc-arb": "BTC/USDT", "eth-arb": "ETH/USDT"}
    assert closed[0] == "eth-arb" and closed[1] is not None
    assert commands == [("eth-arb",)]
    assert set(snapshots) == {"btc-arb", "eth-arb"}


async def test_a_failing_strategy_is_reported_while_the_other_keeps_running(
    short_tmp: Path,
) -> None:
    async with running(short_tmp) as proc:
        broken = proc.strategies["btc-arb"]

        async def explode() -> None:
            raise RuntimeError("injected bug")

        broken.run_cycle = explode  # type: ignore[method-assign]
        client = Client(short_tmp / "m.sock")
        await client.connect()
        await client.subscribe(strategy="eth-arb")
        async with asyncio.timeout(20):
            while True:
                doc = (await client.request("snapshot", strategy="btc-arb"))["snapshot"]
                if doc["status"] == "failed":
                    break
                await asyncio.sleep(0.05)
        alerts = [a for a in doc["alerts"].values() if a["code"] == "strategy_failed"]
        assert alerts and alerts[0]["level"] == "critical"
        assert "injected bug" in alerts[0]["message"]

        # the other strategy keeps getting updates after the failure
        seq_after_failure = (await client.request("snapshot", strategy="eth-arb"))["seq"]
        patches = 0
        async with asyncio.timeout(10):
            while patches < 5:
                event = await client.next_event()
                if event["event"] == "patch":
                    assert event["strategy"] == "eth-arb"
                    if event["seq"] > seq_after_failure:
                        patches += 1
        eth = (await client.request("snapshot", strategy="eth-arb"))["snapshot"]
        assert eth["status"] == "running"
        await client.close()


def test_run_file_with_several_strategies(tmp_path: Path) -> None:
    path = tmp_path / "multi.toml"
    path.write_text(
        '[run]\nname = "desk"\n\n'
        '[[strategies]]\nid = "a"\nsymbols = ["BTC/USDT"]\n\n'
        '[[strategies]]\nid = "b"\nsymbols = ["ETH/USDT"]\nmax_open_positions = 2\n'
    )
    configs, run_table, alerts = load_run_file(path)
    assert [c.id for c in configs] == ["a", "b"]
    assert configs[1].max_open_positions == 2
    assert run_table["name"] == "desk" and alerts is None
    options = RunOptions(strategies=configs, name=run_table["name"])
    assert options.process_name == "desk"

    path.write_text('[[strategies]]\nid = "a"\n\n[[strategies]]\nid = "a"\n')
    with pytest.raises(ConfigError, match="ids must differ"):
        load_run_file(path)
