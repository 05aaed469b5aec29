"""StateRegistry: the DashboardStates one process hosts, by strategy id."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from state._state import DashboardState

__all__ = ["StateRegistry"]


class StateRegistry(Mapping[str, DashboardState]):
    """A read-mostly mapping ``strategy id -> DashboardState``; iterates over ids in the
    order they were added, like a dict."""

    def __init__(self, states: list[DashboardState] | tuple[DashboardState, ...] = ()) -> None:
        self._states: dict[str, DashboardState] = {}
        for state in states:
            self.add(state)

    def add(self, state: DashboardState) -> DashboardState:
        """Register ``state``; a second state with the same id is a ``ValueError``."""
        if state.strategy_id in self._states:
            raise ValueError(f"strategy {state.strategy_id!r} is already registered")
        self._states[state.strategy_id] = state
        return state

    def remove(self, strategy_id: str) -> DashboardState:
        return self._states.pop(strategy_id)

    def ids(self) -> tuple[str, ...]:
        return tuple(self._states)

    def states(self) -> tuple[DashboardState, ...]:
        return tuple(self._states.values())

    def __getitem__(self, strategy_id: str) -> DashboardState:
        return self._states[strategy_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._states)

    def __len__(self) -> int:
        return len(self._states)

    def __repr__(self) -> str:
        return f"<StateRegistry {list(self._states)}>"
