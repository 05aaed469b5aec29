"""Alerts reach real HTTP endpoints with the right bodies, and survive trouble on the way."""

from __future__ import annotations

import asyncio
import itertools
import time

import pytest

from state import EventBus, Notice
from state.alerts import FAILURE_NOTICE, format_notice, slack_body, telegram_text
from state.alerts._format import AlertMessage
from tests.alerts._helpers import manager, slack, telegram, webhook
from tests.alerts._http import BlackHole, FakeService, Reply, unused_port, wait_until
from tests.alerts._samples import DATA, SLACK_PATH, STRATEGY, TOKEN, notice

ALL_KINDS = list(DATA)


def expected(kind: str) -> AlertMessage:
    message = format_notice(STRATEGY, kind, DATA[kind])
    assert message is not None
    return message


async def test_every_event_reaches_slack_as_text_and_blocks(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    for kind in ALL_KINDS:
        bus.publish(notice(kind))
    await wait_until(lambda: len(service.requests) == len(ALL_KINDS))
    await mgr.stop()
    for kind, request in zip(ALL_KINDS, service.requests, strict=True):
        assert request.path == SLACK_PATH
        assert request.headers["content-type"] == "application/json"
        assert request.headers["user-agent"].startswith("dash-alerts/")
        body = request.json()
        want = slack_body(expected(kind))
        assert body["text"] == want["text"]
        assert [b["type"] for b in body["blocks"]] == ["section", "context"]
        assert body["blocks"][0] == want["blocks"][0]
    closed = service.requests[1].json()
    assert closed["blocks"][0]["text"]["text"] == (
        "*🏁 Closed BTC/USDT p-7f3a*\nreason: spread_eroded\nPnL +1,234.57 USDT\n"
        "funding +41.20 USDT · fees 33.00 USDT"
    )
    assert mgr.sink("slack").stats.sent == len(ALL_KINDS)
    assert not mgr.failures


async def test_every_event_reaches_telegram_with_chat_and_thread(service: FakeService) -> None:
    service.default = Reply.json(200, {"ok": True, "result": {"message_id": 1}})
    bus = EventBus()
    mgr = manager(bus, telegram(service.base_url))
    mgr.start()
    for kind in ALL_KINDS:
        bus.publish(notice(kind))
    await wait_until(lambda: len(service.requests) == len(ALL_KINDS))
    await mgr.stop()
    for kind, request in zip(ALL_KINDS, service.requests, strict=True):
        assert request.path == f"/bot{TOKEN}/sendMessage"
        assert request.headers["content-type"] == "application/json"
        body = request.json()
        assert body["chat_id"] == -1001234567890
        assert body["message_thread_id"] == 42
        assert body["parse_mode"] == "HTML"
        assert body["text"] == telegram_text(expected(kind), "HTML")
    alert = service.requests[ALL_KINDS.index("alert")].json()
    assert alert["text"].startswith("<b>🚨 CRITICAL divergence · p-7f3a</b>\n")
    assert "&lt;limit&gt;" in alert["text"]


async def test_telegram_plain_chat_without_thread(service: FakeService) -> None:
    bus = EventBus()
    cfg = telegram(service.base_url, chat_id="@dash_alerts", parse_mode="")
    del cfg["thread_id"]
    mgr = manager(bus, cfg)
    mgr.start()
    bus.publish(notice("feed_lost"))
    await wait_until(lambda: len(service.requests) == 1)
    await mgr.stop()
    body = service.requests[0].json()
    assert body["chat_id"] == "@dash_alerts"
    assert "message_thread_id" not in body and "parse_mode" not in body


async def test_generic_webhook_gets_structured_json_and_headers(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(service.base_url, headers={"Authorization": "Bearer hooksecret"}))
    mgr.start()
    bus.publish(notice("position_closed"))
    await wait_until(lambda: len(service.requests) == 1)
    await mgr.stop()
    request = service.requests[0]
    assert request.path == "/hook"
    assert request.headers["authorization"] == "Bearer hooksecret"
    body = request.json()
    assert body["source"] == "dash"
    assert (body["strategy"], body["kind"], body["level"]) == (STRATEGY, "position_closed", "info")
    assert body["data"]["realized_pnl"] == "1234.567"
    assert body["text"] == expected("position_closed").text
    assert body["ts"].endswith("Z")


async def test_events_and_levels_are_switchable_per_sink(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(
        bus,
        webhook(service.base_url, name="crit", events=["alert"], min_level="critical"),
        webhook(service.base_url, name="all", url=service.base_url + "/all"),
    )
    mgr.start()
    bus.publish(notice("alert", level="warn"))
    bus.publish(notice("position_opened"))
    bus.publish(notice("alert", level="critical"))
    await wait_until(lambda: len(service.requests) == 4)
    await mgr.stop()
    crit = [r.json() for r in service.requests if r.path == "/hook"]
    assert [(b["kind"], b["level"]) for b in crit] == [("alert", "critical")]
    assert mgr.sink("crit").stats.filtered == 2


async def test_500_then_200_is_delivered_once_after_a_retry(service: FakeService) -> None:
    service.script(Reply(500, b"upstream broke"))
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    bus.publish(notice("position_opened"))
    await wait_until(lambda: mgr.sink("slack").stats.sent == 1)
    await asyncio.sleep(0.05)  # nothing else may follow
    await mgr.stop()
    assert len(service.requests) == 2
    assert service.requests[0].body == service.requests[1].body
    stats = mgr.sink("slack").stats
    assert (stats.sent, stats.retries, stats.failed) == (1, 1, 0)
    assert not mgr.failures


async def test_429_retry_after_header_is_honoured(service: FakeService) -> None:
    service.script(Reply(429, b"slow down", {"Retry-After": "0.4"}))
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(service.requests) == 2)
    await mgr.stop()
    waited = service.requests[1].at - service.requests[0].at
    assert waited >= 0.4  # the base backoff alone would have been ~0.01 s
    assert mgr.sink("slack").stats.sent == 1


async def test_telegram_retry_after_in_the_json_body_is_honoured(service: FakeService) -> None:
    service.script(
        Reply.json(429, {"ok": False, "error_code": 429, "parameters": {"retry_after": 0.3}})
    )
    bus = EventBus()
    mgr = manager(bus, telegram(service.base_url))
    mgr.start()
    bus.publish(notice("command"))
    await wait_until(lambda: len(service.requests) == 2)
    await mgr.stop()
    assert service.requests[1].at - service.requests[0].at >= 0.3


async def test_retry_after_beyond_the_budget_gives_up_at_once(service: FakeService) -> None:
    service.script(Reply(429, b"", {"Retry-After": "3600"}))
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert len(service.requests) == 1
    assert mgr.failures[0].http_status == 429


async def test_server_down_bounded_retries_then_failure_recorded_and_published() -> None:
    bus = EventBus()
    watcher = bus.subscribe("watcher", kinds=[FAILURE_NOTICE])
    dead = f"http://127.0.0.1:{unused_port()}"
    mgr = manager(bus, telegram(dead, max_attempts=4, give_up_after_s=5))
    mgr.start()
    started = time.monotonic()
    bus.publish(notice("position_closed"))
    await wait_until(lambda: len(mgr.failures) == 1)
    elapsed = time.monotonic() - started
    await mgr.stop()
    failure = mgr.failures[0]
    assert (failure.sink, failure.sink_kind, failure.kind) == (
        "telegram",
        "telegram",
        "position_closed",
    )
    assert failure.attempts == 4
    assert failure.http_status is None
    assert "ConnectError" in failure.error
    assert mgr.sink("telegram").stats.retries == 3
    assert elapsed < 2.0  # 3 backoffs of at most 0.05 s each
    published = watcher.get_nowait()
    assert isinstance(published, Notice)
    assert published.kind == FAILURE_NOTICE and published.strategy == STRATEGY
    assert published.data["sink"] == "telegram"
    assert published.data["attempts"] == 4
    assert TOKEN not in str(published.data)


async def test_give_up_after_bounds_the_time_spent_on_one_alert(black_hole: BlackHole) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(black_hole.base_url, give_up_after_s=0.5, max_attempts=100))
    mgr.start()
    started = time.monotonic()
    bus.publish(notice("feed_lost"))
    await wait_until(lambda: len(mgr.failures) == 1, within_s=5)
    elapsed = time.monotonic() - started
    await mgr.stop(grace_s=0)
    assert 0.4 <= elapsed < 1.0
    assert "Timeout" in mgr.failures[0].error


