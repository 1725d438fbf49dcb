"""Opening a kind adapter's datasets from its configuration: ``backend = "sql" | "csv" | "memory"``.

Common keys: ``base_dir`` (relative paths resolve against it; default: the working directory) and
``[datasets.<name>]`` tables with ``columns`` (logical field → agency column). Per backend:

- ``csv``: ``folder``; per dataset ``file`` (default ``<name>.csv``); optional ``encoding``
  (default ``utf-8-sig``), ``delimiter``, ``refresh_seconds``.
- ``sql``: ``url`` (any SQLAlchemy URL; a relative SQLite path resolves against ``base_dir``), optional
  ``schema``; per dataset ``table`` (default ``<name>``).
- ``memory``: per dataset ``rows``, a list of tables keyed by the agency's column names.
"""

from __future__ import annotations

import asyncio
import codecs
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from adapters._datasets import ColumnMap, Dataset, DatasetSpec
from hub.errors import InvalidArgument

BACKENDS = ("sql", "csv", "memory")

Closer = Callable[[], Awaitable[None]]


async def _nothing() -> None:
    return None


def open_datasets(config: Mapping[str, Any], specs: Sequence[DatasetSpec]) -> tuple[dict[str, Dataset], Closer]:
    """The datasets named by ``specs`` over the configured backend, and a coroutine function that releases it."""
    backend = config.get("backend")
    if backend not in BACKENDS:
        raise InvalidArgument("backend", f"{backend!r} is not one of {', '.join(BACKENDS)}")
    tables = _mapping(config.get("datasets", {}), "datasets")
    known = {spec.name for spec in specs}
    for name in tables:
        if name not in known:
            raise InvalidArgument(f"datasets.{name}", f"unknown dataset; this adapter reads {', '.join(sorted(known))}")
    base_dir = Path(str(config.get("base_dir", ".")))
    settings = {spec.name: _mapping(tables.get(spec.name, {}), f"datasets.{spec.name}") for spec in specs}
    columns = {
        spec.name: ColumnMap.from_config(spec, settings[spec.name].get("columns"), f"datasets.{spec.name}")
        for spec in specs
    }
    if backend == "memory":
        return _memory(specs, settings, columns), _nothing
    if backend == "csv":
        return _csv(config, base_dir, specs, settings, columns), _nothing
    return _sql(config, base_dir, specs, settings, columns)


def _mapping(value: object, field: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidArgument(field, "must be a table")
    return value


def _text(config: Mapping[str, Any], key: str, field: str, default: str | None = None) -> str:
    value = config.get(key, default)
    if not isinstance(value, str) or not value:
        raise InvalidArgument(field, "is required" if value is None else "must be a non-empty string")
    return value


def _memory(
    specs: Sequence[DatasetSpec], settings: Mapping[str, Mapping[str, Any]], columns: Mapping[str, ColumnMap]
) -> dict[str, Dataset]:
    from adapters._memory import MemoryDataset

    datasets: dict[str, Dataset] = {}
    for spec in specs:
        rows = settings[spec.name].get("rows", [])
        if not isinstance(rows, list) or not all(isinstance(r, Mapping) for r in rows):
            raise InvalidArgument(f"datasets.{spec.name}.rows", "must be a list of tables")
        datasets[spec.name] = MemoryDataset(spec.name, rows, columns[spec.name])
    return datasets


def _csv(
    config: Mapping[str, Any],
    base_dir: Path,
    specs: Sequence[DatasetSpec],
    settings: Mapping[str, Mapping[str, Any]],
    columns: Mapping[str, ColumnMap],
) -> dict[str, Dataset]:
    from adapters._csv import CsvDataset

    folder = base_dir / _text(config, "folder", "folder")
    refresh = config.get("refresh_seconds", 2.0)
    if not isinstance(refresh, int | float) or refresh < 0:
        raise InvalidArgument("refresh_seconds", "must be a number of seconds, zero or more")
    encoding = _text(config, "encoding", "encoding", "utf-8-sig")
    try:
        codecs.lookup(encoding)
    except LookupError:
        raise InvalidArgument("encoding", f"{encoding!r} is not a known text encoding, e.g. utf-8-sig or gbk") from None
    delimiter = _text(config, "delimiter", "delimiter", ",")
    if len(delimiter) != 1:
        raise InvalidArgument("delimiter", "must be one character, e.g. ',' or ';'")
    datasets: dict[str, Dataset] = {}
    for spec in specs:
        file = _text(settings[spec.name], "file", f"datasets.{spec.name}.file", f"{spec.name}.csv")
        datasets[spec.name] = CsvDataset(
            spec.name,
            folder / file,
            columns[spec.name],
            required=spec.required,
            encoding=encoding,
            delimiter=delimiter,
            refresh_seconds=float(refresh),
        )
    return datasets


def _sql(
    config: Mapping[str, Any],
    base_dir: Path,
    specs: Sequence[DatasetSpec],
    settings: Mapping[str, Mapping[str, Any]],
    columns: Mapping[str, ColumnMap],
) -> tuple[dict[str, Dataset], Closer]:
    from adapters._sql import SqlDataset, make_engine

    try:
        url = make_url(_text(config, "url", "url"))
    except (ArgumentError, ValueError):
        raise InvalidArgument(
            "url", "is not a SQLAlchemy database URL, e.g. postgresql+psycopg://reader@db/rk"
        ) from None
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        path = Path(url.database)
        url = url.set(database=str(path if path.is_absolute() else base_dir / path))
    schema = config.get("schema")
    if schema is not None and not isinstance(schema, str):
        raise InvalidArgument("schema", "must be a string")
    try:
        engine = make_engine(url.render_as_string(hide_password=False))
    except (NoSuchModuleError, ImportError):
        raise InvalidArgument("url", f"the database driver of {url.drivername!r} is not installed") from None
    datasets: dict[str, Dataset] = {
        spec.name: SqlDataset(
            spec.name,
            engine,
            _text(settings[spec.name], "table", f"datasets.{spec.name}.table", spec.name),
            columns[spec.name],
            schema=schema,
            required=spec.required,
        )
        for spec in specs
    }

    async def dispose() -> None:
        await asyncio.to_thread(engine.dispose)

    return datasets, dispose
