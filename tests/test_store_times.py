"""Plain statements on hot paths bind times exactly as the ``UtcDateTime`` column type would."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.dialects import postgresql, sqlite

from hub.store._base import UtcDateTime, time_binder

CHINA = dt.timezone(dt.timedelta(hours=8))
TIMES = [
    dt.datetime(2025, 3, 14, 8, 0, tzinfo=dt.UTC),  # a whole second: the driver's default would drop ".000000"
    dt.datetime(2025, 3, 14, 8, 0, 0, 5, tzinfo=dt.UTC),
    dt.datetime(2025, 1, 1, 7, 59, 59, 999999, tzinfo=CHINA),  # another zone, and the day before in UTC
    dt.datetime(1, 1, 1, 0, 0, tzinfo=dt.UTC),
]


@pytest.mark.parametrize("dialect", [sqlite.dialect(), postgresql.dialect()], ids=["sqlite", "postgresql"])
def test_the_hot_path_binder_gives_the_column_types_form(dialect: object) -> None:
    processor = UtcDateTime().dialect_impl(dialect).bind_processor(dialect)  # type: ignore[arg-type]
    bind = time_binder(dialect)  # type: ignore[arg-type]
    for value in TIMES:
        expected = processor(value) if processor is not None else value
        assert bind(value) == expected


def test_a_naive_time_is_refused_as_the_column_type_refuses_it() -> None:
    with pytest.raises(ValueError, match="naive"):
        time_binder(sqlite.dialect())(dt.datetime(2025, 3, 14, 8, 0))
