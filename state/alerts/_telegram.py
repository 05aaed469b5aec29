"""Telegram Bot API: ``POST {base_url}/bot<token>/sendMessage``.

The token sits in the URL path, which is why the URL never reaches a log unmasked (httpx
logs it at INFO; see ``_redact``). Telegram reports rate limits as 429 with
``parameters.retry_after`` in the JSON body, sometimes without a ``Retry-After`` header,
and reports refusals as ``{"ok": false, "description": ...}``.
"""

from __future__ import annotations

from typing import Any, ClassVar

import httpx

from ._format import AlertMessage, telegram_text
from ._sink import Request, Sink, parse_retry_after
from .config import DEFAULT_TELEGRAM_BASE_URL

__all__ = ["TelegramSink"]


def _chat_id(value: str) -> int | str:
    # Numeric ids (including "-100..." supergroups) go as numbers, "@channel" as text.
    try:
        return int(value)
    except ValueError:
        return value


class TelegramSink(Sink):
    """Sends each alert as one ``sendMessage`` to a chat (and optional forum topic)."""

    kind: ClassVar[str] = "telegram"

    def _request(self, message: AlertMessage) -> Request:
        cfg = self.config
        if cfg.token is None or cfg.chat_id is None:
            raise ValueError(f"telegram sink {self.name!r} needs a token and a chat_id")
        base = (cfg.base_url or DEFAULT_TELEGRAM_BASE_URL).rstrip("/")
        body: dict[str, Any] = {
            "chat_id": _chat_id(cfg.chat_id),
            "text": telegram_text(message, cfg.parse_mode),
            "disable_web_page_preview": True,
        }
        if cfg.parse_mode:
            body["parse_mode"] = cfg.parse_mode
        if cfg.thread_id is not None:
            body["message_thread_id"] = cfg.thread_id
        return Request(url=f"{base}/bot{cfg.token.reveal()}/sendMessage", body=body)

    def _retry_after(self, response: httpx.Response) -> float | None:
        header = parse_retry_after(response.headers.get("Retry-After"))
        if header is not None:
            return header
        try:
            payload = response.json()
            value = payload["parameters"]["retry_after"]
        except (ValueError, KeyError, TypeError):
            return None
        return float(value) if isinstance(value, int | float) and value >= 0 else None

    def _reply_problem(self, response: httpx.Response) -> str | None:
        try:
            payload = response.json()
        except ValueError:
            return None
        if isinstance(payload, dict) and payload.get("ok") is False:
            return f"Telegram refused: {payload.get('description', 'no description')}"
        return None
