"""Pull mode: a configured agency table or CSV drop read and uploaded as a feed version, once per run."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from hub.errors import FailedPrecondition, InvalidArgument
from hub.feeds import PullConfig, VersionStatus, load_pull_config, pull_once, relative_period, scheduled_pulls
from hub.sandbox import Sandbox
from tests.feeds.conftest import SUPPLIER, count_rows, person
from tests.feeds.wire import run, sandbox_at

SATURDAY = dt.date(2025, 3, 15)


@pytest.mark.parametrize(
    ("name", "today", "start", "end"),
    [
        ("today", SATURDAY, SATURDAY, SATURDAY),
        ("previous-day", SATURDAY, dt.date(2025, 3, 14), dt.date(2025, 3, 14)),
        ("previous-week", SATURDAY, dt.date(2025, 3, 3), dt.date(2025, 3, 9)),
        ("previous-month", SATURDAY, dt.date(2025, 2, 1), dt.date(2025, 2, 28)),
        ("previous-month", dt.date(2025, 1, 10), dt.date(2024, 12, 1), dt.date(2024, 12, 31)),
        ("previous-quarter", SATURDAY, dt.date(2024, 10, 1), dt.date(2024, 12, 31)),
        ("previous-quarter", dt.date(2025, 8, 1), dt.date(2025, 4, 1), dt.date(2025, 6, 30)),
        ("previous-year", SATURDAY, dt.date(2024, 1, 1), dt.date(2024, 12, 31)),
    ],
)
def test_relative_periods(name: str, today: dt.date, start: dt.date, end: dt.date) -> None:
    assert relative_period(name, today) == (start, end)


def write_config(path: Path, text: str) -> Path:
    path.write_text(f'member = "{SUPPLIER}"\ndepartment = "medical-insurance"\nperiod = "previous-month"\n' + text)
    return path


SQL_SOURCE = '[source]\ntype = "sql"\nurl = "sqlite:///agency.db"\ntable = "yb_js"\n'


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (SQL_SOURCE + '[columns]\nsalary = "GZ"\n', "columns.salary"),
        (SQL_SOURCE + '[values.region_code]\n"1" = "x"\n', "values.region_code"),
        (SQL_SOURCE + '[values.care_kind]\n"21" = "surgery"\n', "values.care_kind"),
        (SQL_SOURCE + "[units]\nsettled_on = 'yuan'\n", "units.settled_on"),
        (SQL_SOURCE + 'colour = "blue"\n', "source.colour"),
        ('[source]\ntype = "ftp"\n', "source"),
        ("[source\n", "config"),  # not TOML
    ],
)
def test_a_bad_configuration_is_refused_naming_what_is_wrong(tmp_path: Path, text: str, field: str) -> None:
    with pytest.raises(InvalidArgument) as raised:
        load_pull_config(write_config(tmp_path / "pull.toml", text))
    assert raised.value.field.startswith(field)


def test_a_department_with_several_kinds_needs_its_kind(tmp_path: Path) -> None:
    path = tmp_path / "pull.toml"
    path.write_text(f'member = "{SUPPLIER}"\ndepartment = "hrss"\nperiod = "today"\n' + SQL_SOURCE)
    with pytest.raises(InvalidArgument, match="choose one"):
        load_pull_config(path)
    path.write_text(path.read_text().replace('period = "today"', 'period = "today"\nkind = "wage"'))
    assert load_pull_config(path).record_kind() == "wage"


def test_without_a_period_the_run_is_refused(tmp_path: Path) -> None:
    config = load_pull_config(write_config(tmp_path / "pull.toml", SQL_SOURCE).parent / "pull.toml")
    assert config.covered(SATURDAY) == (dt.date(2025, 2, 1), dt.date(2025, 2, 28))
    undated = config.model_copy(update={"period": ""})
    with pytest.raises(InvalidArgument, match="period"):
        undated.covered(SATURDAY)


# --- against a live hub -----------------------------------------------------------------------------------


def agency_database(path: Path, rows: list[dict[str, Any]]) -> None:
    """The medical-insurance bureau's own settlement table, with its own column names and codes."""
    engine = sa.create_engine(f"sqlite:///{path}")
    table = sa.Table(
        "yb_js",
        sa.MetaData(),
        *(sa.Column(name, sa.String) for name in ("SFZH", "JSID", "CBD", "YLLB")),
        sa.Column("JSRQ", sa.Date),
        *(sa.Column(name, sa.Numeric(12, 2)) for name in ("ZFY", "TCZF", "GRZF")),
    )
    table.create(engine)
    with engine.begin() as connection:
        connection.execute(table.insert(), rows)
    engine.dispose()


