"""The memory backend: rows given in the configuration or by code, for tests, demos and benchmarks."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Iterable, Mapping, Sequence

from adapters._datasets import ID, ColumnMap, Row, RowIndex
from adapters._values import to_text


class MemoryDataset:
    """Rows in a list, indexed by ID number; writes change the list (nothing is persisted)."""

    def __init__(
        self,
        name: str,
        rows: Iterable[Mapping[str, object]],
        columns: ColumnMap,
        as_of: dt.datetime | None = None,
    ) -> None:
        self.name = name
        self._columns = columns
        self._index = RowIndex(name, rows, columns)
        self._as_of = as_of or dt.datetime.now(dt.UTC)

    async def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        return self._index.by_id(id_numbers)

    async def where(self, field: str, value: str) -> list[Row]:
        return self._index.where(field, value)

    async def upsert(self, row: Mapping[str, object], key: Sequence[str]) -> None:
        text = {k: to_text(v) for k, v in row.items() if k in self._columns.logical_to_native}
        if not text.get(ID):
            raise ValueError("a row needs an id_number")
        self._index.upsert(text, key)
        self._as_of = dt.datetime.now(dt.UTC)

    async def as_of(self) -> dt.datetime | None:
        return self._as_of
