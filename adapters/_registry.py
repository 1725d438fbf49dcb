"""Finding adapters by name: built-ins, then in-process registrations, then the ``hub.adapters`` entry points.

Like SQLAlchemy's dialect loader: built-ins are named by ``"module:attribute"`` strings and imported
only when asked for, so ``import adapters`` stays cheap; a third-party package adds an adapter by
declaring an entry point in the group ``hub.adapters`` that points at a factory taking the config
mapping (``[project.entry-points."hub.adapters"] my-registry = "my_pkg:create"``).
"""

from __future__ import annotations

import importlib
import re
from collections.abc import Callable, Mapping
from importlib.metadata import entry_points
from typing import Any, cast

from adapters._interface import Adapter
from hub.errors import NotFound

ENTRY_POINT_GROUP = "hub.adapters"

Factory = Callable[[Mapping[str, Any]], Adapter]

#: Kind adapter classes by member kind; each has ``from_config(config)``.
KIND_CLASSES: dict[str, str] = {
    "public-security": "adapters.public_security:PublicSecurityAdapter",
    "civil-affairs": "adapters.civil_affairs:CivilAffairsAdapter",
    "education": "adapters.education:EducationAdapter",
    "hrss": "adapters.hrss:HrssAdapter",
    "housing": "adapters.housing:HousingAdapter",
    "medical-insurance": "adapters.medical_insurance:MedicalInsuranceAdapter",
    "rural-revitalisation": "adapters.rural_revitalisation:RuralRevitalisationAdapter",
}

BUILTINS: dict[str, str] = {
    "sql": "adapters._builtin:sql_adapter",
    "csv": "adapters._builtin:csv_adapter",
    **{kind: f"{reference}.from_config" for kind, reference in KIND_CLASSES.items()},
}

_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,62}")
_registered: dict[str, Factory] = {}


def resolve(reference: str) -> Any:
    """The object named ``"package.module:attribute.attribute"``."""
    module, _, attributes = reference.partition(":")
    target: Any = importlib.import_module(module)
    for attribute in attributes.split("."):
        target = getattr(target, attribute)
    return target


def register_adapter(name: str, factory: Factory) -> None:
    """Make ``factory`` loadable as ``name`` in this process (tests, embedded nodes).

    A built-in name cannot be taken: built-ins are looked up first, so the registration would never be used.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"adapter name {name!r} must be lower-case letters, digits, '-' or '_'")
    if name in BUILTINS:
        raise ValueError(f"{name!r} is a built-in adapter")
    _registered[name] = factory


def unregister_adapter(name: str) -> None:
    """Forget an in-process registration (no error if there is none)."""
    _registered.pop(name, None)


def _entry_points() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for entry_point in entry_points(group=ENTRY_POINT_GROUP):
        found.setdefault(entry_point.name, entry_point)
    return found


def available_adapters() -> list[str]:
    """Every name ``load_adapter`` accepts, sorted."""
    return sorted(set(BUILTINS) | set(_registered) | set(_entry_points()))


def _factory(name: str) -> Factory:
    if name in BUILTINS:
        return cast(Factory, resolve(BUILTINS[name]))
    if name in _registered:
        return _registered[name]
    entry_point = _entry_points().get(name)
    if entry_point is None:
        known = ", ".join(available_adapters())
        raise NotFound(f"no adapter named {name!r}; known adapters: {known}", name=name)
    return cast(Factory, entry_point.load())


def load_adapter(name: str, config: Mapping[str, Any]) -> Adapter:
    """A new adapter ``name`` built from ``config`` (a parsed TOML table); ``NotFound`` lists the known names."""
    adapter = _factory(name)(config)
    if not isinstance(adapter, Adapter):
        raise TypeError(f"the factory of adapter {name!r} returned {type(adapter).__name__}, not an Adapter")
    return adapter
