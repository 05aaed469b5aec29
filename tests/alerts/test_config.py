"""The [alerts] table: the documented example parses, mistakes are named, secrets stay hidden."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from state.alerts import EVENT_KINDS, AlertConfigError, AlertsConfig, Secret, from_toml_dict

OPERATOR_MD = Path(__file__).resolve().parents[2] / "docs" / "operator.md"
ENV = {
    "DASH_SLACK_WEBHOOK_URL": "https://hooks.slack.com/services/T1/B1/slacksecret123",
    "DASH_TELEGRAM_TOKEN": "123456:telegramsecret-abcdefghij",
    "DASH_PAGER_URL": "https://pager.example/hook/pagersecret",
    "DASH_PAGER_AUTH": "Bearer pagerauthsecret",
}


def documented_example() -> dict[str, object]:
    text = OPERATOR_MD.read_text()
    section = text.split("## Alerts", 1)[1]
    block = re.search(r"```toml\n(.*?)```", section, re.S)
    assert block is not None, "docs/operator.md lost its alerts example"
    return tomllib.loads(block.group(1))


def test_documented_example_parses_into_three_sinks() -> None:
    config = from_toml_dict(documented_example(), environ=ENV)
    slack, telegram, pager = config.sinks
    assert (slack.name, slack.kind) == ("ops-slack", "slack")
    assert slack.url == Secret(ENV["DASH_SLACK_WEBHOOK_URL"])
    assert slack.events == frozenset(EVENT_KINDS) - {"position_opened"}
    assert slack.cooldown_s == 300 and slack.min_level == "warn"
    assert telegram.token is not None
    assert telegram.token.reveal() == ENV["DASH_TELEGRAM_TOKEN"]
    assert (telegram.chat_id, telegram.thread_id, telegram.parse_mode) == (
        "-1001234567890",
        42,
        "HTML",
    )
    assert telegram.min_level == "critical"
    assert "position_opened" not in telegram.events
    assert pager.headers["Authorization"].reveal() == "Bearer pagerauthsecret"
    assert pager.cooldown_s == 60


def test_repr_of_the_whole_config_shows_no_secret() -> None:
    config = from_toml_dict(documented_example(), environ=ENV)
    text = repr(config) + str(config.sinks) + f"{config.sinks[1].token}"
    for secret in ENV.values():
        assert secret not in text
    assert "***" in text


def test_secret_refuses_pickling_and_empty_values() -> None:
    import pickle

    with pytest.raises(TypeError):
        pickle.dumps(Secret("abcdefgh"))
    with pytest.raises(AlertConfigError):
        Secret("")


def test_accepts_the_bare_alerts_table_and_a_document_without_one() -> None:
    table = {"sinks": [{"name": "s", "kind": "slack", "url": "https://x.example/abc"}]}
    assert from_toml_dict(table).sinks[0].name == "s"
    assert from_toml_dict({"alerts": table}).sinks[0].name == "s"
    empty = from_toml_dict({"strategy": {"name": "funding-arb"}})
    assert empty == AlertsConfig(sinks=(), enabled=False)
    assert empty.active_sinks == ()


def test_sink_settings_override_alerts_defaults() -> None:
    config = from_toml_dict(
        {
            "cooldown_s": 10,
            "events": ["alert", "command"],
            "sinks": [
                {"name": "a", "kind": "webhook", "url": "https://x.example/a"},
                {
                    "name": "b",
                    "kind": "webhook",
                    "url": "https://x.example/b",
                    "cooldown_s": 0,
                    "events": {"command": False, "feed_lost": True},
                },
            ],
        }
    )
    a, b = config.sinks
    assert a.cooldown_s == 10 and a.events == {"alert", "command"}
    assert b.cooldown_s == 0 and b.events == {"alert", "feed_lost"}


def test_min_level_filters_only_risk_alerts() -> None:
    (sink,) = from_toml_dict(
        {"sinks": [{"name": "a", "kind": "webhook", "url": "https://x/a", "min_level": "critical"}]}
    ).sinks
    assert not sink.wants("alert", "warn")
    assert sink.wants("alert", "critical")
    assert sink.wants("command", None)


def test_disabled_sink_may_lack_its_secret() -> None:
    config = from_toml_dict(
        {"sinks": [{"name": "t", "kind": "telegram", "enabled": False, "token_env": "NOPE"}]},
        environ={},
    )
    assert config.sinks[0].token is None
    assert config.active_sinks == ()


@pytest.mark.parametrize(
    ("sink", "message"),
    [
        ({"name": "a", "kind": "slack", "url": "https://x/a", "cooldwn_s": 1}, "unknown key"),
        ({"name": "a", "kind": "sms", "url": "https://x/a"}, "kind must be one of"),
        ({"name": "a", "kind": "slack"}, "url (or url_env) is required"),
        ({"name": "a", "kind": "slack", "url": "ftp://x/a"}, "must be an http(s) URL"),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "url_env": "U"}, "not both"),
        ({"name": "a", "kind": "telegram", "token_env": "MISSING", "chat_id": 1}, "MISSING"),
        ({"name": "a", "kind": "telegram", "token": "t" * 10}, "chat_id"),
        (
            {"name": "a", "kind": "telegram", "token": "t" * 10, "chat_id": 1, "thread_id": "x"},
            "thread_id must be an integer",
        ),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "chat_id": "1"}, "telegram sinks"),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "events": ["bogus"]}, "bogus"),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "min_level": "info"}, "min_level"),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "queue_max": 0}, "queue_max"),
        ({"name": "a", "kind": "slack", "url": "https://x/a", "timeout_s": "5"}, "timeout_s"),
        ({"kind": "slack", "url": "https://x/a"}, "name must be"),
    ],
)
def test_mistakes_are_named(sink: dict[str, object], message: str) -> None:
    with pytest.raises(AlertConfigError, match=re.escape(message)):
        from_toml_dict({"sinks": [sink]}, environ={})


def test_errors_never_quote_a_secret() -> None:
    secret_url = "ftp://hooks.example/very-secret-path"
    with pytest.raises(AlertConfigError) as info:
        from_toml_dict({"sinks": [{"name": "a", "kind": "webhook", "url": secret_url}]})
    assert "very-secret-path" not in str(info.value)


def test_duplicate_names_are_rejected() -> None:
    sink = {"name": "a", "kind": "slack", "url": "https://x/a"}
    with pytest.raises(AlertConfigError, match="more than once"):
        from_toml_dict({"sinks": [sink, sink]})


def test_unknown_sink_name_lists_the_configured_ones() -> None:
    config = from_toml_dict({"sinks": [{"name": "a", "kind": "slack", "url": "https://x/a"}]})
    with pytest.raises(AlertConfigError, match=r"'b' \(configured: a\)"):
        config.sink("b")
