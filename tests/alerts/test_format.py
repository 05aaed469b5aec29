"""Notices become short, phone-sized messages with formatted amounts and safe escaping."""

from __future__ import annotations

import pytest

from state.alerts import AlertMessage, format_notice, slack_body, telegram_text
from state.alerts._format import money, percent, quantity
from tests.alerts._samples import DATA, STRATEGY


def fmt(kind: str, **overrides: object) -> AlertMessage:
    message = format_notice(STRATEGY, kind, {**DATA[kind], **overrides})
    assert message is not None
    return message


def test_amounts_are_grouped_signed_and_rounded() -> None:
    assert money("1234.567") == "1,234.57"
    assert money("-5.1", signed=True) == "-5.10"
    assert money("41.2", signed=True) == "+41.20"
    assert money("0.00423") == "0.0042"
    assert money("not a number") == "?"
    assert money(None) == "?"
    assert quantity("0.100") == "0.1"
    assert quantity("1E+2") == "100"
    assert percent("0.2134") == "21.3%"


def test_position_opened() -> None:
    m = fmt("position_opened")
    assert m.level == "info"
    assert m.text == (
        "🟢 Opened BTC/USDT p-7f3a\n"
        "long binance / short bybit\n"
        "qty 0.1 · notional 30,012.50 USDT\n"
        "entry spread 21.3% APR"
    )


def test_position_closed_has_reason_pnl_and_funding() -> None:
    m = fmt("position_closed")
    assert m.lines == (
        "reason: spread_eroded",
        "PnL +1,234.57 USDT",
        "funding +41.20 USDT · fees 33.00 USDT",
    )


def test_risk_alert_levels_and_dedup_key_ignores_alert_id() -> None:
    crit = fmt("alert")
    assert crit.level == "critical"
    assert crit.title == "🚨 CRITICAL divergence · p-7f3a"
    warn = fmt("alert", level="warn", id="a-20")
    assert warn.title.startswith("⚠️ WARN divergence")
    again = fmt("alert", id="a-99")
    assert again.key == crit.key  # same rule, same position: the same alert
    assert warn.key != crit.key


def test_command_results_name_the_requesting_uid() -> None:
    done = fmt("command")
    assert done.text == "✅ Close p-7f3a completed\nrequested by uid 1000\nreason: operator"
    failed = fmt("command", status="failed", error="venue rejected order", reason=None)
    assert failed.level == "warn"
    assert (
        failed.text == "❌ Close p-7f3a failed\nrequested by uid 1000\nerror: venue rejected order"
    )


def test_lifecycle_and_feed_messages() -> None:
    assert fmt("strategy_started").text == "▶️ Strategy started (paper)"
    assert fmt("strategy_stopped").text == "⏹️ Strategy stopped (paper)\nreason: signal"
    assert fmt("feed_lost").text == "📡 Market data lost: binance"
    assert fmt("feed_restored").text == "📶 Market data restored: binance BTC/USDT"


@pytest.mark.parametrize("kind", sorted(DATA))
def test_every_message_is_short_enough_for_a_phone(kind: str) -> None:
    m = fmt(kind)
    assert len(m.lines) <= 4
    assert all(len(line) <= 60 for line in (m.title, *m.lines)), m.text


def test_unknown_kinds_and_failure_notices_are_not_alerts() -> None:
    assert format_notice(STRATEGY, "alert_delivery_failed", {"sink": "x"}) is None
    assert format_notice(STRATEGY, "something_new", {}) is None


def test_missing_fields_print_as_question_marks_instead_of_raising() -> None:
    m = format_notice(STRATEGY, "position_closed", {})
    assert m is not None
    assert "PnL ?" in m.text


def test_slack_body_escapes_control_characters_and_bolds_the_title() -> None:
    body = slack_body(fmt("alert"))
    section = body["blocks"][0]
    assert section["type"] == "section"
    assert section["text"]["type"] == "mrkdwn"
    assert section["text"]["text"].startswith("*🚨 CRITICAL divergence · p-7f3a*\n")
    assert "&lt;limit&gt;" in section["text"]["text"]
    assert "<limit>" not in body["text"]
    assert body["blocks"][1]["type"] == "context"
    assert STRATEGY in body["blocks"][1]["elements"][0]["text"]


def test_telegram_html_escapes_and_bolds() -> None:
    text = telegram_text(fmt("alert", message="a < b & c"), "HTML")
    assert text.splitlines()[0] == "<b>🚨 CRITICAL divergence · p-7f3a</b>"
    assert "a &lt; b &amp; c" in text
    assert text.endswith(f"<i>{STRATEGY}</i>")


def test_telegram_markdown_v2_escapes_reserved_characters() -> None:
    text = telegram_text(fmt("position_closed"), "MarkdownV2")
    assert "\\+1,234\\.57 USDT" in text
    assert text.splitlines()[-1] == "_funding\\-arb_"


def test_telegram_plain_text_is_unescaped() -> None:
    text = telegram_text(fmt("alert", message="a < b"), "")
    assert "a < b" in text and "<b>" not in text


def test_long_free_text_is_clipped() -> None:
    m = fmt("alert", message="x" * 5000)
    assert len(m.lines[0]) == 300
    assert m.lines[0].endswith("…")


def test_command_error_may_be_a_code_and_message_object() -> None:
    failed = fmt(
        "command",
        status="failed",
        reason=None,
        error={"code": "conflict", "message": "position is already closing"},
    )
    assert failed.lines[-1] == "error: position is already closing"
