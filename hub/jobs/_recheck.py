"""Periodic re-check (定期复查): every enrollee against departmental feeds, at their category's cadence.

The cadence is local policy (DOMAIN.md flow 3): e.g. yearly for those unable to work, every six months for
the seriously ill or disabled, quarterly for those able to work. The roster names a programme, not a category,
so each programme maps to a category (``jobs.category_by_programme``; others take ``jobs.default_category``).
An enrollee is due when no earlier run of this job checked them within their cadence: the job can run daily
and a missed day costs nothing. Findings go to the paying bureau; no member is asked.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from hub.config import JobSettings
from hub.jobs._context import JobContext
from hub.jobs._enrolments import Enrolment, EnrolmentSource, paying_bureau
from hub.jobs._feed_checks import FeedFacts
from hub.jobs._findings import FindingSink
from hub.jobs._job import JobOutcome
from hub.jobs._models import JobRunItemRow, JobRunRow
from hub.registry import Directory
from hub.store import Store

CHECKED = "checked"


def months_before(moment: dt.datetime, months: int) -> dt.date:
    """The calendar date ``months`` before ``moment`` (the 31st becomes the month's last day)."""
    year, index = divmod(moment.year * 12 + moment.month - 1 - months, 12)
    last_day = calendar.monthrange(year, index + 1)[1]
    return dt.date(year, index + 1, min(moment.day, last_day))


def category(settings: JobSettings, programme: str) -> str:
    return settings.category_by_programme.get(programme, settings.default_category)


def last_checked(store: Store, job: str, keys: Collection[str]) -> dict[str, dt.datetime]:
    """When each of ``keys`` was last checked by a run of ``job``."""
    if not keys:
        return {}
    with store.session() as session:
        rows = session.execute(
            select(JobRunItemRow.item_key, func.max(JobRunItemRow.finished_at))
            .join(JobRunRow, JobRunRow.id == JobRunItemRow.run_id)
            .where(JobRunRow.job == job, JobRunItemRow.item_key.in_(list(keys)), JobRunItemRow.status == CHECKED)
            .group_by(JobRunItemRow.item_key)
        ).all()
    return {key: when for key, when in rows if when is not None}


@dataclass
class PeriodicRecheck:
    enrolments: EnrolmentSource
    facts: FeedFacts
    findings: FindingSink
    directory: Directory | None = None
    name: str = "periodic_recheck"
    description: str = "定期复查: each enrollee against the property and death feeds, at their category's cadence"

    def due(self, settings: JobSettings, enrolment: Enrolment, last: dt.datetime | None, now: dt.datetime) -> bool:
        if last is None:
            return True
        months = settings.recheck_months.get(category(settings, enrolment.programme), 12)
        zone = ZoneInfo(settings.timezone)  # calendar dates where the bureaus are, not in UTC
        return last.astimezone(zone).date() <= months_before(now.astimezone(zone), months)

    async def run(self, context: JobContext) -> JobOutcome:
        settings = context.settings.jobs
        total = self.enrolments.count()
        after = bytes.fromhex(str(context.resume_state.get("after", "")))
        done = int(context.resume_state.get("done", 0))
        context.progress(done, total)
        if context.resumed:
            context.items.forget_started()  # no member is asked here: what a crash cut short is redone
        while page := self.enrolments.page(after, settings.batch_size):
            held = context.items.known(e.key for e in page)
            fresh = [e for e in page if e.key not in held]
            last = last_checked(context.store, self.name, [e.key for e in fresh])
            due = [e for e in fresh if self.due(settings, e, last.get(e.key), context.scheduled_for)]
            context.count("not_due", len(fresh) - len(due))
            if due:
                await self._check(context, due)
            after, done = page[-1].token, done + len(page)
            context.progress(done, total)
            context.checkpoint({"after": after.hex(), "done": done})
        counts = context.counts
        findings = {k.removeprefix("findings."): n for k, n in counts.items() if k.startswith("findings.")}
        report: dict[str, Any] = {
            "enrolments": total,
            "checked": context.items.tally().get(CHECKED, 0),
            "not_due": counts.get("not_due", 0),
            "findings": dict(sorted(findings.items())),
        }
        return JobOutcome(report=report)

    async def _check(self, context: JobContext, due: list[Enrolment]) -> None:
        heads = {e.household_head for e in due if e.household_head}
        households = self.enrolments.households(heads)
        numbers = {e.id_number for e in due} | {n for members in households.values() for n in members}
        facts = await context.in_thread(self.facts.of, numbers)
        for enrolment in due:
            if not context.items.begin(enrolment.key):
                continue
            household = households.get(enrolment.household_head or b"", [])
            hits = self.facts.findings(enrolment.id_number, household, facts)
            owner = paying_bureau(self.directory, enrolment)
            for hit in hits:  # redone after a crash: the dedupe key makes the sink raise it once
                dedupe = f"{context.job}:{context.scheduled_for.isoformat()}:{enrolment.key}:{hit.kind}"
                self.findings.raise_finding(
                    hit.kind,
                    enrolment.token,
                    owner,
                    hit.evidence,
                    dedupe,
                    locality=enrolment.locality,
                    programme=enrolment.programme,
                    household=enrolment.household_head or enrolment.token,
                )
                context.count(f"findings.{hit.kind}")
            kinds = sorted({h.kind for h in hits})
            detail = {"category": category(context.settings.jobs, enrolment.programme), "findings": kinds}
            context.count(CHECKED)
            context.items.finish(enrolment.key, CHECKED, detail)
