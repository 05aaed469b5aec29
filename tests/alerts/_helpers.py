"""Building managers pointed at the local fake services, with fast retry settings."""

from __future__ import annotations

import random
from collections.abc import Callable
from typing import Any

from state import EventBus
from state.alerts import AlertManager, from_toml_dict
from tests.alerts._samples import SLACK_PATH, TOKEN

FAST: dict[str, Any] = {
    "backoff_base_s": 0.01,
    "backoff_max_s": 0.05,
    "give_up_after_s": 2.0,
    "max_attempts": 5,
    "timeout_s": 1.0,
    "cooldown_s": 0,
}


def slack(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "slack", "kind": "slack", "url": base_url + SLACK_PATH, **FAST, **extra}


def telegram(base_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": "telegram",
        "kind": "telegram",
        "token": TOKEN,
        "chat_id": "-1001234567890",
        "thread_id": 42,
        "base_url": base_url,
        **FAST,
        **extra,
    }


def webhook(base_url: str, **extra: Any) -> dict[str, Any]:
    return {"name": "webhook", "kind": "webhook", "url": base_url + "/hook", **FAST, **extra}


def manager(
    bus: EventBus,
    *sinks: dict[str, Any],
    monotonic: Callable[[], float] | None = None,
    **kwargs: Any,
) -> AlertManager:
    config = from_toml_dict({"alerts": {"sinks": list(sinks)}}, environ={})
    if monotonic is not None:
        kwargs["monotonic"] = monotonic
    return AlertManager(config, bus, rng=random.Random(7), **kwargs)
