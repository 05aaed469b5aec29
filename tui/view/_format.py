"""Text for numbers and times as the dashboard shows them.

Everything the screen says about money goes through here, so ``dash tui`` agrees with
itself from pane to pane and with ``dash watch``: the primitives (money, percent,
countdown, age, times) are :mod:`cli._format`'s, re-exported; only what the TUI alone
shows (basis points, prices, the short form of a time) is defined here. Inputs
are the document's strings (Decimal text, ISO ``Z`` times); anything missing or malformed
shows as ``MISSING`` instead of raising, because a dashboard that dies on one odd field
is worse than one blank cell.
"""

from __future__ import annotations

from typing import Any, Final

from cli._format import (
    DASH,
    age,
    countdown,
    money,
    next_funding_seconds,
    parse_time,
    percent,
    sign_style,
)
from cli._format import decimal as dec
from cli._format import number as quantity
from cli._format import short_time as _short_time

__all__ = [
    "MISSING",
    "age",
    "bps",
    "countdown",
    "dec",
    "money",
    "next_funding_seconds",
    "parse_time",
    "percent",
    "price",
    "quantity",
    "short_time",
    "sign_style",
]

MISSING: Final = DASH


def bps(value: Any) -> str:
    """Basis points with one decimal and a sign: ``+15.1``."""
    number = dec(value)
    if number is None:
        return MISSING
    return f"{number:+.1f}"


def price(value: Any) -> str:
    """A price to a useful precision: 2 places from 100 up, 4 from 1, else 6."""
    number = dec(value)
    if number is None:
        return MISSING
    size = abs(number)
    places = 2 if size >= 100 else 4 if size >= 1 else 6
    return f"{number:,.{places}f}"


def short_time(value: Any) -> str:
    """``2023-01-13T07:01:38.175Z`` -> ``01-13 07:01`` (market time, UTC): the panes are
    narrow and a session rarely spans a new year."""
    return _short_time(value, year=False)
