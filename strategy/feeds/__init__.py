"""Market data for the paper exchange: recorded real data or a seeded synthetic market."""

from strategy.feeds.base import FundingEvent, MarketFeed, annualise
from strategy.feeds.lively import LIVELY_MIN_SPREAD, find_lively_start, widest_pair
from strategy.feeds.recorded import DEFAULT_DATA_FILE, RecordedFeed
from strategy.feeds.synthetic import DEFAULT_INTERVALS, OPEN_ENDED_SPAN, SyntheticFeed

__all__ = [
    "DEFAULT_DATA_FILE",
    "DEFAULT_INTERVALS",
    "LIVELY_MIN_SPREAD",
    "OPEN_ENDED_SPAN",
    "FundingEvent",
    "MarketFeed",
    "RecordedFeed",
    "SyntheticFeed",
    "annualise",
    "find_lively_start",
    "widest_pair",
]
