"""Venues as the strategy sees them: the :class:`Exchange` contract and a paper venue."""

from strategy.exchanges.base import (
    DEFAULT_TAKER_FEES,
    Exchange,
    ExchangeError,
    Fill,
    FundingInfo,
    Side,
)
from strategy.exchanges.paper import PaperExchange

__all__ = [
    "DEFAULT_TAKER_FEES",
    "Exchange",
    "ExchangeError",
    "Fill",
    "FundingInfo",
    "PaperExchange",
    "Side",
]
