"""The findings engine as the hub's scheduled jobs: the built-in monthly comparison and statistics, and the sink
other jobs raise findings into — through the job runner, on the catalogue a hub is built with."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import threading
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hub.config import FindingSettings, Settings
from hub.errors import InvalidArgument
from hub.findings import Action, DatabaseFindingSink, FindingBook, FindingFilter, Status, load_rules, run_comparison
from hub.findings._models import ComparisonRunRow, FindingEventRow, FindingRow
from hub.jobs import JobEnvironment, JobRunner, RunRecord, RunStatus, build_jobs
from hub.store import Store, make_engine
from tests.findings.conftest import AS_OF, BUREAU_OF, NOW, register_bureaus
from tests.findings.dataset import Dataset

CHINA = ZoneInfo("Asia/Shanghai")
#: The monthly comparison's default due time (03:00 on the 1st): it compares as of the day before, ``AS_OF``.
FIRST_OF_JULY = dt.datetime(2025, 7, 1, 3, 0, tzinfo=CHINA)
TOKEN, HEAD = bytes(range(16)), bytes(range(16, 32))
CHAOYANG, YANTIAN = BUREAU_OF["110105"], BUREAU_OF["440308"]


def run_due(store: Store, settings: Settings, job: str, due: dt.datetime) -> RunRecord:
    runner = JobRunner(store, build_jobs(JobEnvironment(store, settings)), settings, holder="hub-1")
    record = asyncio.run(asyncio.wait_for(runner.run_due(job, due), 60))
    assert record is not None and record.status is RunStatus.SUCCEEDED, record and record.error
    return record


def count_findings(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(func.count()).select_from(FindingRow)) or 0)


def test_the_monthly_comparison_job_writes_findings_and_a_rerun_raises_none_twice(
    store: Store, dataset: Dataset, tmp_path: Path
) -> None:
    register_bureaus(store)
    settings = Settings(data_dir=tmp_path)  # nothing configured: the built-in job is the real comparison
    first = run_due(store, settings, "monthly_comparison", FIRST_OF_JULY)
    assert first.report["as_of"] == "2025-06-30" and first.progress_done == first.progress_total > 0
    raised = first.report["totals"]["new"]
    assert raised == sum(len(hits) for hits in dataset.expected.values()) == count_findings(store)
    again = run_due(store, settings, "monthly_comparison", FIRST_OF_JULY + dt.timedelta(hours=1))  # same month
    assert again.report["totals"] == {"new": 0, "reopened": 0, "updated": 0, "unchanged": raised}
    assert count_findings(store) == raised
    book = FindingBook(store)
    assert {f.bureau for f in book.find(FindingFilter(limit=1000), bureau=CHAOYANG)} == {CHAOYANG}
    assert all(f.locality.startswith("440308") for f in book.find(FindingFilter(limit=1000), bureau=YANTIAN))


def test_a_write_committed_while_the_comparison_runs_waits_for_it_instead_of_failing_it(
    store: Store, dataset: Dataset
) -> None:
    """On SQLite the joins read the main database for a while before the merge writes to it: a heartbeat
    committed in between must not make the merge fail ("database is locked"); it waits for the comparison."""
    if store.dialect != "sqlite":
        pytest.skip("PostgreSQL writers never block each other here")
    other = Store(make_engine(store.engine.url.render_as_string(hide_password=False)))
    writer: list[threading.Thread] = []

    def heartbeat() -> None:
        with other.session() as session:
            session.add(ComparisonRunRow(as_of=AS_OF, rules_digest="x", status="complete"))

    def progress(done: int, total: int) -> None:
        if not writer:  # the joins have begun: another process's write lands now (or waits its turn)
            writer.append(threading.Thread(target=heartbeat))
            writer[0].start()
            writer[0].join(0.3)

    try:
        summary = run_comparison(store, load_rules(), as_of=AS_OF, progress=progress)
        writer[0].join(10)
    finally:
        other.dispose()
    assert summary.total("new") == count_findings(store) > 0 and not writer[0].is_alive()
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(ComparisonRunRow)) == 2  # the write went in after


def test_the_statistics_job_writes_its_report_files_where_configured(
    store: Store, dataset: Dataset, tmp_path: Path
) -> None:
    register_bureaus(store)
    settings = Settings(data_dir=tmp_path, findings=FindingSettings(reports_dir=Path("out"), trend_periods=3))
    run_due(store, settings, "monthly_comparison", FIRST_OF_JULY)
    record = run_due(store, settings, "statistics", dt.datetime(2025, 7, 14, 6, 0, tzinfo=CHINA))
    folder = tmp_path / "out" / "statistics-2025-07-14"
    assert record.report["folder"] == str(folder) and record.report["period"] == ["2025-06-29", "2025-07-14"]
    with (folder / "statistics.csv").open(encoding="utf-8-sig") as handle:
        table = list(csv.reader(handle))
    assert "户数 Households" in table[0] and table[-1][3] == "合计 total"
    assert int(table[-1][4]) == record.report["households"] > 0
    assert load_workbook(folder / "statistics.xlsx").sheetnames == ["统计 Statistics", "趋势 Trend"]
    assert (folder / "trend.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# --- the sink the cross-check and the re-check raise into --------------------------------------------------------


def sink_for(store: Store) -> DatabaseFindingSink:
    return DatabaseFindingSink(store, due_days=5, clock=lambda: NOW)


def raise_(sink: DatabaseFindingSink, evidence: dict[str, Any], key: str = "run-1") -> bool:
    return sink.raise_finding(
        "property", TOKEN, CHAOYANG, evidence, f"{key}:property", locality="110105", programme="dibao", household=HEAD
    )


def test_the_sink_raises_a_fact_once_across_runs_routed_and_due(store: Store) -> None:
    sink = sink_for(store)
    assert raise_(sink, {"residential": 2, "source": "property feed"}, "run-1")
    assert not raise_(sink, {"residential": 2, "source": "property feed"}, "run-1")  # a resumed run
    assert not raise_(sink, {"residential": 2, "source": "property feed"}, "run-2")  # next quarter's re-check
    book = FindingBook(store, clock=lambda: NOW)
    (finding,) = book.find(bureau=CHAOYANG)
    assert (finding.rule, finding.locality, finding.programme) == ("property", "110105", "dibao")
    assert (finding.household, finding.subject, finding.status) == (HEAD, TOKEN, Status.OPEN)
    assert finding.due_on == dt.date(2025, 7, 6) and finding.evidence["residential"] == 2
    assert book.find(bureau=YANTIAN) == []


def test_a_comparison_leaves_a_job_finding_with_its_bureau_where_no_bureau_covers_the_locality(store: Store) -> None:
    """A job gives it to the roster's supplier; the monthly comparison must not strip the only owner it has."""
    raise_(sink_for(store), {"residential": 2})
    run_comparison(store, load_rules(), as_of=AS_OF, clock=lambda: NOW)  # the registry names no bureau for 110105
    (finding,) = FindingBook(store, clock=lambda: NOW).find()
    assert finding.bureau == CHAOYANG


