"""The intake's two transactions: store one chunk, finish one version.

Each starts with a conditional ``UPDATE`` of the version row (expected ``next_sequence`` and status): it
takes the write lock (SQLite) or row lock (PostgreSQL) first, and if another stream got there before, it
matches nothing and the caller reads the state again (``Overtaken``) instead of writing twice.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace

from sqlalchemy import Connection, delete, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.feeds._bulk import BulkWriter, rowcount
from hub.feeds._chunks import version_digest
from hub.feeds._kinds import kind_by_code
from hub.feeds._matches import match_completed
from hub.feeds._meta import Policy, VersionStatus
from hub.feeds._receipt import VersionState
from hub.feeds._tables import FeedChunkRow, FeedCurrentRow, FeedRejectionRow, FeedVersionRow, record_tables
from hub.feeds._validate import ValidatedChunk
from hub.store import Store

#: Records, on the connection given, the message whose effect the transaction stores (``Admitted.record_on``).
Journaling = Callable[[Connection], None]

#: Helper threads SQLite's sorter may use while a completed version is indexed by person.
SORT_THREADS = min(4, os.cpu_count() or 1)


class Overtaken(Exception):
    """Another stream changed the version between our read and our write; read again and re-decide."""


@dataclass(frozen=True)
class PreparedChunk:
    """A chunk checked and validated against ``state`` (the version before it), ready to be written."""

    key: int
    state: VersionState
    sequence: int
    chunk_sha256: bytes
    #: The rows as received, kept to prepare the chunk again if the version moves before it is written.
    rows: bytes
    supplier: str | None
    records: int
    validated: ValidatedChunk
    received_at: dt.datetime

    @property
    def after(self) -> tuple[int, VersionState]:
        """The version's key and state once this chunk is stored: what the next chunk is prepared against."""
        validated = self.validated
        return self.key, replace(
            self.state,
            next_sequence=self.sequence + 1,
            received_records=self.state.received_records + self.records,
            accepted_records=self.state.accepted_records + validated.accepted,
            rejected_records=self.state.rejected_records + len(validated.rejections),
        )


