"""The database lease on a job run: claim a due time, renew while alive, take over once the holder is gone.

Every step is one conditional statement, so it is atomic on SQLite and PostgreSQL alike, with no advisory
locks and no clock but the holders' (keep hub clocks within a fraction of ``lease_seconds``):

- claim: ``INSERT`` a ``running`` row. The unique (job, scheduled_for) makes a due time run once across
  replicas; the partial unique index on running rows makes runs of one job never overlap.
- renew / save / finish: ``UPDATE … WHERE id = ? AND holder = me AND status = 'running'``. No row updated
  means the lease was lost: the caller stops and writes nothing more.
- take over: ``UPDATE … SET holder = me WHERE id = ? AND holder = old AND heartbeat_at < now - lease``:
  of several survivors racing, exactly one wins.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

from sqlalchemy import CursorResult, Result, delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.errors import FailedPrecondition, LeaseLost
from hub.jobs._job import RunStatus
from hub.jobs._models import JobRunItemRow, JobRunRow
from hub.store import Store
from hub.store._base import utcnow

Clock = Callable[[], dt.datetime]
#: A released lease: stale for everyone at once, so the next process resumes the run without waiting.
RELEASED = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


def process_holder() -> str:
    """``host:pid:nonce``: the nonce tells a restarted process from its predecessor with the same pid."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass
class Claim:
    """A run this process holds, and what it needs to (re)start it."""

    run_id: int
    job: str
    scheduled_for: dt.datetime
    trigger: str
    attempts: int
    checkpoint: dict[str, Any] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    progress_done: int = 0
    progress_total: int = 0

    @property
    def resumed(self) -> bool:
        return self.attempts > 1


