"""Tables of the audit log: the chained entries, the subject index, cached tree nodes, the head, checkpoints.

The log is append-only by construction: entries are inserted once and only their ``payload`` is
ever nulled (retention). ``audit_head`` is a single row, locked by each append, that holds the size,
the last entry hash and the compact range (right border) of the Merkle tree, so appends serialize
across hub processes and hash without reading the entries. On SQLite it is saved when an append completes
a cached node, so it may lag the log by less than one: appends bring it forward (``_writer``).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store._base import Base, Token, UtcDateTime

Hash = LargeBinary(32)
#: 64-bit everywhere; spelled INTEGER on SQLite, where that makes the column the rowid.
SEQ = BigInteger().with_variant(Integer(), "sqlite")


class AuditEntryRow(Base):
    """One entry of the hash chain; ``seq`` is its 0-based place and its Merkle leaf index."""

    __tablename__ = "audit_entries"

    #: On SQLite an INTEGER primary key is the rowid itself: one B-tree fewer to write on every append.
    seq: Mapped[int] = mapped_column(SEQ, primary_key=True, autoincrement=False)
    recorded_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    kind: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str] = mapped_column(String(64))
    correlation_id: Mapped[str] = mapped_column(String(64))
    sender: Mapped[str] = mapped_column(String(120))
    recipient: Mapped[str] = mapped_column(String(120))
    service: Mapped[str] = mapped_column(String(160))
    purpose_code: Mapped[str] = mapped_column(Text)
    legal_basis: Mapped[str] = mapped_column(Text)
    case_number: Mapped[str] = mapped_column(Text)
    consent_ref: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    payload_sha256: Mapped[bytes] = mapped_column(Hash)
    #: The canonical signatures encoding (count, then keyid and sig of each).
    signatures: Mapped[bytes] = mapped_column(LargeBinary)
    #: Subject tokens concatenated (16 bytes each); also indexed in ``audit_subjects``.
    subject_tokens: Mapped[bytes] = mapped_column(LargeBinary)
    outcome: Mapped[str] = mapped_column(Text)
    #: The signed payload bytes, nulled after the retention period.
    payload: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    prev_hash: Mapped[bytes] = mapped_column(Hash)
    entry_hash: Mapped[bytes] = mapped_column(Hash)

    __table_args__ = (
        Index("ix_audit_entries_message_id", "message_id"),
        #: The bodies the retention purge looks for, by age: only entries that keep a body (a feed receipt, a
        #: review), so that the query path's appends, which keep none, write one index page fewer per commit.
        Index(
            "ix_audit_entries_bodies",
            "recorded_at",
            sqlite_where=text("payload IS NOT NULL"),
            postgresql_where=text("payload IS NOT NULL"),
        ),
    )


class AuditSubjectRow(Base):
    """Which entries name a person (by token): the access report reads this index."""

    __tablename__ = "audit_subjects"

    token: Mapped[bytes] = mapped_column(Token, primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)

    #: SQLite: the primary key is the table (no separate rowid B-tree to write on every append).
    __table_args__ = ({"sqlite_with_rowid": False},)


class AuditNodeRow(Base):
    """A complete Merkle subtree hash, cached once it is complete (it never changes after that).

    Only levels ≥ ``NODE_CACHE_LEVEL`` are kept (one row per 128 appends, amortised); smaller subtrees
    are rehashed from at most 128 entry hashes when a proof needs them.
    """

    __tablename__ = "audit_nodes"

    level: Mapped[int] = mapped_column(SmallInteger, primary_key=True, autoincrement=False)
    idx: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    hash: Mapped[bytes] = mapped_column(Hash)


class AuditHeadRow(Base):
    """The single row (``id = 1``) every append locks: size, last entry hash, the tree's right border, as of
    the last append that saved them (every append on PostgreSQL; on SQLite one that completed a cached node)."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    size: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[bytes] = mapped_column(Hash)
    #: Hashes of the complete subtrees for the set bits of ``size``, largest first, concatenated.
    frontier: Mapped[bytes] = mapped_column(LargeBinary)


class AuditCheckpointRow(Base):
    """A signed tree head. ``body`` is the exact signed text; the other columns are read from it."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    tree_size: Mapped[int] = mapped_column(BigInteger, index=True)
    root_hash: Mapped[bytes] = mapped_column(Hash)
    issued_at: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    keyid: Mapped[str] = mapped_column(String(64))
    signature: Mapped[bytes] = mapped_column(LargeBinary)
    body: Mapped[str] = mapped_column(Text)
