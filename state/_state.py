"""DashboardState: one strategy's live document, its seq, and the patches between versions.

Writers stage edits on a :class:`Tx` inside ``async with state.transaction(reason)``; on a
clean exit the edits are diffed against the current document, and only if something
really changed a new immutable document is built, ``seq`` goes up by one and a
:class:`Change` (merge patch + new snapshot) is published. The new document and the patch
are built in the same pass over the touched entries only, and untouched entries are shared
with the previous version, so a cycle that refreshes 50 positions costs 50 small diffs,
not a whole-document comparison. Readers swap in a reference (``snapshot()``), so they
never see half an update.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Final

import orjson

from state._bus import EventBus
from state._entry import apply_moved, merge_entry, put_entry
from state._json import EMPTY, FrozenDict, freeze_dict, iso_utc, parse_utc
from state._patch import merge_patch_diff
from state._records import Change, Snapshot

__all__ = ["COLLECTIONS", "SCHEMA_VERSION", "DashboardState", "Tx"]

SCHEMA_VERSION: Final = 1
"""Version of the document layout; bump it when a field changes meaning."""

COLLECTIONS: Final = ("positions", "markets", "alerts")
"""Top-level members that are objects keyed by id."""

_REMOVE: Final[Any] = object()
_FINISHED: Final = "transaction already finished; open a new one"


def _utc_now() -> datetime:
    return datetime.now(UTC)


class Tx:
    """Edits staged inside one transaction; nothing is visible until it commits.

    Values are converted (Decimal -> str, datetime -> ISO ``Z``, ``None`` -> absent) and
    diffed against the committed entry when they are put, so a bad value fails at the
    call that passed it and the commit only assembles. ``put_*`` replaces an entry whole;
    ``update_*`` merges a partial document into it (merge-patch rules: nested objects
    merge, ``None`` deletes), which is cheaper when only a few members change.
    """

    __slots__ = (
        "_base",
        "_closed",
        "_colls",
        "_markets",
        "_positions",
        "_scalars",
        "_significant",
        "_totals",
    )

    def __init__(self, base: FrozenDict) -> None:
        self._base = base
        self._scalars: dict[str, str] = {}
        self._totals: FrozenDict | None = None
        # collection -> key -> (new entry, patch from the committed entry) or _REMOVE;
        # made up front so the per-entry calls (100 a monitoring cycle) only look up.
        self._colls: dict[str, dict[str, Any]] = {coll: {} for coll in COLLECTIONS}
        self._positions = self._colls["positions"]
        self._markets = self._colls["markets"]
        self._significant: dict[str, None] = {}
        self._closed = False

    @property
    def doc(self) -> FrozenDict:
        """The committed document this transaction started from."""
        return self._base

    def _put(self, coll: str, key: str, doc: Mapping[str, Any]) -> None:
        if self._closed:
            raise RuntimeError(_FINISHED)
        if type(key) is not str or not key:
            raise ValueError(f"{coll} id must be a non-empty string, got {key!r}")
        if type(doc) is not dict and not isinstance(doc, Mapping):
            raise TypeError(f"{coll} entry must be a mapping, got {type(doc).__name__}")
        self._colls[coll][key] = put_entry(self._base[coll].get(key), doc)

    def _update(self, coll: str, key: str, changes: Mapping[str, Any]) -> None:
        if self._closed:
            raise RuntimeError(_FINISHED)
        if type(key) is not str or not key:
            raise ValueError(f"{coll} id must be a non-empty string, got {key!r}")
        if type(changes) is not dict and not isinstance(changes, Mapping):
            raise TypeError(f"{coll} changes must be a mapping, got {type(changes).__name__}")
        staged = self._colls[coll]
        pending = staged.get(key)
        if pending is None:
            staged[key] = merge_entry(self._base[coll].get(key), changes)
            return
        current = None if pending is _REMOVE else pending[0]
        new, _ = merge_entry(current, changes)
        staged[key] = put_entry(self._base[coll].get(key), new)

    def _remove(self, coll: str, key: str) -> None:
        if self._closed:
            raise RuntimeError(_FINISHED)
        if type(key) is not str or not key:
            raise ValueError(f"{coll} id must be a non-empty string, got {key!r}")
        self._colls[coll][key] = _REMOVE

    def _scalar(self, key: str, value: str) -> None:
        if self._closed:
            raise RuntimeError(_FINISHED)
        if type(value) is not str or not value:
            raise ValueError(f"{key} must be a non-empty string, got {value!r}")
        self._scalars[key] = value

    def set_status(self, status: str) -> None:
        self._scalar("status", status)

    def set_mode(self, mode: str) -> None:
        self._scalar("mode", mode)

    def set_clock(self, when: datetime | str) -> None:
        """Market time of the strategy (``clock``), not the commit time (``ts``)."""
        self._scalar("clock", iso_utc(when) if isinstance(when, datetime) else when)

    def set_totals(self, doc: Mapping[str, Any]) -> None:
        """Replace ``totals`` whole (members left out are removed)."""
        if self._closed:
            raise RuntimeError(_FINISHED)
        if not isinstance(doc, Mapping):
            raise TypeError(f"totals must be a mapping, got {type(doc).__name__}")
        self._totals = freeze_dict(doc)

    def put_position(self, pid: str, doc: Mapping[str, Any]) -> None:
        self._put("positions", pid, doc)

    def update_position(
        self, pid: str, changes: Mapping[str, Any], *, moved: bool = False
    ) -> None:
        """Merge ``changes`` into position ``pid`` (created if absent).

        ``moved=True`` says every member of ``changes`` moved (the caller compared the
        inputs it renders them from), so they are applied without comparing each with
        the committed value; see :func:`state._entry.apply_moved`.
        """
        # the monitoring cycle's call, once per open position: a first edit of the entry
        # in this transaction goes straight to the merge
        staged = self._positions
        if type(pid) is str and type(changes) is dict and pid not in staged and pid:
            if self._closed:
                raise RuntimeError(_FINISHED)
            merge = apply_moved if moved else merge_entry
            staged[pid] = merge(self._base["positions"].get(pid), changes)
        else:
            self._update("positions", pid, changes)

    def remove_position(self, pid: str) -> None:
        """Remove a position; removing one that is not there changes nothing."""
        self._remove("positions", pid)

    def put_market(self, symbol: str, doc: Mapping[str, Any]) -> None:
        self._put("markets", symbol, doc)

    def update_market(
        self, symbol: str, changes: Mapping[str, Any], *, moved: bool = False
    ) -> None:
        """Merge ``changes`` into market ``symbol``; ``moved`` as for positions."""
        staged = self._markets
        if type(symbol) is str and type(changes) is dict and symbol not in staged and symbol:
            if self._closed:
                raise RuntimeError(_FINISHED)
            merge = apply_moved if moved else merge_entry
            staged[symbol] = merge(self._base["markets"].get(symbol), changes)
        else:
            self._update("markets", symbol, changes)

    def remove_market(self, symbol: str) -> None:
        self._remove("markets", symbol)

    def put_alert(self, aid: str, doc: Mapping[str, Any]) -> None:
        """Add or update an alert; beyond ``max_alerts`` the oldest are evicted in the
        same change. An alert keeps its place in age order when updated."""
        self._put("alerts", aid, doc)

    def remove_alert(self, aid: str) -> None:
        self._remove("alerts", aid)

    def significant(self, reason: str) -> None:
        """Flag this change for the snapshot flusher (``position_opened``,
        ``position_closed``, ``critical_alert``, ``shutdown``). Ignored if the
        transaction changes nothing."""
        if not reason:
            raise ValueError("reason must be a non-empty string")
        self._significant[reason] = None


class _Transaction:
    """``async with state.transaction(reason) as tx``: lock, stage, commit or discard."""

    __slots__ = ("_reason", "_state", "_tx")

    def __init__(self, state: DashboardState, reason: str) -> None:
        self._state = state
        self._reason = reason
        self._tx: Tx | None = None

    async def __aenter__(self) -> Tx:
        state = self._state
        task = asyncio.current_task()
        if task is not None and state._owner is task:
            raise RuntimeError("transactions do not nest: this task already holds one")
        await state._lock.acquire()
        state._owner = task
        self._tx = Tx(state._snapshot.doc)
        return self._tx

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        state = self._state
        tx = self._tx
        assert tx is not None
        try:
            tx._closed = True
            if exc_type is None:
                state._commit(tx, self._reason)
        finally:
            state._owner = None
            state._lock.release()


class DashboardState:
    """The live snapshot document of one strategy.

    Args:
        strategy_id: key of this state in a registry and on the bus.
        mode: initial ``mode`` (``paper`` or ``live``). Defaults to ``"paper"``.
        bus: where committed changes are published. Defaults to none.
        now: aware-UTC clock stamping each commit's ``ts``. Defaults to wall time.
        max_alerts: alerts kept in the document, newest last. Defaults to 50.
        status: initial ``status``. Defaults to ``"starting"``.
    """

    def __init__(
        self,
        strategy_id: str,
        *,
        mode: str = "paper",
        bus: EventBus | None = None,
        now: Callable[[], datetime] = _utc_now,
        max_alerts: int = 50,
        status: str = "starting",
    ) -> None:
        if not strategy_id:
            raise ValueError("strategy_id must be a non-empty string")
        if max_alerts < 1:
            raise ValueError("max_alerts must be at least 1")
        self.strategy_id = strategy_id
        self.bus = bus
        self.now = now
        self.max_alerts = max_alerts
        self._lock = asyncio.Lock()
        self._owner: asyncio.Task[Any] | None = None
        ts = now()
        doc = FrozenDict(
            schema=SCHEMA_VERSION,
            strategy=strategy_id,
            seq=0,
            ts=iso_utc(ts),
            mode=mode,
            status=status,
            totals=EMPTY,
            positions=EMPTY,
            markets=EMPTY,
            alerts=EMPTY,
        )
        self._snapshot = Snapshot(strategy_id, 0, ts, doc)
        if bus is not None:
            bus.remember(self._snapshot)

    def __repr__(self) -> str:
        return f"<DashboardState {self.strategy_id!r} seq={self.seq}>"

    @property
    def seq(self) -> int:
        return self._snapshot.seq

    def snapshot(self) -> Snapshot:
        """The latest committed snapshot (a reference read: never torn, never waits)."""
        return self._snapshot

    async def read(self) -> Snapshot:
        """The latest snapshot once any transaction in progress has finished."""
        async with self._lock:
            return self._snapshot

    async def load(self, doc: Mapping[str, Any], seq: int, *, reason: str = "load") -> Change:
        """Make ``doc`` the whole document at ``seq`` (a stored snapshot being replayed).

        A replay must serve the seqs that were stored, and those jump (only some versions
        were written), so this bypasses the +1 rule of transactions: ``seq`` must only be
        greater than the current one. ``doc["seq"]`` is set to ``seq``; ``ts`` is kept
        from ``doc`` when present (the time the stored version was committed). The
        published :class:`Change` has ``prev`` = the old seq and the merge patch from the
        old document to the new one, so subscribers apply it like any other change.

        Raises:
            ValueError: ``seq`` is not above the current seq, or ``doc`` names another
                strategy.
        """
        if type(seq) is not int or seq <= self._snapshot.seq:
            raise ValueError(f"load needs a seq above {self._snapshot.seq}, got {seq!r}")
        named = doc.get("strategy", self.strategy_id)
        if named != self.strategy_id:
            raise ValueError(f"document of strategy {named!r} loaded into {self.strategy_id!r}")
        async with self._lock:
            base = self._snapshot
            stamp = doc.get("ts")
            when = parse_utc(stamp) if isinstance(stamp, str) else None
            if when is None:  # no readable ts: stamp the load time instead
                when = self.now()
                stamp = iso_utc(when)
            # seq and ts keep their places in the document, so a stored payload loaded
            # unchanged re-encodes to the same bytes.
            new = freeze_dict({**doc, "seq": seq, "ts": stamp})
            patch = merge_patch_diff(base.doc, new)
            patch["seq"] = seq
            patch["ts"] = new["ts"]
            try:
                patch_bytes = orjson.dumps(patch)
            except TypeError as exc:
                raise TypeError(f"loaded document holds a value JSON cannot: {exc}") from exc
            snapshot = Snapshot(self.strategy_id, seq, when, new)
            self._snapshot = snapshot
            change = Change(
                strategy=self.strategy_id,
                seq=seq,
                prev=base.seq,
                ts=when,
                patch=patch,
                patch_bytes=patch_bytes,
                snapshot=snapshot,
                reason=reason,
            )
            if self.bus is not None:
                self.bus.publish(change)
            return change

    def transaction(self, reason: str = "update") -> _Transaction:
        """An async context manager yielding a :class:`Tx`; commits on clean exit,
        discards on exception. One at a time per state; they do not nest."""
        return _Transaction(self, reason)

    def _commit(self, tx: Tx, reason: str) -> Change | None:
        base = tx._base
        patch: dict[str, Any] = {}
        updates: dict[str, Any] = {}
        for key, value in tx._scalars.items():
            if base.get(key) != value:
                patch[key] = updates[key] = value
        totals = tx._totals
        if totals is not None:
            diff = merge_patch_diff(base["totals"], totals)
            if diff:
                patch["totals"] = diff
                updates["totals"] = totals
        for coll, staged in tx._colls.items():
            if not staged:
                continue
            old: FrozenDict = base[coll]
            cpatch: dict[str, Any] = {}
            entries: dict[str, FrozenDict] = {}
            removed = False
            for key, value in staged.items():
                if value is _REMOVE:
                    if key in old:
                        cpatch[key] = None
                        removed = True
                    continue
                entry, diff = value
                if diff or key not in old:
                    cpatch[key] = diff
                    entries[key] = entry
            if not cpatch:
                continue
            if removed:
                new = dict(old)
                for key, value in cpatch.items():
                    if value is None:
                        del new[key]
                new.update(entries)
            else:
                new = {**old, **entries}
            if coll == "alerts" and len(new) > self.max_alerts:
                for key in list(new)[: len(new) - self.max_alerts]:
                    del new[key]
                    if key in old:
                        cpatch[key] = None
                    else:
                        cpatch.pop(key, None)
            if cpatch:
                patch[coll] = cpatch
                updates[coll] = FrozenDict(new)
        if not patch:
            return None
        seq = self._snapshot.seq + 1
        when = self.now()
        stamp = iso_utc(when)
        patch["seq"] = updates["seq"] = seq
        patch["ts"] = updates["ts"] = stamp
        try:
            # Encoding the patch before anything is swapped in is also what validates
            # every new value (string keys, JSON types): a bad put leaves no trace.
            patch_bytes = orjson.dumps(patch)
        except TypeError as exc:
            raise TypeError(f"transaction {reason!r} put a value JSON cannot hold: {exc}") from exc
        top = dict(base)
        top.update(updates)
        snapshot = Snapshot(self.strategy_id, seq, when, FrozenDict(top))
        self._snapshot = snapshot
        change = Change(
            strategy=self.strategy_id,
            seq=seq,
            prev=seq - 1,
            ts=when,
            patch=patch,
            patch_bytes=patch_bytes,
            snapshot=snapshot,
            significant=tuple(tx._significant),
            reason=reason,
        )
        if self.bus is not None:
            self.bus.publish(change)
        return change
