"""Finding adapters: built-ins first, then in-process registrations, then the ``hub.adapters`` entry points."""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import Iterator, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import pytest

import adapters._registry as registry
from adapters import (
    ENTRY_POINT_GROUP,
    Adapter,
    available_adapters,
    example_config,
    load_adapter,
    register_adapter,
    unregister_adapter,
)
from adapters.hrss import HrssAdapter
from adapters.public_security import PublicSecurityAdapter
from adapters.testing import OversharingAdapter
from hub.errors import InvalidArgument, NotFound

KINDS = [
    "civil-affairs",
    "education",
    "housing",
    "hrss",
    "medical-insurance",
    "public-security",
    "rural-revitalisation",
]


@pytest.fixture
def cleanup() -> Iterator[list[str]]:
    names: list[str] = []
    yield names
    for name in names:
        unregister_adapter(name)


def test_builtins_are_available() -> None:
    assert set(available_adapters()) >= {"sql", "csv", *KINDS}


def test_the_package_declares_its_builtins_as_entry_points() -> None:
    declared = {ep.name: ep.value for ep in entry_points(group=ENTRY_POINT_GROUP)}
    assert {name: declared.get(name) for name in registry.BUILTINS} == registry.BUILTINS


def test_every_builtin_ships_an_example_config() -> None:
    for name in registry.BUILTINS:
        assert example_config(name)
    with pytest.raises(NotFound):
        example_config("no-such-adapter")


def test_unknown_name_is_not_found_and_lists_the_known_ones() -> None:
    with pytest.raises(NotFound) as caught:
        load_adapter("bank", {})
    assert caught.value.metadata["name"] == "bank"
    for name in ("sql", "csv", "hrss"):
        assert name in caught.value.explanation


def test_in_process_registration(cleanup: list[str]) -> None:
    seen: list[Mapping[str, Any]] = []

    def factory(config: Mapping[str, Any]) -> Adapter:
        seen.append(config)
        return OversharingAdapter(config)

    register_adapter("in-process", factory)
    cleanup.append("in-process")
    assert "in-process" in available_adapters()
    adapter = load_adapter("in-process", {"x": 1})
    assert isinstance(adapter, OversharingAdapter)
    assert seen == [{"x": 1}]
    unregister_adapter("in-process")
    assert "in-process" not in available_adapters()


def test_a_builtin_name_cannot_be_registered() -> None:
    with pytest.raises(ValueError, match="built-in"):
        register_adapter("hrss", OversharingAdapter)


@pytest.mark.parametrize("name", ["", "Upper", "has space", "-dash-first", "x" * 64])
def test_registered_names_are_checked(name: str) -> None:
    with pytest.raises(ValueError):
        register_adapter(name, OversharingAdapter)


def test_entry_point_adapters_are_discovered(monkeypatch: pytest.MonkeyPatch) -> None:
    plugin = EntryPoint(name="bank", value="adapters.testing:OversharingAdapter", group=ENTRY_POINT_GROUP)

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        return [plugin] if group == ENTRY_POINT_GROUP else []

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    assert "bank" in available_adapters()
    assert isinstance(load_adapter("bank", {}), OversharingAdapter)


def test_builtins_win_over_registrations_and_entry_points(monkeypatch: pytest.MonkeyPatch) -> None:
    shadow = EntryPoint(name="hrss", value="adapters.testing:OversharingAdapter", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [shadow])
    adapter = load_adapter("hrss", {"backend": "memory"})
    assert isinstance(adapter, HrssAdapter)
    asyncio.run(adapter.aclose())


def test_registration_wins_over_entry_points(monkeypatch: pytest.MonkeyPatch, cleanup: list[str]) -> None:
    plugin = EntryPoint(name="bank", value="adapters.hrss:HrssAdapter.from_config", group=ENTRY_POINT_GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda *, group: [plugin])
    register_adapter("bank", OversharingAdapter)
    cleanup.append("bank")
    assert isinstance(load_adapter("bank", {}), OversharingAdapter)


def test_a_factory_must_return_an_adapter(cleanup: list[str]) -> None:
    register_adapter("broken", lambda config: object())  # type: ignore[arg-type,return-value]
    cleanup.append("broken")
    with pytest.raises(TypeError, match="not an Adapter"):
        load_adapter("broken", {})


def test_sql_and_csv_builtins_need_a_kind() -> None:
    for name in ("sql", "csv"):
        with pytest.raises(InvalidArgument) as caught:
            load_adapter(name, {"kind": "bank", "url": "sqlite://", "folder": "."})
        assert caught.value.field == "kind"


def test_sql_builtin_keeps_its_backend() -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_adapter("sql", {"kind": "hrss", "backend": "csv", "folder": "."})
    assert caught.value.field == "backend"
    adapter = load_adapter("sql", {"kind": "public-security", "url": "sqlite://"})
    assert isinstance(adapter, PublicSecurityAdapter)
    assert (adapter.name, adapter.kind) == ("sql", "public-security")
    asyncio.run(adapter.aclose())


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({}, "backend"),
        ({"backend": "excel"}, "backend"),
        ({"backend": "csv"}, "folder"),
        ({"backend": "sql"}, "url"),
        ({"backend": "memory", "datasets": {"salaries": {}}}, "datasets.salaries"),
        ({"backend": "memory", "datasets": {"insured_persons": []}}, "datasets.insured_persons"),
        (
            {"backend": "memory", "datasets": {"insured_persons": {"columns": {"bonus": "JJ"}}}},
            "datasets.insured_persons.columns.bonus",
        ),
        ({"backend": "memory", "datasets": {"insured_persons": {"rows": "none"}}}, "datasets.insured_persons.rows"),
        ({"backend": "csv", "folder": ".", "refresh_seconds": -1}, "refresh_seconds"),
        ({"backend": "memory", "today": "yesterday"}, "today"),
        ({"backend": "memory", "member": 7}, "member"),
        (
            {"backend": "memory", "datasets": {"insured_persons": {"columns": ["SFZH"]}}},
            "datasets.insured_persons.columns",
        ),
        ({"backend": "sql", "url": "not a url"}, "url"),
        ({"backend": "sql", "url": "nosuchdb+nodriver://reader@db/rk"}, "url"),
        ({"backend": "sql", "url": "postgresql://reader@db:port/rk"}, "url"),
        ({"backend": "csv", "folder": ".", "encoding": "utf-9"}, "encoding"),
        ({"backend": "csv", "folder": ".", "delimiter": ";;"}, "delimiter"),
    ],
)
def test_bad_config_is_invalid_argument_naming_the_key(config: dict[str, Any], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_adapter("hrss", config)
    assert caught.value.field == field


@pytest.mark.skipif(importlib.util.find_spec("MySQLdb") is not None, reason="the MySQL driver is installed here")
def test_a_url_whose_driver_is_not_installed_names_the_url() -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_adapter("hrss", {"backend": "sql", "url": "mysql://reader:secret@db/rs"})
    assert caught.value.field == "url" and "secret" not in str(caught.value)