class Leases:
    def __init__(self, store: Store, holder: str, lease: dt.timedelta, *, clock: Clock = utcnow) -> None:
        self.store = store
        self.holder = holder
        self.lease = lease
        self.clock = clock

    # --- claiming -----------------------------------------------------------------------------------------

    def claim(self, job: str, scheduled_for: dt.datetime, trigger: str) -> Claim | None:
        """Start the run of ``job`` due at ``scheduled_for``; ``None`` if another process already has it.

        Raises ``FailedPrecondition`` if another run of ``job`` is still running (runs never overlap).
        """
        for _ in range(3):
            run_id = self._insert(job, scheduled_for, trigger)
            if run_id is not None:
                return Claim(run_id, job, scheduled_for, trigger, 1)
            with self.store.session() as session:
                if session.scalar(select(JobRunRow.id).where(_slot(job, scheduled_for))) is not None:
                    return None
                running = session.execute(
                    select(JobRunRow.id, JobRunRow.holder).where(JobRunRow.job == job, _is_running())
                ).first()
            if running is not None:
                raise FailedPrecondition(
                    f"job {job} is already running (run {running.id}, held by {running.holder})",
                    run_id=str(running.id),
                )
            # the running one finished in between: try again
        raise FailedPrecondition(f"job {job} could not be started; try again")

    def _insert(self, job: str, scheduled_for: dt.datetime, trigger: str) -> int | None:
        now = self.clock()
        row = JobRunRow(
            job=job,
            scheduled_for=scheduled_for,
            trigger=trigger,
            status=RunStatus.RUNNING,
            started_at=now,
            holder=self.holder,
            heartbeat_at=now,
            attempts=1,
            progress_done=0,
            progress_total=0,
            counts={},
            error="",
            report={},
            checkpoint={},
        )
        try:
            with self.store.session() as session:
                session.add(row)
                session.flush()
                return row.id
        except IntegrityError:
            return None

    def record(self, job: str, scheduled_for: dt.datetime, trigger: str, status: RunStatus, error: str) -> None:
        """A due time that did not run (skipped, missed): kept in the history, once."""
        now = self.clock()
        try:
            with self.store.session() as session:
                session.add(
                    JobRunRow(
                        job=job,
                        scheduled_for=scheduled_for,
                        trigger=trigger,
                        status=status,
                        started_at=now,
                        finished_at=now,
                        holder=self.holder,
                        heartbeat_at=now,
                        attempts=0,
                        progress_done=0,
                        progress_total=0,
                        counts={},
                        error=error,
                        report={},
                        checkpoint={},
                    )
                )
        except IntegrityError:
            pass  # another replica recorded (or ran) this due time

    # --- taking over --------------------------------------------------------------------------------------

    def stale(self) -> list[tuple[int, str]]:
        """(run id, holder) of running runs whose lease has expired, oldest first."""
        threshold = self.clock() - self.lease
        with self.store.session() as session:
            rows = session.execute(
                select(JobRunRow.id, JobRunRow.holder)
                .where(_is_running(), JobRunRow.heartbeat_at < threshold)
                .order_by(JobRunRow.id)
            ).all()
        return [(row.id, row.holder) for row in rows]

    def take_over(self, run_id: int, old_holder: str) -> Claim | None:
        """Become the holder of a stale run; ``None`` if it was renewed, finished or taken by someone else."""
        now = self.clock()
        with self.store.session() as session:
            taken = rowcount(
                session.execute(
                    update(JobRunRow)
                    .where(
                        JobRunRow.id == run_id,
                        _is_running(),
                        JobRunRow.holder == old_holder,
                        JobRunRow.heartbeat_at < now - self.lease,
                    )
                    .values(holder=self.holder, heartbeat_at=now, attempts=JobRunRow.attempts + 1)
                )
            )
            if taken != 1:
                return None
            row = session.get_one(JobRunRow, run_id)
            return Claim(
                run_id=row.id,
                job=row.job,
                scheduled_for=row.scheduled_for,
                trigger=row.trigger,
                attempts=row.attempts,
                checkpoint=dict(row.checkpoint or {}),
                counts=dict(row.counts or {}),
                progress_done=row.progress_done,
                progress_total=row.progress_total,
            )

    # --- while holding ------------------------------------------------------------------------------------

    def renew(self, run_id: int, **values: Any) -> bool:
        """Extend the lease (and write ``values``: progress, counts, checkpoint); ``False`` if it was lost."""
        with self.store.session() as session:
            return self._update(session, run_id, heartbeat_at=self.clock(), **values)

    def save(self, run_id: int, **values: Any) -> None:
        """Like ``renew``, but raise ``LeaseLost`` instead of returning ``False``."""
        if not self.renew(run_id, **values):
            raise LeaseLost(f"run {run_id} is no longer held by this process ({self.holder})", run_id=str(run_id))

    def finish(self, run_id: int, status: RunStatus, **values: Any) -> bool:
        now = self.clock()
        with self.store.session() as session:
            return self._update(session, run_id, status=status, finished_at=now, heartbeat_at=now, **values)

    def release(self, run_id: int, **values: Any) -> bool:
        """Give the run up unfinished (a clean shutdown): the next hub to look resumes it from its checkpoint."""
        with self.store.session() as session:
            return self._update(session, run_id, heartbeat_at=RELEASED, **values)

    def hold(self, session: Session, run_id: int, **values: Any) -> bool:
        """Renew the lease (and write ``values``) inside ``session``'s transaction: work written with it is
        written only if the run is still held.

        On PostgreSQL the row lock this takes makes a concurrent take-over wait, then see a fresh heartbeat.
        """
        return self._update(session, run_id, heartbeat_at=self.clock(), **values)

    def _update(self, session: Session, run_id: int, **values: Any) -> bool:
        statement = (
            update(JobRunRow)
            .where(JobRunRow.id == run_id, JobRunRow.holder == self.holder, _is_running())
            .values(**values)
        )
        return rowcount(session.execute(statement)) == 1


def purge_items(store: Store, older_than: dt.datetime) -> int:
    """Drop the per-person records of runs finished before ``older_than``; the runs' own rows stay."""
    with store.session() as session:
        finished = select(JobRunRow.id).where(JobRunRow.finished_at < older_than)
        return rowcount(session.execute(delete(JobRunItemRow).where(JobRunItemRow.run_id.in_(finished))))


def rowcount(result: Result[Any]) -> int:
    """Rows an ``UPDATE``/``INSERT``/``DELETE`` touched."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def _slot(job: str, scheduled_for: dt.datetime) -> Any:
    return (JobRunRow.job == job) & (JobRunRow.scheduled_for == scheduled_for)


def _is_running() -> Any:
    return JobRunRow.status == RunStatus.RUNNING.value
