"""FundingArbitrageStrategy: the cycle that scans, opens, monitors, accounts and closes.

One cycle, at one instant of market time (``clock.now()``):

1. refresh every venue's funding picture (rate, APR, interval, next settlement, mark);
2. book funding settlements that fell due on open legs (once per position, venue, time);
3. ``_monitor_positions``: marks, spread, erosion, divergence, PnL, next funding;
4. ask the :class:`~strategy.risk.RiskManager`; close what a closing alert names;
5. open the widest pair of each symbol whose spread beats four taker fills plus a margin;
6. commit everything to the :class:`~state.DashboardState` as ONE change and remember
   the market time in the store, so a restart can resume from it.

Trading and the book are guarded by one lock, so an operator's :meth:`close_position`
arriving mid-cycle waits for the cycle and never interleaves with it. Client order ids
are derived from the position id, the leg and the action, so a close retried after an
error, a crash or a duplicate request never trades a leg twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from typing import Any, Literal

from state import DashboardState, EventBus, Notice
from strategy.clock import Clock
from strategy.config import StrategyConfig
from strategy.documents import DocumentBuilder, MarketInputs, money
from strategy.errors import CommandError
from strategy.exchanges import Exchange, ExchangeError, Fill, FundingInfo, Side
from strategy.funding import (
    LONG,
    SHORT,
    PairQuote,
    annualise,
    best_pair,
    entry_edge,
    round_trip_cost,
)
from strategy.models import Leg, MarketQuote, Position, leg_order_id, position_id
from strategy.positions import PositionManager
from strategy.risk import Alert, AlertLevel, RiskManager, RiskReport
from strategy.store import Store

__all__ = ["CloseResult", "FundingArbitrageStrategy"]

log = logging.getLogger("dash.strategy")

_ZERO = Decimal(0)
_TWO = Decimal(2)


@dataclass(frozen=True, slots=True)
class CloseResult:
    """Outcome of a close; ``status`` is ``already_closed`` for a repeated request."""

    position_id: str
    status: Literal["closed", "already_closed"]
    reason: str
    realized_pnl: Decimal
    funding_collected: Decimal
    fees: Decimal
    closed_at: datetime
    requested_by: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-able result for the control plane (amounts as strings)."""
        return {
            "position": self.position_id,
            "status": self.status,
            "reason": self.reason,
            "realized_pnl": str(money(self.realized_pnl)),
            "funding_collected": str(money(self.funding_collected)),
            "fees": str(money(self.fees)),
            "closed_at": self.closed_at,
        }


class _Pending:
    """What a cycle (or a close) changed, gathered for one state transaction."""

    __slots__ = ("cleared", "raised", "removed", "significant")

    def __init__(self) -> None:
        self.raised: list[Alert] = []
        self.cleared: list[Alert] = []
        self.removed: list[str] = []
        self.significant: list[str] = []

    def absorb(self, report: RiskReport) -> None:
        self.raised += report.raised
        self.cleared += report.cleared


