"""How scheduled runs use the findings: a ``FindingSink`` over the findings table, and two job bodies.

Configure the scheduler (``hub.jobs``) with::

    [jobs.bodies]
    monthly_comparison = "hub.findings:monthly_comparison"
    statistics = "hub.findings:statistics_job"

The comparison is one transaction and idempotent, so a run resumed after a crash simply runs again; its
``as_of`` is the day before the run was due (the month's data is in by then). Findings raised by other jobs
(the annual cross-check, re-checks) land in the same table through ``DatabaseFindingSink`` and follow the same
lifecycle; their ``first_run`` is 0, as no comparison raised them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import CursorResult
from sqlalchemy.dialects import postgresql, sqlite

from hub.errors import InvalidArgument
from hub.findings._engine import china_today, run_comparison
from hub.findings._models import FINDINGS, Status
from hub.findings._rules import RuleBook, Severity, Signal, load_rules
from hub.findings._statistics import statistics_report
from hub.logs import ID_NUMBER_PATTERN
from hub.store import Store
from hub.store._base import utcnow

if TYPE_CHECKING:
    from hub.config import Settings

_KEY_LENGTH = 255
_CHINA = dt.timezone(dt.timedelta(hours=8))


class DatabaseFindingSink:
    """``hub.jobs.FindingSink`` over the findings table: ``dedupe_key`` is the evidence key, so a job that meets
    the same fact again raises nothing."""

    def __init__(
        self,
        store: Store,
        *,
        due_days: int = 10,
        signal: Signal = Signal.EXCLUSION,
        severity: Severity = Severity.MEDIUM,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self.store = store
        self.due_days = due_days
        self.signal = signal
        self.severity = severity
        self.clock = clock

    def raise_finding(
        self, kind: str, subject: bytes, owner: str, evidence: Mapping[str, Any], dedupe_key: str
    ) -> bool:
        if len(subject) != 16:
            raise InvalidArgument("subject", "a finding's subject is a 16-byte token")
        text = json.dumps({**evidence, "source": kind}, ensure_ascii=False, sort_keys=True, default=str)
        if ID_NUMBER_PATTERN.search(text):
            raise InvalidArgument("evidence", "a finding's evidence must not hold an ID number; use the person's token")
        key = dedupe_key if len(dedupe_key) <= _KEY_LENGTH else hashlib.sha256(dedupe_key.encode()).hexdigest()
        now = self.clock()
        insert = postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert
        statement = (
            insert(FINDINGS)
            .values(
                rule=kind[:64],
                region="",
                signal=str(evidence.get("signal", self.signal)),
                severity=str(evidence.get("severity", self.severity)),
                locality=str(evidence.get("locality", ""))[:6],
                programme=str(evidence.get("programme", ""))[:32],
                household=subject,
                person=subject,
                subject=subject,
                evidence_key=key,
                evidence=text,
                status=Status.OPEN.value,
                bureau=owner or None,
                due_on=china_today(now) + dt.timedelta(days=self.due_days),
                raised_at=now,
                first_run=0,
                last_run=0,
            )
            .on_conflict_do_nothing()
        )
        with self.store.session() as session:
            return cast(CursorResult[Any], session.execute(statement)).rowcount == 1


def rules_for(settings: Settings) -> RuleBook:
    """The configured rule book (``findings.rules_dir``, relative to ``data_dir``), or the packaged one."""
    directory = settings.findings.rules_dir
    if directory is not None and not directory.is_absolute():
        directory = settings.data_dir / directory
    return load_rules(directory)


def _scheduled_day(context: Any) -> dt.date:
    moment: dt.datetime | None = getattr(context, "scheduled_for", None)
    return (moment or utcnow()).astimezone(_CHINA).date()


def monthly_comparison(context: Any) -> dict[str, Any]:
    """月度数据比对: every roster against every current feed, as of the day before the run was due."""
    settings: Settings = context.settings
    summary = run_comparison(
        context.store,
        rules_for(settings),
        as_of=_scheduled_day(context) - dt.timedelta(days=1),
        progress=context.progress,
        due_days=settings.findings.due_days,
    )
    return summary.to_report()


def statistics_job(context: Any) -> dict[str, Any]:
    """统计报表 (14th and 28th): coverage and findings per region and programme, as CSV, XLSX and a PNG trend."""
    settings: Settings = context.settings
    day = _scheduled_day(context)
    report = statistics_report(context.store, period_end=day, trend=settings.findings.trend_periods)
    folder = settings.findings.reports_dir
    folder = (folder if folder.is_absolute() else settings.data_dir / folder) / f"statistics-{day.isoformat()}"
    folder.mkdir(parents=True, exist_ok=True)
    report.to_csv(folder / "statistics.csv")
    report.to_xlsx(folder / "statistics.xlsx")
    report.chart_png(folder / "trend.png")
    totals = report.totals()
    return {
        "period": [report.period_start.isoformat(), report.period_end.isoformat()],
        "rows": len(report.rows),
        "households": totals.households,
        "persons": totals.persons,
        "findings_opened": totals.findings_opened,
        "findings_overdue": totals.findings_overdue,
        "folder": str(Path(folder)),
    }
