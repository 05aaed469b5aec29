"""Updates waiting for the next frame, merged into one change.

The app draws at most one frame per interval; the patches that arrive in between must
not be lost, only combined: the newest document, and the union of what changed (the
positions touched and the top-level members), or "everything" once a whole new document
(a snapshot, a resync) is among them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Frame", "PendingFrame"]


@dataclass(frozen=True, slots=True)
class Frame:
    """What the next frame shows: ``doc``, with ``touched`` positions and ``keys``
    (top-level members) changed since the last frame; None means anything may have."""

    doc: Mapping[str, Any]
    touched: frozenset[str] | None
    keys: frozenset[str] | None


class PendingFrame:
    """Accumulates updates until :meth:`take`."""

    def __init__(self) -> None:
        self._doc: Mapping[str, Any] | None = None
        self._touched: set[str] | None = None
        self._keys: set[str] | None = None

    def __bool__(self) -> bool:
        return self._doc is not None

    def add(
        self,
        doc: Mapping[str, Any],
        touched: Iterable[str] | None,
        keys: Iterable[str] | None,
    ) -> None:
        """One more update: ``doc`` is the document after it."""
        if self._doc is None:
            self._touched = None if touched is None else set(touched)
            self._keys = None if keys is None else set(keys)
        else:
            self._touched = _union(self._touched, touched)
            self._keys = _union(self._keys, keys)
        self._doc = doc

    def take(self) -> Frame | None:
        """The merged change (None when nothing is pending), and start over."""
        doc = self._doc
        if doc is None:
            return None
        frame = Frame(
            doc,
            None if self._touched is None else frozenset(self._touched),
            None if self._keys is None else frozenset(self._keys),
        )
        self.clear()
        return frame

    def clear(self) -> None:
        self._doc = self._touched = self._keys = None


def _union(have: set[str] | None, more: Iterable[str] | None) -> set[str] | None:
    if have is None or more is None:
        return None
    have.update(more)
    return have