async def test_client_errors_are_not_retried(service: FakeService) -> None:
    service.script(Reply(404, b"no_service"))
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert len(service.requests) == 1
    assert mgr.failures[0].http_status == 404
    assert mgr.failures[0].error == "HTTP 404: no_service"


async def test_telegram_ok_false_counts_as_a_failure(service: FakeService) -> None:
    service.script(Reply.json(200, {"ok": False, "description": "Bad Request: chat not found"}))
    bus = EventBus()
    mgr = manager(bus, telegram(service.base_url))
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    assert mgr.failures[0].error == "Telegram refused: Bad Request: chat not found"


async def test_same_alert_within_cooldown_is_sent_once(service: FakeService) -> None:
    now = [1000.0]
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url, cooldown_s=300), monotonic=lambda: now[0])
    mgr.start()
    for n in range(3):  # the risk manager re-fires with new ids while the condition holds
        bus.publish(notice("alert", id=f"a-{n}"))
    bus.publish(notice("alert", position="p-other"))
    await wait_until(lambda: len(service.requests) == 2)
    now[0] += 301
    bus.publish(notice("alert", id="a-9"))
    await wait_until(lambda: len(service.requests) == 3)
    await mgr.stop()
    texts = [r.json()["blocks"][0]["text"]["text"] for r in service.requests]
    assert "p-7f3a" in texts[0] and "p-other" in texts[1] and "p-7f3a" in texts[2]
    assert mgr.sink("slack").stats.suppressed == 2