def store_chunk(
    store: Store, writer: BulkWriter, prepared: PreparedChunk, journal: Journaling | None = None
) -> VersionState:
    """Write a prepared chunk: counts, chunk row, rejections and rows together; returns the new state.

    ``journal`` records the message that carried the chunk in the same transaction, last, so that the audit
    log's head (which every audited request locks) is held only for the commit, not for the rows.
    """
    key, state, sequence, validated, now = (
        prepared.key,
        prepared.state,
        prepared.sequence,
        prepared.validated,
        prepared.received_at,
    )
    rejected = len(validated.rejections)
    # Rows of a version that will be rejected anyway are not written (those before are removed at the end).
    doomed = state.policy == Policy.REJECT_VERSION and (state.rejected_records + rejected) > 0
    with store.session() as session:
        if store.dialect == "postgresql":
            # The client learns nothing before the receipt, whose commit is synchronous: an unflushed chunk
            # lost in a database crash is simply sent again (the resume point is read back).
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        claimed = session.execute(
            update(FeedVersionRow)
            .where(
                FeedVersionRow.id == key,
                FeedVersionRow.next_sequence == sequence,
                FeedVersionRow.status == str(VersionStatus.RECEIVING),
            )
            .values(
                next_sequence=sequence + 1,
                received_records=FeedVersionRow.received_records + prepared.records,
                accepted_records=FeedVersionRow.accepted_records + validated.accepted,
                rejected_records=FeedVersionRow.rejected_records + rejected,
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) != 1:
            raise Overtaken
        session.execute(
            insert(FeedChunkRow).values(
                version=key,
                sequence=sequence,
                sha256=prepared.chunk_sha256,
                records=prepared.records,
                accepted=validated.accepted,
                rejected=rejected,
                received_at=now,
            )
        )
        if validated.rejections:
            session.execute(
                insert(FeedRejectionRow),
                [
                    {"version": key, "row_number": r.row_number, "field": r.field}
                    | {"problem": r.problem[:32], "reason": r.reason[:400]}
                    for r in validated.rejections
                ],
            )
        if validated.accepted and not doomed:
            records_table, _ = record_tables(kind_by_code(state.kind))
            columns = {"version": [key] * validated.accepted, "row_number": validated.row_numbers}
            writer.insert(session, records_table, columns | validated.columns)
        if journal is not None:
            journal(session.connection())
    return prepared.after[1]


def finish_version(store: Store, row: FeedVersionRow, now: dt.datetime) -> None:
    """Complete or reject a fully received version, index it by person, switch the pointer and match the version
    with the rosters (``hub.feeds._matches``), at once."""
    rejected = row.policy == Policy.REJECT_VERSION and row.rejected_records > 0
    status = VersionStatus.REJECTED if rejected else VersionStatus.COMPLETE
    records_table, by_person = record_tables(kind_by_code(row.kind))
    with store.session() as session:
        claimed = session.execute(
            update(FeedVersionRow)
            .where(
                FeedVersionRow.id == row.id,
                FeedVersionRow.status == str(VersionStatus.RECEIVING),
                FeedVersionRow.next_sequence == row.next_sequence,
            )
            .values(status=str(status), completed_at=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        if rowcount(claimed) != 1:
            raise Overtaken
        hashes = session.scalars(
            select(FeedChunkRow.sha256).where(FeedChunkRow.version == row.id).order_by(FeedChunkRow.sequence)
        ).all()
        made_current = False
        if rejected:
            session.execute(delete(records_table).where(records_table.c.version == row.id))
        else:
            columns = [c.name for c in by_person.columns]
            ordered = (
                select(*(records_table.c[name] for name in columns))
                .where(records_table.c.version == row.id)
                .order_by(records_table.c.token, records_table.c.row_number)
            )
            # Built in key order once, not row by row per chunk: the difference between a sequential
            # B-tree append and a random leaf page rewritten per row.
            with _sorting(session, store.dialect):
                session.execute(insert(by_person).from_select(columns, ordered))
            made_current = _switch_current(session, row, now)
            if made_current:
                # Which of its persons are on the current rosters (or, for a roster, in the current feeds):
                # what a comparison reads, worked out while the version's pages are still warm.
                match_completed(session, row)
        session.execute(
            update(FeedVersionRow)
            .where(FeedVersionRow.id == row.id)
            .values(digest=version_digest(hashes), made_current=made_current)
            .execution_options(synchronize_session=False)
        )


@contextmanager
def _sorting(session: Session, dialect: str) -> Iterator[None]:
    """Settings for indexing a completed version by person, the one long step of an upload (run while the
    supplier waits for the receipt). PostgreSQL: memory to sort 2 M tokens in few runs. SQLite: helper threads
    for its sorter (about a fifth off at 2 M rows on 2 cores), put back afterwards (the setting is per
    connection).

    SQLite keeps its default page cache here. A 256 MB one, meant for the rosters' by-household index (which
    takes its entries in random order), made the upload's peak memory grow with the feed: 147 → 504 MB from
    200 k to 2 M records, against 114 → 115 MB with the default, which also completed the 2 M records faster
    (2.1 s against 4.5 s: the big cache is filled, then written back). A 1 M-person roster completes in 6.0 s
    instead of 5.3 s without it (bench/feeds_upload.py, 2026-12-07)."""
    if dialect == "postgresql":
        session.execute(text("SET LOCAL work_mem = '64MB'"))
        yield
        return
    session.execute(text(f"PRAGMA threads = {SORT_THREADS}"))
    try:
        yield
    finally:
        session.execute(text("PRAGMA threads = 0"))


def _switch_current(session: Session, row: FeedVersionRow, now: dt.datetime) -> bool:
    """Point the feed at ``row`` unless its current version covers a later period; True if it now does."""
    key = {"department": row.department, "supplier": row.supplier, "kind": row.kind}
    upsert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(upsert(FeedCurrentRow).values(**key, version=row.id, switched_at=now).on_conflict_do_nothing())
    pointer = session.scalars(select(FeedCurrentRow).filter_by(**key).with_for_update()).one()
    if pointer.version == row.id:
        return True
    current_end = session.scalar(select(FeedVersionRow.period_end).where(FeedVersionRow.id == pointer.version))
    if current_end is not None and current_end > row.period_end:
        return False
    pointer.version = row.id
    pointer.switched_at = now
    return True
