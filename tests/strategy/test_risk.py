"""RiskManager rules and alert lifecycle, on positions built by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal as D

from strategy.config import StrategyConfig
from strategy.funding import LONG, SHORT
from strategy.models import Leg, Position
from strategy.risk import RiskManager, liquidation_price, margin_distance

T0 = datetime(2023, 6, 1, tzinfo=UTC)
CFG = StrategyConfig(
    divergence_warn_bps=D(50),
    divergence_limit_bps=D(100),
    erosion_warn=D("0.4"),
    exit_erosion=D("0.6"),
    min_hold_hours=24,
    leverage=D(4),
    maintenance_margin=D("0.01"),
    margin_warn=D("0.15"),
    margin_critical=D("0.05"),
    stale_after_s=3600,
    max_drawdown=D(100),
    drawdown_warn=D("0.5"),
    exposure_warn=D("0.9"),
    notional_per_position=D(10000),
    max_total_notional=D(20000),
    max_open_positions=2,
)


def pair(pid="p-1", symbol="BTC/USDT", price=D(100), qty=D(100), spread=D("0.2")):
    return Position(
        id=pid,
        strategy="s",
        symbol=symbol,
        qty=qty,
        opened_at=T0,
        entry_spread_apr=spread,
        long=Leg("binance", LONG, price, price),
        short=Leg("bybit", SHORT, price, price),
        entry_fees=D(0),
    )


def evaluate(rm, positions, now=T0, equity=D(0), ages=None):
    total = sum((p.notional for p in positions), D(0))
    return rm.evaluate(now, positions, equity=equity, total_notional=total, data_age_s=ages or {})


def test_divergence_warns_then_goes_critical_and_closes_then_clears():
    rm, p = RiskManager(CFG), pair()
    p.short.mark = D("100.3")  # 30 bps: fine
    assert not evaluate(rm, [p]).raised
    p.short.mark = D("100.6")  # 60 bps: warn
    report = evaluate(rm, [p])
    [warn] = report.raised
    assert (warn.code, warn.level, warn.position) == ("divergence", "warn", "p-1")
    assert not warn.closes
    assert rm.position_risk("p-1") == ("warn", ("divergence",))
    # same level again: nothing new, same alert kept
    assert not evaluate(rm, [p]).changed
    p.short.mark = D("101.2")  # 120 bps: critical, closes
    report = evaluate(rm, [p])
    [crit] = report.raised
    assert report.cleared == [warn] and crit.id != warn.id
    assert crit.level == "critical" and report.closes == {"p-1": crit}
    p.short.mark = D(100)
    report = evaluate(rm, [p])
    assert report.cleared == [crit] and rm.position_risk("p-1") == ("ok", ())


def test_erosion_closes_only_after_the_minimum_hold():
    rm, p = RiskManager(CFG), pair()
    p.spread_apr = D("0.1")  # 50 % lost: warn
    [warn] = evaluate(rm, [p]).raised
    assert (warn.code, warn.level) == ("erosion", "warn")
    p.spread_apr = D("-0.01")  # flipped: critical, but held < 24 h
    report = evaluate(rm, [p], now=T0 + timedelta(hours=1))
    [crit] = report.raised
    assert crit.level == "critical" and "flipped" in crit.message and not report.closes
    report = evaluate(rm, [p], now=T0 + timedelta(hours=25))
    assert not report.raised and report.closes["p-1"].code == "erosion"


def test_margin_distance_uses_isolated_liquidation_estimate():
    rm, p = RiskManager(CFG), pair()
    # 4x, mm 1 %: short liquidates near 100 * (1 + 0.25 - 0.01) = 124
    assert liquidation_price(CFG, p.short) == D("124.00")
    assert margin_distance(CFG, p.short) == D("0.24")
    p.long.mark = p.short.mark = D(110)  # short 12.7 % away: warn
    [warn] = evaluate(rm, [p]).raised
    assert (warn.code, warn.level) == ("margin", "warn") and "short leg on bybit" in warn.message
    p.long.mark = p.short.mark = D(120)  # 3.3 % away: critical, closes
    report = evaluate(rm, [p])
    assert report.closes["p-1"].code == "margin"


def test_stale_data_warns_then_critical_never_closes():
    rm, p = RiskManager(CFG), pair()
    [warn] = evaluate(rm, [p], ages={("bybit", "BTC/USDT"): 4000.0}).raised
    assert (warn.code, warn.level, warn.position) == ("stale_data", "warn", "p-1")
    report = evaluate(rm, [p], ages={("bybit", "BTC/USDT"): 20000.0})
    assert report.raised[0].level == "critical" and not report.closes
    report = evaluate(rm, [], ages={("okx", "ETH/USDT"): 5000.0})
    assert report.raised[0].position is None


def test_exposure_levels():
    rm = RiskManager(CFG)
    assert not evaluate(rm, [pair()]).raised  # 10 000 of 20 000
    two = [pair(), pair("p-2", "ETH/USDT")]
    [warn] = evaluate(rm, two).raised  # 100 %: warn
    assert (warn.code, warn.level, warn.position) == ("exposure", "warn", None)
    three = [*two, pair("p-3", "SOL/USDT")]
    report = evaluate(rm, three)
    assert report.raised[0].level == "critical" and not report.closes


def test_drawdown_from_peak_warns_then_halts():
    rm = RiskManager(CFG)
    assert not evaluate(rm, [], equity=D(80)).raised
    [warn] = evaluate(rm, [], equity=D(25)).raised  # 55 below peak 80
    assert (warn.code, warn.level) == ("drawdown", "warn")
    report = evaluate(rm, [], equity=D(-30), now=T0)  # 110 below the peak
    assert report.halt is not None and report.halt.level == "critical"
    assert rm.halted(T0 + timedelta(hours=71)) and not rm.halted(T0 + timedelta(hours=72))
    assert rm.max_drawdown_seen == D(110)
    # drawdown is measured from the equity at the halt from now on: the alert clears
    report = evaluate(rm, [], equity=D(-30), now=T0 + timedelta(hours=1))
    assert [a.code for a in report.cleared] == ["drawdown"] and report.halt is None


def test_forget_position_drops_its_alerts_only():
    rm, p = RiskManager(CFG), pair()
    p.short.mark = D("100.6")
    evaluate(rm, [p], ages={("okx", "ETH/USDT"): 5000.0})
    gone = rm.forget_position("p-1")
    assert [a.code for a in gone] == ["divergence"]
    assert [a.code for a in rm.active] == ["stale_data"]


def test_alert_documents_have_no_nulls():
    rm = RiskManager(CFG)
    [alert] = evaluate(rm, [], ages={("okx", "ETH/USDT"): 5000.0}).raised
    doc = alert.to_doc()
    assert "position" not in doc and None not in doc.values()
    assert alert.notice_data()["position"] is None
    assert alert.to_record("s").position_id is None
