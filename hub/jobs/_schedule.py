"""APScheduler 3 wired to the runner: cron strings from configuration, jobs persisted in the hub database.

``AsyncIOScheduler`` keeps each job's next due time in its ``SQLAlchemyJobStore`` table (``apscheduler_jobs``,
created by APScheduler in the hub database), so a hub that was down at a due time still sees it when it comes
back: with ``coalesce=True`` the missed times become one run, if within ``misfire_grace_time``; later than
that the due time is recorded as missed. ``max_instances=1`` keeps one run per job in a process; the runner's
database lease keeps one across replicas.

The scheduler's executor is replaced by one that hands the due time itself to ``JobRunner.run_due``: the due
time, not the moment the process got round to it, names the run, so every replica firing the same due time
competes for the same row.

At start the configured schedule is reconciled with the stored one: a job whose cron is unchanged keeps its
stored next due time (that is what makes a missed run visible), a changed one is rescheduled, a removed one
dropped. Every ``takeover_check_seconds`` the hub also looks for runs whose holder died, and resumes them.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import sys
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobExecutionEvent,
    JobSubmissionEvent,
)
from apscheduler.executors.base import BaseExecutor
from apscheduler.jobstores.base import ConflictingIdError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from hub.config import JobSettings
from hub.errors import InvalidArgument
from hub.jobs._cron import cron_trigger
from hub.jobs._job import RunStatus
from hub.jobs._runner import JobRunner

log = logging.getLogger("hub.jobs.scheduler")

#: APScheduler's own table in the hub database (not an Alembic-managed table).
JOBSTORE_TABLE = "apscheduler_jobs"


def due(name: str) -> None:
    """The callable APScheduler stores for every job. Never called: the runner executor runs the job."""
    raise RuntimeError(f"job {name} must run through hub.jobs.JobScheduler")


@dataclass(frozen=True)
class PlannedJob:
    name: str
    cron: str
    next_run_at: dt.datetime | None


class RunnerExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs a due job through ``JobRunner.run_due`` with its due time, or records it missed past the grace."""

    def __init__(self, runner: JobRunner) -> None:
        super().__init__()
        self._runner = runner
        self._pending: set[asyncio.Task[None]] = set()

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop: asyncio.AbstractEventLoop = scheduler._eventloop

    def shutdown(self, wait: bool = True) -> None:
        for task in self._pending:
            task.cancel()
        self._pending.clear()

    def _do_submit_job(self, job: Any, run_times: list[dt.datetime]) -> None:
        scheduled_for = run_times[-1].astimezone(dt.UTC)  # coalesced: the latest due time stands for all
        task = self._loop.create_task(self._run(job, scheduled_for))
        self._pending.add(task)

        def done(finished: asyncio.Task[None]) -> None:
            self._pending.discard(finished)
            if finished.cancelled():
                self._run_job_error(job.id, asyncio.CancelledError(), None)
            elif finished.exception() is not None:
                error = finished.exception()
                self._run_job_error(job.id, error, error.__traceback__ if error else None)

        task.add_done_callback(done)

    async def _run(self, job: Any, scheduled_for: dt.datetime) -> None:
        late = dt.datetime.now(dt.UTC) - scheduled_for
        if job.misfire_grace_time is not None and late > dt.timedelta(seconds=job.misfire_grace_time):
            self._runner.record_missed(job.id, scheduled_for, late)
            self._run_job_success(
                job.id, [JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, scheduled_for)]
            )
            return
        try:
            await self._runner.run_due(job.id, scheduled_for)
        except Exception as error:
            event = JobExecutionEvent(
                EVENT_JOB_ERROR,
                job.id,
                job._jobstore_alias,
                scheduled_for,
                exception=error,
                traceback=sys.exc_info()[2],
            )
            log.exception("job %s due %s could not be run", job.id, scheduled_for.isoformat())
            self._run_job_success(job.id, [event])
            return
        self._run_job_success(
            job.id, [JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, scheduled_for)]
        )


