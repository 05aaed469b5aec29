"""Keep webhook URLs and bot tokens out of logs, errors and ``dash`` output.

Every :class:`~state.alerts.config.Secret` registers its value here when it is created, so
masking does not depend on each call site remembering which strings are sensitive.
Two patterns (Telegram bot tokens, Slack webhook paths) are masked even if they were never
registered, as a second line of defence.

httpx logs every request URL at INFO (``HTTP Request: POST https://.../bot<token>/...``),
so :func:`install_log_redaction` puts a :class:`RedactingFilter` on the httpx and httpcore
loggers as well as on ours. A filter on a logger only sees records made by that very
logger, which is why the children are named one by one.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
from urllib.parse import quote, urlsplit

__all__ = [
    "MASK",
    "RedactingFilter",
    "install_log_redaction",
    "logger",
    "redact",
    "register_secret",
]

MASK = "***"

logger = logging.getLogger("state.alerts")

# Shorter values would mask innocent words in every log line; real tokens and webhook URLs
# are far longer than this.
_MIN_SECRET_LEN = 6
_MIN_URL_PART_LEN = 12

# Loggers that may print a request URL. httpcore logs from children, which do not run a
# parent's filters.
_REDACTED_LOGGERS = (
    "state.alerts",
    "httpx",
    "httpcore",
    "httpcore.connection",
    "httpcore.http11",
    "httpcore.http2",
    "httpcore.proxy",
    "httpcore.socks",
)

_PATTERNS = (
    (re.compile(r"bot\d{3,}:[A-Za-z0-9_-]{10,}"), "bot" + MASK),
    (re.compile(r"(hooks\.slack\.com/(?:services|workflows|triggers)/)[^\s'\"<>]+"), r"\1" + MASK),
)

_lock = threading.Lock()
_secrets: set[str] = set()
_ordered: tuple[str, ...] = ()


def _url_parts(value: str) -> set[str]:
    """The credential-bearing parts of a URL secret: a server may echo just its path."""
    if not value.startswith(("http://", "https://")):
        return set()
    parts = urlsplit(value)
    found = {parts.path + (f"?{parts.query}" if parts.query else ""), parts.query}
    if parts.password:
        found.add(parts.password)
    # A bare "/" or "/hook" identifies nothing; only paths long enough to carry a key count.
    return {p for p in found if len(p) >= _MIN_URL_PART_LEN}


def register_secret(value: str) -> None:
    """Mask ``value`` (its percent-encoded forms, a URL's path) everywhere from now on."""
    variants = {value, quote(value, safe=""), quote(value, safe="/:"), *_url_parts(value)}
    global _ordered
    with _lock:
        added = False
        for variant in variants:
            if len(variant) >= _MIN_SECRET_LEN and variant not in _secrets:
                _secrets.add(variant)
                added = True
        if added:
            # Longest first, so a URL is masked whole before a token inside it is.
            _ordered = tuple(sorted(_secrets, key=len, reverse=True))


def redact(text: str) -> str:
    """Return ``text`` with every registered secret and known token shape replaced by ``***``."""
    for secret in _ordered:
        if secret in text:
            text = text.replace(secret, MASK)
    for pattern, replacement in _PATTERNS:
        text = pattern.sub(replacement, text)
    return text


def redact_exception(exc: BaseException) -> str:
    """One line naming the error, safe to log, store or print."""
    detail = str(exc).strip()
    name = type(exc).__name__
    return redact(f"{name}: {detail}" if detail else name)


class RedactingFilter(logging.Filter):
    """Rewrite a record's message (and traceback text) with secrets masked; never drops it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: leave it to the handler's own error path
            return True
        masked = redact(message)
        if masked != message:
            record.msg = masked
            record.args = None
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
            record.exc_text = redact(text)
        return True


_filter = RedactingFilter()


def install_log_redaction() -> None:
    """Attach the redacting filter to every logger that might print a secret (idempotent)."""
    for name in _REDACTED_LOGGERS:
        target = logging.getLogger(name)
        if _filter not in target.filters:
            target.addFilter(_filter)
