"""Datasets: an agency's table or file seen as rows of logical fields, keyed by normalised ID number.

A per-kind adapter names the logical fields it reads (``DatasetSpec``); the configuration maps each to
the agency's own column name; a backend (memory, CSV folder, SQL database) serves the rows. Rows are
text (``Row``), whatever the backend, so the kind adapters parse one representation.

Agency data keeps ID numbers as it received them: lower-case ``x``, legacy 15-digit numbers. Rows are
keyed by the normalised 18-character form; a row whose ID number cannot be read is skipped (and
counted), never served under a wrong key.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adapters._values import to_text
from hub.errors import InvalidArgument
from hub.identifiers import validate_id_number

log = logging.getLogger(__name__)

Row = Mapping[str, str]
"""One record: logical field name → text (absent when the agency has no value)."""

ID = "id_number"


@dataclass(frozen=True)
class DatasetSpec:
    """What a kind adapter reads: a dataset name and its logical fields (``id_number`` first)."""

    name: str
    fields: tuple[str, ...]
    required: tuple[str, ...] = (ID,)
    doc: str = ""

    def __post_init__(self) -> None:
        if ID not in self.fields:
            raise ValueError(f"dataset {self.name} has no {ID} field")


class Dataset(Protocol):
    """Rows of one agency dataset; every method may block on I/O elsewhere, never on the event loop."""

    name: str

    async def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        """Rows per normalised ID number asked for; IDs without rows are absent."""
        ...

    async def where(self, field: str, value: str) -> list[Row]:
        """Rows whose logical ``field`` equals ``value`` (e.g. every member of one household)."""
        ...

    async def upsert(self, row: Mapping[str, object], key: Sequence[str]) -> None:
        """Write ``row`` so that it supersedes any row with the same ``key`` fields (``key`` includes ``id_number``).

        A database updates in place; a CSV file appends and keeps the history, so readers that care
        take the last row per key.
        """
        ...

    async def as_of(self) -> dt.datetime | None:
        """When the data was last current (file time, load time, or now for a live database)."""
        ...


@dataclass(frozen=True)
class ColumnMap:
    """Logical field → agency column; fields not configured keep their logical name."""

    dataset: str
    logical_to_native: Mapping[str, str]
    native_to_logical: Mapping[str, str] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "native_to_logical", {n: lo for lo, n in self.logical_to_native.items()})

    @classmethod
    def from_config(cls, spec: DatasetSpec, columns: Mapping[str, Any] | None, where: str) -> ColumnMap:
        mapping = {name: name for name in spec.fields}
        if columns is not None and not isinstance(columns, Mapping):
            raise InvalidArgument(f"{where}.columns", "must be a table of logical field = agency column")
        for logical, native in (columns or {}).items():
            if logical not in spec.fields:
                raise InvalidArgument(
                    f"{where}.columns.{logical}", f"not a field of {spec.name}; known: {', '.join(spec.fields)}"
                )
            if not isinstance(native, str) or not native:
                raise InvalidArgument(f"{where}.columns.{logical}", "must name a column")
            mapping[logical] = native
        return cls(spec.name, mapping)

    def to_logical(self, native_row: Mapping[str, object]) -> dict[str, str]:
        """The row in logical names; empty cells are left out, as a database's NULLs are."""
        row: dict[str, str] = {}
        for native, value in native_row.items():
            logical = self.native_to_logical.get(native)
            if logical is not None and (text := to_text(value)):
                row[logical] = text
        return row

    def to_native(self, row: Mapping[str, object]) -> dict[str, object]:
        return {self.logical_to_native[k]: v for k, v in row.items() if k in self.logical_to_native}


def normalised_id(value: str) -> str | None:
    """The 18-character form of a stored ID number, or ``None`` if it is not a valid one."""
    try:
        return validate_id_number(value)
    except InvalidArgument:
        return None


def stored_forms(id_number: str) -> tuple[str, ...]:
    """Spellings an agency may have stored for a normalised number: as is, lower-case ``x``, legacy 15-digit."""
    forms = [id_number]
    if id_number.endswith("X"):
        forms.append(id_number[:-1] + "x")
    if id_number[6:8] == "19":
        forms.append(id_number[:6] + id_number[8:17])
    return tuple(forms)


class RowIndex:
    """Rows held in memory with an index by ID number and lazily built indexes by other fields."""

    def __init__(self, dataset: str, native_rows: Iterable[Mapping[str, object]], columns: ColumnMap) -> None:
        self.rows: list[dict[str, str]] = []
        self._by_id: dict[str, list[dict[str, str]]] = defaultdict(list)
        self._by_field: dict[str, dict[str, list[dict[str, str]]]] = {}
        skipped = 0
        for native in native_rows:
            row = columns.to_logical(native)
            number = normalised_id(row.get(ID, ""))
            if number is None:
                skipped += 1
                continue
            row[ID] = number
            self.add(row)
        if skipped:
            log.warning("dataset %s: skipped %d rows without a valid ID number", dataset, skipped)

    def add(self, row: dict[str, str]) -> None:
        self.rows.append(row)
        self._by_id[row[ID]].append(row)
        self._by_field.clear()

    def upsert(self, row: Mapping[str, str], key: Sequence[str]) -> None:
        """Replace the fields of the row with the same ``key`` (an empty value clears one), or add the row."""
        for existing in self._by_id.get(row[ID], ()):
            if matches(existing, row, key):
                for name, value in row.items():
                    if value:
                        existing[name] = value
                    else:
                        existing.pop(name, None)
                self._by_field.clear()
                return
        self.add({name: value for name, value in row.items() if value})

    def by_id(self, id_numbers: Collection[str]) -> dict[str, list[Row]]:
        return {n: list(self._by_id[n]) for n in id_numbers if n in self._by_id}

    def where(self, field: str, value: str) -> list[Row]:
        index = self._by_field.get(field)
        if index is None:
            index = defaultdict(list)
            for row in self.rows:
                if field in row:
                    index[row[field]].append(row)
            self._by_field[field] = index
        return list(index.get(value, ()))


def matches(row: Mapping[str, str], wanted: Mapping[str, str], key: Sequence[str]) -> bool:
    return all(row.get(k, "") == wanted.get(k, "") for k in key)
