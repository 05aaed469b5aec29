"""The text forms: Decimals exact, times sortable, ms twins consistent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from strategy.store._codec import (
    dec_from_text,
    dec_to_text,
    ms_to_time,
    time_from_text,
    time_to_ms,
    time_to_text,
)

ms_times = st.datetimes(
    min_value=datetime(1, 1, 1, 0, 0), max_value=datetime(9999, 12, 31, 23, 59)
).map(lambda d: d.replace(microsecond=d.microsecond // 1000 * 1000, tzinfo=UTC))


@given(st.decimals(allow_nan=False, allow_infinity=False))
def test_decimal_round_trip_keeps_value_and_exponent(value: Decimal) -> None:
    back = dec_from_text(dec_to_text(value))
    assert back == value
    assert back.as_tuple() == value.as_tuple()


@given(ms_times)
def test_time_round_trip(value: datetime) -> None:
    text = time_to_text(value)
    assert len(text) == 24 and text.endswith("Z")
    assert time_from_text(text) == value
    assert ms_to_time(time_to_ms(value)) == value


@given(ms_times, ms_times)
def test_text_order_is_time_order(a: datetime, b: datetime) -> None:
    assert (time_to_text(a) < time_to_text(b)) == (a < b)
    assert (time_to_ms(a) < time_to_ms(b)) == (a < b)


def test_known_form_and_sub_millisecond_floor() -> None:
    t = datetime(2023, 6, 1, 8, 0, 0, 999_999, tzinfo=UTC)
    assert time_to_text(t) == "2023-06-01T08:00:00.999Z"
    assert time_to_ms(t) == 1_685_606_400_999
    before_epoch = datetime(1969, 12, 31, 23, 59, 59, 999_500, tzinfo=UTC)
    assert time_to_ms(before_epoch) == -1
    assert ms_to_time(-1) == before_epoch - timedelta(microseconds=500)
