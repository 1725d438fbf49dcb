"""Regressions: re-check dates in the configured zone, a run this hub held but lost track of, crontab weekdays."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from adapters import load_adapter
from hub.envelope import SigningKey
from hub.errors import InvalidArgument
from hub.identifiers import validate_member_id
from hub.jobs import (
    CrossCheck,
    FeedFacts,
    JobRunner,
    MemoryFindingSink,
    PeriodicRecheck,
    RosterEnrolments,
    RunStatus,
    cron_trigger,
)
from hub.jobs._findings import evidence_text
from hub.jobs._lease import Leases
from hub.node import Node
from hub.store import Store
from tests.jobs.conftest import RONGCHENG_CA, Clock, Federation, ItemsJob, job_settings, run, runner_for
from tests.jobs.conftest import roster_row as row

CHINA = ZoneInfo("Asia/Shanghai")


def test_a_recheck_is_due_by_the_calendar_of_the_configured_zone(
    federation: Federation, tmp_path: Path, clock: Clock
) -> None:
    b = federation.demo.persons["B"].id_number
    federation.roster([row(b, b)])  # 低保, able to work: every three months
    job = PeriodicRecheck(
        RosterEnrolments(federation.store, federation.secrets.cipher),
        FeedFacts(federation.store, federation.secrets.tokenizer),
        MemoryFindingSink(),
        federation.directory,
    )
    runner = JobRunner(federation.store, {job.name: job}, job_settings(tmp_path), holder="h", clock=clock)

    def at(when: dt.datetime) -> Any:
        clock.now = when.astimezone(dt.UTC)
        record = run(runner.run_due(job.name, clock.now))
        assert record is not None and record.status is RunStatus.SUCCEEDED, record and record.error
        return record.report

    assert at(dt.datetime(2025, 1, 15, 10, 0, tzinfo=CHINA))["checked"] == 1  # 15 January, in the morning
    # 05:00 on 15 April in Shanghai is still the 14th in UTC: three months on, by the local calendar
    assert at(dt.datetime(2025, 4, 15, 5, 0, tzinfo=CHINA))["checked"] == 1


class FinishFailsOnce(Leases):
    """The database goes away at the moment a run's end is written, once."""

    failed = False

    def finish(self, run_id: int, status: RunStatus, **values: Any) -> bool:
        if not self.failed:
            self.failed = True
            raise ConnectionError("server closed the connection unexpectedly")
        return super().finish(run_id, status, **values)


def test_a_run_this_hub_holds_but_no_longer_runs_is_taken_over_by_this_hub(
    store: Store, tmp_path: Path, clock: Clock
) -> None:
    settings = job_settings(tmp_path)
    runner = runner_for(store, settings, ItemsJob(["a"]), holder="h", clock=clock)
    runner.leases.__class__ = FinishFailsOnce

    async def scenario() -> Any:
        with pytest.raises(ConnectionError):
            await runner.run_now("items")
        (stuck,) = runner.history()
        assert stuck.status is RunStatus.RUNNING and stuck.holder == "h"
        clock.advance(settings.jobs.lease_seconds + 1)
        assert await runner.resume_stale() == [stuck.run_id]  # no task of ours runs it: it is not slow, it is dead
        return await runner.wait(stuck.run_id)

    record = run(scenario())
    assert record.status is RunStatus.SUCCEEDED and record.attempts == 2
    assert run(runner.run_now("items")).status is RunStatus.SUCCEEDED  # and the job runs again


@pytest.mark.parametrize(
    ("expression", "days"),
    [
        ("0 6 * * 0-3", ["Sun", "Mon", "Tue", "Wed", "Sun"]),
        ("0 6 * * 0-6", ["Sun", "Mon", "Tue", "Wed", "Thu"]),
        ("0 6 * * */2", ["Sun", "Tue", "Thu", "Sat", "Sun"]),
        ("0 6 * * 1-5/2", ["Mon", "Wed", "Fri", "Mon", "Wed"]),
        ("0 6 * * sun-tue", ["Sun", "Mon", "Tue", "Sun", "Mon"]),
        ("0 6 * * 5-7", ["Sun", "Fri", "Sat", "Sun", "Fri"]),
        ("0 6 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 6 * * 6,0", ["Sun", "Sat", "Sun", "Sat", "Sun"]),
    ],
)
def test_weekday_ranges_and_steps_mean_what_they_mean_in_crontab(expression: str, days: list[str]) -> None:
    trigger = cron_trigger(expression, CHINA)
    moment = dt.datetime(2025, 6, 15, 0, 0, tzinfo=CHINA)  # a Sunday
    fired = []
    for _ in range(5):
        moment = trigger.get_next_fire_time(None, moment)
        fired.append(moment.strftime("%a"))
        moment += dt.timedelta(minutes=1)
    assert fired == days


def test_unchanged_weekday_fields_keep_their_trigger() -> None:
    """A stored schedule is compared by the trigger's repr: what already worked must not look changed."""
    assert "day_of_week='mon-fri'" in repr(cron_trigger("0 6 * * 1-5", CHINA))
    assert "day_of_week='sun'" in repr(cron_trigger("0 6 * * 0", CHINA))
    assert "day_of_week='*'" in repr(cron_trigger("0 6 * * *", CHINA))


DIGITS_ONLY_CA = "111306290000123470"  # a valid credit code of digits only, as many government bodies' are


def test_a_bureau_whose_credit_code_is_all_digits_does_not_sink_the_cross_check(
    federation: Federation, tmp_path: Path
) -> None:
    assert validate_member_id(DIGITS_ONLY_CA) == (DIGITS_ONLY_CA, "")
    registry, demo = federation.registry, federation.demo
    registry.revoke_member(RONGCHENG_CA, "re-registered under its new code")
    key = SigningKey.generate("ecdsa-p256", DIGITS_ONLY_CA)
    registry.add_member(DIGITS_ONLY_CA, kind="civil-affairs", name="容城县民政局", jurisdictions=["130629"])
    registry.add_signing_key(DIGITS_ONLY_CA, key.public.pem())
    adapter = load_adapter("civil-affairs", demo.config("civil-affairs", "memory"))
    federation.transport.nodes[DIGITS_ONLY_CA] = Node(  # type: ignore[index]
        DIGITS_ONLY_CA, key, federation.questions.signer.public, adapter
    )
    a = demo.persons["A"].id_number  # on 低保 in 容城县 already
    federation.roster([row(a, a)])
    sink = MemoryFindingSink()
    job = CrossCheck(
        federation.questions,
        federation.directory,
        RosterEnrolments(federation.store, federation.secrets.cipher),
        sink,
        federation.secrets.tokenizer,
    )
    runner = JobRunner(federation.store, {job.name: job}, job_settings(tmp_path), holder="h")
    record = run(runner.run_now(job.name))
    assert record.status is RunStatus.SUCCEEDED, record.error
    (finding,) = sink.findings.values()
    assert finding.kind == "duplicate_assistance" and finding.evidence["asked"] == DIGITS_ONLY_CA


@pytest.mark.parametrize("number", ["11010519491231002X", "440308199901101512", "610104620927690"])
def test_evidence_still_refuses_id_numbers(number: str) -> None:
    with pytest.raises(InvalidArgument):
        evidence_text({"note": f"about {number}"})
