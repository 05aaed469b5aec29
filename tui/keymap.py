"""The key map, in one place: the help screen shows it and docs/operator.md copies it."""

from __future__ import annotations

from typing import Final

__all__ = ["CONTROL_KEYS", "KEYMAP", "REPLAY_KEYMAP"]

# (key, what it does). Keys in CONTROL_KEYS are hidden and refused with --read-only.
KEYMAP: Final[tuple[tuple[str, str], ...]] = (
    ("↑ ↓ PgUp PgDn", "Move the selection in the positions table"),
    ("c", "Close the selected position (asks first, names it and its net PnL)"),
    ("p", "Ping the strategy; shows the round trip"),
    ("s", "Switch strategy (when several run)"),
    ("a", "All strategies and their total (when several)"),
    ("/", "Filter positions by symbol, venue, id or risk; Esc clears"),
    ("o", "Sort by the next column (click a header to sort by it)"),
    ("r", "Reverse the sort order"),
    ("space", "Pause or resume live updates (the stream keeps being read)"),
    ("?", "This help"),
    ("ctrl+p", "Command palette: the same actions by name"),
    ("q", "Quit"),
)

CONTROL_KEYS: Final = frozenset({"c"})

# On a replay (`dash replay`), these take the place of KEYMAP's "space" row.
REPLAY_KEYMAP: Final[tuple[tuple[str, str], ...]] = (
    ("space", "Pause or resume the replay itself (its clock, for every client)"),
    ("[ ]", "Seek the replay back / forward 1 hour of market time"),
    ("{ }", "Seek the replay back / forward 1 day of market time"),
)
