"""The CSV folder backend (数据交换目录): an agency drops CSV files into a folder; the adapter reads them.

Files are read whole into memory (in a worker thread) and re-read only when their inode, size or
modification time changes, checked at most every ``refresh_seconds``: a lookup costs a dict probe,
not a file scan. Writes (enrolment notices) append one row atomically: the new content is written to
a temporary file in the same folder and renamed over the old one, so a reader, even another process,
sees the file either before or after the row, never half of it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import logging
import os
import shutil
import threading
import time
import uuid
from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from adapters._datasets import ColumnMap, Row, RowIndex
from adapters._values import to_text
from hub.errors import FailedPrecondition

try:  # POSIX: serialise writers across processes too
    import fcntl
except ImportError:  # pragma: no cover - Windows: in-process lock only
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

_Signature = tuple[int, int, int]


@dataclass(frozen=True)
class _Snapshot:
    signature: _Signature | None
    index: RowIndex
    as_of: dt.datetime | None


class CsvDataset:
    """One CSV file of a drop folder, with a header row naming the agency's columns."""

    def __init__(
        self,
        name: str,
        path: Path,
        columns: ColumnMap,
        *,
        required: Sequence[str] = (),
        encoding: str = "utf-8-sig",
        delimiter: str = ",",
        refresh_seconds: float = 2.0,
    ) -> None:
        self.name = name
        self.path = path
        self._columns = columns
        self._required = tuple(required)
        self._encoding = encoding
        self._delimiter = delimiter
        self._refresh = refresh_seconds
        self._lock = threading.Lock()
        self._snapshot: _Snapshot | None = None
        self._checked_at = float("-inf")

    async def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        return (await self._current()).index.by_id(id_numbers)

    async def where(self, field: str, value: str) -> list[Row]:
        return (await self._current()).index.where(field, value)

    async def as_of(self) -> dt.datetime | None:
        return (await self._current()).as_of

    async def upsert(self, row: Mapping[str, object], key: Sequence[str]) -> None:
        await asyncio.to_thread(self._append, row)

    async def _current(self) -> _Snapshot:
        snapshot = self._snapshot
        if snapshot is not None and time.monotonic() - self._checked_at < self._refresh:
            return snapshot
        return await asyncio.to_thread(self._refresh_now)

    def _signature(self) -> _Signature | None:
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return (stat.st_ino, stat.st_size, stat.st_mtime_ns)

    def _refresh_now(self) -> _Snapshot:
        with self._lock:
            signature = self._signature()
            snapshot = self._snapshot
            if snapshot is None or snapshot.signature != signature:
                snapshot = self._load(signature)
                self._snapshot = snapshot
            self._checked_at = time.monotonic()
            return snapshot

    def _load(self, signature: _Signature | None) -> _Snapshot:
        if signature is None:
            log.warning("dataset %s: %s does not exist (yet); serving no rows", self.name, self.path)
            return _Snapshot(None, RowIndex(self.name, (), self._columns), None)
        with self.path.open(newline="", encoding=self._encoding) as handle:
            reader = csv.DictReader(handle, delimiter=self._delimiter)
            header = [h.strip() for h in reader.fieldnames or ()]
            reader.fieldnames = header
            missing = [self._columns.logical_to_native[f] for f in self._required]
            missing = [c for c in missing if c not in header]
            if missing:
                raise FailedPrecondition(f"dataset {self.name}: {self.path.name} has no column {', '.join(missing)}")
            index = RowIndex(self.name, reader, self._columns)
        as_of = dt.datetime.fromtimestamp(signature[2] / 1e9, dt.UTC)
        return _Snapshot(signature, index, as_of)

    def _append(self, row: Mapping[str, object]) -> None:
        with self._lock, self._file_lock():
            existing = self.path.read_bytes() if self.path.exists() else b""
            text = existing.decode(self._encoding)
            header = next(csv.reader(io.StringIO(text), delimiter=self._delimiter), None) if text else None
            newline = "\r\n" if b"\r\n" in existing else "\n"
            out = io.StringIO()
            writer = csv.writer(out, delimiter=self._delimiter, lineterminator=newline)
            if header is None:
                header = list(self._columns.logical_to_native.values())
                writer.writerow(header)
            native = {k: to_text(v) for k, v in self._columns.to_native(row).items()}
            writer.writerow([native.get(column.strip(), "") for column in header])
            separator = "" if not existing or existing.endswith(b"\n") else newline
            # A BOM belongs at the start of the file only.
            with_bom = self._encoding.lower().replace("_", "-") == "utf-8-sig"
            encoding = "utf-8" if existing and with_bom else self._encoding
            self._replace(existing + (separator + out.getvalue()).encode(encoding))
            self._snapshot = None

    def _replace(self, content: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.path.with_name(f".{self.path.name}.{uuid.uuid4().hex}.tmp")
        try:
            with temporary.open("wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
            if self.path.exists():
                shutil.copymode(self.path, temporary)
            os.replace(temporary, self.path)
        finally:
            temporary.unlink(missing_ok=True)
        _fsync_directory(self.path.parent)

    @contextlib.contextmanager
    def _file_lock(self) -> Iterator[None]:
        if fcntl is None:  # pragma: no cover
            yield
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path.parent, os.O_RDONLY)  # lock the folder: no stray lock files in it
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX)
            yield
        finally:
            os.close(descriptor)  # releases the lock


def _fsync_directory(folder: Path) -> None:
    """Make the rename itself durable (POSIX); a no-op where directories cannot be opened."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - Windows
        return
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