async def test_overflow_drops_oldest_and_sends_a_summary(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(service.base_url, queue_max=2))
    mgr.start()
    for n in range(6):  # all published before the reader or the worker gets a turn
        bus.publish(notice("alert", position=f"p-{n}"))
    await wait_until(lambda: len(service.requests) == 3)
    await asyncio.sleep(0.05)
    await mgr.stop()
    bodies = [r.json() for r in service.requests]
    assert len(bodies) == 3
    assert bodies[0]["kind"] == "dropped"
    assert bodies[0]["text"].endswith("4 dropped: 4 alert")
    assert bodies[0]["data"] == {"dropped": {"alert": 4}, "lost_upstream": False}
    assert [b["data"]["position"] for b in bodies[1:]] == ["p-4", "p-5"]
    assert mgr.sink("webhook").stats.dropped == 4


async def test_notices_lost_on_the_bus_are_reported(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(service.base_url), maxsize=2)
    mgr.start()
    for n in range(5):
        bus.publish(notice("alert", position=f"p-{n}"))
    await wait_until(lambda: len(service.requests) == 3)
    await mgr.stop()
    bodies = [r.json() for r in service.requests]
    summary = [b for b in bodies if b["kind"] == "dropped"]
    assert len(summary) == 1
    assert "lost on the event bus" in summary[0]["text"]
    assert [b["data"]["position"] for b in bodies if b["kind"] == "alert"] == ["p-3", "p-4"]


async def test_a_dead_sink_does_not_delay_a_healthy_one(
    service: FakeService, black_hole: BlackHole
) -> None:
    bus = EventBus()
    mgr = manager(
        bus,
        webhook(black_hole.base_url, name="dead", give_up_after_s=10, timeout_s=5),
        slack(service.base_url),
    )
    mgr.start()
    started = time.monotonic()
    for kind in ALL_KINDS:
        bus.publish(notice(kind))
    await wait_until(lambda: len(service.requests) == len(ALL_KINDS))
    assert time.monotonic() - started < 1.0
    assert mgr.sink("dead").stats.sent == 0
    await mgr.stop(grace_s=0.1)


async def test_a_sink_that_raises_is_skipped_and_the_rest_still_get_the_alert(
    service: FakeService, caplog: pytest.LogCaptureFixture
) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(service.base_url, name="broken"), slack(service.base_url))
    mgr.start()
    await mgr.sink("broken").close()  # now its send() raises SinkClosedError
    bus.publish(notice("alert"))
    await wait_until(lambda: len(service.requests) == 1)
    await mgr.stop()
    assert service.requests[0].path == SLACK_PATH
    assert "alert sink broken refused a message" in caplog.text


async def test_stop_delivers_what_was_published_just_before(service: FakeService) -> None:
    bus = EventBus()
    mgr = manager(bus, slack(service.base_url))
    mgr.start()
    bus.publish(notice("strategy_stopped"))
    await mgr.stop()
    assert len(service.requests) == 1
    assert "Strategy stopped" in service.requests[0].json()["text"]
    assert not mgr.running


async def test_stop_is_bounded_with_a_dead_sink_and_records_the_leftovers(
    black_hole: BlackHole,
) -> None:
    bus = EventBus()
    mgr = manager(bus, webhook(black_hole.base_url, give_up_after_s=30, timeout_s=10))
    mgr.start()
    for kind in ALL_KINDS:
        bus.publish(notice(kind))
    await asyncio.sleep(0.05)
    started = time.monotonic()
    await mgr.stop(grace_s=0.2)
    assert time.monotonic() - started < 1.0
    (failure,) = mgr.failures
    assert failure.kind == "shutdown"
    assert failure.error == f"{len(ALL_KINDS)} alert(s) not delivered before shutdown"


async def test_a_manager_without_sinks_does_not_subscribe() -> None:
    bus = EventBus()
    mgr = manager(bus)
    mgr.start()
    assert bus.subscriptions == ()
    await mgr.stop()


async def test_backoff_grows_exponentially_with_jitter(service: FakeService) -> None:
    service.default = Reply(502, b"bad gateway")
    bus = EventBus()
    mgr = manager(
        bus, webhook(service.base_url, backoff_base_s=0.04, backoff_max_s=1, max_attempts=4)
    )
    mgr.start()
    bus.publish(notice("alert"))
    await wait_until(lambda: len(mgr.failures) == 1)
    await mgr.stop()
    times = [r.at for r in service.requests]
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert len(gaps) == 3
    # Equal jitter: each wait is between half and all of base * 2**n.
    for n, gap in enumerate(gaps):
        ceiling = 0.04 * 2**n
        assert ceiling / 2 <= gap < ceiling + 0.1, (n, gaps)
    assert mgr.failures[0].error == "HTTP 502: bad gateway (gave up after 4 attempts)"


def test_retry_after_accepts_seconds_and_http_dates() -> None:
    from state.alerts._sink import parse_retry_after

    assert parse_retry_after("2") == 2.0
    assert parse_retry_after("  1.5 ") == 1.5
    assert parse_retry_after("-3") == 0.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
