"""Tokens and webhook URLs never show in logs, failures, published notices or test output."""

from __future__ import annotations

import logging

import pytest

from state import EventBus
from state.alerts import FAILURE_NOTICE, RedactingFilter, Secret, redact, send_test
from state.alerts._redact import install_log_redaction
from tests.alerts._helpers import manager, slack, telegram
from tests.alerts._http import FakeService, Reply, unused_port, wait_until
from tests.alerts._samples import SLACK_PATH, TOKEN, notice


def echo_path_reply(path: str) -> Reply:
    # A hostile or chatty endpoint that quotes the request path (with the token) back.
    return Reply(500, f"internal error handling {path}".encode())


async def test_a_failing_telegram_sink_never_logs_its_token(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service.default = echo_path_reply(f"/bot{TOKEN}/sendMessage")
    bus = EventBus()
    watcher = bus.subscribe("watcher", kinds=[FAILURE_NOTICE])
    mgr = manager(bus, telegram(service.base_url, max_attempts=3))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert len(service.requests) == 3
    # httpx logged each request URL, masked by the filter rather than not logged at all.
    assert caplog.text.count("HTTP Request: POST") == 3
    assert "bot***" in caplog.text
    failure = mgr.failures[0]
    assert failure.error.startswith("HTTP 500: internal error handling /bot***/sendMessage")
    published = watcher.get_nowait()
    everything = caplog.text + repr(list(mgr.failures)) + repr(published) + repr(mgr.config)
    assert TOKEN not in everything
    assert TOKEN.split(":")[1] not in everything


async def test_a_failing_slack_sink_never_logs_its_webhook_url(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    service.default = echo_path_reply(SLACK_PATH)
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url, max_attempts=2))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert "HTTP Request: POST" in caplog.text
    secret_part = SLACK_PATH.rsplit("/", 1)[1]
    assert secret_part not in caplog.text + repr(list(mgr.failures))


async def test_connection_errors_to_a_dead_host_carry_no_secret(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    bus = EventBus()
    mgr = manager(bus, telegram(f"http://127.0.0.1:{unused_port()}", max_attempts=2))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert "not delivered" in caplog.text
    assert TOKEN not in caplog.text + repr(list(mgr.failures))


async def test_send_test_output_is_masked(service: FakeService) -> None:
    service.default = Reply(401, f"token {TOKEN} is revoked".encode())
    config = {"alerts": {"sinks": [telegram(service.base_url)]}}
    (result,) = await send_test(config, "telegram")
    assert result.ok is False and result.http_status == 401
    assert result.error == "HTTP 401: token *** is revoked"
    assert TOKEN not in repr(result)


def test_tracebacks_in_logs_are_masked(caplog: pytest.LogCaptureFixture) -> None:
    install_log_redaction()
    secret = Secret("https://hooks.example/secret-in-a-traceback")
    log = logging.getLogger("state.alerts")
    try:
        raise RuntimeError(f"could not reach {secret.reveal()}")
    except RuntimeError:
        log.exception("delivery to %s failed", secret.reveal())
    assert "secret-in-a-traceback" not in caplog.text
    assert "delivery to *** failed" in caplog.text
    assert "RuntimeError: could not reach ***" in caplog.text


def test_redact_masks_registered_values_encoded_forms_and_known_shapes() -> None:
    Secret("987654:registered-token-value")
    assert redact("x 987654:registered-token-value y") == "x *** y"
    assert redact("x 987654%3Aregistered-token-value y") == "x *** y"
    # Never registered, still recognisable as credentials:
    assert redact("GET /bot111222333:AAbbCCddEEffGGhh/getMe") == "GET /bot***/getMe"
    assert (
        redact("https://hooks.slack.com/services/T1/B2/abcdef more")
        == "https://hooks.slack.com/services/*** more"
    )
    assert redact("nothing secret here") == "nothing secret here"


def test_filter_keeps_records_and_leaves_clean_ones_alone() -> None:
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "plain %s", ("text",), None)
    assert RedactingFilter().filter(record) is True
    assert record.args == ("text",)
    assert record.getMessage() == "plain text"
