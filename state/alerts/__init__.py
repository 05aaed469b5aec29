"""Alerts to Slack, Telegram and a generic JSON webhook, fed from the event bus.

``AlertManager`` subscribes to notices (never runs on the strategy's loop iteration) and
fans each out to sinks with their own bounded queues, retries and cooldowns; secrets are
wrapped in ``Secret`` and masked everywhere. See docs/operator.md, "Alerts".
"""

from __future__ import annotations

from ._exceptions import AlertConfigError, AlertError, SinkClosedError
from ._format import AlertMessage, format_notice, slack_body, telegram_text
from ._manager import FAILURE_NOTICE, AlertManager, build_sink
from ._probe import TestResult, send_test
from ._redact import MASK, RedactingFilter, install_log_redaction, redact
from ._sink import Attempt, DeliveryFailure, Sink, SinkStats
from ._slack import SlackSink
from ._telegram import TelegramSink
from ._webhook import WebhookSink, webhook_body
from .config import (
    EVENT_KINDS,
    LEVELS,
    SINK_KINDS,
    AlertsConfig,
    Secret,
    SinkConfig,
    from_toml_dict,
)

__all__ = [
    "EVENT_KINDS",
    "FAILURE_NOTICE",
    "LEVELS",
    "MASK",
    "SINK_KINDS",
    "AlertConfigError",
    "AlertError",
    "AlertManager",
    "AlertMessage",
    "AlertsConfig",
    "Attempt",
    "DeliveryFailure",
    "RedactingFilter",
    "Secret",
    "Sink",
    "SinkClosedError",
    "SinkConfig",
    "SinkStats",
    "SlackSink",
    "TelegramSink",
    "TestResult",
    "WebhookSink",
    "build_sink",
    "format_notice",
    "from_toml_dict",
    "install_log_redaction",
    "redact",
    "send_test",
    "slack_body",
    "telegram_text",
    "webhook_body",
]
