"""Slack incoming webhooks: POST ``{"text", "blocks"}`` to the webhook URL.

The URL is the credential (anyone holding it can post), so it is a ``Secret`` and is
masked wherever it might surface. Slack answers ``200 ok`` or a 4xx with a short reason
(``invalid_payload``, ``no_service``) that is not worth retrying.
"""

from __future__ import annotations

from typing import ClassVar

from ._format import AlertMessage, slack_body
from ._sink import Request, Sink

__all__ = ["SlackSink"]


class SlackSink(Sink):
    """Posts Block Kit messages to one Slack incoming webhook."""

    kind: ClassVar[str] = "slack"

    def _request(self, message: AlertMessage) -> Request:
        url = self.config.url
        if url is None:  # config parsing guarantees it; this guards hand-made configs
            raise ValueError(f"slack sink {self.name!r} has no url")
        return Request(url=url.reveal(), body=slack_body(message))
