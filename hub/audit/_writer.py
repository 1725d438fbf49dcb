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
(``WRITE_LOCK_HELD``), a plain read of the head is enough, and costs a third of the update.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection
from sqlalchemy.engine import Dialect

from hub.audit._merkle import HASH_SIZE
from hub.audit._record import GENESIS_HASH
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
    time: Callable[[dt.datetime], Any]
    #: PostgreSQL: send the inserts and the head update as one statement (one network round trip).
    one_round_trip: bool


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
        time=time_binder(dialect),
        one_round_trip=dialect.name == "postgresql",
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
        self._lock = self.sql.read_locked if connection.info.get(WRITE_LOCK_HELD) else self.sql.lock

    def close(self) -> None:
        self.cursor.close()

    def lock(self) -> Head:
        """Lock the head row, creating it on the very first append, and read it."""
        self.cursor.execute(self._lock)
        rows = self.cursor.fetchall()
        if not rows:  # two first appends at once: one inserts, the other does nothing; both then lock
            self.cursor.execute(self.sql.create_head, (GENESIS_HASH, b""))
            self.cursor.execute(self._lock)
            rows = self.cursor.fetchall()
        size, last_hash, frontier = rows[0]
        return Head(int(size), bytes(last_hash), split_frontier(bytes(frontier)))

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
        """Insert the entries (in ``ENTRY_COLUMNS`` order, times already converted), then move the head."""
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
