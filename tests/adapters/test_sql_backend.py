"""The SQL backend over an agency's own schema: column mapping, stored ID spellings, writes in place.

Runs on SQLite always and on PostgreSQL when ``HUB_TEST_DATABASE_URL`` is set.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from adapters import load_adapter
from adapters.demo import Demo
from hub import services
from hub.errors import FailedPrecondition
from hub.v1 import verification_pb2 as pb

from .adapter_requests import answer, ask, facts_of


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str | None]]:
    """``(url, schema)`` of an empty database: a SQLite file, or a fresh schema in the session's PostgreSQL."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'agency.db'}", None
        return
    url: str = request.getfixturevalue("postgres_base")
    schema = f"agency_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield url, schema
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def _payroll(url: str, schema: str | None, rows: list[dict[str, Any]]) -> None:
    """An HR system's own table, with its own names and types."""
    engine = sa.create_engine(url)
    table = sa.Table(
        "T_GZ_MX",
        sa.MetaData(schema=schema),
        sa.Column("ZJHM", sa.String(18)),
        sa.Column("DW", sa.String(100)),
        sa.Column("YFGZ", sa.Numeric(12, 0)),
        sa.Column("BZ", sa.String(50)),
    )
    table.create(engine)
    with engine.begin() as connection:
        for row in rows:
            connection.execute(sa.insert(table).values(row))
    engine.dispose()


def _hrss(url: str, schema: str | None, **columns: str) -> Any:
    config: dict[str, Any] = {
        "kind": "hrss",
        "url": url,
        "datasets": {"insured_persons": {"table": "T_GZ_MX", "columns": {"id_number": "ZJHM", **columns}}},
    }
    if schema:
        config["schema"] = schema
    return load_adapter("sql", config)


def test_column_mapping_and_stored_spellings(database: tuple[str, str | None], demo: Demo) -> None:
    url, schema = database
    spouse, mother = demo.persons["A.spouse"].id_number, demo.persons["B.mother"].id_number
    assert spouse.endswith("X")
    _payroll(
        url,
        schema,
        [
            {"ZJHM": spouse.lower(), "DW": "容城县服装厂", "YFGZ": 320000, "BZ": "x"},
            {"ZJHM": mother[:6] + mother[8:17], "DW": "", "YFGZ": 150000, "BZ": "legacy"},
            {"ZJHM": demo.b.id_number, "DW": "物流公司", "YFGZ": 680000, "BZ": "not asked"},
            {"ZJHM": "not-an-id", "DW": "?", "YFGZ": 1, "BZ": "skipped"},
        ],
    )
    adapter = _hrss(url, schema, employer="DW", monthly_wage_fen="YFGZ")
    report = ask(adapter, services.HOUSEHOLD_CHECK, [spouse, mother, demo.unknown_id])
    assert facts_of(report) == {
        (spouse, "employer"): "容城县服装厂",
        (spouse, "monthly_wage_fen"): "320000",
        (mother, "monthly_wage_fen"): "150000",
    }
    asyncio.run(adapter.aclose())


def test_mapping_to_a_missing_column_or_table_is_a_clear_error(database: tuple[str, str | None], demo: Demo) -> None:
    url, schema = database
    _payroll(url, schema, [])
    adapter = _hrss(url, schema, employer="DW", pension_fen="YLJ")  # optional field absent from the table: ignored
    assert not ask(adapter, services.HOUSEHOLD_CHECK, [demo.a.id_number]).facts
    asyncio.run(adapter.aclose())
    wrong_key = load_adapter(
        "sql",
        {
            "kind": "hrss",
            "url": url,
            **({"schema": schema} if schema else {}),
            "datasets": {"insured_persons": {"table": "T_GZ_MX", "columns": {"id_number": "SFZH"}}},
        },
    )
    with pytest.raises(FailedPrecondition, match="SFZH"):
        ask(wrong_key, services.HOUSEHOLD_CHECK, [demo.a.id_number])
    no_table = load_adapter("sql", {"kind": "hrss", "url": url, **({"schema": schema} if schema else {})})
    with pytest.raises(FailedPrecondition, match="insured_persons"):
        ask(no_table, services.HOUSEHOLD_CHECK, [demo.a.id_number])


