"""Text for numbers and times as the dashboard shows them.

Everything the screen says about money goes through here, so ``dash tui`` agrees with
itself from pane to pane. Inputs are the document's strings (Decimal text, ISO ``Z``
times); anything missing or malformed shows as an en dash instead of raising, because a
dashboard that dies on one odd field is worse than one blank cell.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any, Final

__all__ = [
    "MISSING",
    "age",
    "bps",
    "countdown",
    "dec",
    "money",
    "parse_time",
    "percent",
    "price",
    "quantity",
    "short_time",
    "sign_style",
]

MISSING: Final = "–"

_CENT = Decimal("0.01")


def dec(value: Any) -> Decimal | None:
    """A document amount as a Decimal, or None when absent or not a finite number."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = value if isinstance(value, Decimal) else Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return number if number.is_finite() else None


def money(value: Any, *, signed: bool = False) -> str:
    """``1,234.56`` (``+1,234.56`` when ``signed``): always two places, thousands commas."""
    number = dec(value)
    if number is None:
        return MISSING
    text = f"{number.quantize(_CENT):,.2f}"
    if signed and number > 0:
        return "+" + text
    return "0.00" if text == "-0.00" else text


def percent(value: Any, places: int = 2, *, signed: bool = False) -> str:
    """An annualised fraction as a percentage: ``0.2190`` -> ``21.90%``."""
    number = dec(value)
    if number is None:
        return MISSING
    text = f"{number * 100:.{places}f}%"
    if signed and number > 0:
        return "+" + text
    return text


def bps(value: Any) -> str:
    """Basis points with one decimal and a sign: ``+15.1``."""
    number = dec(value)
    if number is None:
        return MISSING
    return f"{number:+.1f}"


def quantity(value: Any) -> str:
    """A quantity as the strategy sized it (no rounding: it is what was traded)."""
    number = dec(value)
    if number is None:
        return MISSING
    return f"{number.normalize():f}" if number == number.to_integral() else str(number)


def price(value: Any) -> str:
    """A price to a useful precision: 2 places from 100 up, 4 from 1, else 6."""
    number = dec(value)
    if number is None:
        return MISSING
    size = abs(number)
    places = 2 if size >= 100 else 4 if size >= 1 else 6
    return f"{number:,.{places}f}"


def sign_style(value: Any, positive: str = "green", negative: str = "red") -> str:
    """The style of an amount by its sign ("" for zero or unknown)."""
    number = dec(value)
    if number is None or number == 0:
        return ""
    return positive if number > 0 else negative


@lru_cache(maxsize=4096)
def parse_time(value: str | None) -> datetime | None:
    """An ISO ``Z`` time from the document as an aware datetime (memoised: the same
    funding times repeat in every patch)."""
    if not value or not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def countdown(seconds: float | None) -> str:
    """Time left, coarse enough to read at a glance (as ``dash watch``): ``2d3h``,
    ``7h28m``, ``12m``, ``45s``; ``due`` once it has passed."""
    if seconds is None:
        return MISSING
    if seconds <= 0:
        return "due"
    total = int(seconds)
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    if minutes:
        return f"{minutes}m"
    return f"{secs}s"


def age(seconds: float | None) -> str:
    """How long ago: ``0.3s`` below ten seconds, then ``12s``, ``4m``, ``2h``."""
    if seconds is None:
        return MISSING
    seconds = max(seconds, 0.0)
    if seconds < 10:
        return f"{seconds:.1f}s"
    if seconds < 120:
        return f"{int(seconds)}s"
    if seconds < 7200:
        return f"{int(seconds // 60)}m"
    return f"{int(seconds // 3600)}h"


def short_time(value: str | None) -> str:
    """``2023-01-13T07:01:38.175Z`` -> ``01-13 07:01`` (market time, UTC)."""
    when = parse_time(value)
    if when is None:
        return MISSING
    return f"{when:%m-%d %H:%M}"
