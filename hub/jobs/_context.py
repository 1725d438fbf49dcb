"""What a running job sees: its run, its resume state, progress and counts, checkpoints and its item ledger.

Progress and counts live in memory; progress reaches the database with every heartbeat, counts with every
ledger write and checkpoint (never out of step with the ledger). A checkpoint also stores the job's resume
state: a resumed run starts from the last checkpoint's state, and its item ledger tells what was done after it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.config import Settings
from hub.errors import LeaseLost
from hub.jobs._lease import Claim, Leases, rowcount
from hub.jobs._models import JobRunItemRow

T = TypeVar("T")

STARTED = "started"
#: An item that was in hand when its run's process died: its question may have left, so it is not asked again.
INTERRUPTED = "interrupted"


class ItemLedger:
    """The items (persons) one run has dealt with, keyed by token: what makes a resumed run skip work done.

    ``begin`` is written (and committed) before the work, ``finish`` after it, so an item still ``started``
    when the run resumes is one whose work may already have happened: a job that must not repeat it (a question
    to a member) calls ``interrupt_started``, one whose work is harmless to redo calls ``forget_started``.

    Each write renews the run's lease in its own transaction, with the run's progress and counts: counts bumped
    just before ``finish`` are stored with it, so the counts a resumed run starts from always match its ledger.
    Nothing is written once the lease is lost: a process that was taken over can neither start an item nor
    overwrite one its successor has marked ``interrupted``.
    """

    def __init__(
        self,
        leases: Leases,
        run_id: int,
        on_lost: Callable[[], None] = lambda: None,
        snapshot: Callable[[], dict[str, Any]] = dict,
    ) -> None:
        self.store = leases.store
        self.run_id = run_id
        self.clock = leases.clock
        self._leases = leases
        self._on_lost = on_lost
        self._snapshot = snapshot

    def _hold(self, session: Session) -> None:
        if not self._leases.hold(session, self.run_id, **self._snapshot()):
            self._on_lost()
            raise LeaseLost(f"run {self.run_id} is no longer held by this process", run_id=str(self.run_id))

    def known(self, keys: Iterable[str]) -> dict[str, str]:
        """Status of each of ``keys`` this run already holds (absent: never begun)."""
        wanted = list(keys)
        if not wanted:
            return {}
        with self.store.session() as session:
            rows = session.execute(
                select(JobRunItemRow.item_key, JobRunItemRow.status).where(
                    JobRunItemRow.run_id == self.run_id, JobRunItemRow.item_key.in_(wanted)
                )
            ).all()
        return {key: status for key, status in rows}

    def begin(self, key: str) -> bool:
        """Mark ``key`` in hand; ``False`` if this run had already begun it (then leave it alone)."""
        insert = postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(JobRunItemRow)
            .values(run_id=self.run_id, item_key=key, status=STARTED, detail={}, started_at=self.clock())
            .on_conflict_do_nothing()
            .returning(JobRunItemRow.item_key)
        )
        with self.store.session() as session:
            self._hold(session)
            return session.execute(statement).first() is not None

    def finish(
        self,
        key: str,
        status: str,
        detail: Mapping[str, Any] | None = None,
        also: Callable[[Session], None] | None = None,
    ) -> None:
        """Record ``key``'s outcome; ``also`` writes in the same transaction (e.g. the audit entries)."""
        with self.store.session() as session:
            self._hold(session)
            session.execute(
                update(JobRunItemRow)
                .where(JobRunItemRow.run_id == self.run_id, JobRunItemRow.item_key == key)
                .values(status=status, detail=dict(detail or {}), finished_at=self.clock())
            )
            if also is not None:
                also(session)

    def interrupt_started(self) -> int:
        """On resume: every item still ``started`` becomes ``interrupted`` (and is not redone)."""
        with self.store.session() as session:
            self._hold(session)
            result = session.execute(
                update(JobRunItemRow)
                .where(JobRunItemRow.run_id == self.run_id, JobRunItemRow.status == STARTED)
                .values(status=INTERRUPTED, finished_at=self.clock())
            )
            return rowcount(result)

    def forget_started(self) -> int:
        """On resume: drop every item still ``started``, so that it is done again."""
        with self.store.session() as session:
            self._hold(session)
            result = session.execute(
                delete(JobRunItemRow).where(JobRunItemRow.run_id == self.run_id, JobRunItemRow.status == STARTED)
            )
            return rowcount(result)

    def with_status(self, status: str) -> list[tuple[str, dict[str, Any]]]:
        """(key, detail) of this run's items in ``status``, in key order."""
        with self.store.session() as session:
            rows = session.execute(
                select(JobRunItemRow.item_key, JobRunItemRow.detail)
                .where(JobRunItemRow.run_id == self.run_id, JobRunItemRow.status == status)
                .order_by(JobRunItemRow.item_key)
            ).all()
        return [(key, dict(detail or {})) for key, detail in rows]

    def tally(self) -> dict[str, int]:
        """Items per status: the authoritative counts for a run's report."""
        with self.store.session() as session:
            rows = session.execute(
                select(JobRunItemRow.status, func.count())
                .where(JobRunItemRow.run_id == self.run_id)
                .group_by(JobRunItemRow.status)
            ).all()
        return {status: count for status, count in rows}


class JobContext:
    """Handed to ``Job.run``. Methods that write raise ``LeaseLost`` once another process holds the run."""

    def __init__(self, claim: Claim, leases: Leases, settings: Settings, log: logging.Logger) -> None:
        self.run_id = claim.run_id
        self.job = claim.job
        self.scheduled_for = claim.scheduled_for
        self.trigger = claim.trigger
        self.attempt = claim.attempts
        self.resume_state: Mapping[str, Any] = dict(claim.checkpoint)
        self.settings = settings
        self.store = leases.store
        self.items = ItemLedger(leases, claim.run_id, self.lose_lease, self.snapshot)
        self.log = logging.LoggerAdapter(log, {"job": claim.job, "run_id": claim.run_id})
        self._leases = leases
        self._counts: dict[str, int] = dict(claim.counts)
        self._done = claim.progress_done
        self._total = claim.progress_total
        self._lost = False

    @property
    def resumed(self) -> bool:
        return self.attempt > 1

    @property
    def counts(self) -> Mapping[str, int]:
        return dict(self._counts)

    def progress(self, done: int, total: int | None = None) -> None:
        """Record progress (written with the next heartbeat or checkpoint)."""
        self.check_lease()
        self._done = done
        if total is not None:
            self._total = total

    def count(self, name: str, n: int = 1) -> None:
        self.check_lease()
        self._counts[name] = self._counts.get(name, 0) + n

    def checkpoint(self, state: Mapping[str, Any]) -> None:
        """Persist ``state`` (JSON) with progress and counts: a resumed run starts from here."""
        self.check_lease()
        try:
            self._leases.save(self.run_id, checkpoint=dict(state), **self.snapshot())
        except LeaseLost:
            self._lost = True
            raise

    def snapshot(self) -> dict[str, Any]:
        """Progress and counts as columns of the run's row."""
        return {"progress_done": self._done, "progress_total": self._total, "counts": dict(self._counts)}

    def check_lease(self) -> None:
        if self._lost:
            raise LeaseLost(f"run {self.run_id} is no longer held by this process", run_id=str(self.run_id))

    def lose_lease(self) -> None:
        self._lost = True

    @property
    def lease_lost(self) -> bool:
        return self._lost

    async def in_thread(self, function: Callable[..., T], *args: Any) -> T:
        """Run blocking work (a long SQL statement) off the event loop, so heartbeats keep the lease."""
        return await asyncio.to_thread(function, *args)
