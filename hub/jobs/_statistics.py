"""Statistics for the twice-monthly report (the 14th and the 28th): coverage, new enrolments and exits.

Computed in the database from the current roster feeds, grouped by paying locality and programme: households
and persons covered, persons enrolled and persons leaving within the period. The period runs from the day
after the previous report day (the 14th or the 28th) to the run's own day, in the scheduler's time zone.
Findings opened and resolved come from the findings engine when one is plugged in (``jobs.bodies``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from hub.feeds import current_versions
from hub.jobs._context import JobContext
from hub.jobs._enrolments import BY_PERSON, PAID, ROSTER
from hub.jobs._job import JobOutcome
from hub.store import Store


def period(day: dt.date) -> tuple[dt.date, dt.date]:
    """(first, last) day covered by a report made on ``day``."""
    if day.day > 28:
        previous = day.replace(day=28)
    elif day.day > 14:
        previous = day.replace(day=14)
    else:
        previous = (day.replace(day=1) - dt.timedelta(days=1)).replace(day=28)
    return previous + dt.timedelta(days=1), day


def roster_statistics(store: Store, first: dt.date, last: dt.date) -> list[dict[str, Any]]:
    """One row per (locality, programme): households, persons, new enrolments and exits in [first, last]."""
    c = BY_PERSON.c
    with store.session() as session:
        versions = current_versions(session, ROSTER.code)
        paid = c.status.in_(PAID)
        rows = session.execute(
            select(
                c.locality,
                c.programme,
                func.count(func.distinct(c.household_head_token)).filter(paid),
                func.count(func.distinct(c.token)).filter(paid),
                func.count(func.distinct(c.token)).filter(and_(c.since >= first, c.since <= last)),
                func.count(func.distinct(c.token)).filter(and_(c.until >= first, c.until <= last)),
            )
            .where(c.version.in_(versions))
            .group_by(c.locality, c.programme)
            .order_by(c.locality, c.programme)
        ).all()
    return [
        {"locality": loc, "programme": prog, "households": h, "persons": p, "enrolled": new, "exited": gone}
        for loc, prog, h, p, new, gone in rows
    ]


async def statistics(context: JobContext) -> JobOutcome:
    """统计报表: roster coverage per locality and programme, new enrolments and exits in the period."""
    day = context.scheduled_for.astimezone(ZoneInfo(context.settings.jobs.timezone)).date()
    first, last = period(day)
    rows = await context.in_thread(roster_statistics, context.store, first, last)
    context.count("rows", len(rows))
    return JobOutcome(
        report={
            "period": [first.isoformat(), last.isoformat()],
            "coverage": rows,
            "findings": "not available until a findings engine is plugged in (jobs.bodies.statistics)",
        }
    )
