"""Tables of the feeds: version bookkeeping, and two tables per record kind.

Bookkeeping: ``feed_versions`` (one row per upload, with its counts and status), ``feed_chunks`` (what a
resumed stream needs: the last stored sequence and each chunk's hash), ``feed_rejections`` (rows refused,
with reasons), ``feed_current`` (the pointer per department × supplier × kind that readers follow) and
``feed_token_map`` (scratch space of a re-tokenise run: token pairs only, never a number).

Roster matches: ``feed_roster_matches`` lists, for a feed version and a roster version, the person tokens found
in both, and ``feed_roster_pairs`` the pairs of versions so matched (an empty match is a match too). A
comparison reads the ~5 % of a feed's rows that belong to roster persons through them instead of probing the
feed for each of a million roster persons (see ``hub.feeds._matches``).

Per kind, ``feed_<kind>s`` holds every row as it arrived, clustered by (version, row_number) so each
chunk is an append; ``feed_<kind>s_by_person`` holds the compared values clustered by (version, token),
the layout the comparison joins want. The second is filled in token order when the version completes: a
B-tree built in key order is several times cheaper than one fed 2 M random tokens chunk by chunk (SQLite
rewrites a random leaf page per row), and it means readers never meet a partial version there.

On SQLite both are ``WITHOUT ROWID`` tables, so the clustering key is the table and the by-person table is
its own covering index. PostgreSQL has no clustered tables; there the by-person table's primary key carries the
compared values too (``INCLUDE``), so that a comparison's probe by (version, token) reads the index alone, not
the index and then a heap page for each row (once the pages are all-visible: autovacuum sees to that after an
upload). Record tables carry no foreign key to ``feed_versions``: the check would cost
every bulk-loaded row, and the intake is the only writer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeEngine

from hub.feeds._kinds import KINDS, FieldSpec, FieldType, RecordKind
from hub.store._base import Base, Token, UtcDateTime, utcnow

Sha256 = LargeBinary(32)


class FeedVersionRow(Base):
    """One feed version: its metadata, progress and outcome. ``id`` is the compact key rows carry."""

    __tablename__ = "feed_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    version_id: Mapped[str] = mapped_column(String(64), unique=True)
    department: Mapped[str] = mapped_column(String(40))
    supplier: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(40))
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    policy: Mapped[str] = mapped_column(String(20))
    status: Mapped[str] = mapped_column(String(12))
    expected_records: Mapped[int] = mapped_column(BigInteger)
    received_records: Mapped[int] = mapped_column(BigInteger, default=0)
    accepted_records: Mapped[int] = mapped_column(BigInteger, default=0)
    rejected_records: Mapped[int] = mapped_column(BigInteger, default=0)
    next_sequence: Mapped[int] = mapped_column(Integer, default=0)
    #: SHA-256 over the chunk hashes in sequence order, set on completion.
    digest: Mapped[bytes | None] = mapped_column(Sha256, default=None)
    #: Whether completing this version switched its feed's current pointer to it.
    made_current: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Key version of the tokens in this version's rows.
    token_version: Mapped[int] = mapped_column(Integer)
    #: After a partial re-tokenise: an older key version some rows (persons with no raw value) still use.
    legacy_token_version: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    completed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    __table_args__ = (Index("ix_feed_versions_feed", "department", "supplier", "kind"),)


class FeedChunkRow(Base):
    """A stored chunk: a repeat with the same hash is acknowledged, one with another hash refused."""

    __tablename__ = "feed_chunks"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    sha256: Mapped[bytes] = mapped_column(Sha256)
    records: Mapped[int] = mapped_column(Integer)
    accepted: Mapped[int] = mapped_column(Integer)
    rejected: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedRejectionRow(Base):
    """A row that failed validation: the first failing field and why (never a raw ID number)."""

    __tablename__ = "feed_rejections"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    row_number: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    field: Mapped[str] = mapped_column(String(64))
    problem: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str] = mapped_column(String(400))


class FeedCurrentRow(Base):
    """The version readers use for one feed; switched in the transaction that completes a version."""

    __tablename__ = "feed_current"

    department: Mapped[str] = mapped_column(String(40), primary_key=True)
    supplier: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    version: Mapped[int] = mapped_column(Integer)
    switched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


class FeedTokenMapRow(Base):
    """Old → new token pairs during a re-tokenise run; emptied when the run ends."""

    __tablename__ = "feed_token_map"

    old_version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    old_token: Mapped[bytes] = mapped_column(Token, primary_key=True)
    new_token: Mapped[bytes] = mapped_column(Token)

    __table_args__ = (Index("ix_feed_token_map_new_token", "new_token"),)


class FeedRosterPairRow(Base):
    """A feed version matched with a roster version: the persons of both are in ``feed_roster_matches``."""

    __tablename__ = "feed_roster_pairs"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    roster_version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    matched_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)


ROSTER_MATCHES = Table(
    "feed_roster_matches",
    Base.metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("roster_version", Integer, primary_key=True, autoincrement=False),
    Column("token", Token, primary_key=True),
    sqlite_with_rowid=False,
    comment="person tokens found both in a feed version and in a roster version (pairs in feed_roster_pairs)",
)


def _column_type(spec: FieldSpec) -> TypeEngine[Any]:
    types: dict[FieldType, TypeEngine[Any]] = {
        FieldType.ID_NUMBER: Token,
        FieldType.REGION: String(6),
        FieldType.DATE: Date(),
        FieldType.MONTH: Date(),
        FieldType.AMOUNT: BigInteger(),
        FieldType.ENUM: String(32),
        FieldType.TEXT: String(spec.max_length),
        FieldType.USCC: String(18),
    }
    return types[spec.type]


def _value_columns(spec: FieldSpec) -> list[Column[Any]]:
    columns = [Column(spec.column, _column_type(spec), nullable=not spec.required)]
    if spec.keep_raw:
        columns.append(Column(spec.raw_column, LargeBinary, nullable=False))
    return columns


def _records_table(kind: RecordKind) -> Table:
    return Table(
        kind.table,
        Base.metadata,
        Column("version", Integer, primary_key=True, autoincrement=False),
        Column("row_number", Integer, primary_key=True, autoincrement=False),
        *(column for spec in kind.fields for column in _value_columns(spec)),
        sqlite_with_rowid=False,
        comment=f"{kind.department} feed rows of kind {kind.code}, as received",
    )


#: The by-person tables' primary key; on PostgreSQL it includes every other column (see the module docstring).
BY_PERSON_KEY = ("version", "token", "row_number")


def _by_person_table(kind: RecordKind) -> Table:
    compared = [s for s in kind.fields[1:] if s.compared]
    # Covering: the version, the household's columns and the member (the token), no table lookups.
    indexes = (
        [Index(f"ix_{kind.by_person_table}_household", "version", *kind.household_index, "token")]
        if kind.household_index
        else []
    )
    return Table(
        kind.by_person_table,
        Base.metadata,
        Column("version", Integer, nullable=False, autoincrement=False),
        Column("token", Token, nullable=False),
        Column("row_number", Integer, nullable=False, autoincrement=False),
        *(Column(s.column, _column_type(s), nullable=not s.required) for s in compared),
        PrimaryKeyConstraint(*BY_PERSON_KEY, postgresql_include=[s.column for s in compared]),
        *indexes,
        sqlite_with_rowid=False,
        comment=f"compared values of {kind.table}, clustered by person token; complete versions only",
    )


#: kind code → (records table, by-person table)
RECORD_TABLES: dict[str, tuple[Table, Table]] = {
    kind.code: (_records_table(kind), _by_person_table(kind)) for kind in KINDS
}


def record_tables(kind: RecordKind) -> tuple[Table, Table]:
    """The kind's (records, by-person) tables."""
    return RECORD_TABLES[kind.code]


def table_names() -> list[str]:
    """Every table of the feeds area, for ``scripts/render_migration.py``."""
    names = [row.__tablename__ for row in (FeedVersionRow, FeedChunkRow, FeedRejectionRow, FeedCurrentRow)]
    names.append(FeedTokenMapRow.__tablename__)
    return names + [table.name for pair in RECORD_TABLES.values() for table in pair]
