"""What the stream has shown about each position since the dashboard started.

The document only holds the present (the TUI never reads the database), so the detail
pane's sparklines and its list of funding payments are collected here, update by update:
one sample of spread APR and net PnL each time a position changes, and a payment each
time a leg's cumulative funding moves.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from tui.view._format import dec

__all__ = ["MAX_PAYMENTS", "MAX_POINTS", "History", "Payment", "Trace"]

# Samples kept per series: wider than any detail pane's sparkline.
MAX_POINTS: Final = 240
# Funding payments listed per position (three venues settling 8-hourly: several days).
MAX_PAYMENTS: Final = 24


@dataclass(frozen=True, slots=True)
class Payment:
    """A funding settlement seen on the stream: the change of a leg's cumulative
    funding at market time ``time``."""

    time: str
    side: str
    venue: str
    amount: Decimal


@dataclass(slots=True)
class Trace:
    """One position's history."""

    spread: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_POINTS))
    net: deque[float] = field(default_factory=lambda: deque(maxlen=MAX_POINTS))
    payments: deque[Payment] = field(default_factory=lambda: deque(maxlen=MAX_PAYMENTS))
    funding: dict[str, Decimal] = field(default_factory=dict)


class History:
    """Traces of the open positions of one strategy."""

    def __init__(self) -> None:
        self._traces: dict[str, Trace] = {}

    def __len__(self) -> int:
        return len(self._traces)

    def trace(self, pid: str) -> Trace | None:
        return self._traces.get(pid)

    def record(
        self,
        positions: Mapping[str, Mapping[str, Any]],
        clock: str | None,
        touched: Iterable[str] | None = None,
    ) -> None:
        """Sample the positions a patch ``touched`` (None: all of them, and forget the
        ones that are gone)."""
        if touched is None:
            for pid in [p for p in self._traces if p not in positions]:
                del self._traces[pid]
            touched = positions.keys()
        for pid in touched:
            doc = positions.get(pid)
            if not isinstance(doc, Mapping):
                self._traces.pop(pid, None)
                continue
            trace = self._traces.get(pid)
            if trace is None:
                trace = self._traces[pid] = Trace()
            self._sample(trace, doc, clock or "")

    @staticmethod
    def _sample(trace: Trace, doc: Mapping[str, Any], clock: str) -> None:
        spread = dec(doc.get("spread_apr"))
        pnl = doc.get("pnl")
        net = dec(pnl.get("net")) if isinstance(pnl, Mapping) else None
        if spread is not None:
            trace.spread.append(float(spread))
        if net is not None:
            trace.net.append(float(net))
        for side in ("long", "short"):
            leg = doc.get(side)
            if not isinstance(leg, Mapping):
                continue
            total = dec(leg.get("funding"))
            if total is None:
                continue
            before = trace.funding.get(side)
            trace.funding[side] = total
            if before is not None and total != before:
                venue = leg.get("venue")
                # the venue's settlement time when the document says it, else the cycle's
                paid_at = leg.get("last_funding")
                trace.payments.append(
                    Payment(
                        paid_at if isinstance(paid_at, str) else clock,
                        side,
                        venue if isinstance(venue, str) else "?",
                        total - before,
                    )
                )
