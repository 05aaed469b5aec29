"""The one error family the strategy core raises at its callers.

Freqtrade's core raises a single ``RPCException`` and every front end maps it once; dash
does the same with :class:`StrategyError`::

    StrategyError
     +-- ConfigError      a config file or mapping the strategy cannot run with
     +-- CommandError     a control request that cannot be carried out (``code`` says why)

``CommandError.code`` uses the protocol's error codes (``not_found``, ``conflict``,
``unavailable``), so the control adapter translates it to ``ipc.CommandRejected`` without
a lookup table.
"""

from __future__ import annotations

__all__ = ["CommandError", "ConfigError", "StrategyError"]


class StrategyError(Exception):
    """Base of every error the strategy core raises on purpose."""


class ConfigError(StrategyError, ValueError):
    """A configuration the strategy refuses; the message names the file and the key."""


class CommandError(StrategyError):
    """A control request that failed; ``code`` is a protocol error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __repr__(self) -> str:
        return f"CommandError(code={self.code!r}, message={self.message!r})"
