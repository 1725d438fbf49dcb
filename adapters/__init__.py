"""Adapters: how an agency answers the hub from its own system.

The published interface is ``Adapter`` and ``QueryContext``; adapters are found by name with
``load_adapter`` (built-ins, in-process registrations, then the ``hub.adapters`` entry points).
Built in: ``sql`` and ``csv`` (a member kind over a database or a drop folder) and one adapter per
member kind (``public-security``, ``civil-affairs``, ``education``, ``hrss``, ``housing``,
``medical-insurance``, ``rural-revitalisation``) over a ``Dataset`` per agency table. Example
configurations live in ``adapters/examples/`` (``example_config(name)``); ``adapters.demo`` writes a synthetic scenario;
``adapters.testing`` has adapters for tests.

Adapters import only the wire types (``hub.v1``), ``hub.services``, ``hub.errors`` and
``hub.identifiers``; never the hub's internals.
"""

from adapters._datasets import Dataset, DatasetSpec, Row
from adapters._examples import example_config
from adapters._interface import KINDS, Adapter, QueryContext
from adapters._registry import (
    ENTRY_POINT_GROUP,
    available_adapters,
    load_adapter,
    register_adapter,
    unregister_adapter,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "KINDS",
    "Adapter",
    "Dataset",
    "DatasetSpec",
    "QueryContext",
    "Row",
    "available_adapters",
    "example_config",
    "load_adapter",
    "register_adapter",
    "unregister_adapter",
]