class JobScheduler:
    """Fires the runner's jobs on their cron schedules; see the module docstring."""

    def __init__(self, runner: JobRunner, schedule: Mapping[str, str], settings: JobSettings, engine: Engine) -> None:
        self.runner = runner
        self.settings = settings
        self.engine = engine
        self.timezone = ZoneInfo(settings.timezone)
        self.schedule = {name: cron.strip() for name, cron in schedule.items()}
        unknown = sorted(set(self.schedule) - set(runner.jobs))
        if unknown:
            raise InvalidArgument(f"jobs.cron.{unknown[0]}", f"no job is named {unknown[0]!r}")
        self.triggers = {
            name: cron_trigger(cron, self.timezone, f"jobs.cron.{name}") for name, cron in self.schedule.items() if cron
        }
        self._aps: AsyncIOScheduler | None = None
        self._watch: asyncio.Task[None] | None = None

    def _new_scheduler(self) -> AsyncIOScheduler:
        return AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=self.engine, tablename=JOBSTORE_TABLE)},
            executors={"default": RunnerExecutor(self.runner)},
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": self._grace,
            },
            timezone=self.timezone,
        )

    @property
    def _grace(self) -> int:
        return max(1, round(self.settings.misfire_grace_seconds))

    async def start(self) -> None:
        """Start firing due jobs (missed ones first) and watching for runs to take over."""
        ensure_jobstore_table(self.engine)
        aps = self._new_scheduler()
        aps.add_listener(self._still_running, EVENT_JOB_MAX_INSTANCES)
        aps.start(paused=True)
        self._aps = aps
        self._reconcile(aps)
        aps.resume()
        self._watch = asyncio.get_running_loop().create_task(self._take_over_forever(), name="job-takeover")

    def _still_running(self, event: JobSubmissionEvent) -> None:
        """A due time that found this process still running the job's previous run: kept in the history."""
        for due_time in event.scheduled_run_times:
            explanation = "the previous run of this job was still running in this hub"
            self.runner.leases.record(
                event.job_id, due_time.astimezone(dt.UTC), "schedule", RunStatus.SKIPPED, explanation
            )

    def _reconcile(self, aps: AsyncIOScheduler) -> None:
        for name, trigger in self.triggers.items():
            existing = aps.get_job(name)
            if existing is None:
                with contextlib.suppress(ConflictingIdError):  # another replica added it this instant
                    aps.add_job(due, trigger, id=name, name=name, args=[name])
                continue
            if repr(existing.trigger) != repr(trigger):
                log.info("job %s: schedule changed to %r", name, self.schedule[name])
                aps.reschedule_job(name, trigger=trigger)
            if existing.misfire_grace_time != self._grace:
                aps.modify_job(name, misfire_grace_time=self._grace)
        for job in aps.get_jobs():
            if job.id not in self.triggers:
                log.info("job %s is no longer scheduled", job.id)
                aps.remove_job(job.id)

    async def _take_over_forever(self) -> None:
        while True:
            try:
                await self.runner.resume_stale()
            except Exception:  # the database away for a moment, say: the loop must outlive it
                log.exception("looking for runs to take over failed; trying again")
            await asyncio.sleep(self.settings.takeover_check_seconds)

    async def stop(self) -> None:
        """Stop firing, then stop the runs in hand (their leases are released for the next hub)."""
        if self._watch is not None:
            self._watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watch
            self._watch = None
        if self._aps is not None and self._aps.running:
            self._aps.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        self._aps = None
        await self.runner.stop()

    def planned(self) -> list[PlannedJob]:
        """Every job with its cron and next due time (from the job store, so a pending missed run shows)."""
        return plan(self.runner.jobs, self.schedule, self.engine, self.timezone)


def plan(jobs: Collection[str], schedule: Mapping[str, str], engine: Engine, timezone: tzinfo) -> list[PlannedJob]:
    """Every job in ``jobs`` with its cron and next due time: the stored one (a pending missed run shows), else
    the cron's next; none for on-demand jobs."""
    stored = next_run_times(engine)
    now = dt.datetime.now(timezone)
    planned = []
    for name in sorted(jobs):
        cron = schedule.get(name, "")
        next_run = stored.get(name) or (cron_trigger(cron, timezone).get_next_fire_time(None, now) if cron else None)
        planned.append(PlannedJob(name, cron, next_run if cron else None))
    return planned


def ensure_jobstore_table(engine: Engine) -> None:
    """Create APScheduler's table, tolerating a replica that creates it at the same moment."""
    table = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE).jobs_t
    for _ in range(3):
        try:
            table.create(engine, checkfirst=True)
            return
        except SQLAlchemyError:
            if inspect(engine).has_table(JOBSTORE_TABLE):
                return


def next_run_times(engine: Engine) -> dict[str, dt.datetime | None]:
    """Each stored job's next due time, read without starting a scheduler (``hubctl jobs list``)."""
    if not inspect(engine).has_table(JOBSTORE_TABLE):
        return {}
    store = SQLAlchemyJobStore(engine=engine, tablename=JOBSTORE_TABLE)
    return {job.id: job.next_run_time for job in store.get_all_jobs()}
