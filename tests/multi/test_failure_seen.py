"""A strategy that raises in its loop, as the "all" views show it: status failed, risk
critical (its strategy_failed alert), while the other strategy keeps updating.

The host runs in this process (tests/run's fixture) so the fault can be injected into one
strategy's cycle; the viewers are the real `dash` commands, in subprocesses.
"""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

from strategy.config import StrategyConfig
from tests.cli._procs import DASH, isolated_env
from tests.run._process import running

TWO = [
    StrategyConfig(id="btc-arb", symbols=("BTC/USDT",), max_cycle_errors=2),
    StrategyConfig(id="eth-arb", symbols=("ETH/USDT",)),
]
WORD = re.compile(r"(\w+)=(\S+)")


async def _dash(env: dict[str, str], *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        DASH, *args, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 30)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


async def test_failed_strategy_is_flagged_and_the_other_keeps_updating(short_tmp: Path) -> None:
    env = isolated_env(short_tmp)
    sock = short_tmp / "m.sock"
    async with running(short_tmp / "m.db", sock, strategies=list(TWO)) as proc:
        watch = await asyncio.create_subprocess_exec(
            DASH, "watch", "--all", "--socket", str(sock), "--interval", "0.1",
            env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip
        assert watch.stdout is not None
        try:

            async def explode() -> None:
                raise RuntimeError("injected bug")

            proc.strategies["btc-arb"].run_cycle = explode  # type: ignore[method-assign]
            failed = False
            eth_seqs: list[int] = []
            async with asyncio.timeout(30):
                while len(eth_seqs) < 5:
                    words = dict(WORD.findall((await watch.stdout.readline()).decode()))
                    if "event" in words:
                        continue
                    if words.get("strategy") == "btc-arb" and words["status"] == "failed":
                        assert words["risk"] == "critical"
                        failed = True
                    elif words.get("strategy") == "eth-arb" and failed:
                        assert words["status"] == "running"
                        eth_seqs.append(int(words["seq"]))
            assert eth_seqs == sorted(set(eth_seqs))  # still moving after the failure
        finally:
            watch.terminate()
            assert await asyncio.wait_for(watch.wait(), 10) == 0

        status, out, err = await _dash(env, "snapshot", "--all", "--json", "--socket", str(sock))
        assert status == 0, err
        docs = json.loads(out)
        assert (docs["btc-arb"]["status"], docs["eth-arb"]["status"]) == ("failed", "running")
        (alert,) = [a for a in docs["btc-arb"]["alerts"].values() if a["code"] == "strategy_failed"]
        assert alert["level"] == "critical" and "injected bug" in alert["message"]
        status, out, err = await _dash(
            {**env, "COLUMNS": "120"}, "snapshot", "--all", "--socket", str(sock)
        )
        rows = {line.split()[0]: line.split() for line in out.splitlines() if line[:1].isalpha()}
        assert rows["btc-arb"][2] == "failed" and rows["btc-arb"][-1] == "critical"
        assert rows["total"][3:7] == ["1", "failed,", "1", "running"]
        assert rows["total"][-1] == "critical"
