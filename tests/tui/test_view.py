"""The view model: formatting, cells, and the table diff, with plain documents."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from tests.tui._docs import NOW, position
from tui.view import (
    COLUMNS,
    MISSING,
    RISK_STYLES,
    TOTAL,
    Cell,
    OverviewModel,
    TableModel,
    age,
    bps,
    countdown,
    fit_columns,
    market_time,
    money,
    percent,
    position_cells,
    price,
    quantity,
)


@pytest.mark.parametrize(
    ("value", "signed", "text"),
    [
        ("1234.567", False, "1,234.57"),
        ("1234.5", True, "+1,234.50"),
        ("-0.004", True, "0.00"),
        ("-12.2", True, "-12.20"),
        (None, False, MISSING),
        ("NaN", False, MISSING),
        ("abc", True, MISSING),
    ],
)
def test_money(value, signed, text):
    assert money(value, signed=signed) == text


def test_percent_bps_quantity_price():
    assert percent("0.2190") == "21.90%"
    assert percent("-0.3277", 0) == "-33%"
    assert bps("15.1") == "+15.1"
    assert bps("-3") == "-3.0"
    assert quantity("0.5321") == "0.5321"
    assert quantity("7.0") == "7"
    assert price("18808.68068") == "18,808.68"
    assert price("1.234567") == "1.2346"
    assert price("0.00012345") == "0.000123"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, MISSING),
        (-1, "due"),
        (0, "due"),
        (45, "45s"),
        (125, "2m"),
        (7 * 3600 + 5 * 60, "7h05m"),
        (2 * 86400 + 3 * 3600, "2d3h"),
    ],
)
def test_countdown(seconds, text):
    assert countdown(seconds) == text


def test_age():
    assert age(0.25) == "0.2s"
    assert age(12.9) == "12s"
    assert age(600) == "10m00s"
    assert age(9000) == "2h30m"


def test_market_time_prefers_the_strategy_clock():
    assert market_time({"clock": "2024-03-01T09:00:00.000Z", "ts": "2030-01-01T00:00:00Z"}) == NOW
    assert market_time({"ts": "2024-03-01T09:00:00.000Z"}) == NOW
    assert market_time({}) is None


def test_position_cells_follow_the_document():
    cells = position_cells("p-0004", position(4, tick=2), NOW)
    assert [c.key for c in COLUMNS] == list(cells)
    assert cells["symbol"].text == "XRP/USDT"
    assert cells["venues"].text == "okx/binance"
    assert cells["apr"].text == "18.20%"
    assert cells["net"].text == "-0.50" and cells["net"].style == "red"
    assert cells["next"].text == "7h00m"
    assert cells["risk"].text == "critical" and "red" in cells["risk"].style
    assert cells["erosion"].text == "14%"


def test_position_cells_survive_missing_fields():
    cells = position_cells("p-x", {"symbol": "BTC/USDT"}, None)
    assert cells["net"].text == MISSING
    assert cells["venues"].text == f"{MISSING}/{MISSING}"
    assert cells["next"].text == MISSING
    assert cells["risk"].text == MISSING


def test_fit_columns_drops_by_priority_and_keeps_the_essentials():
    everything = tuple(c.key for c in COLUMNS)
    assert fit_columns(COLUMNS, 500) == everything
    narrow = fit_columns(COLUMNS, 76)
    assert {"id", "symbol", "net", "risk"} <= set(narrow)
    assert "qty" not in narrow and "fees" not in narrow
    assert list(narrow) == [k for k in everything if k in narrow]  # order kept
    assert set(fit_columns(COLUMNS, 10)) == {c.key for c in COLUMNS if c.priority == 1}


def _positions(n: int, tick: int = 0) -> dict[str, dict]:
    return {f"p-{i:04d}": position(i, tick) for i in range(n)}


def test_first_sync_adds_every_row_in_document_order():
    model = TableModel()
    diff = model.sync(_positions(3), NOW)
    assert [pid for pid, _ in diff.added] == ["p-0000", "p-0001", "p-0002"]
    assert not diff.changed and not diff.removed
    assert model.shown == ["p-0000", "p-0001", "p-0002"]


def test_a_patch_changes_only_the_cells_whose_text_changed():
    model = TableModel()
    before = _positions(3)
    model.sync(before, NOW)
    after = dict(before)
    after["p-0001"] = position(1, tick=1)  # marks, PnL and spread move
    diff = model.sync(after, NOW, touched=["p-0001"])
    changed = {(pid, col) for pid, col, _ in diff.changed}
    assert changed == {("p-0001", "apr"), ("p-0001", "net")}
    assert dict(((p, c), cell.text) for p, c, cell in diff.changed)[("p-0001", "net")] == "-1.50"
    assert not diff.added and not diff.removed


def test_an_untouched_patch_of_the_clock_moves_only_countdowns():
    model = TableModel()
    positions = _positions(2)
    model.sync(positions, NOW)
    diff = model.sync(positions, NOW + timedelta(hours=1), touched=[])
    assert {(p, c) for p, c, _ in diff.changed} == {("p-0000", "next"), ("p-0001", "next")}
    assert all(cell.text == "6h00m" for _, _, cell in diff.changed)


def test_removed_and_new_positions():
    model = TableModel()
    model.sync(_positions(3), NOW)
    positions = _positions(3)
    del positions["p-0000"]
    positions["p-0009"] = position(9)
    diff = model.sync(positions, NOW, touched=["p-0000", "p-0009"])
    assert diff.removed == ["p-0000"]
    assert [pid for pid, _ in diff.added] == ["p-0009"]
    assert model.shown == ["p-0001", "p-0002", "p-0009"]


def test_a_fresh_snapshot_is_a_diff_not_a_rebuild():
    model = TableModel()
    model.sync(_positions(3), NOW)
    fresh = {pid: doc for pid, doc in _positions(4).items() if pid != "p-0001"}
    diff = model.sync(fresh, NOW)
    assert diff.removed == ["p-0001"]
    assert [pid for pid, _ in diff.added] == ["p-0003"]
    assert not diff.changed  # the rows it kept are untouched


def test_filter_hides_and_shows_rows_and_applies_to_later_patches():
    model = TableModel()
    model.sync(_positions(6), NOW)
    diff = model.set_filter("ETH")
    assert sorted(diff.removed) == ["p-0000", "p-0002", "p-0003", "p-0004", "p-0005"]
    assert model.shown == ["p-0001"]
    diff = model.sync({**_positions(6), "p-0007": position(7)}, NOW, touched=["p-0007"])
    assert [pid for pid, _ in diff.added] == ["p-0007"]  # ETH again (7 % 6 == 1)
    diff = model.set_filter("critical")
    assert model.shown == ["p-0004"]
    diff = model.set_filter("")
    assert len(model.shown) == 7 and model.total == 7


def test_sort_orders_numbers_as_numbers_and_missing_last():
    model = TableModel()
    positions = _positions(4)
    positions["p-0001"] = {**positions["p-0001"], "divergence_bps": "-20"}
    positions["p-0002"] = {k: v for k, v in positions["p-0002"].items() if k != "divergence_bps"}
    model.sync(positions, NOW)
    assert model.set_sort("divergence").reorder
    assert model.order() == ["p-0001", "p-0000", "p-0003", "p-0002"]
    model.set_sort("divergence", reverse=True)
    assert model.order()[0] == "p-0002"
    with pytest.raises(ValueError, match="no column"):
        model.set_sort("nope")


def test_a_change_in_the_sorted_column_asks_for_a_reorder():
    model = TableModel()
    model.sync(_positions(3), NOW)
    model.set_sort("net")
    diff = model.sync({**_positions(3), "p-0002": position(2, tick=5)}, NOW, touched=["p-0002"])
    assert diff.reorder
    diff = model.sync(_positions(3), NOW, touched=[])
    assert not diff.reorder


def test_decimal_inputs_are_accepted():
    assert money(Decimal("2.5"), signed=True) == "+2.50"


def _overview_doc(strategy: str, net: str, seq: int = 1) -> dict:
    return {
        "strategy": strategy,
        "seq": seq,
        "status": "running",
        "totals": {"open_positions": 1, "notional": "100.00", "net_pnl": net},
        "positions": {"p-1": {"risk": {"level": "warn"}}},
    }


def test_overview_rows_end_with_the_total_and_patches_change_cells_only():
    model = OverviewModel()
    docs = {"a": _overview_doc("a", "-1.25"), "b": _overview_doc("b", "0.10")}
    first = model.sync(["a", "b"], docs)
    assert [key for key, _ in first.added] == ["a", "b", TOTAL]
    assert model.row(TOTAL)["net"].text == "-1.15" and model.total.net == Decimal("-1.15")
    assert model.row(TOTAL)["risk"] == Cell("warn", RISK_STYLES["warn"])
    assert model.row("b")["net"] == Cell("+0.10", "green")
    summary_a = model.summaries["a"]
    docs = {**docs, "b": _overview_doc("b", "2.00", seq=2)}
    diff = model.sync(["a", "b"], docs)
    assert not diff.added and not diff.removed
    assert {(key, col) for key, col, _ in diff.changed} == {("b", "net"), (TOTAL, "net")}
    assert model.summaries["a"] is summary_a  # an unchanged document is not summed again
    # A strategy arriving later comes before the total; one leaving goes.
    diff = model.sync(["a", "b", "c"], {**docs, "c": _overview_doc("c", "1")})
    assert diff.removed == [TOTAL] and [k for k, _ in diff.added] == ["c", TOTAL]
    assert model.order() == ["a", "b", "c", TOTAL]
    diff = model.sync(["b", "c", "d"], {"b": docs["b"]})
    assert diff.removed == ["a", TOTAL] and [k for k, _ in diff.added] == ["d", TOTAL]
    assert model.order() == ["b", "c", "d", TOTAL]
    assert model.row("c")["net"].text == "+1.00"  # its document is gone: the last figures
    assert model.row("d")["status"].text == MISSING  # never had one: dashes, named
    assert model.row("d")["strategy"].text == "d"
    assert model.total.net == Decimal("3.00")
