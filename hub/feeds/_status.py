"""Freshness of the feeds: per department × supplier × kind, the current version, its age and counts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.config import FeedSettings
from hub.feeds._kinds import DEPARTMENTS, department_wire, kind_by_code
from hub.feeds._receipt import timestamp
from hub.feeds._tables import FeedCurrentRow, FeedVersionRow
from hub.store import Store
from hub.store._base import utcnow
from hub.v1 import feeds_pb2 as pb


@dataclass(frozen=True)
class FeedFreshness:
    department: str
    supplier: str
    kind: str
    version_id: str
    period_start: dt.date
    period_end: dt.date
    completed_at: dt.datetime
    age: dt.timedelta
    accepted_records: int
    rejected_records: int
    max_age: dt.timedelta

    @property
    def stale(self) -> bool:
        """Older than the configured maximum: the comparisons would run on old data."""
        return self.age > self.max_age

    def to_proto(self) -> pb.FeedFreshness:
        return pb.FeedFreshness(
            department=DEPARTMENTS[self.department],
            supplier=self.supplier,
            kind=kind_by_code(self.kind).wire,
            version_id=self.version_id,
            period_start=self.period_start.isoformat(),
            period_end=self.period_end.isoformat(),
            completed_at=timestamp(self.completed_at),
            age_seconds=int(self.age.total_seconds()),
            accepted_records=self.accepted_records,
            rejected_records=self.rejected_records,
            stale=self.stale,
            max_age_seconds=int(self.max_age.total_seconds()),
        )


def max_age(settings: FeedSettings, department: str) -> dt.timedelta:
    days = settings.max_age_days_by_department.get(department, settings.max_age_days)
    return dt.timedelta(days=days)


def feed_status(
    store: Store, settings: FeedSettings, department: str | None = None, *, now: dt.datetime | None = None
) -> list[FeedFreshness]:
    """Every feed with a current version (of ``department`` only, if given), by department, supplier, kind."""
    if department is not None:
        department_wire(department)  # refuse a misspelt department instead of answering "no feeds"
    now = now or utcnow()
    query = (
        select(FeedCurrentRow, FeedVersionRow)
        .join(FeedVersionRow, FeedVersionRow.id == FeedCurrentRow.version)
        .order_by(FeedCurrentRow.department, FeedCurrentRow.supplier, FeedCurrentRow.kind)
    )
    if department is not None:
        query = query.where(FeedCurrentRow.department == department)
    with store.session() as session:
        rows = session.execute(query).all()
    return [
        FeedFreshness(
            department=pointer.department,
            supplier=pointer.supplier,
            kind=pointer.kind,
            version_id=version.version_id,
            period_start=version.period_start,
            period_end=version.period_end,
            completed_at=version.completed_at or pointer.switched_at,
            age=now - (version.completed_at or pointer.switched_at),
            accepted_records=version.accepted_records,
            rejected_records=version.rejected_records,
            max_age=max_age(settings, pointer.department),
        )
        for pointer, version in rows
    ]


def current_versions(session: Session, kind: str) -> list[int]:
    """Internal ids of the current versions of ``kind`` (one per supplier): what readers filter rows by."""
    kind_by_code(kind)
    query = select(FeedCurrentRow.version).where(FeedCurrentRow.kind == kind).order_by(FeedCurrentRow.version)
    return list(session.scalars(query))
