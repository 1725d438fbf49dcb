"""APScheduler wired to the runner: cron strings, due times fired once across replicas, misfires, reconciling."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from hub.config import AuditSettings, JobSettings, Settings
from hub.errors import InvalidArgument
from hub.jobs import JOBSTORE_TABLE, JobContext, JobOutcome, JobRunner, JobScheduler, RunStatus, cron_trigger
from hub.jobs._catalogue import schedule_for
from hub.jobs._schedule import next_run_times
from hub.store import Store
from tests.jobs.conftest import ItemsJob, job_settings, run, runner_for

CHINA = ZoneInfo("Asia/Shanghai")


@dataclasses.dataclass
class Tick:
    """Records every due time it ran for, in a list shared by the replicas."""

    ran: list[tuple[dt.datetime, str]]
    name: str = "tick"
    description: str = "tick"

    async def run(self, context: JobContext) -> JobOutcome:
        self.ran.append((context.scheduled_for, context.trigger))
        return JobOutcome()


def scheduler(store: Store, settings: Settings, runner: JobRunner, **cron: str) -> JobScheduler:
    return JobScheduler(runner, cron, settings.jobs, store.engine)


def set_next_run(store: Store, settings: Settings, name: str, when: dt.datetime) -> None:
    """As if the hub had stopped before ``when`` and stayed down: the stored next due time is in the past."""

    async def edit() -> None:
        aps = AsyncIOScheduler(
            jobstores={"default": SQLAlchemyJobStore(engine=store.engine, tablename=JOBSTORE_TABLE)},
            timezone=ZoneInfo(settings.jobs.timezone),
        )
        aps.start(paused=True)
        aps.modify_job(name, next_run_time=when)
        aps.shutdown(wait=False)
        await asyncio.sleep(0)

    run(edit())


async def until(condition: Any, timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.02)


# --- cron strings ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "after", "expected"),
    [
        ("0 2 1 3 *", dt.datetime(2025, 6, 4, 12, 0), dt.datetime(2026, 3, 1, 2, 0)),
        ("0 6 14,28 * *", dt.datetime(2025, 6, 4, 12, 0), dt.datetime(2025, 6, 14, 6, 0)),
        ("*/10 * * * *", dt.datetime(2025, 6, 4, 12, 1), dt.datetime(2025, 6, 4, 12, 10)),
        ("0 6 * * 1", dt.datetime(2025, 6, 4, 12, 0), dt.datetime(2025, 6, 9, 6, 0)),  # crontab: 1 = Monday
        ("0 6 * * 0", dt.datetime(2025, 6, 4, 12, 0), dt.datetime(2025, 6, 8, 6, 0)),  # 0 = Sunday
        ("0 6 * * 7", dt.datetime(2025, 6, 4, 12, 0), dt.datetime(2025, 6, 8, 6, 0)),  # 7 = Sunday too
        ("0 6 * * 1-5", dt.datetime(2025, 6, 7, 12, 0), dt.datetime(2025, 6, 9, 6, 0)),
        ("30 */5 * * * *", dt.datetime(2025, 6, 4, 12, 0, 31), dt.datetime(2025, 6, 4, 12, 5, 30)),
    ],
)
def test_cron_strings_are_crontab_in_the_configured_zone(
    expression: str, after: dt.datetime, expected: dt.datetime
) -> None:
    trigger = cron_trigger(expression, CHINA)
    assert trigger.get_next_fire_time(None, after.replace(tzinfo=CHINA)) == expected.replace(tzinfo=CHINA)


@pytest.mark.parametrize("expression", ["", "0 2 1 3", "* * * * * * *", "61 * * * *", "0 6 * * 8", "0 25 * * *"])
def test_a_bad_cron_string_names_its_setting(expression: str) -> None:
    with pytest.raises(InvalidArgument) as error:
        cron_trigger(expression, CHINA, "jobs.cron.statistics")
    assert error.value.field == "jobs.cron.statistics"


def test_the_schedule_merges_defaults_audit_crons_and_configuration(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        audit=AuditSettings(checkpoint_cron="*/5 * * * *"),
        jobs=JobSettings(cron={"statistics": "0 8 14,28 * *", "feed_staleness": ""}),
    )
    jobs: dict[str, Any] = {name: object() for name in ("statistics", "feed_staleness", "audit_checkpoint", "items")}
    assert schedule_for(settings, jobs) == {
        "statistics": "0 8 14,28 * *",
        "feed_staleness": "",
        "audit_checkpoint": "*/5 * * * *",
    }
    settings.jobs.cron["nonexistent"] = "* * * * *"
    with pytest.raises(InvalidArgument, match="nonexistent"):
        schedule_for(settings, jobs)


def test_a_cron_for_a_job_the_runner_lacks_is_refused(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    runner = runner_for(store, settings, ItemsJob([]), holder="h")
    with pytest.raises(InvalidArgument, match=r"jobs\.cron\.ghost"):
        scheduler(store, settings, runner, ghost="* * * * *")


# --- firing ------------------------------------------------------------------------------------------------


def test_each_due_time_runs_once_with_two_replicas_firing(clean_jobstore: Store, tmp_path: Path) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path)
    ran: list[tuple[dt.datetime, str]] = []
    replicas = [runner_for(store, settings, Tick(ran), holder=f"replica-{n}") for n in range(2)]
    schedulers = [scheduler(store, settings, r, tick="* * * * * *") for r in replicas]

    async def scenario() -> None:
        for each in schedulers:
            await each.start()
        await asyncio.sleep(2.6)
        for each in schedulers:
            await each.stop()

    run(scenario())
    due_times = [when for when, _ in ran]
    assert len(due_times) >= 2 and len(set(due_times)) == len(due_times)
    assert all(trigger == "schedule" and when.microsecond == 0 for when, trigger in ran)
    history = replicas[0].history(limit=100)
    assert sorted(r.scheduled_for for r in history if r.status is RunStatus.SUCCEEDED) == sorted(due_times)


def test_a_due_time_missed_while_down_runs_once_on_return(clean_jobstore: Store, tmp_path: Path) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path, misfire_grace_seconds=3 * 86400)
    ran: list[tuple[dt.datetime, str]] = []
    first = scheduler(store, settings, runner_for(store, settings, Tick(ran), holder="before"), tick="0 3 * * *")

    async def start_stop() -> None:
        await first.start()
        await first.stop()

    run(start_stop())
    now = dt.datetime.now(CHINA)
    set_next_run(store, settings, "tick", (now - dt.timedelta(days=2, hours=1)).replace(minute=0, second=0))
    trigger = cron_trigger("0 3 * * *", CHINA)
    latest = trigger.get_next_fire_time(None, now - dt.timedelta(days=1))
    assert latest is not None and latest <= now

    runner = runner_for(store, settings, Tick(ran), holder="after")
    back = scheduler(store, settings, runner, tick="0 3 * * *")

    async def come_back() -> None:
        await back.start()
        await until(lambda: len(ran) >= 1)
        await asyncio.sleep(0.3)  # room for a second (wrong) run to show up
        await back.stop()

    run(come_back())
    assert ran == [(latest.astimezone(dt.UTC), "schedule")]  # two or three missed days coalesce into one run
    (record,) = runner.history()
    assert record.status is RunStatus.SUCCEEDED
    stored = next_run_times(store.engine)["tick"]
    assert stored is not None and stored > now


def test_a_due_time_missed_beyond_the_grace_window_is_recorded_not_run(clean_jobstore: Store, tmp_path: Path) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path, misfire_grace_seconds=60)
    ran: list[tuple[dt.datetime, str]] = []
    runner = runner_for(store, settings, Tick(ran), holder="h")
    # Due half a day from now: no due time of its own falls in the ten minutes the test looks back over (at 03:0x
    # Shanghai time a daily 03:00 did, and was missed too).
    daily = f"0 {(dt.datetime.now(CHINA).hour + 12) % 24} * * *"
    each = scheduler(store, settings, runner, tick=daily)

    async def start_stop() -> None:
        await each.start()
        await each.stop()

    run(start_stop())
    missed = (dt.datetime.now(CHINA) - dt.timedelta(minutes=10)).replace(microsecond=0)
    set_next_run(store, settings, "tick", missed)
    again = scheduler(store, settings, runner, tick=daily)

    async def come_back() -> None:
        await again.start()
        await until(lambda: bool(runner.history()))
        await again.stop()

    run(come_back())
    assert ran == []
    (record,) = runner.history()
    assert record.status is RunStatus.MISSED and record.scheduled_for == missed.astimezone(dt.UTC)


def test_restarting_keeps_stored_due_times_and_applies_schedule_changes(clean_jobstore: Store, tmp_path: Path) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path)
    ran: list[tuple[dt.datetime, str]] = []
    runner = JobRunner(store, {"tick": Tick(ran), "other": Tick(ran, name="other")}, settings, holder="h")

    async def cycle(**cron: str) -> None:
        each = scheduler(store, settings, runner, **cron)
        await each.start()
        await each.stop()

    run(cycle(tick="0 3 * * *", other="0 4 * * *"))
    kept = dt.datetime.now(CHINA).replace(microsecond=0) + dt.timedelta(days=30)
    set_next_run(store, settings, "tick", kept)
    run(cycle(tick="0 3 * * *", other="0 5 1 * *"))
    stored = next_run_times(store.engine)
    assert stored["tick"] == kept  # unchanged cron: the stored due time stands
    assert stored["other"] == cron_trigger("0 5 1 * *", CHINA).get_next_fire_time(None, dt.datetime.now(CHINA))
    run(cycle(tick="0 3 * * *", other=""))
    assert set(next_run_times(store.engine)) == {"tick"}
    assert ran == []


def test_the_scheduler_resumes_a_run_whose_holder_died(clean_jobstore: Store, tmp_path: Path) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path, lease_seconds=0.2)
    dead = runner_for(store, settings, ItemsJob(["a", "b"]), holder="dead")
    claim = dead.leases.claim("items", dt.datetime(2025, 3, 1, tzinfo=dt.UTC), "schedule")
    assert claim is not None
    job = ItemsJob(["a", "b"])
    runner = runner_for(store, settings, job, holder="restarted")
    each = scheduler(store, settings, runner)

    async def restart() -> None:
        await each.start()
        await until(lambda: runner.get(claim.run_id).finished)
        await each.stop()

    run(restart())
    record = runner.get(claim.run_id)
    assert record.status is RunStatus.SUCCEEDED and record.holder == "restarted" and record.attempts == 2
    assert [item for item, _ in job.done] == ["a", "b"]


@dataclasses.dataclass
class Held:
    """Holds its first run until released."""

    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    runs: int = 0
    name: str = "held"
    description: str = "held"

    async def run(self, context: JobContext) -> JobOutcome:
        self.runs += 1
        await self.release.wait()
        return JobOutcome()


def test_a_due_time_that_finds_the_previous_run_going_is_skipped_and_recorded(
    clean_jobstore: Store, tmp_path: Path
) -> None:
    store = clean_jobstore
    settings = job_settings(tmp_path)
    job = Held()
    runner = runner_for(store, settings, job, holder="h")
    each = scheduler(store, settings, runner, held="* * * * * *")

    async def scenario() -> None:
        await each.start()
        await until(lambda: job.runs == 1)
        await asyncio.sleep(1.2)  # at least one more due time comes while it is held
        job.release.set()
        await until(lambda: all(r.finished for r in runner.history()))
        await each.stop()

    run(scenario())
    history = runner.history(limit=100)
    skipped = [r for r in history if r.status is RunStatus.SKIPPED]
    assert len(skipped) >= 1 and all("still running" in r.error for r in skipped)
    assert len({r.scheduled_for for r in history}) == len(history)
    assert job.runs == len(history) - len(skipped)
