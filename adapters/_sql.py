"""The SQL backend: an agency's own database through SQLAlchemy, read in worker threads.

Tables are reflected on first use (in a thread), which checks the column mapping against the real
schema once and lets SQLAlchemy bind values with the columns' own types. Lookups by ID number ask for
every spelling the agency may have stored (``x``/``X``, legacy 15 digits), so one indexed ``IN`` query
answers a whole household.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Collection, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from adapters._datasets import ID, ColumnMap, Row, normalised_id, stored_forms
from adapters._values import parse_date, parse_flag, parse_int, to_text
from hub.errors import FailedPrecondition


def make_engine(url: str) -> sa.Engine:
    """An engine for ``url``; plain ``postgresql://`` uses psycopg 3, SQLite may be used from threads."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    options: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        options["connect_args"] = {"check_same_thread": False}
    else:
        options["pool_pre_ping"] = True
    return sa.create_engine(parsed, **options)


class SqlDataset:
    """One table (or view) of the agency's database."""

    def __init__(
        self,
        name: str,
        engine: sa.Engine,
        table: str,
        columns: ColumnMap,
        *,
        schema: str | None = None,
        required: Sequence[str] = (ID,),
    ) -> None:
        self.name = name
        self._engine = engine
        self._table_name = table
        self._schema = schema
        self._columns = columns
        self._required = tuple(required)
        self._lock = threading.Lock()
        self._table: sa.Table | None = None
        self._mapped: dict[str, sa.Column[Any]] = {}

    async def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        return await asyncio.to_thread(self._by_id, tuple(id_numbers))

    async def where(self, field: str, value: str) -> list[Row]:
        return await asyncio.to_thread(self._where, field, value)

    async def upsert(self, row: Mapping[str, object], key: Sequence[str]) -> None:
        await asyncio.to_thread(self._upsert, row, tuple(key))

    async def as_of(self) -> dt.datetime | None:
        return dt.datetime.now(dt.UTC)  # a live database is current

    def _reflect(self) -> dict[str, sa.Column[Any]]:
        with self._lock:
            if self._table is None:
                try:
                    table = sa.Table(self._table_name, sa.MetaData(), schema=self._schema, autoload_with=self._engine)
                except sa.exc.NoSuchTableError:
                    raise FailedPrecondition(f"dataset {self.name}: no table {self._table_name}") from None
                mapped = {
                    logical: table.c[native]
                    for logical, native in self._columns.logical_to_native.items()
                    if native in table.c
                }
                missing = [self._columns.logical_to_native[f] for f in self._required if f not in mapped]
                if missing:
                    raise FailedPrecondition(
                        f"dataset {self.name}: table {self._table_name} has no column {', '.join(missing)}"
                    )
                self._mapped = mapped
                self._table = table
            return self._mapped

    def _select(self, where: sa.ColumnElement[bool]) -> list[dict[str, str]]:
        mapped = self._reflect()
        labelled = [column.label(logical) for logical, column in mapped.items()]
        with self._engine.connect() as connection:
            result = connection.execute(sa.select(*labelled).where(where))
            rows = []
            for record in result.mappings():
                row = {k: text for k, v in record.items() if (text := to_text(v))}
                number = normalised_id(row.get(ID, ""))
                if number is not None:
                    row[ID] = number
                    rows.append(row)
            return rows

    def _by_id(self, id_numbers: tuple[str, ...]) -> dict[str, list[Row]]:
        if not id_numbers:
            return {}
        forms = sorted({form for number in id_numbers for form in stored_forms(number)})
        found: dict[str, list[Row]] = {}
        for row in self._select(self._reflect()[ID].in_(forms)):
            if row[ID] in id_numbers:
                found.setdefault(row[ID], []).append(row)
        return found

    def _where(self, field: str, value: str) -> list[Row]:
        mapped = self._reflect()
        if field not in mapped:
            return []
        column = mapped[field]
        return list(self._select(column == _coerce(value, column)))

    def _upsert(self, row: Mapping[str, object], key: tuple[str, ...]) -> None:
        mapped = self._reflect()
        assert self._table is not None
        values = {mapped[k].name: _coerce(v, mapped[k]) for k, v in row.items() if k in mapped}
        # The row may be stored under another spelling of the number (``x``, 15 digits): match them all, keep it.
        number = normalised_id(to_text(row[ID])) or to_text(row[ID])
        condition = sa.and_(
            *(
                mapped[k].in_(stored_forms(number)) if k == ID else mapped[k] == _coerce(row.get(k), mapped[k])
                for k in key
            )
        )
        changes = {name: value for name, value in values.items() if name != mapped[ID].name}
        with self._engine.begin() as connection:
            updated = connection.execute(sa.update(self._table).where(condition).values(changes))
            if updated.rowcount == 0:
                connection.execute(sa.insert(self._table).values(values))


def _coerce(value: object, column: sa.Column[Any]) -> object:
    """``value`` in the Python type the column binds (text from the wire becomes a date, an int, ...)."""
    if value is None:
        return None
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        return value
    if python_type is str:
        return to_text(value)
    if not isinstance(value, str):
        return value
    if python_type is bool:
        return parse_flag(value)
    if python_type is int:
        return parse_int(value)
    if python_type is dt.date:
        return parse_date(value)
    return value
