"""The bulk writers: columns in, rows out, in order, whatever the statement size."""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Iterator

import pytest
from sqlalchemy import Column, Date, Integer, LargeBinary, MetaData, String, Table, select
from sqlalchemy.orm import Session

from hub.feeds._bulk import interleaved, writer_for
from hub.store import Store

SCRATCH = Table(
    "bulk_scratch",
    MetaData(),
    Column("n", Integer, primary_key=True, autoincrement=False),
    Column("token", LargeBinary),
    Column("text", String(20)),
    Column("day", Date),
)


@pytest.fixture
def scratch(store: Store) -> Iterator[Store]:
    SCRATCH.create(store.engine)
    try:
        yield store
    finally:
        SCRATCH.drop(store.engine)


def test_interleaving_columns_gives_rows() -> None:
    assert interleaved([[1, 2, 3], ["a", "b", "c"]]) == [1, "a", 2, "b", 3, "c"]
    assert interleaved([]) == []


@pytest.mark.parametrize("parameter_limit", [None, 10, 4])
def test_rows_arrive_whole_and_in_order(scratch: Store, parameter_limit: int | None) -> None:
    if parameter_limit is not None and scratch.dialect != "sqlite":
        pytest.skip("SQLite's parameter limit")
    writer = writer_for(scratch.dialect)
    count = 23
    columns = {
        "n": list(range(count)),
        "token": [bytes([n]) * 16 for n in range(count)],
        "text": [f"row {n}" if n % 5 else None for n in range(count)],
        "day": [writer.adapt_date(dt.date(2025, 6, 1) + dt.timedelta(days=n)) for n in range(count)],
    }
    with Session(scratch.engine) as session:
        if parameter_limit is not None:
            driver = session.connection().connection.driver_connection
            driver.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, parameter_limit)  # 2 rows, then 1 row per statement
        writer.insert(session, SCRATCH, columns)
        writer.insert(session, SCRATCH, {name: [] for name in columns})  # nothing to write is no error
        session.commit()
        rows = session.execute(select(SCRATCH).order_by(SCRATCH.c.n)).all()
    assert [tuple(row) for row in rows] == [
        (n, bytes([n]) * 16, f"row {n}" if n % 5 else None, dt.date(2025, 6, 1) + dt.timedelta(days=n))
        for n in range(count)
    ]
