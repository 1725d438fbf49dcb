"""The statistics report of the 14th and the 28th: numbers per region and programme, files an office can open."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hub.errors import InvalidArgument
from hub.feeds import FeedIntake
from hub.findings import Action, FindingBook, FindingFilter, load_rules, report_period, run_comparison
from hub.findings import statistics_report as report_of
from hub.findings._statistics import report_days
from hub.store import Store
from tests.findings.conftest import AS_OF, NOW, Q2, World

D = dt.date
REPORT_DAY = D(2025, 7, 14)  # the period 2025-06-29 .. 2025-07-14


@pytest.mark.parametrize(
    ("day", "start"),
    [
        (D(2025, 7, 14), D(2025, 6, 29)),
        (D(2025, 7, 28), D(2025, 7, 15)),
        (D(2025, 3, 14), D(2025, 3, 1)),  # February's 28th is its last day
        (D(2025, 7, 31), D(2025, 7, 29)),
        (D(2025, 1, 10), D(2024, 12, 29)),
    ],
)
def test_a_period_runs_from_the_day_after_the_last_report(day: dt.date, start: dt.date) -> None:
    assert report_period(day) == (start, day)


def test_the_trend_walks_back_over_report_days() -> None:
    assert report_days(D(2025, 7, 14), 4) == [D(2025, 5, 28), D(2025, 6, 14), D(2025, 6, 28), D(2025, 7, 14)]


@pytest.fixture
def world(store: Store, intake: FeedIntake) -> World:
    world = World()
    a = world.household("110105", 3)  # covered all along
    b = world.household("110105", 2, since="2025-07-01")  # new in the period
    world.household("110105", 1, status="ended", since="2024-01-01", until="2025-07-05")  # left in the period
    c = world.household("440308", 2, "tekun")
    world.wages(a[1], 200_000, Q2)  # income_over_standard
    world.death(b[1], "2025-05-01")  # enrolled after the comparison's day: no finding
    world.death(c[0], "2025-05-01")
    world.load(intake)
    return world


def test_coverage_enrolments_exits_and_findings_per_region_and_programme(store: Store, world: World) -> None:
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)  # raised 2025-07-01, due 07-11
    book = FindingBook(store, clock=lambda: NOW)
    (died,) = book.find(FindingFilter(rules=("member_died",), locality_prefix="440308"))
    book.review(died.id, Action.START, reviewer="李四")
    book.review(died.id, Action.DISMISS, reviewer="李四", reason="误报")
    report = report_of(store, period_end=REPORT_DAY)
    rows = {(r.region, r.programme): r for r in report.rows}
    chaoyang = rows[("110105", "dibao")]
    assert (chaoyang.households, chaoyang.persons, chaoyang.new_enrolments, chaoyang.exits) == (2, 5, 2, 1)
    assert (chaoyang.findings_opened, chaoyang.findings_confirmed, chaoyang.findings_dismissed) == (1, 0, 0)
    assert chaoyang.findings_overdue == 1  # the income finding, undecided past 07-11
    yantian = rows[("440308", "tekun")]
    assert (yantian.households, yantian.persons, yantian.findings_opened, yantian.findings_dismissed) == (1, 2, 1, 1)
    assert yantian.findings_overdue == 0  # decided
    totals = report.totals()
    assert (totals.persons, totals.findings_opened, totals.findings_overdue) == (7, 2, 1)
    assert report_of(store, period_end=REPORT_DAY, region="4403").totals().persons == 2


def test_overdue_counts_undecided_findings_past_their_day(store: Store, world: World) -> None:
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)  # due 2025-07-11
    report = report_of(store, period_end=D(2025, 7, 28))
    assert report.totals().findings_overdue == 2 and report.totals().findings_opened == 0
    assert report.trend[-2].opened == 2 and report.trend[-2].day == REPORT_DAY
    assert report.trend[-2].overdue == 2 and report.trend[-3].overdue == 0


def test_the_report_as_csv_xlsx_and_a_chart(store: Store, world: World, tmp_path: Path) -> None:
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)
    report = report_of(store, period_end=REPORT_DAY, trend=6)
    report.to_csv(tmp_path / "s.csv")
    with (tmp_path / "s.csv").open(encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    assert table[0][:4] == ["报告期起 Period start", "报告期止 Period end", "地区 Region", "救助项目 Programme"]
    assert table[1][:4] == ["2025-06-29", "2025-07-14", "110105", "低保 dibao"] and table[-1][3] == "合计 total"
    report.to_xlsx(tmp_path / "s.xlsx")
    workbook = load_workbook(tmp_path / "s.xlsx")
    assert workbook.sheetnames == ["统计 Statistics", "趋势 Trend"]
    sheet = workbook["统计 Statistics"]
    assert sheet["A2"].value == "地区 Region" and sheet["D2"].value == "人数 Persons"
    trend = workbook["趋势 Trend"]
    assert trend.max_row == 1 + 6 and trend["A7"].value == "2025-07-14"
    report.chart_png(tmp_path / "trend.png")
    assert (tmp_path / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "trend.png").stat().st_size > 10_000


def test_a_bad_region_is_refused(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        report_of(store, period_end=REPORT_DAY, region="11x")
    empty = report_of(store, period_end=REPORT_DAY)
    assert empty.rows == () and empty.totals().persons == 0 and len(empty.trend) == 12
