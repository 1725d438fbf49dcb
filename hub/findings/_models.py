"""Tables of the comparisons: runs, findings (预警线索) and each finding's history.

A finding is keyed by what was found — (rule, locality, household, subject, evidence key) — so a comparison
re-run inserts nothing it has already raised, and a dismissed finding comes back (as a new finding pointing at
the old one) only when its evidence changed. ``evidence`` is the JSON the engine writes in SQL: the feed
versions and record keys read and the values compared. Tokens only; the person is named from the roster when a
bureau exports its findings.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import cast

from sqlalchemy import BigInteger, Date, ForeignKey, Index, Integer, String, Table, Text, select
from sqlalchemy.orm import Mapped, column_property, mapped_column

from hub.store._base import Base, Code, Token, UtcDateTime, utcnow


class Status(StrEnum):
    """open → under_review → confirmed | dismissed; only a named person moves a finding past ``open``."""

    OPEN = "open"
    UNDER_REVIEW = "under_review"
    CONFIRMED = "confirmed"
    DISMISSED = "dismissed"


#: Findings still waiting for a person's decision.
ACTIVE = (Status.OPEN.value, Status.UNDER_REVIEW.value)


class RunStatus(StrEnum):
    RUNNING = "running"
    COMPLETE = "complete"
    FAILED = "failed"


class ComparisonRunRow(Base):
    """One comparison: when, as of which day, over which region, with which rules, and what it found."""

    __tablename__ = "comparison_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    region: Mapped[str] = mapped_column(String(6), default="")
    rules_digest: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(12))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    #: JSON: {rule: {"new": n, "unchanged": n, "updated": n, "reopened": n}}.
    counts: Mapped[str] = mapped_column(Text, default="{}")
    #: JSON: {kind: [feed version ids]} read by the run.
    versions: Mapped[str] = mapped_column(Text, default="{}")
    error: Mapped[str | None] = mapped_column(Text, default=None)


class FindingSightingRow(Base):
    """The last comparison run that found a finding again with unchanged evidence: one narrow row per finding,
    upserted by the run, so that a re-run rewrites a few bytes per known finding and none of its wide row or
    indexes (on PostgreSQL the free space left in each page makes the rewrite a HOT update).

    No foreign key: the comparison's merge is the only writer, it writes only ids it has just matched in
    ``findings``, and findings are never deleted.
    """

    __tablename__ = "finding_sightings"

    finding: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    run: Mapped[int] = mapped_column(Integer)

    __table_args__ = ({"postgresql_with": {"fillfactor": 50}},)


class FindingRow(Base):
    __tablename__ = "findings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    rule: Mapped[str] = mapped_column(Code(64))
    #: Prefix of the rule file that applied ("" for the default).
    region: Mapped[str] = mapped_column(String(6))
    signal: Mapped[str] = mapped_column(String(12))
    severity: Mapped[str] = mapped_column(String(8))
    #: GB/T 2260 code of the paying bureau's area, from the roster.
    locality: Mapped[str] = mapped_column(Code(6))
    programme: Mapped[str] = mapped_column(String(32))
    #: Token of the household head (the roster's household key).
    household: Mapped[bytes] = mapped_column(Token)
    #: Token of the person a person-level rule is about; ``None`` for household-level rules.
    person: Mapped[bytes | None] = mapped_column(Token, default=None)
    #: The person's or (household rules) the household's token.
    subject: Mapped[bytes] = mapped_column(Token)
    #: The values compared, as text: equal keys mean the same evidence.
    evidence_key: Mapped[str] = mapped_column(Code(255))
    evidence: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(Code(16), default=Status.OPEN.value)
    #: Member id of the civil-affairs bureau whose jurisdiction holds ``locality`` (longest prefix).
    bureau: Mapped[str | None] = mapped_column(Code(64), default=None)
    due_on: Mapped[dt.date] = mapped_column(Date)
    raised_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    first_run: Mapped[int] = mapped_column(Integer)
    #: The run that raised it or last refreshed its evidence. A run that finds it again unchanged writes
    #: ``finding_sightings`` instead: rewriting every known finding's wide row on each run cost more than the
    #: comparison's joins. ``Finding.last_run`` is the later of the two.
    last_run: Mapped[int] = mapped_column(Integer)
    #: The closed finding this one reopens, when the evidence changed after a decision.
    previous: Mapped[int | None] = mapped_column(Integer, default=None)
    reviewer: Mapped[str | None] = mapped_column(String(100), default=None)
    #: Member id of the bureau the reviewer acted for.
    reviewed_by: Mapped[str | None] = mapped_column(String(64), default=None)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: Set when a duplicate is confirmed: overlapping months × the redundant monthly amount.
    overpayment_fen: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: The last run that found it again unchanged, if any (read with the row).
    seen_run: Mapped[int | None] = column_property(
        select(FindingSightingRow.run)
        .where(FindingSightingRow.finding == id)
        .correlate_except(FindingSightingRow)
        .scalar_subquery()
    )

    __table_args__ = (
        #: What was found, once: the engine's merge probes it, and so does every re-run.
        Index("uq_findings_evidence", "rule", "locality", "household", "subject", "evidence_key", unique=True),
        #: A bureau's list (by status), and the localities a re-route walks.
        Index("ix_findings_bureau", "bureau", "status", "locality"),
    )


class FindingEventRow(Base):
    """A step in a finding's life: a review decision, or new evidence for an undecided finding."""

    __tablename__ = "finding_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    finding: Mapped[int] = mapped_column(ForeignKey("findings.id"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    #: "review" (a person's step) or "evidence" (a comparison run refreshed it).
    kind: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str] = mapped_column(String(16))
    to_status: Mapped[str] = mapped_column(String(16))
    #: The person (reviews) or ``comparison`` (evidence updates).
    actor: Mapped[str] = mapped_column(String(100))
    member: Mapped[str | None] = mapped_column(String(64), default=None)
    reason: Mapped[str | None] = mapped_column(Text, default=None)
    #: For evidence updates: the evidence replaced.
    detail: Mapped[str | None] = mapped_column(Text, default=None)
    run: Mapped[int | None] = mapped_column(Integer, default=None)


#: The Core tables, for the set-based statements of the engine.
FINDINGS = cast(Table, FindingRow.__table__)
EVENTS = cast(Table, FindingEventRow.__table__)
SIGHTINGS = cast(Table, FindingSightingRow.__table__)


def table_names() -> list[str]:
    """Every table of the findings area, for ``scripts/render_migration.py``."""
    return [
        ComparisonRunRow.__tablename__,
        FindingRow.__tablename__,
        FindingSightingRow.__tablename__,
        FindingEventRow.__tablename__,
    ]
