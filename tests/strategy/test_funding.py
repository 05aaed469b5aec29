"""Funding maths: normalisation, payments and the entry test, checked by hand."""

from __future__ import annotations

from decimal import Decimal as D

from strategy.funding import (
    LONG,
    SHORT,
    annualise,
    best_pair,
    break_even_apr,
    days_to_break_even,
    divergence_bps,
    entry_edge,
    funding_payment,
    round_trip_cost,
)


def test_hourly_and_eight_hourly_rates_normalise_to_the_same_apr():
    assert annualise(D("0.0001"), 8) == D("0.1095")
    assert annualise(D("0.0000125"), 1) == D("0.1095")


def test_payment_sign_convention():
    # positive rate: longs pay shorts
    assert funding_payment(LONG, D("2"), D("30000"), D("0.0001")) == D("-6")
    assert funding_payment(SHORT, D("2"), D("30000"), D("0.0001")) == D("6")
    # negative rate: shorts pay longs
    assert funding_payment(LONG, D("2"), D("30000"), D("-0.0002")) == D("12")


def test_entry_edge_is_spread_minus_break_even_minus_margin():
    cost = round_trip_cost(D("0.0005"), D("0.0004"))
    assert cost == D("0.0018")
    # 0.0018 of notional over 14 days = 0.0018 * 8760 / 336 APR
    assert break_even_apr(cost, 336) == D("0.0018") * 8760 / 336
    assert entry_edge(D("0.10"), cost, 336, D("0.03")) == D("0.07") - D("0.0018") * 8760 / 336
    assert entry_edge(D("0.05"), cost, 336, D("0.03")) < 0


def test_days_to_break_even():
    assert days_to_break_even(D("0.002"), D("0.073")) == D("10")
    assert days_to_break_even(D("0.002"), D("0")) is None


def test_best_pair_longs_the_cheapest_and_shorts_the_richest():
    pair = best_pair({"binance": D("0.10"), "bybit": D("0.30"), "okx": D("-0.05")})
    assert pair is not None
    assert (pair.long_venue, pair.short_venue, pair.spread_apr) == ("okx", "bybit", D("0.35"))
    assert best_pair({"binance": D("0.1")}) is None
    tie = best_pair({"a": D(0), "b": D(0)}, order=("b", "a"))
    assert tie is not None and tie.long_venue != tie.short_venue


def test_divergence_measures_the_drift_of_the_gap():
    # entry gap 0 (both at 100); now short at 101, long at 100: gap 1 % = 100 bps
    assert divergence_bps(D(100), D(100), D(100), D(101)) == D(100)
    # a gap that was there at entry is not divergence
    assert divergence_bps(D(100), D(101), D(200), D(202)) == D(0)
