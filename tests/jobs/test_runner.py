"""Job runs as records, leased: once per due time, never overlapping, resumed by a survivor, stopped when taken over."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import update

from hub.errors import FailedPrecondition, NotFound
from hub.jobs import JobContext, JobOutcome, JobRunner, RunStatus
from hub.jobs._context import ItemLedger
from hub.jobs._lease import RELEASED, Claim
from hub.jobs._models import JobRunRow
from hub.store import Store
from tests.jobs.conftest import Clock, ItemsJob, job_settings, run, runner_for

DUE = dt.datetime(2025, 3, 1, 18, 0, tzinfo=dt.UTC)
NUMBER = "11010519491231002X"


@dataclasses.dataclass
class Blocking:
    """Holds its run until ``release`` is set."""

    name: str = "blocking"
    description: str = "waits"
    started: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    release: asyncio.Event = dataclasses.field(default_factory=asyncio.Event)
    runs: int = 0

    async def run(self, context: JobContext) -> JobOutcome:
        self.runs += 1
        self.started.set()
        await self.release.wait()
        context.items.begin("after-release")
        return JobOutcome()


@dataclasses.dataclass
class Failing:
    name: str = "failing"
    description: str = "raises"

    async def run(self, context: JobContext) -> JobOutcome:
        raise ValueError(f"the roster row of {NUMBER} is broken")


def test_a_run_is_a_record_of_progress_counts_and_report(store: Store, tmp_path: Path) -> None:
    runner = runner_for(store, job_settings(tmp_path), ItemsJob(["a", "b", "c"]), holder="h1")
    record = run(runner.run_now("items"))
    assert record.status is RunStatus.SUCCEEDED
    assert record.trigger == "manual" and record.attempts == 1 and record.holder == "h1"
    assert (record.progress_done, record.progress_total) == (3, 3)
    assert record.counts == {"done": 3}
    assert record.report == {"items": 3, "tally": {"done": 3}}
    assert record.finished_at is not None and record.finished_at >= record.started_at
    assert runner.history("items") == [record]
    assert runner.last_runs() == {"items": record}


def test_a_due_time_runs_once_across_replicas(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    jobs = [ItemsJob(["a", "b"]), ItemsJob(["a", "b"])]
    replicas = [runner_for(store, settings, job, holder=f"replica-{n}") for n, job in enumerate(jobs)]

    async def both() -> list[Any]:
        return await asyncio.gather(*(r.run_due("items", DUE) for r in replicas))

    results = run(both())
    assert sum(r is None for r in results) == 1
    assert sorted(len(job.done) for job in jobs) == [0, 2]
    (record,) = replicas[0].history()
    assert record.status is RunStatus.SUCCEEDED and record.scheduled_for == DUE


def test_claiming_one_due_time_from_many_threads_gives_one_claim(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    replicas = [runner_for(store, settings, ItemsJob([]), holder=f"replica-{n}") for n in range(4)]
    barrier = threading.Barrier(len(replicas))
    claims: list[Claim | None] = []

    def claim(runner: JobRunner) -> None:
        barrier.wait()
        claims.append(runner.leases.claim("items", DUE, "schedule"))

    threads = [threading.Thread(target=claim, args=(r,)) for r in replicas]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(claims) == 4 and sum(c is not None for c in claims) == 1


def test_runs_of_one_job_never_overlap(store: Store, tmp_path: Path) -> None:
    job = Blocking()
    runner = runner_for(store, job_settings(tmp_path), job, holder="h1")

    async def scenario() -> None:
        first = asyncio.create_task(runner.run_due("blocking", DUE))
        await job.started.wait()
        assert await runner.run_due("blocking", DUE + dt.timedelta(minutes=10)) is None
        with pytest.raises(FailedPrecondition, match="already running"):
            runner.start_now("blocking")
        job.release.set()
        record = await first
        assert record is not None and record.status is RunStatus.SUCCEEDED

    run(scenario())
    assert job.runs == 1
    latest, earliest = runner.history("blocking")
    assert latest.status is RunStatus.SKIPPED and "already running" in latest.error
    assert earliest.status is RunStatus.SUCCEEDED


def test_a_stale_run_is_resumed_from_its_checkpoint_without_redoing_items(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    settings = job_settings(tmp_path)
    items = ["a", "b", "c", "d"]
    dead = runner_for(store, settings, ItemsJob(items), holder="dead", clock=clock)
    claim = dead.leases.claim("items", DUE, "schedule")
    assert claim is not None
    ledger = ItemLedger(dead.leases, claim.run_id)
    ledger.begin("a")
    ledger.finish("a", "done")
    dead.leases.save(claim.run_id, checkpoint={"position": 1}, counts={"done": 1}, progress_done=1, progress_total=4)
    ledger.begin("b")
    ledger.finish("b", "done")  # after the last checkpoint
    ledger.begin("c")  # in hand when the process died
    clock.advance(settings.jobs.lease_seconds + 1)

    job = ItemsJob(items)
    survivor = runner_for(store, settings, job, holder="survivor", clock=clock)

    async def take_over() -> Any:
        assert await survivor.resume_stale() == [claim.run_id]
        return await survivor.wait(claim.run_id)

    record = run(take_over())
    assert job.done == [("d", "schedule")]
    assert record.status is RunStatus.SUCCEEDED and record.attempts == 2 and record.holder == "survivor"
    assert record.counts == {"done": 2}
    assert record.report["tally"] == {"done": 3, "interrupted": 1}


def test_of_survivors_racing_for_a_stale_run_one_wins(store: Store, tmp_path: Path, clock: Clock) -> None:
    settings = job_settings(tmp_path)
    dead = runner_for(store, settings, ItemsJob([]), holder="dead", clock=clock)
    claim = dead.leases.claim("items", DUE, "schedule")
    assert claim is not None
    assert dead.leases.stale() == []
    clock.advance(settings.jobs.lease_seconds + 1)
    survivors = [runner_for(store, settings, ItemsJob([]), holder=f"s{n}", clock=clock) for n in range(4)]
    barrier = threading.Barrier(len(survivors))
    taken: list[Claim | None] = []

    def take(runner: JobRunner) -> None:
        barrier.wait()
        taken.append(runner.leases.take_over(claim.run_id, "dead"))

    threads = [threading.Thread(target=take, args=(s,)) for s in survivors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    winners = [t for t in taken if t is not None]
    assert len(taken) == 4 and len(winners) == 1 and winners[0].attempts == 2


def test_a_holder_taken_over_writes_nothing_more(store: Store, tmp_path: Path, clock: Clock) -> None:
    settings = job_settings(tmp_path, heartbeat_seconds=60)  # the slow holder never renews in time
    gate = asyncio.Event()
    slow = ItemsJob(["a", "b", "c"], gate=gate)
    holder = runner_for(store, settings, slow, holder="slow", clock=clock)
    fast = ItemsJob(["a", "b", "c"])
    survivor = runner_for(store, settings, fast, holder="survivor", clock=clock)

    async def scenario() -> tuple[Any, Any]:
        first = asyncio.create_task(holder.run_due("items", DUE))
        gate.set()
        while len(slow.done) < 1:
            await asyncio.sleep(0.01)
        clock.advance(settings.jobs.lease_seconds + 1)
        (run_id,) = await survivor.resume_stale()
        taken = await survivor.wait(run_id)
        gate.set()  # the old holder wakes up and tries its next item
        return await first, taken

    stopped, taken = run(scenario())
    assert slow.done == [("a", "schedule")]  # woken after the take-over, it could not begin "b"
    assert fast.done == [("b", "schedule"), ("c", "schedule")]
    assert taken.status is RunStatus.SUCCEEDED and taken.holder == "survivor"
    assert stopped.status is RunStatus.SUCCEEDED and stopped.holder == "survivor"  # the old holder wrote nothing


def test_a_heartbeat_that_finds_the_lease_gone_cancels_the_run(store: Store, tmp_path: Path) -> None:
    job = Blocking()
    runner = runner_for(store, job_settings(tmp_path), job, holder="h1")

    async def scenario() -> Any:
        task = asyncio.create_task(runner.run_due("blocking", DUE))
        await job.started.wait()
        with store.session() as session:  # another process took the run over
            session.execute(update(JobRunRow).values(holder="other"))
        return await task

    record = run(scenario())
    assert record.status is RunStatus.RUNNING and record.holder == "other"


def test_a_clean_stop_releases_the_lease_for_the_next_hub(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    job = Blocking()
    runner = runner_for(store, settings, job, holder="h1")
    successor_job = Blocking()
    successor_job.release.set()
    successor = runner_for(store, settings, successor_job, holder="h2")

    async def scenario() -> Any:
        run_id = runner.start_now("blocking").run_id
        await job.started.wait()
        await runner.stop()
        stopped = runner.get(run_id)
        assert stopped.status is RunStatus.RUNNING and stopped.heartbeat_at == RELEASED
        assert await successor.resume_stale() == [run_id]
        return await successor.wait(run_id)

    record = run(scenario())
    assert record.status is RunStatus.SUCCEEDED and record.attempts == 2 and successor_job.runs == 1


def test_a_run_resumed_too_often_is_abandoned(store: Store, tmp_path: Path, clock: Clock) -> None:
    settings = job_settings(tmp_path, max_attempts=2)
    dead = runner_for(store, settings, ItemsJob(["a"]), holder="dead", clock=clock)
    claim = dead.leases.claim("items", DUE, "schedule")
    assert claim is not None
    clock.advance(settings.jobs.lease_seconds + 1)
    second = runner_for(store, settings, ItemsJob(["a"]), holder="second", clock=clock)
    assert second.leases.take_over(claim.run_id, "dead") is not None  # and died too
    clock.advance(settings.jobs.lease_seconds + 1)
    job = ItemsJob(["a"])
    third = runner_for(store, settings, job, holder="third", clock=clock)

    async def scenario() -> Any:
        await third.resume_stale()
        return await third.wait(claim.run_id)

    record = run(scenario())
    assert record.status is RunStatus.ABANDONED and "max_attempts" in record.error and job.done == []


def test_a_stale_run_of_a_job_this_hub_does_not_have_is_abandoned(store: Store, tmp_path: Path, clock: Clock) -> None:
    settings = job_settings(tmp_path)
    old = runner_for(store, settings, ItemsJob([], name="retired"), holder="old", clock=clock)
    claim = old.leases.claim("retired", DUE, "schedule")
    assert claim is not None
    clock.advance(settings.jobs.lease_seconds + 1)
    new = runner_for(store, settings, ItemsJob([]), holder="new", clock=clock)

    async def scenario() -> Any:
        await new.resume_stale()
        return await new.wait(claim.run_id)

    record = run(scenario())
    assert record.status is RunStatus.ABANDONED and "not configured" in record.error


def test_a_failing_job_fails_its_run_and_the_error_holds_no_id_number(store: Store, tmp_path: Path) -> None:
    runner = runner_for(store, job_settings(tmp_path), Failing(), holder="h1")
    record = run(runner.run_now("failing"))
    assert record.status is RunStatus.FAILED
    assert "ValueError" in record.error and "is broken" in record.error
    assert NUMBER not in record.error and NUMBER[:6] in record.error


def test_a_missed_due_time_is_recorded_once(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    replicas = [runner_for(store, settings, ItemsJob([]), holder=f"r{n}") for n in range(2)]
    for replica in replicas:
        replica.record_missed("items", DUE, dt.timedelta(hours=8))
    (record,) = replicas[0].history()
    assert record.status is RunStatus.MISSED and record.scheduled_for == DUE and "grace" not in record.error
    assert "within 3600 s" in record.error


def test_history_is_newest_first_and_per_job(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    runner = runner_for(store, settings, ItemsJob([]), ItemsJob([], name="other"), holder="h1")

    async def runs() -> None:
        for hours in (1, 3, 2):
            await runner.run_due("items", DUE + dt.timedelta(hours=hours))
        await runner.run_due("other", DUE)

    run(runs())
    assert [r.scheduled_for.hour for r in runner.history("items")] == [21, 20, 19]
    assert [r.job for r in runner.history(limit=2)] == ["items", "items"]
    assert [r.job for r in runner.history("other")] == ["other"]
    assert runner.history("nobody") == []


def test_an_unknown_job_is_not_found(store: Store, tmp_path: Path) -> None:
    runner = runner_for(store, job_settings(tmp_path), ItemsJob([]), holder="h1")
    with pytest.raises(NotFound, match="items"):
        run(runner.run_now("nope"))


def test_a_job_ends_its_run_only_as_succeeded_failed_or_skipped() -> None:
    with pytest.raises(ValueError, match="running"):
        JobOutcome(RunStatus.RUNNING)
    assert JobOutcome.skipped("nothing to do", n=0) == JobOutcome(RunStatus.SKIPPED, {"n": 0}, "nothing to do")
