"""Snapshot archives: gzipped NDJSON, one stored snapshot per line, restorable byte for byte.

A line is the row's columns followed by the document itself, embedded verbatim::

    {"id":7,"strategy":"funding-arb","seq":42,"taken_at":"2024-03-01T08:00:00.000Z",
     "taken_at_ms":1709280000000,"reason":"timer","snapshot":{...the payload...}}

Because the payload is copied in as bytes (never decoded and re-encoded), reading a line
back recovers exactly the stored bytes: the header is re-encoded from the parsed fields
and the payload is what lies between it and the closing brace. A payload that could not
sit inside a JSON line (not an object, or holding a newline) is kept as ``payload_b64``.
Readers accept a plain (uncompressed) NDJSON file too.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import io
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import orjson

from state.replay import StoredSnapshot
from strategy.store._codec import time_from_text, time_to_ms
from strategy.store._sqlite import MaintenanceError

__all__ = [
    "ArchivedRow",
    "decode_line",
    "encode_line",
    "read_archive",
    "read_headers",
    "write_archive",
]

_HEADER_KEYS: Final = ("id", "strategy", "seq", "taken_at", "taken_at_ms", "reason")
_SNAPSHOT_KEY: Final = b',"snapshot":'
_GZIP_MAGIC: Final = b"\x1f\x8b"
# gzip level 3 compresses these documents about 16:1 at twice the speed of zlib's default
# level 6 (20:1): pruning a year of snapshots is bound by this, the size hardly matters.
COMPRESS_LEVEL: Final = 3


@dataclass(frozen=True, slots=True)
class ArchivedRow:
    """A ``dashboard_snapshots`` row, every column as stored."""

    id: int | None
    strategy: str
    seq: int
    taken_at: str
    taken_at_ms: int
    reason: str
    payload: bytes

    def stored(self) -> StoredSnapshot:
        return StoredSnapshot(
            self.strategy, self.seq, time_from_text(self.taken_at), self.reason, self.payload,
            self.id,
        )


def _header(row: ArchivedRow) -> dict[str, Any]:
    header: dict[str, Any] = {
        "id": row.id,
        "strategy": row.strategy,
        "seq": row.seq,
        "taken_at": row.taken_at,
        "taken_at_ms": row.taken_at_ms,
        "reason": row.reason,
    }
    if row.id is None:
        del header["id"]
    return header


def _embeddable(payload: bytes) -> bool:
    return payload[:1] == b"{" and payload[-1:] == b"}" and b"\n" not in payload


def encode_line(row: ArchivedRow) -> bytes:
    header = _header(row)
    if _embeddable(row.payload):
        return orjson.dumps(header)[:-1] + _SNAPSHOT_KEY + row.payload + b"}\n"
    header["payload_b64"] = base64.b64encode(row.payload).decode("ascii")
    return orjson.dumps(header) + b"\n"


def decode_line(line: bytes) -> ArchivedRow:
    """The row a line holds; raises ``ValueError`` for a line that is not one."""
    body = line.rstrip(b"\r\n")
    try:
        obj = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not JSON: {exc}") from None
    if not isinstance(obj, dict):
        raise ValueError("not a JSON object")
    strategy, seq = obj.get("strategy"), obj.get("seq")
    taken_at, reason = obj.get("taken_at"), obj.get("reason")
    row_id = obj.get("id")
    if not isinstance(strategy, str) or not strategy:
        raise ValueError("no 'strategy'")
    if type(seq) is not int or not isinstance(taken_at, str) or not isinstance(reason, str):
        raise ValueError("'seq', 'taken_at' and 'reason' are required")
    if row_id is not None and type(row_id) is not int:
        raise ValueError("'id' must be an integer")
    taken_ms = obj.get("taken_at_ms")
    if taken_ms is None:
        taken_ms = time_to_ms(time_from_text(taken_at))
    elif type(taken_ms) is not int:
        raise ValueError("'taken_at_ms' must be an integer")
    row = ArchivedRow(row_id, strategy, seq, taken_at, taken_ms, reason, b"")
    if "payload_b64" in obj:
        payload = base64.b64decode(obj["payload_b64"], validate=True)
    elif "snapshot" in obj:
        prefix = orjson.dumps(_header(row))[:-1] + _SNAPSHOT_KEY
        if body.startswith(prefix) and body.endswith(b"}"):
            payload = body[len(prefix) : -1]
        else:  # written by hand or another tool: the document, re-encoded
            payload = orjson.dumps(obj["snapshot"])
    else:
        raise ValueError("no 'snapshot'")
    return ArchivedRow(row_id, strategy, seq, taken_at, taken_ms, reason, payload)


@contextlib.contextmanager
def _open_lines(path: Path) -> Iterator[Iterable[bytes]]:
    try:
        raw = path.open("rb")
    except OSError as exc:
        raise MaintenanceError(f"cannot read archive {path}: {exc.strerror}") from exc
    with raw:
        if raw.read(2) == _GZIP_MAGIC:
            raw.seek(0)
            with gzip.GzipFile(fileobj=raw, mode="rb") as gz:
                yield gz
        else:
            raw.seek(0)
            yield raw


def read_archive(path: str | os.PathLike[str]) -> Iterator[ArchivedRow]:
    """Every row of an archive, in file order (the order they were written in the DB).

    Raises:
        MaintenanceError: unreadable file, or a line that is not an archived row (named
            by its line number).
    """
    file = Path(path)
    with _open_lines(file) as lines:
        try:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                try:
                    yield decode_line(line)
                except ValueError as exc:
                    raise MaintenanceError(f"{file}, line {number}: {exc}") from None
        except (OSError, EOFError) as exc:
            raise MaintenanceError(f"{file} is damaged: {exc}") from exc


def read_headers(path: str | os.PathLike[str]) -> Iterator[tuple[str, int]]:
    """``(strategy, taken_at_ms)`` of every line, without decoding the documents."""
    file = Path(path)
    with _open_lines(file) as lines:
        for line in lines:
            cut = line.find(_SNAPSHOT_KEY)
            head = line[:cut] + b"}" if cut > 0 else line
            try:
                obj = orjson.loads(head)
            except orjson.JSONDecodeError:
                continue
            if isinstance(obj, dict) and isinstance(obj.get("strategy"), str):
                taken_ms = obj.get("taken_at_ms")
                yield obj["strategy"], taken_ms if type(taken_ms) is int else 0


def write_archive(
    path: str | os.PathLike[str], rows: Iterable[ArchivedRow], *, level: int = COMPRESS_LEVEL
) -> int:
    """Write ``rows`` to a new archive at ``path``; returns how many.

    The file appears only once complete and on disk (written beside it, fsynced, then
    renamed), so a crash never leaves a partial archive under the final name, and the
    rows are deleted from the database only after this returns.

    Raises:
        MaintenanceError: ``path`` exists (an archive is never overwritten) or cannot be
            written.
    """
    file = Path(path)
    if file.exists():
        raise MaintenanceError(f"{file} exists; an archive is never overwritten")
    partial = file.with_name(file.name + ".partial")
    count = 0
    try:
        file.parent.mkdir(parents=True, exist_ok=True)
        with partial.open("wb") as raw:
            with gzip.GzipFile(filename="", fileobj=raw, mode="wb", compresslevel=level,
                               mtime=0) as gz:
                out = io.BufferedWriter(gz, buffer_size=1 << 16)  # one deflate call per 64 KiB
                for row in rows:
                    out.write(encode_line(row))
                    count += 1
                out.flush()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, file)
        _fsync_dir(file.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise MaintenanceError(f"cannot write archive {file}: {exc.strerror or exc}") from exc
    except BaseException:
        with contextlib.suppress(OSError):
            partial.unlink()
        raise
    return count


def _fsync_dir(directory: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
