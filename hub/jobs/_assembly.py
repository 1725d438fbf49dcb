"""The jobs part of a running hub: runner, scheduler (when enabled) and RPC handlers, started and stopped as one."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from hub.jobs._catalogue import JobEnvironment, build_jobs, schedule_for
from hub.jobs._handlers import job_handlers
from hub.jobs._runner import JobRunner
from hub.jobs._schedule import JobScheduler, PlannedJob, plan

if TYPE_CHECKING:
    from hub.exchange import LocalHandler


@dataclass
class HubJobs:
    runner: JobRunner
    schedule: dict[str, str]
    scheduler: JobScheduler | None = None

    def planned(self) -> list[PlannedJob]:
        return plan(
            self.runner.jobs, self.schedule, self.runner.store.engine, ZoneInfo(self.runner.settings.jobs.timezone)
        )

    def handlers(self) -> dict[str, LocalHandler]:
        return job_handlers(self.runner, self.planned)

    async def start(self) -> None:
        if self.scheduler is not None:
            await self.scheduler.start()

    async def stop(self) -> None:
        """Stop firing and release the runs in hand (the next hub resumes them from their checkpoints)."""
        if self.scheduler is not None:
            await self.scheduler.stop()
        else:
            await self.runner.stop()


def hub_jobs(env: JobEnvironment) -> HubJobs:
    """The hub's jobs from its parts; the scheduler only if ``jobs.enabled``."""
    runner = JobRunner(env.store, build_jobs(env), env.settings)
    schedule = schedule_for(env.settings, runner.jobs)
    scheduler = (
        JobScheduler(runner, schedule, env.settings.jobs, env.store.engine) if env.settings.jobs.enabled else None
    )
    return HubJobs(runner, schedule, scheduler)
