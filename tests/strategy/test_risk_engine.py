"""Risk rules inside the running strategy: alerts reach the document, the store and the
bus, and critical rules close positions."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal as D

from state import Notice
from tests.strategy.conftest import T0, TEST_CONFIG
from tests.strategy.handfeed import HandFeed

H = timedelta(hours=1)
BTC, ETH = "BTC/USDT", "ETH/USDT"


def market(symbols=(BTC,)) -> HandFeed:
    feed = HandFeed(T0, venues=("binance", "bybit"), symbols=symbols)
    for symbol in symbols:
        feed.set_marks(symbol, T0, "30000")
        feed.settle_every("binance", symbol, "0.0001", T0, T0 + 240 * H)
        feed.settle_every("bybit", symbol, "0.0005", T0, T0 + 240 * H)
    return feed


def notices(sub, kind):
    out = []
    while sub.qsize():
        item = sub.get_nowait()
        if isinstance(item, Notice) and item.kind == kind:
            out.append(item)
    return out


async def test_margin_critical_closes_the_pair(make_rig):
    feed = market()
    rig = await make_rig(feed, TEST_CONFIG.replace(reentry_hours=100))
    await rig.cycle()
    [position] = list(rig.strategy.positions)
    # 2x leverage, 0.5 % maintenance: the short liquidates near entry * 1.495
    feed.set_marks(BTC, T0 + H, "40000")  # 11 % away: warn
    await rig.cycle(1)
    assert position.status == "open" and position.risk_level == "warn"
    assert position.risk_reasons == ("margin",)
    doc = rig.state.snapshot().doc
    [alert] = doc["alerts"].values()
    assert alert["code"] == "margin" and alert["level"] == "warn"
    assert doc["positions"][position.id]["risk"] == {"level": "warn", "reasons": ["margin"]}
    feed.set_marks(BTC, T0 + 2 * H, "43500")  # 3 % away: critical, closes
    await rig.cycle(1)
    assert position.status == "closed" and position.close_reason == "risk:margin"
    assert rig.state.snapshot().doc["alerts"] == {}  # the closed pair's alerts are cleared
    await rig.store.flush()
    stored = await rig.store.alerts("test-arb", position_id=position.id)
    assert [(a.code, a.level) for a in stored] == [("margin", "warn"), ("margin", "critical")]


async def test_drawdown_closes_everything_and_pauses_entries(make_rig):
    feed = market(symbols=(BTC, ETH))
    config = TEST_CONFIG.replace(
        symbols=(BTC, ETH),
        max_drawdown=D("300"),
        divergence_limit_bps=D("5000"),
        divergence_warn_bps=D("5000"),
    )
    rig = await make_rig(feed, config)
    await rig.cycle()
    assert len(rig.strategy.positions) == 2
    # bybit's ETH mark rises 500: the 0.333 ETH short loses 166.5 while the long stays
    # put; with ~23 of fees and slippage equity is ~190 below its peak of 0: warn only
    feed.set_mark("bybit", ETH, T0 + H, "30500")
    await rig.cycle(1)
    assert len(rig.strategy.positions) == 2
    assert any(a.code == "drawdown" and a.level == "warn" for a in rig.strategy.risk.active)
    feed.set_mark("bybit", ETH, T0 + 2 * H, "31000")  # ~356 below: critical
    await rig.cycle(1)
    assert len(rig.strategy.positions) == 0
    assert {p.close_reason for p in rig.strategy.positions.closed} == {"risk:drawdown"}
    await rig.cycle(1)
    assert len(rig.strategy.positions) == 0  # paused for halt_hours
    await rig.cycles_until(T0 + (2 + config.halt_hours) * H)
    assert len(rig.strategy.positions) == 2


async def test_stale_data_alerts_and_feed_notices(make_rig):
    rig = await make_rig(market(), TEST_CONFIG.replace(symbols=(BTC,)))
    sub = rig.bus.subscribe("t")
    await rig.cycle()
    [position] = list(rig.strategy.positions)
    rig.exchanges["bybit"].set_stale(BTC)
    await rig.cycle(4)
    assert notices(sub, "feed_lost") == []  # exactly stale_after_s old is still fresh
    await rig.cycle(1)
    [lost] = notices(sub, "feed_lost")
    assert lost.data == {"venue": "bybit", "symbol": BTC}
    [alert] = [a for a in rig.strategy.risk.active if a.code == "stale_data"]
    assert alert.level == "warn" and alert.position == position.id
    await rig.cycle(8)  # 13 h old: beyond 3 x stale_after_s
    [alert] = [a for a in rig.strategy.risk.active if a.code == "stale_data"]
    assert alert.level == "critical" and position.status == "open"  # stale never closes
    rig.exchanges["bybit"].set_stale(BTC, False)
    await rig.cycle(1)
    assert [n.data for n in notices(sub, "feed_restored")] == [{"venue": "bybit", "symbol": BTC}]
    assert not any(a.code == "stale_data" for a in rig.strategy.risk.active)


async def test_stale_venue_is_not_entered(make_rig):
    rig = await make_rig(market())
    rig.clock.advance(0)
    rig.exchanges["bybit"].set_stale(BTC)
    rig.clock.advance(5 * 3600)
    await rig.strategy.run_cycle()
    assert len(rig.strategy.positions) == 0


async def test_exposure_warning_reaches_the_document(make_rig):
    feed = market(symbols=(BTC, ETH))
    rig = await make_rig(
        feed, TEST_CONFIG.replace(symbols=(BTC, ETH), max_total_notional=D("21000"))
    )
    sub = rig.bus.subscribe("t", kinds=("alert",))
    await rig.cycle()
    await rig.cycle(1)  # risk sees the two pairs opened last cycle
    alerts = rig.state.snapshot().doc["alerts"]
    [exposure] = [a for a in alerts.values() if a["code"] == "exposure"]
    assert exposure["level"] == "warn" and "position" not in exposure
    [notice] = [n for n in notices(sub, "alert") if n.data["code"] == "exposure"]
    assert notice.data["level"] == "warn" and notice.data["position"] is None
