"""RiskManager: rules that watch positions and the portfolio and raise alerts.

Each rule is a small pure function from numbers to a :class:`Finding` (or nothing). The
manager runs them every cycle and turns findings into :class:`Alert` lifecycles: a
finding that was not active raises an alert, one whose level changed replaces it (a new
id, so the store's history shows the escalation), and an active alert whose finding is
gone is cleared. An unchanged finding keeps its alert as it was, so a quiet cycle does
not rewrite the alerts in the document.

Rules and thresholds (all from :class:`~strategy.config.StrategyConfig`):

==========  ==========================================  =========================  ========
code        measure                                     warn / critical            closes
==========  ==========================================  =========================  ========
divergence  abs drift of the legs' price gap, bps       divergence_warn/limit_bps  yes
erosion     share of entry spread lost (>1: flipped)    erosion_warn/exit_erosion  after
                                                                                   min hold
margin      closest leg's distance to liquidation       margin_warn/critical       yes
stale_data  age of a venue's market data                stale_after_s / 3x that    no
exposure    open notional / max_total_notional; count   exposure_warn / over max   no
drawdown    peak equity - equity                        drawdown_warn share / max  all; pause
==========  ==========================================  =========================  ========
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, Literal

from strategy.config import StrategyConfig
from strategy.funding import LONG
from strategy.models import Leg, Position
from strategy.store.records import AlertRecord

__all__ = [
    "Alert",
    "AlertLevel",
    "Finding",
    "RiskLevel",
    "RiskManager",
    "RiskReport",
    "check_divergence",
    "check_drawdown",
    "check_erosion",
    "check_exposure",
    "check_margin",
    "check_stale",
    "liquidation_price",
    "margin_distance",
]

AlertLevel = Literal["warn", "critical"]
RiskLevel = Literal["ok", "warn", "critical"]
PORTFOLIO = "portfolio"
_RANK: Mapping[str, int] = {"ok": 0, "warn": 1, "critical": 2}
_ONE = Decimal(1)


@dataclass(frozen=True, slots=True)
class Finding:
    """What one rule saw this cycle about one subject (a position, a feed, the book)."""

    code: str
    level: AlertLevel
    subject: str
    message: str
    position: str | None = None
    closes: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.subject)


@dataclass(frozen=True, slots=True)
class Alert:
    """A raised finding: what the document, the store and the alert sinks see."""

    id: str
    level: AlertLevel
    code: str
    message: str
    position: str | None
    ts: datetime
    subject: str
    closes: bool = False

    @property
    def key(self) -> tuple[str, str]:
        return (self.code, self.subject)

    def to_doc(self) -> dict[str, Any]:
        """The ``alerts[id]`` entry of the snapshot document (no nulls)."""
        doc: dict[str, Any] = {
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "ts": self.ts,
        }
        if self.position is not None:
            doc["position"] = self.position
        return doc

    def notice_data(self) -> dict[str, Any]:
        """Payload of the ``alert`` notice (here ``position`` may be ``None``)."""
        return {
            "id": self.id,
            "level": self.level,
            "code": self.code,
            "message": self.message,
            "position": self.position,
        }

    def to_record(self, strategy: str) -> AlertRecord:
        return AlertRecord(
            id=self.id,
            strategy=strategy,
            ts=self.ts,
            level=self.level,
            code=self.code,
            message=self.message,
            position_id=self.position,
        )


@dataclass(slots=True)
class RiskReport:
    """The outcome of one evaluation."""

    raised: list[Alert] = field(default_factory=list)
    cleared: list[Alert] = field(default_factory=list)
    #: first critical alert that closes each position
    closes: dict[str, Alert] = field(default_factory=dict)
    #: a critical drawdown: close everything, open nothing
    halt: Alert | None = None

    @property
    def changed(self) -> bool:
        return bool(self.raised or self.cleared)


# --- rules ------------------------------------------------------------------------------


def _fmt(value: Decimal, places: str = "0.1") -> str:
    return str(value.quantize(Decimal(places)))


def check_divergence(cfg: StrategyConfig, position: Position) -> Finding | None:
    drift = abs(position.divergence_bps)
    if drift < cfg.divergence_warn_bps:
        return None
    critical = drift >= cfg.divergence_limit_bps
    return Finding(
        "divergence",
        "critical" if critical else "warn",
        position.id,
        f"{position.symbol} legs drifted {_fmt(drift)} bps since entry "
        f"(warn {cfg.divergence_warn_bps}, limit {cfg.divergence_limit_bps})",
        position.id,
        closes=critical,
    )


def check_erosion(cfg: StrategyConfig, position: Position, now: datetime) -> Finding | None:
    erosion = position.erosion
    if erosion < cfg.erosion_warn:
        return None
    critical = erosion >= cfg.exit_erosion or position.spread_apr <= 0
    held = now - position.opened_at >= timedelta(hours=cfg.min_hold_hours)
    if position.spread_apr <= 0:
        what = f"spread flipped to {_fmt(position.spread_apr * 100, '0.01')} % APR"
    else:
        what = f"spread eroded {_fmt(erosion * 100)} % of entry"
    return Finding(
        "erosion",
        "critical" if critical else "warn",
        position.id,
        f"{position.symbol} {what} (entry {_fmt(position.entry_spread_apr * 100, '0.01')} % APR,"
        f" exit at {_fmt(cfg.exit_erosion * 100, '1')} % lost)",
        position.id,
        closes=critical and held,
    )


def liquidation_price(cfg: StrategyConfig, leg: Leg) -> Decimal:
    """Isolated-margin liquidation estimate: ``entry * (1 -/+ 1/leverage +/- mm)``."""
    move = _ONE / cfg.leverage - cfg.maintenance_margin
    return leg.entry_price * (_ONE - move if leg.side == LONG else _ONE + move)


def margin_distance(cfg: StrategyConfig, leg: Leg) -> Decimal:
    """How far the mark may still move against the leg, as a fraction of the mark."""
    liq = liquidation_price(cfg, leg)
    gap = leg.mark - liq if leg.side == LONG else liq - leg.mark
    return gap / leg.mark


def check_margin(cfg: StrategyConfig, position: Position) -> Finding | None:
    leg = min(position.legs, key=lambda lg: margin_distance(cfg, lg))
    distance = margin_distance(cfg, leg)
    if distance >= cfg.margin_warn:
        return None
    critical = distance < cfg.margin_critical
    return Finding(
        "margin",
        "critical" if critical else "warn",
        position.id,
        f"{position.symbol} {leg.name} leg on {leg.venue} is {_fmt(distance * 100)} % from "
        f"liquidation near {_fmt(liquidation_price(cfg, leg), '0.01')}",
        position.id,
        closes=critical,
    )


def check_stale(
    cfg: StrategyConfig, venue: str, symbol: str, age_s: float, position: str | None
) -> Finding | None:
    if age_s <= cfg.stale_after_s:
        return None
    critical = age_s > 3 * cfg.stale_after_s
    return Finding(
        "stale_data",
        "critical" if critical else "warn",
        f"{venue}:{symbol}",
        f"{venue} {symbol} market data is {int(age_s)} s old (stale after {cfg.stale_after_s} s)",
        position,
    )


def check_exposure(cfg: StrategyConfig, total_notional: Decimal, open_count: int) -> Finding | None:
    used = total_notional / cfg.max_total_notional
    over_count = open_count > cfg.max_open_positions
    if used < cfg.exposure_warn and not over_count:
        return None
    critical = used > _ONE or over_count
    return Finding(
        "exposure",
        "critical" if critical else "warn",
        PORTFOLIO,
        f"{open_count} open pairs, {_fmt(total_notional, '1')} notional = "
        f"{_fmt(used * 100)} % of max {cfg.max_total_notional} "
        f"(max {cfg.max_open_positions} pairs)",
    )


def check_drawdown(cfg: StrategyConfig, peak: Decimal, equity: Decimal) -> Finding | None:
    drawdown = peak - equity
    if drawdown < cfg.max_drawdown * cfg.drawdown_warn:
        return None
    critical = drawdown >= cfg.max_drawdown
    return Finding(
        "drawdown",
        "critical" if critical else "warn",
        PORTFOLIO,
        f"drawdown {_fmt(drawdown, '0.01')} from peak equity {_fmt(peak, '0.01')} "
        f"(max {cfg.max_drawdown})",
        closes=critical,
    )


# --- manager ----------------------------------------------------------------------------


class RiskManager:
    """Runs the rules and keeps the active alerts and the equity peak between cycles."""

    def __init__(self, config: StrategyConfig) -> None:
        self.config = config
        self._active: dict[tuple[str, str], Alert] = {}
        self.peak_equity = Decimal(0)
        self.max_drawdown_seen = Decimal(0)
        self.halt_until: datetime | None = None

    @property
    def active(self) -> list[Alert]:
        return list(self._active.values())

    def position_risk(self, pid: str) -> tuple[RiskLevel, tuple[str, ...]]:
        """The worst active level on a position and the codes behind it."""
        level: RiskLevel = "ok"
        reasons: list[str] = []
        for alert in self._active.values():
            if alert.position == pid:
                reasons.append(alert.code)
                if _RANK[alert.level] > _RANK[level]:
                    level = alert.level
        return level, tuple(sorted(reasons))

    def halted(self, now: datetime) -> bool:
        """True for ``halt_hours`` after a critical drawdown: no new entries."""
        return self.halt_until is not None and now < self.halt_until

    def evaluate(
        self,
        now: datetime,
        positions: Iterable[Position],
        *,
        equity: Decimal,
        total_notional: Decimal,
        data_age_s: Mapping[tuple[str, str], float],
    ) -> RiskReport:
        """Run every rule; raise, replace and clear alerts; say what must close.

        Args:
            now: market time; stamps raised alerts.
            positions: the open positions, refreshed this cycle.
            equity: realised plus unrealised net PnL.
            total_notional: open notional (one leg per pair).
            data_age_s: market seconds since each (venue, symbol) last had fresh data.
        """
        cfg = self.config
        positions = list(positions)
        findings: list[Finding] = []
        for position in positions:
            for finding in (
                check_divergence(cfg, position),
                check_erosion(cfg, position, now),
                check_margin(cfg, position),
            ):
                if finding is not None:
                    findings.append(finding)
        by_market = {}
        for position in positions:
            for leg in position.legs:
                by_market[(leg.venue, position.symbol)] = position.id
        for (venue, symbol), age in data_age_s.items():
            stale = check_stale(cfg, venue, symbol, age, by_market.get((venue, symbol)))
            if stale is not None:
                findings.append(stale)
        exposure = check_exposure(cfg, total_notional, len(positions))
        if exposure is not None:
            findings.append(exposure)
        self.peak_equity = max(self.peak_equity, equity)
        self.max_drawdown_seen = max(self.max_drawdown_seen, self.peak_equity - equity)
        drawdown = check_drawdown(cfg, self.peak_equity, equity)
        if drawdown is not None:
            findings.append(drawdown)
        report = self._apply(now, findings)
        if report.halt is not None:
            # everything is being closed: pause entries, and measure the next drawdown
            # from here rather than from a peak the book no longer has
            self.halt_until = now + timedelta(hours=cfg.halt_hours)
            self.peak_equity = equity
        return report

    def forget_position(self, pid: str) -> list[Alert]:
        """Clear a closed position's alerts; returns them so the document drops them."""
        gone = [a for a in self._active.values() if a.position == pid and a.subject == pid]
        for alert in gone:
            del self._active[alert.key]
        return gone

    def reset_peak(self, equity: Decimal) -> None:
        """Start drawdown from ``equity`` (after a restart the old peak is unknown)."""
        self.peak_equity = equity

    def _apply(self, now: datetime, findings: list[Finding]) -> RiskReport:
        report = RiskReport()
        seen: set[tuple[str, str]] = set()
        for finding in findings:
            seen.add(finding.key)
            current = self._active.get(finding.key)
            if current is not None and current.level == finding.level:
                if current.closes != finding.closes:
                    current = self._active[finding.key] = _with_closes(current, finding.closes)
            else:
                if current is not None:
                    report.cleared.append(current)
                current = self._active[finding.key] = self._alert(now, finding)
                report.raised.append(current)
            if current.closes and current.position is not None:
                report.closes.setdefault(current.position, current)
            if current.code == "drawdown" and current.closes:
                report.halt = current
        for key in [k for k in self._active if k not in seen]:
            report.cleared.append(self._active.pop(key))
        return report

    def _alert(self, now: datetime, finding: Finding) -> Alert:
        seed = "|".join(
            (self.config.id, finding.code, finding.subject, finding.level, now.isoformat())
        )
        return Alert(
            id="a-" + hashlib.sha256(seed.encode()).hexdigest()[:8],
            level=finding.level,
            code=finding.code,
            message=finding.message,
            position=finding.position,
            ts=now,
            subject=finding.subject,
            closes=finding.closes,
        )


def _with_closes(alert: Alert, closes: bool) -> Alert:
    return Alert(
        alert.id,
        alert.level,
        alert.code,
        alert.message,
        alert.position,
        alert.ts,
        alert.subject,
        closes,
    )
