"""Each public package lists exactly what it exports, sorted (as httpx checks its own)."""

from __future__ import annotations

import importlib
import types

import pytest


@pytest.mark.parametrize("name", ["tui.view", "tui.renderables", "tui.widgets"])
def test_all_is_sorted_and_complete(name: str):
    module = importlib.import_module(name)
    public = {
        key
        for key, value in vars(module).items()
        if not key.startswith("_")
        and not isinstance(value, types.ModuleType)
        and key != "annotations"
    }
    assert module.__all__ == sorted(module.__all__, key=lambda k: (not k.isupper(), k))
    assert set(module.__all__) == public


def test_tui_package_is_lazy():
    import tui

    assert tui.__all__ == ["DashApp"]
    assert tui.DashApp.__name__ == "DashApp"
    with pytest.raises(AttributeError):
        _ = tui.Nope
