"""The statistics report (工作进度统计表) townships file on the 14th and the 28th.

Per region (the paying bureau's locality) and programme: households and persons covered on the report day, new
enrolments and exits during the period, and findings opened, confirmed and dismissed during it and overdue on
the report day. A period runs from the day after the previous report day to the report day. The trend covers
the preceding report days: coverage is reconstructed from the current rosters' enrolment dates (persons
counted per enrolment), findings from their own dates, so a report can be drawn again for a past day.
Everything is aggregated in the database (GROUP BY with conditional sums), one pass per table.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from pathlib import Path
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select

from hub.feeds import current_versions
from hub.findings._facts import ROSTER, roster_table
from hub.findings._labels import PROGRAMMES, label
from hub.findings._models import ACTIVE, FindingRow, Status
from hub.findings._rules import ON_ASSISTANCE
from hub.identifiers import validate_region_prefix
from hub.store import Store

REPORT_DAYS = (14, 28)
_CHINA = dt.timezone(dt.timedelta(hours=8))
DEFAULT_TREND = 12


def previous_report_day(day: dt.date) -> dt.date:
    """The last report day (14th or 28th) strictly before ``day``."""
    for candidate in sorted(REPORT_DAYS, reverse=True):
        if day.day > candidate:
            return day.replace(day=candidate)
    last_month = day.replace(day=1) - dt.timedelta(days=1)
    return last_month.replace(day=max(REPORT_DAYS))


def report_period(period_end: dt.date) -> tuple[dt.date, dt.date]:
    return previous_report_day(period_end) + dt.timedelta(days=1), period_end


def report_days(period_end: dt.date, count: int) -> list[dt.date]:
    """``period_end`` and the ``count - 1`` report days before it, oldest first."""
    days = [period_end]
    while len(days) < count:
        days.append(previous_report_day(days[-1]))
    return days[::-1]


def _instant(day: dt.date) -> dt.datetime:
    """Midnight in China at the start of ``day``, as an aware datetime."""
    return dt.datetime.combine(day, dt.time(), _CHINA)


@dataclass(frozen=True)
class StatisticsRow:
    region: str
    programme: str
    households: int = 0
    persons: int = 0
    new_enrolments: int = 0
    exits: int = 0
    findings_opened: int = 0
    findings_confirmed: int = 0
    findings_dismissed: int = 0
    findings_overdue: int = 0


HEADERS = (
    "地区 Region",
    "救助项目 Programme",
    "户数 Households",
    "人数 Persons",
    "新增 New enrolments",
    "退出 Exits",
    "新增线索 Findings opened",
    "核实属实 Confirmed",
    "核实排除 Dismissed",
    "逾期未办 Overdue",
)


@dataclass(frozen=True)
class TrendPoint:
    day: dt.date
    #: Enrolments on the rosters that day (a person enrolled twice counts twice).
    enrolments: int
    opened: int
    confirmed: int
    dismissed: int
    overdue: int


@dataclass(frozen=True)
class StatisticsReport:
    period_start: dt.date
    period_end: dt.date
    region: str
    rows: tuple[StatisticsRow, ...]
    trend: tuple[TrendPoint, ...]

    def totals(self) -> StatisticsRow:
        sums = [sum(getattr(row, f.name) for row in self.rows) for f in fields(StatisticsRow)[2:]]
        return StatisticsRow(self.region or "全部 all", "合计 total", *sums)

    def _table(self) -> list[list[Any]]:
        table: list[list[Any]] = []
        for row in (*self.rows, self.totals()):
            values = list(astuple(row))
            values[1] = label(PROGRAMMES, values[1])
            table.append(values)
        return table

    def to_csv(self, path: Path) -> None:
        """The table, one row per region and programme and a total, UTF-8 with a byte-order mark."""
        with path.open("w", newline="", encoding="utf-8-sig") as handle:
            writer = csv.writer(handle)
            writer.writerow(["报告期起 Period start", "报告期止 Period end", *HEADERS])
            for values in self._table():
                writer.writerow([self.period_start.isoformat(), self.period_end.isoformat(), *values])

    def to_xlsx(self, path: Path) -> None:
        """Two sheets: the table, and the trend over the preceding report days."""
        from openpyxl import Workbook
        from openpyxl.styles import Font

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "统计 Statistics"
        sheet.append([f"报告期 Period {self.period_start.isoformat()} – {self.period_end.isoformat()}"])
        sheet.append(list(HEADERS))
        for cell in sheet[2]:
            cell.font = Font(bold=True)
        for values in self._table():
            sheet.append(values)
        for cell in sheet[sheet.max_row]:
            cell.font = Font(bold=True)
        sheet.freeze_panes = "C3"
        trend = workbook.create_sheet("趋势 Trend")
        trend.append(
            [
                "报告日 Report day",
                "在册人次 Enrolments",
                "新增线索 Opened",
                "属实 Confirmed",
                "排除 Dismissed",
                "逾期 Overdue",
            ]
        )
        for cell in trend[1]:
            cell.font = Font(bold=True)
        for point in self.trend:
            trend.append([point.day.isoformat(), *astuple(point)[1:]])
        workbook.save(path)

    def chart_png(self, path: Path) -> None:
        """Coverage and findings over the report days (labels in English: the chart needs no CJK font)."""
        import matplotlib

        matplotlib.use("Agg")
        from matplotlib import pyplot

        days = [p.day for p in self.trend]
        figure, (top, bottom) = pyplot.subplots(2, 1, figsize=(9, 6), sharex=True)
        try:
            top.plot(days, [p.enrolments for p in self.trend], marker="o", color="tab:blue")
            top.set_ylabel("enrolments")
            top.set_title(f"Assistance and findings, {self.region or 'all regions'}, to {self.period_end.isoformat()}")
            top.grid(alpha=0.3)
            for series, colour in (("opened", "tab:orange"), ("confirmed", "tab:red"), ("dismissed", "tab:green")):
                bottom.plot(days, [getattr(p, series) for p in self.trend], marker="o", label=series, color=colour)
            bottom.plot(days, [p.overdue for p in self.trend], linestyle="--", label="overdue", color="tab:gray")
            bottom.set_ylabel("findings per period")
            bottom.legend(loc="upper left")
            bottom.grid(alpha=0.3)
            figure.autofmt_xdate()
            figure.tight_layout()
            figure.savefig(path, format="png", dpi=100)
        finally:
            pyplot.close(figure)


def statistics_report(
    store: Store, *, period_end: dt.date, region: str | None = None, trend: int = DEFAULT_TREND
) -> StatisticsReport:
    """The report for the period ending ``period_end`` (localities under ``region`` only, if given)."""
    if region:
        validate_region_prefix(region, "region")
    start, end = report_period(period_end)
    days = report_days(period_end, max(trend, 1))
    with store.session() as session:
        versions = current_versions(session, ROSTER)
        coverage = _coverage(session, versions, start, end, region)
        findings = _findings(session, start, end, region)
        points = _trend(session, versions, days, region)
    keys = sorted(set(coverage) | set(findings))
    rows = tuple(
        StatisticsRow(
            locality,
            programme,
            *coverage.get((locality, programme), (0,) * 4),
            *findings.get((locality, programme), (0,) * 4),
        )
        for locality, programme in keys
    )
    return StatisticsReport(start, end, region or "", rows, tuple(points))


def _covered(roster: Any, day: dt.date) -> ColumnElement[bool]:
    return and_(roster.c.since <= day, or_(roster.c.until.is_(None), roster.c.until >= day))


def _coverage(
    session: Any, versions: Sequence[int], start: dt.date, end: dt.date, region: str | None
) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    roster = roster_table()
    on_day = and_(_covered(roster, end), roster.c.status.in_(ON_ASSISTANCE))
    query = (
        select(
            roster.c.locality,
            roster.c.programme,
            func.count(case((on_day, roster.c.household_head_token)).distinct()),
            func.count(case((on_day, roster.c.token)).distinct()),
            func.count(case((roster.c.since.between(start, end), roster.c.token)).distinct()),
            func.count(case((roster.c.until.between(start, end), roster.c.token)).distinct()),
        )
        .where(roster.c.version.in_(versions), *([roster.c.locality.like(f"{region}%")] if region else []))
        .group_by(roster.c.locality, roster.c.programme)
    )
    return {(row[0], row[1]): (row[2], row[3], row[4], row[5]) for row in session.execute(query)}


def _period_counts(start: dt.date, end: dt.date) -> list[ColumnElement[Any]]:
    """Findings opened, confirmed and dismissed in [start, end], and overdue at the end of ``end``."""
    since, until = _instant(start), _instant(end + dt.timedelta(days=1))

    def decided(status: Status) -> ColumnElement[bool]:
        return and_(FindingRow.status == status.value, FindingRow.reviewed_at >= since, FindingRow.reviewed_at < until)

    undecided_then = and_(
        FindingRow.raised_at < until,
        or_(
            FindingRow.status.in_(ACTIVE),
            FindingRow.reviewed_at.is_(None),
            FindingRow.reviewed_at >= until,
        ),
    )
    return [
        func.sum(case((and_(FindingRow.raised_at >= since, FindingRow.raised_at < until), 1), else_=0)),
        func.sum(case((decided(Status.CONFIRMED), 1), else_=0)),
        func.sum(case((decided(Status.DISMISSED), 1), else_=0)),
        func.sum(case((and_(undecided_then, FindingRow.due_on < end), 1), else_=0)),
    ]


def _findings(
    session: Any, start: dt.date, end: dt.date, region: str | None
) -> dict[tuple[str, str], tuple[int, int, int, int]]:
    query = (
        select(FindingRow.locality, FindingRow.programme, *_period_counts(start, end))
        .where(*([FindingRow.locality.like(f"{region}%")] if region else []))
        .group_by(FindingRow.locality, FindingRow.programme)
    )
    return {
        (r[0], r[1]): (int(r[2] or 0), int(r[3] or 0), int(r[4] or 0), int(r[5] or 0)) for r in session.execute(query)
    }


def _trend(session: Any, versions: Sequence[int], days: Sequence[dt.date], region: str | None) -> list[TrendPoint]:
    roster = roster_table()
    enrolments = session.execute(
        select(*(func.sum(case((_covered(roster, day), 1), else_=0)) for day in days)).where(
            roster.c.version.in_(versions), *([roster.c.locality.like(f"{region}%")] if region else [])
        )
    ).one()
    columns: list[ColumnElement[Any]] = []
    for day in days:
        columns += _period_counts(*report_period(day))
    counts = session.execute(
        select(*columns).where(*([FindingRow.locality.like(f"{region}%")] if region else []))
    ).one()
    return [
        TrendPoint(day, int(enrolments[i] or 0), *(int(counts[4 * i + k] or 0) for k in range(4)))
        for i, day in enumerate(days)
    ]