def settlement(n: int, day: dt.date, **changes: Any) -> dict[str, Any]:
    row = {
        "SFZH": person(n).lower(),  # as agencies store them: a lower-case x now and then
        "JSID": f"JS{n:08d}",
        "CBD": "130629",
        "YLLB": "21" if n % 2 else "11",
        "JSRQ": day,
        "ZFY": "1234.50",
        "TCZF": "1000.00",
        "GRZF": "234.50",
    }
    return row | changes


PULL = """
chunk_rows = 4
[source]
type = "sql"
url = "sqlite:///agency.db"
query = "SELECT * FROM yb_js WHERE JSRQ BETWEEN :period_start AND :period_end"
[columns]
id_number = "SFZH"
settlement_id = "JSID"
region_code = "CBD"
settled_on = "JSRQ"
care_kind = "YLLB"
total_fen = "ZFY"
fund_paid_fen = "TCZF"
out_of_pocket_fen = "GRZF"
[values.care_kind]
"11" = "outpatient"
"21" = "CARE_KIND_INPATIENT"
[units]
total_fen = "yuan"
fund_paid_fen = "yuan"
out_of_pocket_fen = "yuan"
"""


@pytest.mark.integration
def test_a_pull_reads_the_agency_table_for_the_period_and_a_second_run_changes_nothing(
    tmp_path: Path, database_url: str
) -> None:
    june, july = dt.date(2025, 6, 10), dt.date(2025, 7, 2)
    rows = [settlement(n, june) for n in range(10)] + [settlement(50 + n, july) for n in range(3)]
    rows[4]["GRZF"] = "5000.00"  # more out of pocket than the total: the hub refuses row 5
    agency_database(tmp_path / "agency.db", rows)

    async def scenario() -> None:
        sandbox = sandbox_at(tmp_path / "world", database_url)
        await sandbox.start(with_nodes=False)
        try:
            config = pulled(sandbox, tmp_path)
            receipt = await pull_once(config, sandbox.settings(), today=dt.date(2025, 7, 15))
            assert receipt.status == VersionStatus.COMPLETE and receipt.current
            assert (receipt.period_start, receipt.period_end) == (dt.date(2025, 6, 1), dt.date(2025, 6, 30))
            assert (receipt.received_records, receipt.accepted_records, receipt.chunks) == (10, 9, 3)
            assert [(r.row_number, r.field) for r in receipt.rejections] == [(5, "out_of_pocket_fen")]
            again = await pull_once(config, sandbox.settings(), today=dt.date(2025, 7, 31))
            assert again == receipt
            assert sandbox.hub is not None
            assert count_rows(sandbox.hub.store, "medical_settlement") == 9
        finally:
            await sandbox.stop()

    run(scenario())


def pulled(sandbox: Sandbox, folder: Path) -> PullConfig:
    path = folder / "pull.toml"
    write_config(path, f'hub = "{sandbox.hub_address}"\n' + PULL)
    return load_pull_config(path)


