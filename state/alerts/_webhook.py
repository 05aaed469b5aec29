"""A generic JSON webhook, for anything that is neither Slack nor Telegram.

The body is stable and self-describing so a receiver can route on ``kind`` and ``level``
without parsing text: ``{"source": "dash", "strategy", "kind", "level", "title", "text",
"data", "ts"}``. ``data`` is the notice's own data (amounts as Decimal strings).
"""

from __future__ import annotations

from typing import Any, ClassVar

from ._format import AlertMessage
from ._sink import Request, Sink

__all__ = ["WebhookSink", "webhook_body"]


def webhook_body(message: AlertMessage) -> dict[str, Any]:
    return {
        "source": "dash",
        "strategy": message.strategy,
        "kind": message.kind,
        "level": message.level,
        "title": message.title,
        "text": message.text,
        "data": dict(message.data),
        "ts": message.ts,
    }


class WebhookSink(Sink):
    """POSTs one JSON document per alert, with any configured extra headers."""

    kind: ClassVar[str] = "webhook"

    def _request(self, message: AlertMessage) -> Request:
        cfg = self.config
        if cfg.url is None:
            raise ValueError(f"webhook sink {self.name!r} has no url")
        headers = {name: value.reveal() for name, value in cfg.headers.items()}
        return Request(url=cfg.url.reveal(), body=webhook_body(message), headers=headers)
