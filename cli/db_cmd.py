"""``dash db``: check the points of record, measure, prune and restore the database.

Front ends only: the work is in :mod:`strategy.store.maintenance` (imported when a
command runs), which returns plain results; this module prints them as text or, with
``--json``, as one JSON document. Exit status: 0 ok, 1 a failure or (``check``) any
mismatch, 2 usage, 69 a ``--socket`` that does not answer.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer

from cli._emit import fail, message, out
from cli._errors import FAILURE, CliError
from cli._options import parse_option

if TYPE_CHECKING:
    from strategy.store.maintenance import CheckReport, DbStats, PruneResult

__all__ = ["app", "check", "prune", "restore", "stats"]

app = typer.Typer(
    name="db",
    help="Database maintenance: check the points of record, sizes, prune and restore snapshots.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

DbOpt = Annotated[
    Path | None,
    typer.Option(
        "--db",
        metavar="FILE",
        envvar="DASH_DB",
        show_envvar=True,
        help="SQLite file (default: $XDG_DATA_HOME/dash/<strategy>.db).",
        show_default=False,
    ),
]
StrategyOpt = Annotated[
    str | None,
    typer.Option(
        "--strategy",
        metavar="NAME",
        help="Only this strategy's rows (default: every strategy in the file).",
        show_default=False,
    ),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as one JSON document.")]


def _db_path(db: Path | None, strategy: str | None) -> Path:
    if db is not None:
        return db
    from strategy.config import StrategyConfig
    from strategy.runner import default_db_path

    return default_db_path(strategy or StrategyConfig().id)


def _maintenance_error(prog: str, exc: Exception) -> NoReturn:
    """A store error is the operator's to read (exit 1); anything else is a bug."""
    from strategy.store import StoreError

    if isinstance(exc, StoreError):
        fail(prog, CliError(str(exc), FAILURE))
    raise exc


def _json(data: Any) -> None:
    import orjson

    out(orjson.dumps(data, option=orjson.OPT_INDENT_2).decode())


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GiB"  # pragma: no cover - the loop always returns


def _when(when: datetime | None) -> str:
    return "-" if when is None else when.strftime("%Y-%m-%dT%H:%M:%SZ")


# --------------------------------------------------------------------------- check


def _live_docs(
    db: Path, strategy: str | None, socket: Path | None
) -> dict[str, dict[str, Any]]:
    """Live documents of the strategies in ``db`` that are running (``--socket`` or
    their default sockets); a replay is never taken for live state."""
    from ipc import BlockingClient, ClientError, default_socket_path, probe
    from strategy.store.maintenance import DbSnapshotSource, MaintenanceError

    if socket is not None:
        sockets = [socket]
    else:
        try:
            names = [strategy] if strategy else DbSnapshotSource(db).strategies()
        except MaintenanceError:
            names = [strategy] if strategy else []
        sockets = []
        for name in names:
            try:
                path = default_socket_path(name)
            except ValueError:
                continue
            if path.exists() and probe(path):
                sockets.append(path)
    docs: dict[str, dict[str, Any]] = {}
    for path in sockets:
        try:
            with BlockingClient(path) as client:
                if client.hello.get("mode") == "replay":
                    message("dash db check", f"{path} serves a replay, not live state; skipped")
                    continue
                for name in client.hello.get("strategies", []):
                    if strategy is not None and name != strategy:
                        continue
                    result = client.request("snapshot", strategy=name)
                    docs[name] = result["snapshot"]
        except ClientError as exc:
            if socket is not None:
                from cli._errors import from_ipc

                raise from_ipc(exc, path) from exc
            message("dash db check", f"{path}: {exc}; not compared with live state")
    return docs


def _print_check(report: CheckReport) -> None:
    names = ", ".join(report.strategies) or "none"
    out(
        f"checked {report.path}: strategies {names}; {report.positions} positions, "
        f"{report.payments} funding payments"
    )
    for line in report.compared:
        out(f"compared with {line}")
    for mismatch in report.mismatches:
        out(f"MISMATCH {mismatch}")
    if report.ok:
        out("ok: every figure agrees with the points of record")
    else:
        out(f"{len(report.mismatches)} mismatch(es)")


