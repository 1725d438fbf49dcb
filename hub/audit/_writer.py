"""The append hot path: a few plain SQL statements on the DBAPI cursor of the caller's connection.

Every audited query appends inside its own transaction, and SQLAlchemy's per-statement bookkeeping
(≈ 80 µs) costs more than these statements themselves (≈ 15 µs), so they are written out once for
the two supported drivers: ``?`` placeholders for sqlite3, ``%s`` for psycopg. On PostgreSQL, where each
statement is a network round trip, the inserts and the head update travel as one statement. Times pass through the
column type's own bind processor, so what is stored is exactly what the ORM reads back (and hashes).

The head row is locked first: on PostgreSQL with ``SELECT … FOR UPDATE`` (held until the caller's
transaction ends); on SQLite with a no-op ``UPDATE … RETURNING``, since writing takes the database
write lock, whereas a read would not stop another connection from appending in between. Inside the
group-commit writer's transaction, which took SQLite's write lock before its first statement
(``WRITE_LOCK_HELD``), nothing more is needed.

On SQLite the head row is saved only when an append completes a cached tree node (every 2^``NODE_CACHE_LEVEL``
entries), not on every append: the row's page was one of the few every audited commit writes to the WAL (and
that every other hub process then reads again). Appending a query's two entries and committing them took ~265 µs
of CPU with it and ~240 without (one process, medians of eight alternating runs on the 2-core machine). An append
starts from the head its process left (``known``) or, failing that, the saved one, and brings it forward through
the entries appended since, whose last hash it checks: a few rows, the pages the append writes anyway. On
PostgreSQL, where each statement is a round trip and the lock reads the row anyway, the row is saved every time.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from hub.audit._errors import AuditTampered
from hub.audit._merkle import HASH_SIZE, frontier_append, leaf_hash
from hub.audit._record import GENESIS_HASH
from hub.audit._tree import NODE_CACHE_LEVEL
from hub.errors import FailedPrecondition
from hub.store._base import time_binder
from hub.store._writer import WRITE_LOCK_HELD

ENTRY_COLUMNS = (
    "seq", "recorded_at", "kind", "message_id", "correlation_id", "sender", "recipient", "service",
    "purpose_code", "legal_basis", "case_number", "consent_ref", "issued_at", "payload_sha256",
    "signatures", "subject_tokens", "outcome", "payload", "prev_hash", "entry_hash",
)  # fmt: skip
#: A request the log holds under this message id: with the log on, it is the hub's replay memory.
LOGGED_REQUEST = "SELECT 1 FROM audit_entries WHERE message_id = {mark} AND kind = 'request'"
_PLACEHOLDERS = {"qmark": "?", "format": "%s", "pyformat": "%s"}
#: Up to this many values, one statement beats psycopg's pipelined executemany (measured; bench/audit_append.py).
_ONE_STATEMENT_PARAMETERS = 400
#: The most entries an append brings its process's own head forward through; further behind (a process that
#: was idle while others appended), the saved head, never more than a node's worth behind, is nearer.
_TAIL_LIMIT = 1 << NODE_CACHE_LEVEL


@dataclass(frozen=True)
class Statements:
    lock: str
    #: Reads the head where the transaction already holds the database's write lock (``WRITE_LOCK_HELD``, which
    #: only the SQLite path of the group-commit writer sets).
    read_locked: str
    create_head: str
    set_head: str
    insert_entries: str
    insert_subjects: str
    insert_nodes: str
    logged_request: str
    #: The entries from a sequence number on, in order: what was appended since a known head.
    tail: str
    time: Callable[[dt.datetime], Any]
    #: PostgreSQL: send the inserts and the head update as one statement (one network round trip).
    one_round_trip: bool
    #: PostgreSQL: save the head row on every append (the lock has read it already: then it is the head).
    saves_every_append: bool


def _statements(dialect: Dialect) -> Statements:
    mark = _PLACEHOLDERS.get(dialect.paramstyle)
    if mark is None or dialect.name not in ("sqlite", "postgresql"):
        raise FailedPrecondition(
            f"the audit log supports SQLite and PostgreSQL, not {dialect.name}/{dialect.paramstyle}"
        )
    columns = ", ".join(ENTRY_COLUMNS)
    head = "size, last_hash, frontier"
    read_head = f"SELECT {head} FROM audit_head WHERE id = 1"
    return Statements(
        lock=(
            f"UPDATE audit_head SET size = size WHERE id = 1 RETURNING {head}"
            if dialect.name == "sqlite"
            else f"{read_head} FOR UPDATE"
        ),
        read_locked=read_head,
        create_head=f"INSERT INTO audit_head (id, {head}) VALUES (1, 0, {mark}, {mark}) ON CONFLICT DO NOTHING",
        set_head=f"UPDATE audit_head SET size = {mark}, last_hash = {mark}, frontier = {mark} WHERE id = 1",
        insert_entries=f"INSERT INTO audit_entries ({columns}) VALUES ({', '.join([mark] * len(ENTRY_COLUMNS))})",
        insert_subjects=f"INSERT INTO audit_subjects (token, seq) VALUES ({mark}, {mark})",
        insert_nodes=f"INSERT INTO audit_nodes (level, idx, hash) VALUES ({mark}, {mark}, {mark})",
        logged_request=LOGGED_REQUEST.format(mark=mark),
        tail=f"SELECT seq, entry_hash FROM audit_entries WHERE seq >= {mark} ORDER BY seq",
        time=time_binder(dialect),
        one_round_trip=dialect.name == "postgresql",
        saves_every_append=dialect.name == "postgresql",
    )


_BY_DIALECT: dict[str, Statements] = {}


def statements(connection: Connection) -> Statements:
    dialect = connection.dialect
    key = f"{dialect.name}/{dialect.paramstyle}"
    if key not in _BY_DIALECT:
        _BY_DIALECT[key] = _statements(dialect)
    return _BY_DIALECT[key]


def split_frontier(data: bytes) -> list[bytes]:
    return [data[i : i + HASH_SIZE] for i in range(0, len(data), HASH_SIZE)]


@dataclass(frozen=True)
class Head:
    size: int
    last_hash: bytes
    frontier: list[bytes]


class HeadWriter:
    """The statements of one append, on the DBAPI cursor of the caller's (already begun) connection."""

    def __init__(self, connection: Connection) -> None:
        self.sql = statements(connection)
        self.cursor = connection.connection.cursor()
        #: SQLite, inside the group-commit writer's transaction: the write lock is held already.
        self._locked = bool(connection.info.get(WRITE_LOCK_HELD))

    def close(self) -> None:
        self.cursor.close()

    def lock(self, known: Head | None) -> Head:
        """Take the log's lock and return its head: ``known`` (this process's last) brought forward, when it
        is still in the log, else the saved head brought forward. ``AuditTampered`` if the saved head's last
        entry is not in the log as the head says."""
        saved = None if self._locked else self._read_head(self.sql.lock)
        if saved is not None and self.sql.saves_every_append:
            return saved
        if known is not None and (saved is None or known.size > saved.size):
            current = self._forward(known, limit=_TAIL_LIMIT)
            if current is not None:
                return current
        if saved is None:
            saved = self._read_head(self.sql.read_locked)
        current = self._forward(saved, limit=None)
        if current is None:
            raise AuditTampered(
                "chain_broken", f"the log's saved head does not match entry {saved.size - 1}", seq=saved.size - 1
            )
        return current

    def _read_head(self, statement: str) -> Head:
        """Read the head row with ``statement`` (which may lock it), creating it on the very first append."""
        self.cursor.execute(statement)
        rows = self.cursor.fetchall()
        if not rows:  # two first appends at once: one inserts, the other does nothing; both then read
            self.cursor.execute(self.sql.create_head, (GENESIS_HASH, b""))
            self.cursor.execute(statement)
            rows = self.cursor.fetchall()
        size, last_hash, frontier = rows[0]
        return Head(int(size), bytes(last_hash), split_frontier(bytes(frontier)))

    def _forward(self, head: Head, *, limit: int | None) -> Head | None:
        """``head`` moved past the entries appended after it; ``None`` if its last entry is not in the log as
        it says (a transaction that appended it rolled back), or if more than ``limit`` entries followed it."""
        size, last_hash, frontier = head.size, head.last_hash, head.frontier
        self.cursor.execute(self.sql.tail, (max(size - 1, 0),))
        rows = self.cursor.fetchmany(limit + 2) if limit is not None else self.cursor.fetchall()
        if size:
            if not rows or (int(rows[0][0]), bytes(rows[0][1])) != (size - 1, last_hash):
                return None
            rows = rows[1:]
        if limit is not None and len(rows) > limit:
            return None
        for seq, entry_hash in rows:
            if seq != size:
                raise AuditTampered("gap", f"entry {size} is missing from the stored log", seq=size)
            last_hash = bytes(entry_hash)
            frontier, _ = frontier_append(frontier, size, leaf_hash(last_hash))
            size += 1
        return Head(size, last_hash, frontier)

    def logged(self, message_id: str) -> bool:
        """Whether a request is already in the log under ``message_id`` (ask with the head locked)."""
        self.cursor.execute(self.sql.logged_request, (message_id,))
        return self.cursor.fetchone() is not None

    def write(
        self,
        entries: Sequence[tuple[Any, ...]],
        subjects: Sequence[tuple[bytes, int]],
        nodes: Sequence[tuple[int, int, bytes]],
        head: Head,
    ) -> None:
        """Insert the entries (in ``ENTRY_COLUMNS`` order, times already converted), then save the head where
        this dialect saves it every time or the append completed a cached node (``nodes``)."""
        head_values = (head.size, head.last_hash, b"".join(head.frontier))
        width = len(ENTRY_COLUMNS) * len(entries) + 2 * len(subjects) + 3 * len(nodes)
        if self.sql.one_round_trip and width <= _ONE_STATEMENT_PARAMETERS:
            self._write_in_one_statement(entries, subjects, nodes, head_values)
            return
        self.cursor.executemany(self.sql.insert_entries, entries)
        if subjects:
            self.cursor.executemany(self.sql.insert_subjects, subjects)
        if nodes:
            self.cursor.executemany(self.sql.insert_nodes, nodes)
        if nodes or self.sql.saves_every_append:
            self.cursor.execute(self.sql.set_head, head_values)

    def _write_in_one_statement(
        self,
        entries: Sequence[tuple[Any, ...]],
        subjects: Sequence[tuple[bytes, int]],
        nodes: Sequence[tuple[int, int, bytes]],
        head_values: tuple[Any, ...],
    ) -> None:
        """PostgreSQL: every insert as a data-modifying CTE of the head update, so a network round trip each."""
        parts: list[str] = []
        parameters: list[Any] = []
        for name, insert, rows in (
            ("e", self.sql.insert_entries, entries),
            ("s", self.sql.insert_subjects, subjects),
            ("n", self.sql.insert_nodes, nodes),
        ):
            if rows:
                head, _, one_row = insert.partition(" VALUES ")
                parts.append(f"{name} AS ({head} VALUES {', '.join([one_row] * len(rows))})")
                parameters.extend(value for row in rows for value in row)
        self.cursor.execute(f"WITH {', '.join(parts)} {self.sql.set_head}", [*parameters, *head_values])
