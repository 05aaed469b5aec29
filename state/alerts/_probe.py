"""``dash alerts test``: one test message per sink, one attempt, the HTTP outcome reported.

No retry and no queue: the operator wants to know now whether the URL, token and chat id
are right, and a retry would hide a 429 or a 5xx that is worth seeing.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ._exceptions import AlertConfigError
from ._format import test_message
from ._manager import build_sink
from ._redact import redact, redact_exception
from .config import AlertsConfig, SinkConfig, from_toml_dict

__all__ = ["TestResult", "send_test"]


@dataclass(frozen=True)
class TestResult:
    """One sink's answer to the test message; ``error`` is masked."""

    __test__ = False  # a result record, not a pytest test class

    sink: str
    ok: bool
    http_status: int | None
    error: str | None


async def send_test(
    config: AlertsConfig | Mapping[str, Any], sink_name: str | None, *, strategy: str = "dash"
) -> list[TestResult]:
    """Send a test message to one sink (or every enabled sink) and report each outcome.

    Args:
        config: an ``AlertsConfig`` or the parsed TOML document / ``[alerts]`` table.
        sink_name: the sink to test. Defaults to every enabled sink.
        strategy: the strategy id shown in the message. Defaults to ``dash``.

    Raises:
        AlertConfigError: no such sink, or the named sink is disabled.
    """
    if not isinstance(config, AlertsConfig):
        config = from_toml_dict(config)
    chosen: tuple[SinkConfig, ...]
    if sink_name is not None:
        sink_config = config.sink(sink_name)
        if not sink_config.enabled:
            raise AlertConfigError(f"alert sink {sink_name!r} is disabled (enabled = false)")
        chosen = (sink_config,)
    else:
        chosen = config.active_sinks
    return list(await asyncio.gather(*(_probe(sc, strategy) for sc in chosen)))


async def _probe(config: SinkConfig, strategy: str) -> TestResult:
    sink = build_sink(config)
    try:
        outcome = await sink.deliver_once(test_message(strategy, config.name))
    except Exception as exc:
        return TestResult(config.name, False, None, redact_exception(exc))
    finally:
        await sink.close(0)
    error = redact(outcome.error) if outcome.error else None
    return TestResult(config.name, outcome.ok, outcome.http_status, error)
