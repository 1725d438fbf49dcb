"""Scheduled runs (定时任务): the annual cross-check, periodic re-checks, comparisons, statistics, housekeeping.

Each run of a job is a record (``job_runs``): due time, holder, heartbeat, progress, counts, error, report and
the job's checkpoint. A run executes once across hub replicas sharing a database (a lease on its row), a run
whose hub died is taken over and resumed from its checkpoint, and a due time missed while every hub was down
runs once on return within a grace window. Runs of one job never overlap.

    runner = JobRunner(store, build_jobs(JobEnvironment(store, settings, ...)), settings)
    scheduler = JobScheduler(runner, schedule_for(settings, runner.jobs), settings.jobs, store.engine)
    await scheduler.start()          # APScheduler 3, jobs persisted in the hub database
    record = await runner.run_now("annual_cross_check")

A job is any object with ``name``, ``description`` and ``async run(context) -> JobOutcome``; see ``JobContext``
for what it gets (progress, counts, checkpoints, an item ledger that makes a resumed run skip work done).

The package imports its parts lazily: ``hub.store.models`` imports the tables from here, and most parts import
the registry, which imports ``hub.store.models`` in turn.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hub.jobs._assembly import HubJobs, hub_jobs
    from hub.jobs._bodies import BodyJob
    from hub.jobs._catalogue import JobEnvironment, build_jobs, schedule_for
    from hub.jobs._context import ItemLedger, JobContext
    from hub.jobs._cron import cron_trigger
    from hub.jobs._cross_check import CrossCheck
    from hub.jobs._enrolments import Enrolment, EnrolmentSource, RosterEnrolments
    from hub.jobs._feed_checks import FeedFacts
    from hub.jobs._findings import Finding, FindingSink, MemoryFindingSink
    from hub.jobs._handlers import job_handlers, run_to_proto
    from hub.jobs._job import Job, JobOutcome, RunStatus
    from hub.jobs._recheck import PeriodicRecheck
    from hub.jobs._records import RunRecord
    from hub.jobs._runner import JobRunner
    from hub.jobs._schedule import JOBSTORE_TABLE, JobScheduler, PlannedJob, plan

_EXPORTS = {
    "HubJobs": "hub.jobs._assembly",
    "hub_jobs": "hub.jobs._assembly",
    "BodyJob": "hub.jobs._bodies",
    "CrossCheck": "hub.jobs._cross_check",
    "Enrolment": "hub.jobs._enrolments",
    "EnrolmentSource": "hub.jobs._enrolments",
    "FeedFacts": "hub.jobs._feed_checks",
    "Finding": "hub.jobs._findings",
    "FindingSink": "hub.jobs._findings",
    "ItemLedger": "hub.jobs._context",
    "JOBSTORE_TABLE": "hub.jobs._schedule",
    "Job": "hub.jobs._job",
    "JobContext": "hub.jobs._context",
    "JobEnvironment": "hub.jobs._catalogue",
    "JobOutcome": "hub.jobs._job",
    "JobRunner": "hub.jobs._runner",
    "JobScheduler": "hub.jobs._schedule",
    "MemoryFindingSink": "hub.jobs._findings",
    "PeriodicRecheck": "hub.jobs._recheck",
    "PlannedJob": "hub.jobs._schedule",
    "RosterEnrolments": "hub.jobs._enrolments",
    "RunRecord": "hub.jobs._records",
    "RunStatus": "hub.jobs._job",
    "build_jobs": "hub.jobs._catalogue",
    "cron_trigger": "hub.jobs._cron",
    "job_handlers": "hub.jobs._handlers",
    "plan": "hub.jobs._schedule",
    "run_to_proto": "hub.jobs._handlers",
    "schedule_for": "hub.jobs._catalogue",
}


def __getattr__(name: str) -> Any:
    try:
        module = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'hub.jobs' has no attribute {name!r}") from None
    return getattr(importlib.import_module(module), name)


__all__ = [
    "JOBSTORE_TABLE",
    "BodyJob",
    "CrossCheck",
    "Enrolment",
    "EnrolmentSource",
    "FeedFacts",
    "Finding",
    "FindingSink",
    "HubJobs",
    "ItemLedger",
    "Job",
    "JobContext",
    "JobEnvironment",
    "JobOutcome",
    "JobRunner",
    "JobScheduler",
    "MemoryFindingSink",
    "PeriodicRecheck",
    "PlannedJob",
    "RosterEnrolments",
    "RunRecord",
    "RunStatus",
    "build_jobs",
    "cron_trigger",
    "hub_jobs",
    "job_handlers",
    "plan",
    "run_to_proto",
    "schedule_for",
]
