"""Runs jobs as leased, recorded runs: once per due time across replicas, resumed after a crash.

``run_due`` is what the scheduler calls when a job is due; ``start_now``/``run_now`` serve an operator;
``resume_stale`` takes over runs whose holder stopped renewing its lease (a killed hub, a dead replica) and
resumes each from its last checkpoint. A heartbeat renews the lease of every run in hand, writing its
progress; a run whose lease was lost is cancelled and writes nothing more.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Mapping

from sqlalchemy import func, select

from hub.config import Settings
from hub.errors import FailedPrecondition, LeaseLost, NotFound
from hub.jobs._context import JobContext
from hub.jobs._job import Job, RunStatus
from hub.jobs._lease import Claim, Clock, Leases, process_holder
from hub.jobs._models import JobRunRow
from hub.jobs._records import RunRecord
from hub.logs import redact
from hub.store import Store
from hub.store._base import utcnow

log = logging.getLogger("hub.jobs")

SCHEDULE = "schedule"
MANUAL = "manual"


class JobRunner:
    def __init__(
        self,
        store: Store,
        jobs: Mapping[str, Job],
        settings: Settings,
        *,
        holder: str | None = None,
        clock: Clock = utcnow,
    ) -> None:
        self.store = store
        self.jobs = dict(jobs)
        self.settings = settings
        lease = dt.timedelta(seconds=settings.jobs.lease_seconds)
        self.leases = Leases(store, holder or process_holder(), lease, clock=clock)
        self._tasks: dict[int, asyncio.Task[RunRecord]] = {}

    @property
    def holder(self) -> str:
        return self.leases.holder

    def job(self, name: str) -> Job:
        try:
            return self.jobs[name]
        except KeyError:
            known = ", ".join(sorted(self.jobs)) or "none"
            raise NotFound(f"no job is named {name!r} (jobs: {known})", job=name) from None

    # --- starting runs ------------------------------------------------------------------------------------

    async def run_due(self, name: str, scheduled_for: dt.datetime) -> RunRecord | None:
        """Run ``name`` for the due time ``scheduled_for``, unless another process has it (then ``None``).

        A due time that finds the previous run still going is recorded as skipped: runs never overlap.
        """
        self.job(name)
        try:
            claim = self.leases.claim(name, scheduled_for, SCHEDULE)
        except FailedPrecondition as busy:
            log.warning("job %s due %s skipped: %s", name, scheduled_for.isoformat(), busy.explanation)
            self.leases.record(name, scheduled_for, SCHEDULE, RunStatus.SKIPPED, busy.explanation)
            return None
        if claim is None:
            log.info("job %s due %s is run by another process", name, scheduled_for.isoformat())
            return None
        return await self._spawn(claim)

    def record_missed(self, name: str, scheduled_for: dt.datetime, late: dt.timedelta) -> None:
        explanation = f"no hub was running within {self.settings.jobs.misfire_grace_seconds:g} s of the due time"
        log.warning("job %s due %s missed by %s: %s", name, scheduled_for.isoformat(), late, explanation)
        self.leases.record(name, scheduled_for, SCHEDULE, RunStatus.MISSED, explanation)

    def start_now(self, name: str) -> RunRecord:
        """Start a run of ``name`` in the background; ``FailedPrecondition`` if one is already running."""
        claim = self._claim_now(name)
        self._spawn_background(claim)
        return self.get(claim.run_id)

    async def run_now(self, name: str) -> RunRecord:
        """Run ``name`` now and wait for the end of the run."""
        return await self._spawn(self._claim_now(name))

    def _claim_now(self, name: str) -> Claim:
        self.job(name)
        claim = self.leases.claim(name, self.leases.clock(), MANUAL)
        if claim is None:  # two requests in the same microsecond
            raise FailedPrecondition(f"job {name} was just started; see its history")
        return claim

    async def resume_stale(self) -> list[int]:
        """Take over every run whose holder stopped renewing its lease; resume each in the background."""
        resumed = []
        for run_id, holder in self.leases.stale():
            if run_id in self._tasks:
                continue  # ours, in hand: slow, not dead
            # Held by this process with no task running it (its end could not be written, say): dead, take it over.
            claim = self.leases.take_over(run_id, holder)
            if claim is None:
                continue
            log.warning("taking over run %d of job %s from %s (attempt %d)", run_id, claim.job, holder, claim.attempts)
            self._spawn_background(claim)
            resumed.append(run_id)
        return resumed

    def _spawn_background(self, claim: Claim) -> None:
        task = asyncio.get_running_loop().create_task(self._execute(claim), name=f"job-run-{claim.run_id}")
        self._tasks[claim.run_id] = task
        task.add_done_callback(lambda _: self._tasks.pop(claim.run_id, None))

    async def _spawn(self, claim: Claim) -> RunRecord:
        self._spawn_background(claim)
        return await asyncio.shield(self._tasks[claim.run_id])

    # --- executing ----------------------------------------------------------------------------------------

    async def _execute(self, claim: Claim) -> RunRecord:
        job = self.jobs.get(claim.job)
        if job is None:
            return self._end(claim, RunStatus.ABANDONED, f"job {claim.job} is not configured in this hub")
        if claim.attempts > self.settings.jobs.max_attempts:
            why = f"resumed {claim.attempts - 1} times without finishing (jobs.max_attempts = "
            return self._end(claim, RunStatus.ABANDONED, why + f"{self.settings.jobs.max_attempts})")
        context = JobContext(claim, self.leases, self.settings, log)
        beat = asyncio.get_running_loop().create_task(self._heartbeat(context, asyncio.current_task()))
        log.info("job %s run %d started (attempt %d)", claim.job, claim.run_id, claim.attempts)
        try:
            outcome = await job.run(context)
        except LeaseLost:
            log.warning("run %d of job %s: lease lost to another process; stopping", claim.run_id, claim.job)
            return self.get(claim.run_id)
        except asyncio.CancelledError:
            if context.lease_lost:
                log.warning("run %d of job %s: lease lost to another process; stopped", claim.run_id, claim.job)
                return self.get(claim.run_id)
            self.leases.release(claim.run_id, **context.snapshot())
            log.warning("run %d of job %s stopped with the hub; the next hub resumes it", claim.run_id, claim.job)
            raise
        except Exception as error:
            log.exception("run %d of job %s failed", claim.run_id, claim.job)
            return self._end(claim, RunStatus.FAILED, f"{type(error).__name__}: {error}", context)
        finally:
            beat.cancel()
        record = self._end(claim, outcome.status, outcome.message, context, report=dict(outcome.report))
        log.info("job %s run %d %s", claim.job, claim.run_id, record.status)
        return record

    def _end(
        self,
        claim: Claim,
        status: RunStatus,
        error: str,
        context: JobContext | None = None,
        *,
        report: dict[str, object] | None = None,
    ) -> RunRecord:
        values = context.snapshot() if context is not None else {}
        if not self.leases.finish(claim.run_id, status, error=redact(error), report=report or {}, **values):
            log.warning("run %d of job %s: lease lost before its end could be written", claim.run_id, claim.job)
        return self.get(claim.run_id)

    async def _heartbeat(self, context: JobContext, task: asyncio.Task[object] | None) -> None:
        interval = self.settings.jobs.heartbeat_seconds
        while True:
            await asyncio.sleep(interval)
            try:
                progress = {k: v for k, v in context.snapshot().items() if k != "counts"}  # counts: see ItemLedger
                held = await asyncio.to_thread(self.leases.renew, context.run_id, **progress)
            except Exception:  # the database is away for a moment: try again at the next beat
                log.exception("run %d: heartbeat failed", context.run_id)
                continue
            if not held:
                context.lose_lease()
                if task is not None:
                    task.cancel()
                return

    async def stop(self) -> None:
        """Stop every run in hand, releasing its lease so the next hub resumes it at once."""
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    # --- reading ------------------------------------------------------------------------------------------

    def get(self, run_id: int) -> RunRecord:
        with self.store.session() as session:
            row = session.get(JobRunRow, run_id)
            if row is None:
                raise NotFound(f"no job run {run_id}", run_id=str(run_id))
            return RunRecord.of(row)

    def history(self, name: str | None = None, limit: int = 20) -> list[RunRecord]:
        """Runs, newest due time first (of job ``name`` only, if given)."""
        query = select(JobRunRow).order_by(JobRunRow.scheduled_for.desc(), JobRunRow.id.desc()).limit(max(limit, 1))
        if name:
            query = query.where(JobRunRow.job == name)
        with self.store.session() as session:
            return [RunRecord.of(row) for row in session.scalars(query)]

    def last_runs(self) -> dict[str, RunRecord]:
        """The latest run of every job that has run."""
        latest = select(func.max(JobRunRow.id)).group_by(JobRunRow.job).scalar_subquery()
        with self.store.session() as session:
            return {
                row.job: RunRecord.of(row) for row in session.scalars(select(JobRunRow).where(JobRunRow.id.in_(latest)))
            }

    async def wait(self, run_id: int) -> RunRecord:
        """Wait for a run started here to end (tests, the CLI)."""
        task = self._tasks.get(run_id)
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(task)
        return self.get(run_id)