def test_enrolment_updates_the_roster_row_in_place(database: tuple[str, str | None], demo: Demo) -> None:
    url, schema = database
    demo.write_sql(url, ["civil-affairs"], schema=schema)
    config = demo.config("sql")
    config.update(kind="civil-affairs", url=url, datasets=demo.config("civil-affairs")["datasets"])
    if schema:
        config["schema"] = schema
    adapter = load_adapter("sql", config)
    record = pb.AssistanceRecord(id_number=demo.b.id_number, programme=pb.DIBAO, locality="110115")
    for change in (pb.NEW_ENROLMENT, pb.CHANGE, pb.EXIT):
        notice = pb.EnrolmentNotice(change=change, record=record)
        assert answer(adapter, notice, services.ENROLMENT_NOTICE).recorded
    asyncio.run(adapter.aclose())

    engine = sa.create_engine(url)
    table = sa.Table("jzdx", sa.MetaData(schema=schema), autoload_with=engine)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table).where(table.c["SFZH"].in_([demo.b.id_number]))).mappings().all()
    engine.dispose()
    assert len(rows) == 1
    assert (rows[0]["JZLB"], rows[0]["XZQH"], rows[0]["ZT"]) == ("低保", "110115", "停保")
    assert rows[0]["JSRQ"] == demo.today and isinstance(rows[0]["KSRQ"], dt.date)
    assert rows[0]["ZJBH"]


def test_demo_over_postgresql(postgres_base: str, demo: Demo) -> None:
    """The kind adapters run unchanged over PostgreSQL tables."""
    schema = f"demo_{uuid.uuid4().hex[:8]}"
    engine = sa.create_engine(postgres_base)
    with engine.begin() as connection:
        connection.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    try:
        demo.write_sql(postgres_base, schema=schema)
        for kind in ("public-security", "hrss", "medical-insurance"):
            config = {**demo.config(kind, "sql"), "url": postgres_base, "schema": schema}
            adapter = load_adapter(kind, config)
            asked = [p.id_number for p in demo.household("A") + demo.household("B")]
            report = ask(adapter, services.HOUSEHOLD_CHECK, asked)
            expected = {(n, name): v for n, facts in demo.facts[kind].items() for name, v in facts.items()}
            assert facts_of(report) == expected
            asyncio.run(adapter.aclose())
    finally:
        with engine.begin() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{schema}" CASCADE'))
        engine.dispose()


def test_exit_notice_updates_a_roster_row_stored_with_a_lower_case_x_or_a_legacy_number(
    database: tuple[str, str | None], demo: Demo
) -> None:
    """The roster keeps numbers as it received them; an exit must end that row, not add a second one."""
    url, schema = database
    spouse, mother = demo.persons["A.spouse"].id_number, demo.persons["B.mother"].id_number
    engine = sa.create_engine(url)
    table = sa.Table(
        "jzdx",
        sa.MetaData(schema=schema),
        sa.Column("SFZH", sa.String(18), index=True),
        sa.Column("JZLB", sa.String(10)),
        sa.Column("XZQH", sa.String(6)),
        sa.Column("KSRQ", sa.Date),
        sa.Column("JSRQ", sa.Date),
        sa.Column("ZT", sa.String(4)),
        sa.Column("ZJBH", sa.String(20)),
    )
    table.create(engine)
    stored = {spouse: spouse.lower(), mother: mother[:6] + mother[8:17]}
    with engine.begin() as connection:
        for number, programme in zip(stored.values(), ("低保", "DIBAO"), strict=True):  # either spelling is a key
            connection.execute(
                sa.insert(table).values(SFZH=number, JZLB=programme, XZQH="130629", KSRQ=dt.date(2020, 1, 1), ZT="在保")
            )
    columns = {"id_number": "SFZH", "programme": "JZLB", "locality": "XZQH", "since": "KSRQ", "until": "JSRQ"}
    config: dict[str, Any] = {
        "kind": "civil-affairs",
        "url": url,
        "today": demo.today.isoformat(),
        "datasets": {
            "assistance_records": {"table": "jzdx", "columns": {**columns, "status": "ZT", "reference": "ZJBH"}}
        },
        **({"schema": schema} if schema else {}),
    }
    adapter = load_adapter("sql", config)
    for number in stored:
        record = pb.AssistanceRecord(id_number=number, programme=pb.DIBAO, locality="130629")
        assert answer(adapter, pb.EnrolmentNotice(change=pb.EXIT, record=record), services.ENROLMENT_NOTICE).recorded
    reply = ask(adapter, services.ASSISTANCE_INQUIRY, list(stored))
    asyncio.run(adapter.aclose())
    assert sorted((r.id_number, r.status) for r in reply.records) == sorted((n, pb.ENDED) for n in stored)
    with engine.connect() as connection:
        rows = connection.execute(sa.select(table.c["SFZH"], table.c["ZT"], table.c["KSRQ"])).all()
    engine.dispose()
    expected = sorted((spelling, "停保", dt.date(2020, 1, 1)) for spelling in stored.values())
    assert sorted(rows) == expected, "updated in place, as stored, its start kept"
