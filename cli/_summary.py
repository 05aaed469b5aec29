"""One row of figures per strategy, and their combined total, for the "all" views.

``dash snapshot --all``, ``dash watch --all`` (table and plain lines) draw the same
figures, so they are computed once here from each document's own ``totals`` (the
strategy already sums its positions; we never re-derive PnL). Amounts are summed as
Decimals, never floats. No Rich: the plain-line output uses this too.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from typing import Any, Final, NamedTuple

from cli import _format as fmt

__all__ = ["AMOUNTS", "LEVELS", "Summary", "combine", "plain_line", "summarize", "worst"]

# Risk levels from least to most serious; anything unknown ranks as "ok".
LEVELS: Final = ("ok", "warn", "critical")
# The summed amounts, as Summary fields (from the document's ``totals``).
AMOUNTS: Final = ("notional", "funding", "fees", "unrealized", "net")


class Summary(NamedTuple):
    """A strategy's headline figures (or, from :func:`combine`, everyone's).

    ``risk`` is the worst of its positions' risk levels and its active alerts' levels, so
    a failed strategy (which raises a critical alert) reads ``critical``.
    """

    strategy: str
    socket: str
    status: str
    seq: int | None
    open: int
    notional: Decimal | None
    funding: Decimal | None
    fees: Decimal | None
    unrealized: Decimal | None
    net: Decimal | None
    risk: str
    clock: str | None = None


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def worst(levels: Iterable[Any]) -> str:
    rank = max((LEVELS.index(lv) for lv in levels if lv in LEVELS), default=0)
    return LEVELS[rank]


def summarize(doc: Mapping[str, Any], socket: str = "") -> Summary:
    """The figures of one snapshot document; missing values stay ``None`` (shown ``-``)."""
    totals = _mapping(doc.get("totals"))
    positions = _mapping(doc.get("positions"))
    levels = [_mapping(_mapping(p).get("risk")).get("level") for p in positions.values()]
    levels += [_mapping(a).get("level") for a in _mapping(doc.get("alerts")).values()]
    seq = doc.get("seq")
    count = totals.get("open_positions")
    clock = doc.get("clock")
    return Summary(
        strategy=str(doc.get("strategy", fmt.DASH)),
        socket=socket,
        status=str(doc.get("status", fmt.DASH)),
        seq=seq if isinstance(seq, int) and not isinstance(seq, bool) else None,
        open=count if isinstance(count, int) and not isinstance(count, bool) else len(positions),
        notional=fmt.decimal(totals.get("notional")),
        funding=fmt.decimal(totals.get("funding_collected")),
        fees=fmt.decimal(totals.get("fees")),
        unrealized=fmt.decimal(totals.get("unrealized_pnl")),
        net=fmt.decimal(totals.get("net_pnl")),
        risk=worst(levels),
        clock=clock if isinstance(clock, str) else None,
    )


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    known = [v for v in values if v is not None]
    return sum(known, Decimal(0)) if known else None


def combine(rows: Sequence[Summary], label: str = "total") -> Summary:
    """Everyone's figures: sums, the worst risk, and statuses counted (``2 running,
    1 failed``)."""
    statuses = Counter(r.status for r in rows)
    sockets = {r.socket for r in rows}
    return Summary(
        strategy=label,
        socket=f"{len(sockets)} socket{'s' if len(sockets) != 1 else ''}",
        status=", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or fmt.DASH,
        seq=None,
        open=sum(r.open for r in rows),
        notional=_sum(r.notional for r in rows),
        funding=_sum(r.funding for r in rows),
        fees=_sum(r.fees for r in rows),
        unrealized=_sum(r.unrealized for r in rows),
        net=_sum(r.net for r in rows),
        risk=worst(r.risk for r in rows),
    )


def _amount(value: Decimal | None) -> str:
    return fmt.DASH if value is None else str(value)


def plain_line(row: Summary, total: Summary) -> str:
    """One ``key=value`` line for an update of ``row``, ending with the combined figures,
    so a pipe sees the whole picture on every line."""
    words = [
        row.clock or fmt.DASH,
        f"strategy={row.strategy}",
        f"socket={row.socket}",
        f"seq={fmt.DASH if row.seq is None else row.seq}",
        f"status={row.status}",
        f"open={row.open}",
        *(f"{name}={_amount(getattr(row, name))}" for name in AMOUNTS if name != "net"),
        f"net_pnl={_amount(row.net)}",
        f"risk={row.risk}",
        f"total_open={total.open}",
        f"total_net_pnl={_amount(total.net)}",
    ]
    return " ".join(words)