def test_new_evidence_refreshes_an_undecided_finding_and_reopens_a_dismissed_one(store: Store) -> None:
    sink = sink_for(store)
    book = FindingBook(store, clock=lambda: NOW)
    raise_(sink, {"residential": 2})
    assert not raise_(sink, {"residential": 3})  # still open: the same finding, with the new evidence
    (finding,) = book.find()
    assert finding.evidence["residential"] == 3
    with store.session() as session:
        (event,) = session.scalars(select(FindingEventRow)).all()
        assert (event.kind, event.finding) == ("evidence", finding.id) and '"residential": 2' in (event.detail or "")
    book.review(finding.id, Action.START, reviewer="李四")
    book.review(finding.id, Action.DISMISS, reviewer="李四", reason="房产已过户")
    assert not raise_(sink, {"residential": 3}, "run-2")  # dismissed, same evidence: stays dismissed
    assert raise_(sink, {"residential": 4}, "run-3")  # dismissed, new evidence: back, pointing at the old
    reopened = book.find(FindingFilter(statuses=(Status.OPEN,)))
    assert [(f.previous, f.evidence["residential"]) for f in reopened] == [(finding.id, 4)]


def test_the_sink_refuses_id_numbers_and_malformed_tokens(store: Store) -> None:
    sink = sink_for(store)
    with pytest.raises(InvalidArgument, match="ID number"):
        raise_(sink, {"member": "11010519491231002X"})
    with pytest.raises(InvalidArgument, match="16-byte"):
        sink.raise_finding("property", b"short", CHAOYANG, {}, "k")
    assert count_findings(store) == 0
