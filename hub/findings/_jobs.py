"""How scheduled runs use the findings: a ``FindingSink`` over the findings table, and two job bodies.

The hub's job catalogue (``hub.jobs.build_jobs``) uses all three by default: ``monthly_comparison`` and
``statistics_job`` are the bodies of the built-in ``monthly_comparison`` and ``statistics`` jobs, and
``DatabaseFindingSink`` is where the annual cross-check and the periodic re-check raise their findings.

The comparison is one transaction and idempotent, so a run resumed after a crash simply runs again; its
``as_of`` is the day before the run was due (the month's data is in by then). Findings raised by other jobs
land in the same table and follow the same lifecycle and routing; their ``first_run`` is 0, as no comparison
raised them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from hub.errors import InvalidArgument
from hub.findings._engine import china_today, run_comparison
from hub.findings._models import ACTIVE, EVENTS, FINDINGS, Status
from hub.findings._rules import RuleBook, Severity, Signal, load_rules
from hub.findings._statistics import statistics_report
from hub.jobs._findings import evidence_text
from hub.store import Store
from hub.store._base import utcnow

if TYPE_CHECKING:
    from hub.config import Settings

#: Who refreshes an undecided finding's evidence, in its history (the engine writes ``comparison``).
JOB_ACTOR = "scheduled job"


class DatabaseFindingSink:
    """``hub.jobs.FindingSink`` over the findings table, with the comparison engine's rules of identity.

    A finding is keyed by what was found: (kind, locality, household, subject) and a digest of its evidence.
    The same fact met again — by a resumed run, by next quarter's re-check, by another job — raises nothing,
    whatever the caller's run-scoped ``dedupe_key``; new evidence refreshes an undecided finding in place (the
    old evidence kept in its history) and, once the finding was decided, raises a new one pointing back at it.
    So a dismissed finding comes back only if its evidence changed.
    """

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
        self,
        kind: str,
        subject: bytes,
        owner: str,
        evidence: Mapping[str, Any],
        dedupe_key: str,
        *,
        locality: str = "",
        programme: str = "",
        household: bytes | None = None,
    ) -> bool:
        household = household or subject
        if len(subject) != 16 or len(household) != 16:
            raise InvalidArgument("subject", "a finding's subject and household are 16-byte tokens")
        text = evidence_text({"source": kind, **evidence})
        key = hashlib.sha256(text.encode()).hexdigest()
        rule, locality = kind[:64], locality[:6]
        now = self.clock()
        with self.store.session() as session:
            found = session.execute(
                select(FINDINGS.c.id, FINDINGS.c.status, FINDINGS.c.evidence_key, FINDINGS.c.evidence)
                .where(
                    FINDINGS.c.rule == rule,
                    FINDINGS.c.locality == locality,
                    FINDINGS.c.household == household,
                    FINDINGS.c.subject == subject,
                )
                .order_by(FINDINGS.c.id)
            ).all()
            if any(row.evidence_key == key for row in found):
                return False
            undecided = [row for row in found if row.status in ACTIVE]
            if undecided:
                _refresh(session, undecided[-1], text, key, now)
                return False
            insert_ = postgresql.insert if self.store.dialect == "postgresql" else sqlite.insert
            statement = (
                insert_(FINDINGS)
                .values(
                    rule=rule,
                    region="",
                    signal=str(evidence.get("signal", self.signal)),
                    severity=str(evidence.get("severity", self.severity)),
                    locality=locality,
                    programme=programme[:32],
                    household=household,
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
                    previous=found[-1].id if found else None,
                )
                .on_conflict_do_nothing()
                .returning(FINDINGS.c.id)
            )
            return session.execute(statement).first() is not None


def _refresh(session: Session, finding: Any, evidence: str, key: str, now: dt.datetime) -> None:
    """New evidence on an undecided finding: replace it, keeping the old in the finding's history."""
    session.execute(
        insert(EVENTS).values(
            finding=finding.id,
            at=now,
            kind="evidence",
            from_status=finding.status,
            to_status=finding.status,
            actor=JOB_ACTOR,
            detail=finding.evidence,
        )
    )
    session.execute(update(FINDINGS).where(FINDINGS.c.id == finding.id).values(evidence=evidence, evidence_key=key))


def rules_for(settings: Settings) -> RuleBook:
    """The configured rule book (``findings.rules_dir``, relative to ``data_dir``), or the packaged one."""
    directory = settings.findings.rules_dir
    if directory is not None and not directory.is_absolute():
        directory = settings.data_dir / directory
    return load_rules(directory)


def _scheduled_day(context: Any) -> dt.date:
    """The day the run was due, in the scheduler's time zone (a run due at 03:00 on the 1st is the 1st's)."""
    moment: dt.datetime | None = getattr(context, "scheduled_for", None)
    return (moment or utcnow()).astimezone(ZoneInfo(context.settings.jobs.timezone)).date()


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