class FundingArbitrageStrategy:
    """Cross-exchange perp-perp funding arbitrage on a set of :class:`Exchange`\\ s.

    Args:
        config: what to trade and the limits.
        exchanges: one exchange per name in ``config.venues``.
        clock: market time for every decision and record.
        store: where positions, funding payments, alerts and the run clock are written.
        state: the live document to update. Defaults to none (a bare backtest).
        bus: where notices go. Defaults to ``state.bus``.
        mode: ``paper`` or ``live``, echoed in notices. Defaults to ``"paper"``.
    """

    def __init__(
        self,
        config: StrategyConfig,
        exchanges: Mapping[str, Exchange],
        clock: Clock,
        store: Store,
        state: DashboardState | None = None,
        bus: EventBus | None = None,
        *,
        mode: str = "paper",
    ) -> None:
        missing = [v for v in config.venues if v not in exchanges]
        if missing:
            raise ValueError(f"no exchange for venue(s) {', '.join(missing)}")
        self.config = config
        self.exchanges = {v: exchanges[v] for v in config.venues}
        self.clock = clock
        self.store = store
        self.state = state
        self.bus = bus if bus is not None else (state.bus if state is not None else None)
        self.mode = mode
        self.positions = PositionManager(config.id)
        self.risk = RiskManager(config)
        self.quotes: dict[tuple[str, str], MarketQuote] = {}
        self.cycles = 0
        self.cycle_errors = 0
        self.started_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._last_fresh: dict[tuple[str, str], datetime] = {}
        self._lost: set[tuple[str, str]] = set()
        self._markets: dict[str, MarketInputs] = {}
        self._documents = DocumentBuilder()
        self._signals: dict[tuple[str, str], tuple[tuple[datetime, Decimal], Decimal]] = {}
        self._realized_before = _ZERO
        self._closed_before = 0
        self._close_reasons: Counter[str] = Counter()
        self._last_close: dict[str, datetime] = {}
        self._error_alert: Alert | None = None
        self._status = "starting"

    # ------------------------------------------------------------------ public API

    async def restore(self) -> list[Position]:
        """Rebuild the book from the store after a restart (or a ``kill -9``).

        Every open position comes back with the funding its legs were already paid, and
        funding polling resumes after the latest settlement recorded per leg, so none is
        paid twice. PnL realised by positions closed in earlier runs is carried into the
        totals. Call before the first cycle.
        """
        sid = self.config.id
        async with self._lock:
            records = await self.store.positions(sid)
            last_times = await self.store.last_funding_times(sid)
            restored: list[Position] = []
            for record in records:
                if record.closed_at is not None:
                    self._realized_before += record.realized_pnl or _ZERO
                    self._closed_before += 1
                    continue
                if record.id in self.positions:
                    continue
                paid: dict[str, Decimal] = {}
                for payment in await self.store.funding_payments(position_id=record.id):
                    paid[payment.venue] = paid.get(payment.venue, _ZERO) + payment.amount
                lasts = {
                    venue: when for (pid, venue), when in last_times.items() if pid == record.id
                }
                restored.append(self.positions.restore(record, paid, lasts))
            self.positions.opened_count = 0
            self.risk.reset_peak(self.positions.equity() + self._realized_before)
            if restored:
                log.info(
                    "restored %d open position(s): %s",
                    len(restored),
                    ", ".join(p.id for p in restored),
                )
            pending = _Pending()
            if restored:
                pending.significant.append("restored")
            await self._commit("restore", pending)
            return restored

    async def run_cycle(self) -> None:
        """One full cycle at the current market time (see the module docstring)."""
        async with self._lock:
            now = self.clock.now()
            pending = _Pending()
            await self._refresh_markets(now)
            await self._collect_funding(now)
            self._monitor_positions(now)
            report = self._evaluate_risk(now)
            pending.absorb(report)
            for position in list(self.positions):
                reason = self._exit_reason(position, report)
                if reason is None:
                    continue
                try:
                    await self._close(position, reason, now, pending)
                except ExchangeError as exc:
                    log.warning("close of %s failed, retrying next cycle: %s", position.id, exc)
            if not self.risk.halted(now):
                await self._scan_entries(now, pending)
            self._set_risk_levels()
            self.cycles += 1
            await self._commit("cycle", pending)
            self.store.set_runtime_clock(self.config.id, now)

    async def run(
        self, stop_event: asyncio.Event | None = None, *, until: datetime | None = None
    ) -> str:
        """Cycle until ``stop_event`` is set or market time reaches ``until``.

        A cycle that raises is logged and reported as a ``cycle_error`` alert; the loop
        goes on, since a venue hiccup should not stop a book of hedged pairs. After
        ``config.max_cycle_errors`` failed cycles in a row the fault is taken to be ours,
        not the market's: the strategy stops trading with status ``failed`` and a
        critical ``strategy_failed`` alert (its open positions stay visible and closable
        through the control plane). Returns why it stopped: ``"stopped"``, ``"until"``
        or ``"failed"``.
        """
        stop_event = stop_event or asyncio.Event()
        self.started_at = self.clock.now()
        self._status = "running"
        self._notice("strategy_started", {"mode": self.mode, "reason": "start"})
        reason = "stopped"
        consecutive = 0
        try:
            while not stop_event.is_set():
                try:
                    await self.run_cycle()
                    consecutive = 0
                    if self._error_alert is not None:
                        await self._cycle_error_cleared(self._error_alert)
                        self._error_alert = None
                except Exception as exc:
                    self.cycle_errors += 1
                    consecutive += 1
                    log.exception("cycle at %s failed", self.clock.now())
                    self._error_alert = await self._cycle_error(exc, self._error_alert)
                    if consecutive >= self.config.max_cycle_errors:
                        reason = "failed"
                        await self.fail(f"{consecutive} cycles in a row failed; last: {exc!r}")
                        break
                if until is not None and self.clock.now() >= until:
                    reason = "until"
                    break
                await self._sleep(stop_event)
        finally:
            if self._status != "failed":
                self._status = "stopped"
                with contextlib.suppress(Exception):
                    pending = _Pending()
                    pending.significant.append("shutdown")
                    await self._commit("stop", pending)
            self.store.set_runtime_clock(self.config.id, self.clock.now())
            self._notice("strategy_stopped", {"mode": self.mode, "reason": reason})
        return reason

    async def fail(self, why: str) -> None:
        """Mark the strategy ``failed`` with a critical alert; it trades no more.

        Called by :meth:`run` after repeated cycle errors and by a host process whose
        task for this strategy died, so one broken strategy is reported while the
        others in the process keep running and serving.
        """
        self._status = "failed"
        alert = self._engine_alert(
            "failed", "critical", "strategy_failed",
            f"strategy {self.config.id} failed and stopped trading: {why}",
        )  # fmt: skip
        log.error("%s", alert.message)
        pending = _Pending()
        pending.raised.append(alert)
        pending.significant.append("critical_alert")
        with contextlib.suppress(Exception):
            await self._commit("failed", pending)
        self._notice("alert", {"id": alert.id, "level": alert.level, "code": alert.code,
                               "message": alert.message, "position": None})

    async def close_position(
        self, position_id: str, reason: str, *, requested_by: str | None = None
    ) -> CloseResult:
        """Close both legs of a position now (the control plane's entry point).

        Idempotent: closing a closed position trades nothing and returns
        ``status="already_closed"`` with the first close's figures.

        Raises:
            CommandError: ``not_found`` for an unknown id; ``unavailable`` when a venue
                refused an order (retrying is safe: filled legs are not traded again).
        """
        position = self.positions.get(position_id)
        if position is None:
            raise CommandError("not_found", f"no position {position_id!r}")
        async with self._lock:
            if position.status == "closed":
                return self._result(position, "already_closed", requested_by)
            now = self.clock.now()
            pending = _Pending()
            label = reason if requested_by is None else f"{reason} (by {requested_by})"
            try:
                await self._close(position, reason, now, pending)
            except ExchangeError as exc:
                await self._commit("close_failed", pending)
                raise CommandError("unavailable", f"closing {position_id} failed: {exc}") from exc
            log.info("closed %s on request: %s", position_id, label)
            self._set_risk_levels()
            await self._commit("close", pending)
            return self._result(position, "closed", requested_by)

    def summary(self) -> dict[str, Any]:
        """Backtest figures: positions, funding, fees, PnL, drawdown (Decimals)."""
        open_positions = list(self.positions)
        every = [*self.positions.closed, *open_positions]
        funding = sum((p.funding_collected for p in every), _ZERO)
        fees = sum((p.fees for p in every), _ZERO)
        realized = self.positions.realized_pnl()
        unrealized = self.positions.unrealized_net()
        return {
            "strategy": self.config.id,
            "start": self.started_at,
            "end": self.clock.now(),
            "cycles": self.cycles,
            "cycle_errors": self.cycle_errors,
            "positions_opened": self.positions.opened_count,
            "positions_closed": len(self.positions.closed),
            "open_positions": len(open_positions),
            "funding_collected": funding,
            "fees": fees,
            "realized_pnl": realized,
            "unrealized_pnl": unrealized,
            "net_pnl": realized + unrealized,
            "max_drawdown": self.risk.max_drawdown_seen,
            "close_reasons": dict(self._close_reasons),
        }

    # ------------------------------------------------------------------ cycle steps

    async def _refresh_markets(self, now: datetime) -> None:
        cfg = self.config
        for symbol in cfg.symbols:
            quotes: list[MarketQuote] = []
            for venue, exchange in self.exchanges.items():
                key = (venue, symbol)
                try:
                    info = await exchange.funding_info(symbol)
                except ExchangeError as exc:
                    log.warning("%s %s funding info failed: %s", venue, symbol, exc)
                    self._feed_state(key, lost=True)
                    self.quotes.pop(key, None)
                    continue
                interval = cfg.interval_h(venue, symbol, info.interval_h)
                apr = info.apr if interval == info.interval_h else annualise(info.rate, interval)
                signal = await self._signal_apr(exchange, symbol, info, interval, apr, now)
                quote = MarketQuote(
                    venue,
                    symbol,
                    info.rate,
                    interval,
                    apr,
                    info.mark,
                    info.next_funding_time,
                    info.as_of,
                    signal,
                )
                self.quotes[key] = quote
                self._last_fresh[key] = max(info.as_of, self._last_fresh.get(key, info.as_of))
                stale = (now - info.as_of).total_seconds() > cfg.stale_after_s
                self._feed_state(key, lost=stale)
                quotes.append(quote)
            best = best_pair({q.venue: q.signal_apr for q in quotes}, cfg.venues)
            cost = (
                None
                if best is None
                else round_trip_cost(
                    self.exchanges[best.long_venue].taker_fee,
                    self.exchanges[best.short_venue].taker_fee,
                )
            )
            self._markets[symbol] = MarketInputs(quotes, best, cost)

    async def _signal_apr(
        self,
        exchange: Exchange,
        symbol: str,
        info: FundingInfo,
        interval: int,
        apr: Decimal,
        now: datetime,
    ) -> Decimal:
        """Mean APR of the settlements in the last ``signal_window_hours``, recomputed once
        per settlement.

        One settlement is noise: the next one often reverts. Averaging a few makes the
        spread the strategy enters and exits on a steadier estimate of what holding pays.
        """
        hours = self.config.signal_window_hours
        if hours < interval:
            return apr
        key = (exchange.name, symbol)
        cached = self._signals.get(key)
        if cached is not None and cached[0] == (info.next_funding_time, info.rate):
            return cached[1]
        try:
            events = await exchange.funding_history(symbol, now - timedelta(hours=hours), now)
        except ExchangeError:
            events = []
        rates = [e.rate for e in events] or [info.rate]
        signal = annualise(sum(rates, _ZERO) / len(rates), interval)
        self._signals[key] = ((info.next_funding_time, info.rate), signal)
        return signal

    async def _collect_funding(self, now: datetime) -> None:
        for position in self.positions:
            for leg in position.legs:
                if leg.next_funding_time is not None and now < leg.next_funding_time:
                    continue
                after = leg.last_funding_time or position.opened_at
                try:
                    events = await self.exchanges[leg.venue].funding_history(
                        position.symbol, after, now
                    )
                except ExchangeError as exc:
                    log.warning("%s funding history on %s failed: %s", position.id, leg.venue, exc)
                    continue
                for event in events:
                    payment = position.apply_funding(
                        leg.venue, event.funding_time, event.rate, event.mark
                    )
                    if payment is not None:
                        self.store.record_funding(payment)
                        log.info("funding %s %s %s at %s: %+.2f (rate %s)", position.id,
                                 position.symbol, leg.venue, payment.funding_time.isoformat(),
                                 payment.amount, payment.rate)

    def _monitor_positions(self, now: datetime) -> None:
        """Refresh every open position from this cycle's quotes."""
        for position in self.positions:
            symbol = position.symbol
            for leg in position.legs:
                quote = self.quotes.get((leg.venue, symbol))
                if quote is not None:
                    leg.mark = quote.mark
                    leg.next_funding_time = quote.next_funding_time
            long_q = self.quotes.get((position.long.venue, symbol))
            short_q = self.quotes.get((position.short.venue, symbol))
            if long_q is not None and short_q is not None:
                position.spread_apr = short_q.signal_apr - long_q.signal_apr

    def _evaluate_risk(self, now: datetime) -> RiskReport:
        ages = {
            (venue, symbol): (
                now - self._last_fresh.get((venue, symbol), self._start(now))
            ).total_seconds()
            for symbol in self.config.symbols
            for venue in self.config.venues
        }
        return self.risk.evaluate(
            now,
            self.positions,
            equity=self.positions.equity() + self._realized_before,
            total_notional=self.positions.total_notional(),
            data_age_s=ages,
        )

    def _exit_reason(self, position: Position, report: RiskReport) -> str | None:
        if position.status == "closing":
            return position.close_reason or "retry"
        if report.halt is not None:
            return "risk:drawdown"
        alert = report.closes.get(position.id)
        if alert is None:
            return None
        if alert.code == "erosion":
            return "spread_flipped" if position.spread_apr <= 0 else "erosion"
        if alert.code == "divergence":
            return "divergence"
        return f"risk:{alert.code}"

    async def _scan_entries(self, now: datetime, pending: _Pending) -> None:
        cfg = self.config
        for symbol in cfg.symbols:
            if self.positions.for_symbol(symbol) is not None:
                continue
            last_close = self._last_close.get(symbol)
            if last_close is not None and (
                now == last_close or now - last_close < timedelta(hours=cfg.reentry_hours)
            ):
                continue
            if len(self.positions) >= cfg.max_open_positions:
                return
            if self.positions.total_notional() + cfg.notional_per_position > (
                cfg.max_total_notional
            ):
                return
            quotes = {
                venue: q
                for venue in cfg.venues
                if (q := self.quotes.get((venue, symbol))) is not None
                and (venue, symbol) not in self._lost
            }
            best = best_pair({v: q.signal_apr for v, q in quotes.items()}, cfg.venues)
            if best is None:
                continue
            cost = round_trip_cost(
                self.exchanges[best.long_venue].taker_fee,
                self.exchanges[best.short_venue].taker_fee,
            )
            if entry_edge(best.spread_apr, cost, cfg.planned_hold_hours, cfg.entry_margin) <= 0:
                continue
            try:
                await self._open(symbol, best, quotes, now, pending)
            except ExchangeError as exc:
                log.warning(
                    "opening %s %s/%s failed: %s", symbol, best.long_venue, best.short_venue, exc
                )

    # ------------------------------------------------------------------ trading

    async def _open(
        self,
        symbol: str,
        best: PairQuote,
        quotes: Mapping[str, MarketQuote],
        now: datetime,
        pending: _Pending,
    ) -> Position | None:
        cfg = self.config
        long_q, short_q = quotes[best.long_venue], quotes[best.short_venue]
        price = (long_q.mark + short_q.mark) / _TWO
        qty = (cfg.notional_per_position / price).quantize(cfg.qty_step, rounding=ROUND_DOWN)
        if qty <= 0:
            return None
        pid = position_id(cfg.id, symbol, now)
        salt = 0
        while pid in self.positions:  # a pair reopened at the instant another opened
            salt += 1
            pid = position_id(cfg.id, symbol, now, salt)
        long_ex, short_ex = self.exchanges[best.long_venue], self.exchanges[best.short_venue]
        long_fill = await long_ex.market_order(
            symbol, Side.LONG, qty, leg_order_id(pid, "long", "open")
        )
        try:
            short_fill = await short_ex.market_order(
                symbol, Side.SHORT, qty, leg_order_id(pid, "short", "open")
            )
        except ExchangeError:
            # never hold one naked leg: undo the long before giving up on the pair
            await long_ex.market_order(symbol, Side.SHORT, qty, f"{pid}-long-unwind")
            raise
        position = Position(
            id=pid,
            strategy=cfg.id,
            symbol=symbol,
            qty=qty,
            opened_at=now,
            entry_spread_apr=best.spread_apr,
            long=Leg(
                best.long_venue,
                LONG,
                long_fill.price,
                long_q.mark,
                next_funding_time=long_q.next_funding_time,
            ),
            short=Leg(
                best.short_venue,
                SHORT,
                short_fill.price,
                short_q.mark,
                next_funding_time=short_q.next_funding_time,
            ),
            entry_fees=long_fill.fee + short_fill.fee,
        )
        self.positions.add(position)
        self.store.insert_position(position.to_record())
        pending.significant.append("position_opened")
        self._notice(
            "position_opened",
            {
                "position": pid,
                "symbol": symbol,
                "long_venue": best.long_venue,
                "short_venue": best.short_venue,
                "qty": qty,
                "entry_spread_apr": best.spread_apr,
                "notional": money(position.entry_notional),
            },
        )
        log.info(
            "opened %s %s long %s short %s qty %s spread APR %.2f%%",
            pid,
            symbol,
            best.long_venue,
            best.short_venue,
            qty,
            best.spread_apr * 100,
        )
        return position

    async def _close(
        self, position: Position, reason: str, now: datetime, pending: _Pending
    ) -> None:
        """Sell the long, buy back the short, book it; safe to call again after a failure."""
        position.status = "closing"
        position.close_reason = position.close_reason or reason
        fills: list[Fill] = []
        for leg in position.legs:
            side = Side.SHORT if leg.side == LONG else Side.LONG
            fills.append(
                await self.exchanges[leg.venue].market_order(
                    position.symbol,
                    side,
                    position.qty,
                    leg_order_id(position.id, leg.name, "close"),
                )
            )
        long_fill, short_fill = fills
        closed_reason = position.close_reason
        self.positions.mark_closed(
            position,
            closed_at=now,
            reason=closed_reason,
            long_exit_price=long_fill.price,
            short_exit_price=short_fill.price,
            exit_fees=long_fill.fee + short_fill.fee,
        )
        realized = position.realized_pnl or _ZERO
        self.store.close_position(
            position.id,
            now,
            closed_reason,
            long_fill.price,
            short_fill.price,
            position.exit_fees,
            realized,
        )
        self._close_reasons[closed_reason] += 1
        self._last_close[position.symbol] = now
        pending.removed.append(position.id)
        pending.cleared += self.risk.forget_position(position.id)
        pending.significant.append("position_closed")
        self._notice(
            "position_closed",
            {
                "position": position.id,
                "symbol": position.symbol,
                "reason": closed_reason,
                "realized_pnl": money(realized),
                "funding_collected": money(position.funding_collected),
                "fees": money(position.fees),
            },
        )
        log.info(
            "closed %s %s (%s) realized %s",
            position.id,
            position.symbol,
            closed_reason,
            money(realized),
        )

    # ------------------------------------------------------------------ state and notices

    def _set_risk_levels(self) -> None:
        for position in self.positions:
            position.risk_level, position.risk_reasons = self.risk.position_risk(position.id)

    async def _commit(self, reason: str, pending: _Pending) -> None:
        """Write alerts to the store and notices, then everything to the state at once."""
        for alert in pending.raised:
            self.store.record_alert(alert.to_record(self.config.id))
            self._notice("alert", alert.notice_data())
            if alert.level == "critical":
                pending.significant.append("critical_alert")
        if self.state is None:
            return
        realized = self.positions.realized_pnl() + self._realized_before
        builder = self._documents
        # Built before waiting for the state's lock; rebuilt in the rare case another
        # writer committed meanwhile (the builder writes relative to a given version).
        docs = builder.build(self.state.snapshot().doc, self.positions, self._markets, realized)
        async with self.state.transaction(reason) as tx:
            if tx.doc is not docs.base:
                docs = builder.build(tx.doc, self.positions, self._markets, realized)
            tx.set_status(self._status)
            tx.set_clock(self.clock.now())
            docs.write(tx)  # positions whole or their moved members, markets, totals
            for pid in pending.removed:
                tx.remove_position(pid)
            for alert in pending.raised:
                tx.put_alert(alert.id, alert.to_doc())
            for alert in pending.cleared:
                tx.remove_alert(alert.id)
            for flag in dict.fromkeys(pending.significant):
                tx.significant(flag)
        builder.committed(docs, self.state.snapshot().doc)

    def _notice(self, kind: str, data: dict[str, Any]) -> None:
        if self.bus is not None:
            self.bus.publish(Notice(self.config.id, kind, data, ts=self.clock.now()))

    def _feed_state(self, key: tuple[str, str], *, lost: bool) -> None:
        venue, symbol = key
        if lost and key not in self._lost:
            self._lost.add(key)
            self._notice("feed_lost", {"venue": venue, "symbol": symbol})
        elif not lost and key in self._lost:
            self._lost.discard(key)
            self._notice("feed_restored", {"venue": venue, "symbol": symbol})

    def _engine_alert(self, kind: str, level: AlertLevel, code: str, message: str) -> Alert:
        """An alert about the engine itself (no position), stamped now; the message is
        cut at 300 characters because an exception's text can be any length."""
        now = self.clock.now()
        return Alert(
            id=f"a-{kind}-{int(now.timestamp())}",
            level=level,
            code=code,
            message=message[:300],
            position=None,
            ts=now,
            subject="engine",
        )

    async def _cycle_error(self, exc: Exception, previous: Alert | None) -> Alert:
        alert = self._engine_alert(
            "cycle", "warn", "cycle_error", f"cycle failed: {type(exc).__name__}: {exc}"
        )
        pending = _Pending()
        pending.raised.append(alert)
        if previous is not None:
            pending.cleared.append(previous)
        with contextlib.suppress(Exception):
            await self._commit("cycle_error", pending)
        return alert

    async def _cycle_error_cleared(self, alert: Alert) -> None:
        pending = _Pending()
        pending.cleared.append(alert)
        await self._commit("cycle_error_cleared", pending)

    # ------------------------------------------------------------------ helpers

    async def _sleep(self, stop_event: asyncio.Event) -> None:
        if self.clock.speed is None:
            await self.clock.sleep(self.config.cycle_s)
            return
        sleeper = asyncio.ensure_future(self.clock.sleep(self.config.cycle_s))
        waiter = asyncio.ensure_future(stop_event.wait())
        try:
            await asyncio.wait({sleeper, waiter}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sleeper, waiter):
                task.cancel()

    def _start(self, now: datetime) -> datetime:
        return self.started_at or now

    def _result(
        self,
        position: Position,
        status: Literal["closed", "already_closed"],
        requested_by: str | None,
    ) -> CloseResult:
        assert position.closed_at is not None
        return CloseResult(
            position_id=position.id,
            status=status,
            reason=position.close_reason or "",
            realized_pnl=position.realized_pnl or _ZERO,
            funding_collected=position.funding_collected,
            fees=position.fees,
            closed_at=position.closed_at,
            requested_by=requested_by,
        )
