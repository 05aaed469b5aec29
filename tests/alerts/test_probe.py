"""`dash alerts test`: one test message per sink, one attempt, the HTTP outcome reported."""

from __future__ import annotations

import pytest

from state.alerts import AlertConfigError, TestResult, from_toml_dict, send_test
from tests.alerts._helpers import slack, telegram, webhook
from tests.alerts._http import FakeService, Reply, unused_port
from tests.alerts._samples import SLACK_PATH, TOKEN


async def test_every_enabled_sink_gets_one_test_message(service: FakeService) -> None:
    service.default = Reply.json(200, {"ok": True})
    config = from_toml_dict(
        {
            "sinks": [
                slack(service.base_url),
                telegram(service.base_url),
                webhook(service.base_url, enabled=False),
            ]
        }
    )
    results = await send_test(config, None)
    assert results == [
        TestResult("slack", True, 200, None),
        TestResult("telegram", True, 200, None),
    ]
    assert len(service.requests) == 2  # sent concurrently: match them by path
    by_path = {r.path: r.json() for r in service.requests}
    assert "dash test alert" in by_path[SLACK_PATH]["text"]
    assert "sink telegram is configured correctly" in by_path[f"/bot{TOKEN}/sendMessage"]["text"]


async def test_one_named_sink_and_no_retry_on_5xx(service: FakeService) -> None:
    service.default = Reply(503, b"maintenance")
    config = {"sinks": [slack(service.base_url), webhook(service.base_url)]}
    (result,) = await send_test(config, "webhook")
    assert result == TestResult("webhook", False, 503, "HTTP 503: maintenance")
    assert len(service.requests) == 1


async def test_unreachable_sink_reports_the_network_error() -> None:
    config = {"sinks": [webhook(f"http://127.0.0.1:{unused_port()}")]}
    (result,) = await send_test(config, "webhook")
    assert result.ok is False and result.http_status is None
    assert result.error is not None and result.error.startswith("ConnectError")


async def test_unknown_or_disabled_sink_is_an_error(service: FakeService) -> None:
    config = {"sinks": [slack(service.base_url, enabled=False)]}
    with pytest.raises(AlertConfigError, match="no alert sink named 'nope'"):
        await send_test(config, "nope")
    with pytest.raises(AlertConfigError, match="disabled"):
        await send_test(config, "slack")
    assert service.requests == []
