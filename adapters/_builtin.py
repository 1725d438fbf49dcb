"""The ``sql`` and ``csv`` built-ins: a member kind's adapter over the agency's database or drop folder.

``load_adapter("sql", {"kind": "hrss", "url": ..., "datasets": {...}})`` is the HR & social security
adapter reading through SQLAlchemy; ``"csv"`` the same over a folder of CSV files. The config is the
kind adapter's (see ``adapters._backends``) plus ``kind``; the backend is implied by the name.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from adapters._interface import Adapter
from adapters._registry import KIND_CLASSES, resolve
from hub.errors import InvalidArgument


def _over(backend: str, config: Mapping[str, Any]) -> Adapter:
    kind = config.get("kind")
    if kind not in KIND_CLASSES:
        raise InvalidArgument("kind", f"{kind!r} is not one of {', '.join(sorted(KIND_CLASSES))}")
    if config.get("backend", backend) != backend:
        raise InvalidArgument("backend", f"the {backend} adapter reads through the {backend} backend only")
    adapter: Adapter = resolve(KIND_CLASSES[kind]).from_config({"name": backend, **config, "backend": backend})
    return adapter


def sql_adapter(config: Mapping[str, Any]) -> Adapter:
    """An agency's own database through SQLAlchemy, with a column mapping per dataset."""
    return _over("sql", config)


def csv_adapter(config: Mapping[str, Any]) -> Adapter:
    """An agency's drop folder of CSV files, with a column mapping per dataset."""
    return _over("csv", config)
