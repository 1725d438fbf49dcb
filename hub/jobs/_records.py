"""A job run as read back from the database: what the history, the CLI and the RPCs show."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hub.jobs._job import RunStatus
from hub.jobs._models import JobRunRow


@dataclass(frozen=True)
class RunRecord:
    run_id: int
    job: str
    status: RunStatus
    trigger: str
    scheduled_for: dt.datetime
    started_at: dt.datetime
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime
    holder: str
    attempts: int
    progress_done: int
    progress_total: int
    counts: Mapping[str, int] = field(default_factory=dict)
    error: str = ""
    report: Mapping[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, row: JobRunRow) -> RunRecord:
        return cls(
            run_id=row.id,
            job=row.job,
            status=RunStatus(row.status),
            trigger=row.trigger,
            scheduled_for=row.scheduled_for,
            started_at=row.started_at,
            finished_at=row.finished_at,
            heartbeat_at=row.heartbeat_at,
            holder=row.holder,
            attempts=row.attempts,
            progress_done=row.progress_done,
            progress_total=row.progress_total,
            counts=dict(row.counts or {}),
            error=row.error,
            report=dict(row.report or {}),
        )

    @property
    def finished(self) -> bool:
        return self.status is not RunStatus.RUNNING

    def summary(self) -> str:
        """One line for a terminal: ``#12 annual_cross_check succeeded 2025-03-01 02:00 …``."""
        progress = f"{self.progress_done}/{self.progress_total or '?'}" if self.progress_done else ""
        counts = " ".join(f"{k}={v}" for k, v in sorted(self.counts.items()))
        when = self.scheduled_for.strftime("%Y-%m-%d %H:%M:%S")
        parts = [f"#{self.run_id}", self.job, str(self.status), f"due {when} UTC", self.trigger, progress, counts]
        if self.attempts > 1:
            parts.append(f"attempts={self.attempts}")
        if self.error:
            parts.append(f"error: {self.error}")
        return "  ".join(p for p in parts if p)
