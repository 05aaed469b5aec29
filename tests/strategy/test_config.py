"""StrategyConfig: defaults, TOML loading, refusal of unknown keys and bad values."""

from __future__ import annotations

from decimal import Decimal

import pytest

from strategy.config import StrategyConfig, config_from_mapping, load_config
from strategy.errors import ConfigError


def test_defaults_are_valid_and_trade_the_recorded_venues():
    cfg = StrategyConfig()
    assert cfg.venues == ("binance", "bybit", "okx")
    assert cfg.symbols == ("BTC/USDT", "ETH/USDT")
    assert cfg.cycle_s == 300
    assert isinstance(cfg.notional_per_position, Decimal)


def test_interval_resolution_order():
    cfg = StrategyConfig(
        venues=("binance", "okx", "hyperliquid"),
        venue_intervals={"okx": 4},
        interval_overrides={("binance", "ETH/USDT"): 2},
    )
    assert cfg.interval_h("binance", "BTC/USDT") == 8  # nothing known: 8 h
    assert cfg.interval_h("binance", "BTC/USDT", reported=1) == 1  # exchange says
    assert cfg.interval_h("hyperliquid", "BTC/USDT") == 1  # built-in hourly venue
    assert cfg.interval_h("okx", "BTC/USDT", reported=8) == 4  # operator beats exchange
    assert cfg.interval_h("binance", "ETH/USDT", reported=8) == 2  # per-symbol wins


def test_load_toml(tmp_path):
    path = tmp_path / "strategy.toml"
    path.write_text(
        """
id = "arb-2"
venues = ["binance", "hyperliquid"]
symbols = ["BTC/USDT"]
notional_per_position = "2500.50"
max_total_notional = 10000
entry_margin = 0.05
cycle_s = 60

[venue_intervals]
hyperliquid = 1

[interval_overrides.binance]
"BTC/USDT" = 4
"""
    )
    cfg = load_config(path)
    assert cfg.id == "arb-2"
    assert cfg.venues == ("binance", "hyperliquid")
    assert cfg.notional_per_position == Decimal("2500.50")
    assert cfg.max_total_notional == Decimal(10000)
    assert cfg.entry_margin == Decimal("0.05")  # float read via str: no binary noise
    assert cfg.interval_h("binance", "BTC/USDT") == 4
    assert cfg.cycle_s == 60


def test_load_from_a_section(tmp_path):
    path = tmp_path / "dash.toml"
    path.write_text('[strategy]\nmax_open_positions = 2\n[alerts]\nslack = "x"\n')
    assert load_config(path, section="strategy").max_open_positions == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("notional_per_positon = 5\n", "unknown key 'notional_per_positon'"),
        ("cycle_s = 1.5\n", "cycle_s: expected a whole number"),
        ('entry_margin = "lots"\n', "entry_margin: 'lots' is not a number"),
        ('venues = ["binance"]\n', "at least two different exchanges"),
        ("divergence_warn_bps = 5000\n", "divergence_warn_bps must not exceed"),
        ("exit_erosion = 1.5\n", "exit_erosion must be a fraction"),
        ("[interval_overrides.okx]\n'BTC/USDT' = 0\n", "positive whole hours"),
        ("this is not toml", "not valid TOML"),
    ],
)
def test_bad_files_name_the_problem(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError, match=r"bad\.toml") as info:
        load_config(path)
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        load_config(tmp_path / "nope.toml")


def test_replace_revalidates():
    with pytest.raises(ConfigError, match="max_total_notional"):
        StrategyConfig().replace(notional_per_position=Decimal("1e9"))
    assert config_from_mapping({}) == StrategyConfig()
