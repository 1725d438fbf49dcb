"""The other built-in jobs: periodic re-check cadence, housekeeping, plugged-in bodies, the catalogue.

The monthly comparison and the statistics are the findings engine's; see ``tests/findings/test_jobs.py``.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.audit import AuditLog
from hub.envelope import SigningKey
from hub.errors import InvalidArgument
from hub.jobs import (
    BodyJob,
    FeedFacts,
    JobContext,
    JobEnvironment,
    JobOutcome,
    JobRunner,
    MemoryFindingSink,
    PeriodicRecheck,
    RosterEnrolments,
    RunRecord,
    RunStatus,
    build_jobs,
)
from hub.jobs._housekeeping import FeedStaleness, RetentionPurge
from hub.jobs._models import JobRunItemRow
from hub.jobs._recheck import months_before
from hub.privacy import Secrets
from hub.store import Store
from hub.v1 import feeds_pb2 as fpb
from hub.v1 import verification_pb2 as v
from tests.jobs.conftest import DAXING_CA, Clock, Federation, ItemsJob, job_settings, run, runner_for
from tests.jobs.conftest import roster_row as row

T0 = dt.datetime(2025, 7, 1, 21, 0, tzinfo=dt.UTC)


def plugged_body(context: JobContext) -> dict[str, Any]:
    """A plugged-in body (a plain function: it runs in a thread)."""
    context.count("compared", 7)
    return {"hits": 0}


@pytest.mark.parametrize(
    ("moment", "months", "expected"),
    [
        (dt.datetime(2025, 5, 31), 3, dt.date(2025, 2, 28)),
        (dt.datetime(2025, 3, 31), 1, dt.date(2025, 2, 28)),
        (dt.datetime(2025, 1, 15), 6, dt.date(2024, 7, 15)),
        (dt.datetime(2024, 2, 29), 12, dt.date(2023, 2, 28)),
    ],
)
def test_months_before_keeps_to_the_calendar(moment: dt.datetime, months: int, expected: dt.date) -> None:
    assert months_before(moment, months) == expected


def test_the_periodic_recheck_follows_each_category_cadence(
    federation: Federation, tmp_path: Path, clock: Clock
) -> None:
    demo = federation.demo
    b, father, mother = (demo.persons[label].id_number for label in ("B", "B.father", "B.mother"))
    federation.roster([row(b, b), row(mother, b, programme=v.TEKUN), row(father, b, programme=v.TEKUN)])
    federation.properties(
        [
            fpb.PropertyRow(
                id_number=mother,
                certificate_number=f"C-{n}",
                region_code="130629",
                property_kind=fpb.PROPERTY_KIND_RESIDENTIAL,
                registered_on="2010-01-01",
                floor_area_cm2=5_000_000,
            )
            for n in range(2)
        ]
    )
    sink = MemoryFindingSink()
    settings = job_settings(tmp_path)  # 低保 (able to work): quarterly; 特困 (unable to work): yearly
    job = PeriodicRecheck(
        RosterEnrolments(federation.store, federation.secrets.cipher),
        FeedFacts(federation.store, federation.secrets.tokenizer),
        sink,
        federation.directory,
    )
    runner = JobRunner(federation.store, {job.name: job}, settings, holder="h", clock=clock)

    def at(when: dt.datetime) -> Any:
        clock.now = when
        record = run(runner.run_due(job.name, when))
        assert record is not None and record.status is RunStatus.SUCCEEDED, record and record.error
        return record.report

    first = at(T0)
    assert (first["checked"], first["not_due"]) == (3, 0)
    assert first["findings"] == {"property": 3}  # two homes in the household: each enrollee's finding
    assert {f.owner for f in sink.findings.values()} == {DAXING_CA}
    assert (at(T0 + dt.timedelta(days=40))["checked"], at(T0 + dt.timedelta(days=41))["not_due"]) == (0, 3)
    assert at(T0 + dt.timedelta(days=95))["checked"] == 1  # the 低保 enrollee, three months on
    assert at(T0 + dt.timedelta(days=370))["checked"] == 3  # and a year on, everyone


def purge_items_after(
    store: Store, tmp_path: Path, clock: Clock, *, retention_days: int, days: int
) -> tuple[JobRunner, RunRecord | None]:
    """A run with two items, ``days`` later the retention purge under ``jobs.item_retention_days``."""
    settings = job_settings(tmp_path, item_retention_days=retention_days)
    old = runner_for(store, settings, ItemsJob(["a", "b"]), holder="h", clock=clock)
    run(old.run_now("items"))
    clock.advance(days * 86400)
    purge = RetentionPurge(AuditLog(store))
    runner = JobRunner(store, {purge.name: purge}, settings, holder="h", clock=clock)
    return runner, run(runner.run_due(purge.name, clock.now))


def test_retention_purge_drops_old_items_and_keeps_runs(store: Store, tmp_path: Path, clock: Clock) -> None:
    runner, record = purge_items_after(store, tmp_path, clock, retention_days=1096, days=1097)  # the legal minimum
    assert record is not None and record.report == {"audit_bodies": 0, "replay_ids": 0, "job_run_items": 2}
    assert len(runner.history(limit=10)) == 2
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(JobRunItemRow)) == 0


def test_feed_staleness_reports_stale_feeds(federation: Federation, tmp_path: Path) -> None:
    federation.roster([row(federation.demo.a.id_number, federation.demo.a.id_number)])
    settings = job_settings(tmp_path)
    settings.feeds.max_age_days_by_department = {"civil-affairs": 1e-9}  # ~86 µs: older than that by now
    job = FeedStaleness()
    record = run(JobRunner(federation.store, {job.name: job}, settings, holder="h").run_now(job.name))
    assert record.counts == {"feeds": 1, "stale": 1}
    (stale,) = record.report["stale"]
    assert (stale["department"], stale["kind"], stale["supplier"]) == ("civil-affairs", "roster", DAXING_CA)


def test_a_body_job_wraps_plain_and_async_bodies(store: Store, tmp_path: Path) -> None:
    async def skipping(context: JobContext) -> JobOutcome:
        return JobOutcome.skipped("nothing to compare yet")

    jobs = {"plain": BodyJob("plain", plugged_body), "async": BodyJob("async", skipping)}
    runner = JobRunner(store, jobs, job_settings(tmp_path), holder="h")
    plain = run(runner.run_now("plain"))
    assert plain.status is RunStatus.SUCCEEDED and plain.report == {"hits": 0} and plain.counts == {"compared": 7}
    skipped = run(runner.run_now("async"))
    assert skipped.status is RunStatus.SKIPPED and skipped.error == "nothing to compare yet"


def test_the_catalogue_has_what_the_hub_has_the_parts_for(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path)
    bare = build_jobs(JobEnvironment(store, settings))
    assert sorted(bare) == ["feed_staleness", "monthly_comparison", "retention_purge", "statistics"]
    full = build_jobs(
        JobEnvironment(store, settings, secrets=Secrets.generate(), audit=AuditLog(store, SigningKey.generate()))
    )
    assert {"periodic_recheck", "audit_checkpoint"} <= set(full) and "annual_cross_check" not in full
    record = run(JobRunner(store, bare, settings, holder="h").run_now("monthly_comparison"))
    assert record.status is RunStatus.SUCCEEDED, record.error  # the real comparison, with nothing to compare
    assert record.report["totals"]["new"] == 0 and "roster" in str(record.report["skipped"])


def test_bodies_plug_in_by_reference(store: Store, tmp_path: Path) -> None:
    settings = job_settings(tmp_path, bodies={"monthly_comparison": f"{__name__}:plugged_body"})
    jobs = build_jobs(JobEnvironment(store, settings))
    assert jobs["monthly_comparison"].description == "A plugged-in body (a plain function: it runs in a thread)."
    record = run(JobRunner(store, jobs, settings, holder="h").run_now("monthly_comparison"))
    assert record.status is RunStatus.SUCCEEDED and record.report == {"hits": 0}
    for reference in ("no_colon", "hub.nowhere:thing", f"{__name__}:missing"):
        broken = job_settings(tmp_path, bodies={"x": reference})
        with pytest.raises(InvalidArgument, match=r"jobs\.bodies\.x"):
            build_jobs(JobEnvironment(store, broken))


def test_job_run_items_are_not_purged_before_three_years(store: Store, tmp_path: Path, clock: Clock) -> None:
    """PIPL Arts. 55-56: processing records at least 3 years; a shorter setting is refused, nothing purged."""
    runner, record = purge_items_after(store, tmp_path, clock, retention_days=30, days=31)
    assert record is not None and record.status is RunStatus.FAILED
    assert "item_retention_days" in record.error and "1096" in record.error
    (items,) = [r for r in runner.history(limit=10) if r.job == "items"]
    assert items.status is RunStatus.SUCCEEDED
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(JobRunItemRow)) == 2