@app.command("check")
def check(
    db: DbOpt = None,
    strategy: StrategyOpt = None,
    socket: Annotated[
        Path | None,
        typer.Option(
            "--socket",
            metavar="PATH",
            help="Compare with the strategy running here (default: its default socket, "
            "if it runs).",
            show_default=False,
        ),
    ] = None,
    no_live: Annotated[
        bool, typer.Option("--no-live", help="Do not compare with a running strategy.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Recompute funding, fees and realised PnL from the positions and funding payments,
    and compare them with the latest snapshot and the live state.

    Exit status: 0 all agree, 1 any mismatch (each is listed), 69 --socket not reachable.
    """
    prog = "dash db check"
    from strategy.store.maintenance import check_db

    path = _db_path(db, strategy)
    try:
        live = {} if no_live else _live_docs(path, strategy, socket)
        report = check_db(path, strategy=strategy, live=live)
    except CliError as exc:
        fail(prog, exc)
    except Exception as exc:
        _maintenance_error(prog, exc)
    if as_json:
        _json(report.to_dict())
    else:
        _print_check(report)
    if not report.ok:
        raise typer.Exit(FAILURE)


# --------------------------------------------------------------------------- stats


def _print_stats(stats: DbStats) -> None:
    out(
        f"database {stats.path}: {_size(stats.total_bytes)} (file {_size(stats.file_bytes)}, "
        f"WAL {_size(stats.wal_bytes)}, {_size(stats.free_bytes)} free inside)"
    )
    out(f"{'table':<22}{'rows':>12}{'bytes':>14}")
    for table in stats.tables:
        out(f"{table.name:<22}{table.rows:>12,}{_size(table.bytes):>14}")
    if stats.newest_snapshot is None:
        out("no snapshots")
        return
    by_strategy = ", ".join(f"{k} {v:,}" for k, v in stats.snapshots_by_strategy.items())
    by_reason = ", ".join(f"{k} {v:,}" for k, v in stats.snapshots_by_reason.items())
    out(
        f"snapshots: {by_strategy}; {_when(stats.oldest_snapshot)} .. "
        f"{_when(stats.newest_snapshot)}"
    )
    out(f"by reason: {by_reason}")
    out("snapshot rows per hour, last day (market time):")
    peak = max((n for _, n in stats.hourly), default=0) or 1
    for hour, count in stats.hourly:
        bar = "#" * round(30 * count / peak)
        out(f"  {hour:%Y-%m-%d %H:00}  {count:>6}  {bar}")


@app.command("stats")
def stats(db: DbOpt = None, strategy: StrategyOpt = None, as_json: JsonOpt = False) -> None:
    """Rows and bytes per table, snapshot rows per hour over the last day, DB size."""
    prog = "dash db stats"
    from strategy.store.maintenance import db_stats

    try:
        result = db_stats(_db_path(db, strategy), strategy=strategy)
    except Exception as exc:
        _maintenance_error(prog, exc)
    if as_json:
        _json(result.to_dict())
    else:
        _print_stats(result)


# --------------------------------------------------------------------------- prune


def _print_prune(result: PruneResult, keep_every: str | None) -> None:
    if not result.strategies:
        out(f"{result.path}: no snapshots")
    for share in result.strategies:
        kept = f", keeping {share.kept:,} (one per {keep_every})" if keep_every else ""
        out(
            f"{share.strategy}: {share.selected:,} snapshot rows before {_when(share.cutoff)}"
            f"{kept}; {share.selected - share.kept:,} to delete "
            f"({_size(share.payload_bytes)} of documents)"
        )
    if result.dry_run:
        out("dry run: nothing changed")
        return
    if result.archive is not None and result.archived:
        out(f"archived {result.archived:,} rows to {result.archive}")
    if result.transactions <= 1:
        out(f"deleted {result.deleted:,} rows in one transaction")
    else:
        out(
            f"deleted {result.deleted:,} rows in {result.transactions} transactions (the "
            f"longest held the write lock {result.longest_transaction_s:.2f} s)"
        )
    if result.vacuumed:
        out(f"vacuumed: {_size(result.bytes_before)} -> {_size(result.bytes_after)}")


@app.command("prune")
def prune(
    older_than: Annotated[
        str,
        typer.Option(
            "--older-than",
            metavar="AGE",
            help="Snapshots older than this before each strategy's newest one (30d, 12h), "
            "or before an ISO time.",
            show_default=False,
        ),
    ],
    archive: Annotated[
        Path | None,
        typer.Option(
            "--archive",
            metavar="FILE.ndjson.gz",
            help="Write the deleted rows here first (a new file; restore with dash db "
            "restore).",
            show_default=False,
        ),
    ] = None,
    keep_every: Annotated[
        str | None,
        typer.Option(
            "--keep-every",
            metavar="SPAN",
            help="Keep the first snapshot of every such interval (1h: one per hour).",
            show_default=False,
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Only count what would go; change nothing.")
    ] = False,
    vacuum: Annotated[
        bool, typer.Option("--vacuum", help="Then rebuild the file to give the space back.")
    ] = False,
    transaction_rows: Annotated[
        int,
        typer.Option(
            "--transaction-rows",
            metavar="N",
            min=0,
            help="Delete at most N rows per transaction, so a running strategy never waits "
            "long for the write lock; 0: one transaction whatever the size.",
        ),
    ] = 50_000,  # strategy.store.maintenance.TRANSACTION_ROWS, without importing it
    db: DbOpt = None,
    strategy: StrategyOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Archive old dashboard snapshots, then delete exactly those, in one transaction (in
    transactions of --transaction-rows rows for larger sets).

    Positions, funding payments, alerts and commands are never touched. Safe to run
    while the strategy runs.
    """
    prog = "dash db prune"
    from cli._when import parse_age, parse_duration
    from strategy.store.maintenance import prune as run_prune

    age = parse_option(parse_age, older_than, "--older-than")
    every = parse_option(parse_duration, keep_every, "--keep-every")
    try:
        result = run_prune(
            _db_path(db, strategy),
            older_than=age,
            keep_every=every,
            archive=archive,
            dry_run=dry_run,
            vacuum=vacuum,
            strategy=strategy,
            transaction_rows=transaction_rows or None,
        )
    except Exception as exc:
        _maintenance_error(prog, exc)
    if as_json:
        _json(result.to_dict())
    else:
        _print_prune(result, keep_every)


# --------------------------------------------------------------------------- restore


@app.command("restore")
def restore(
    archive: Annotated[
        Path,
        typer.Argument(metavar="FILE", help="An archive written by dash db prune --archive."),
    ],
    db: DbOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Put archived snapshots back, byte for byte; rows already there are skipped."""
    prog = "dash db restore"
    from strategy.store.maintenance import restore as run_restore

    try:
        result = run_restore(_db_path(db, None), archive)
    except Exception as exc:
        _maintenance_error(prog, exc)
    if as_json:
        _json(result.to_dict())
    else:
        out(
            f"restored {result.restored:,} snapshot rows into {result.path} "
            f"({result.skipped:,} already there)"
        )

