"""Errors raised by the alerts package.

    AlertError
    +-- AlertConfigError      a bad ``[alerts]`` table, a missing secret, an unknown sink name
    +-- SinkClosedError       ``send`` after ``close``

Delivery failures are never raised: a sink records them (``DeliveryFailure``) so one dead
endpoint cannot disturb whoever published the notice.
"""

from __future__ import annotations

__all__ = ["AlertConfigError", "AlertError", "SinkClosedError"]


class AlertError(Exception):
    """Base of every error the alerts package raises."""


class AlertConfigError(AlertError, ValueError):
    """The alerts configuration cannot be used as written."""


class SinkClosedError(AlertError, RuntimeError):
    """A sink was used after it was closed."""