@pytest.mark.integration
def test_a_pull_from_a_csv_drop_takes_the_newest_file(tmp_path: Path, database_url: str) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    header = "id_number,settlement_id,region_code,settled_on,care_kind,total_fen,fund_paid_fen,out_of_pocket_fen\n"
    older, newer = drop / "jsxx-05.csv", drop / "jsxx-06.csv"
    older.write_text(header + f"{person(1)},A1,130629,2025-05-02,inpatient,100,50,50\n", encoding="gbk")
    lines = [f"{person(n)},B{n},130629,20250603,住院,200,150,50\n" for n in range(5)]
    newer.write_text(header + "".join(lines), encoding="gbk")
    os.utime(older, (1_700_000_000, 1_700_000_000))

    async def scenario() -> None:
        sandbox = sandbox_at(tmp_path / "world", database_url)
        await sandbox.start(with_nodes=False)
        try:
            path = write_config(
                tmp_path / "pull.toml",
                f'hub = "{sandbox.hub_address}"\n[source]\ntype = "csv"\npath = "drop"\npattern = "jsxx-*.csv"\n'
                '[values.care_kind]\n"住院" = "inpatient"\n',
            )
            receipt = await pull_once(load_pull_config(path), sandbox.settings(), today=dt.date(2025, 7, 1))
            assert (receipt.accepted_records, receipt.rejected_records) == (5, 0)
        finally:
            await sandbox.stop()

    run(scenario())


class JobRun:
    """The part of a job's context that ``scheduled_pulls`` uses."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.counts: dict[str, int] = {}
        self.done = (0, 0)

    def progress(self, done: int, total: int | None = None) -> None:
        self.done = (done, total or 0)

    def count(self, name: str, n: int = 1) -> None:
        self.counts[name] = self.counts.get(name, 0) + n


def test_a_hub_with_pull_configs_has_a_scheduled_feed_pull_job(tmp_path: Path) -> None:
    from hub.config import Settings
    from hub.jobs._bodies import BodyJob
    from hub.jobs._catalogue import JobEnvironment, build_jobs, schedule_for
    from hub.store import open_store

    settings = Settings(data_dir=tmp_path)
    store = open_store(settings.resolved_database_url)
    without = build_jobs(JobEnvironment(store, settings))
    assert "feed_pull" not in without and "feed_pull" not in schedule_for(settings, without)
    pulling = settings.model_copy(
        update={"feeds": settings.feeds.model_copy(update={"pull_configs": [Path("a.toml")]})}
    )
    jobs = build_jobs(JobEnvironment(store, pulling))
    job = jobs["feed_pull"]
    assert isinstance(job, BodyJob) and job.body is scheduled_pulls
    assert schedule_for(pulling, jobs)["feed_pull"] == "0 1 * * *"


@pytest.mark.integration
def test_a_scheduled_run_pulls_every_configured_source_and_reports_the_one_that_failed(
    tmp_path: Path, database_url: str
) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    header = "id_number,settlement_id,region_code,settled_on,care_kind,total_fen,fund_paid_fen,out_of_pocket_fen\n"
    lines = [f"{person(n)},S{n},130629,2025-06-03,inpatient,200,150,50\n" for n in range(3)]
    (drop / "jsxx-06.csv").write_text(header + "".join(lines), encoding="utf-8")

    async def scenario() -> None:
        sandbox = sandbox_at(tmp_path / "world", database_url)
        await sandbox.start(with_nodes=False)
        try:
            good = write_config(
                tmp_path / "good.toml",
                f'hub = "{sandbox.hub_address}"\n[source]\ntype = "csv"\npath = "drop"\npattern = "jsxx-*.csv"\n',
            )
            broken = write_config(
                tmp_path / "broken.toml",
                f'hub = "{sandbox.hub_address}"\n[source]\ntype = "csv"\npath = "drop"\npattern = "none-*.csv"\n',
            )
            settings = sandbox.settings()
            settings = settings.model_copy(
                update={"feeds": settings.feeds.model_copy(update={"pull_configs": [broken, good]})}
            )
            job = JobRun(settings)
            with pytest.raises(FailedPrecondition, match=r"1 of 2 pulls failed: broken.toml: .*no file matching"):
                await scheduled_pulls(job)
            assert job.counts == {"failed": 1, "pulled": 1, "accepted_records": 3, "rejected_records": 0}
            assert job.done == (2, 2)
            assert sandbox.hub is not None
            assert count_rows(sandbox.hub.store, "medical_settlement") == 3
            settings.feeds.pull_configs.remove(broken)
            again = JobRun(settings)
            report = await scheduled_pulls(again)  # the same data again: the same version, nothing stored twice
            assert report["pulls"] == 1 and len(report["versions"]) == 1
            assert count_rows(sandbox.hub.store, "medical_settlement") == 3
        finally:
            await sandbox.stop()

    run(scenario())
