"""Tables of the scheduled runs: one row per job run, one per item (a person) a run has dealt with.

``job_runs`` is unique on (job, scheduled_for), so two replicas that both fire one due time insert one row
between them; a partial unique index allows at most one ``running`` row per job, so runs never overlap. The
lease is the row itself: ``holder`` and ``heartbeat_at``, renewed while the holder lives and taken over with
a conditional ``UPDATE`` once it has gone stale.

``job_run_items`` is a run's memory of what it has done, item by item (a person asked, keyed by token, never
a raw ID number): a resumed run skips what is there, and a row still ``started`` after a crash marks a
question that may have left, which is therefore not asked again.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from hub.store._base import Base, UtcDateTime, utcnow

_RUNNING = text("status = 'running'")


class JobRunRow(Base):
    __tablename__ = "job_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    job: Mapped[str] = mapped_column(String(64))
    scheduled_for: Mapped[dt.datetime] = mapped_column(UtcDateTime)
    #: ``schedule`` or ``manual``.
    trigger: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)
    #: ``host:pid:nonce`` of the process holding the lease (the last one, once finished).
    holder: Mapped[str] = mapped_column(String(200))
    heartbeat_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
    progress_done: Mapped[int] = mapped_column(Integer, default=0)
    progress_total: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    error: Mapped[str] = mapped_column(Text, default="")
    report: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The job's own resume state, written by ``JobContext.checkpoint``.
    checkpoint: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    __table_args__ = (
        UniqueConstraint("job", "scheduled_for", name="uq_job_runs_job_scheduled_for"),
        Index("uq_job_runs_running", "job", unique=True, sqlite_where=_RUNNING, postgresql_where=_RUNNING),
        Index("ix_job_runs_status_heartbeat", "status", "heartbeat_at"),
    )


class JobRunItemRow(Base):
    __tablename__ = "job_run_items"

    run_id: Mapped[int] = mapped_column(ForeignKey("job_runs.id", ondelete="CASCADE"), primary_key=True)
    #: The job's key for the item, e.g. a person's token in hex; never a raw ID number.
    item_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: ``started`` while in hand; then the job's own outcome (``answered``, ``unreachable``, ...).
    status: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, default=None)

    __table_args__ = (Index("ix_job_run_items_item_key", "item_key", "finished_at"),)
