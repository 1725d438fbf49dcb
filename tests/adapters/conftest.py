"""Adapter test fixtures: the demo written once and copied per test; a private PostgreSQL database if configured."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from adapters import Adapter, load_adapter
from adapters.demo import Demo, write_demo

TODAY = dt.date(2025, 6, 14)
PG_ENV = "HUB_TEST_DATABASE_URL"


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    return write_demo(tmp_path_factory.mktemp("demo-template"), today=TODAY)


@pytest.fixture
def demo(demo_template: Demo, tmp_path: Path) -> Demo:
    """The demo scenario in a directory of this test's own (adapters may write to it)."""
    assert demo_template.directory is not None
    directory = tmp_path / "demo"
    shutil.copytree(demo_template.directory, directory)
    return dataclasses.replace(demo_template, directory=directory)


@pytest.fixture
def open_adapter(demo: Demo) -> Iterator[Any]:
    """``open_adapter(name, backend=None)``: an adapter over this test's demo data, closed afterwards."""
    opened: list[Adapter] = []

    def build(name: str, backend: str | None = None) -> Adapter:
        adapter = load_adapter(name, demo.config(name, backend))
        opened.append(adapter)
        return adapter

    yield build
    for adapter in opened:
        asyncio.run(adapter.aclose())


@pytest.fixture(scope="session")
def postgres_base() -> Iterator[str]:
    """A private, empty PostgreSQL database for this session (skips without HUB_TEST_DATABASE_URL)."""
    base = os.environ.get(PG_ENV)
    if not base:
        pytest.skip(f"{PG_ENV} is not set")
    admin_url = make_url(base)
    if admin_url.drivername in ("postgresql", "postgres"):
        admin_url = admin_url.set(drivername="postgresql+psycopg")
    name = f"adapters_{uuid.uuid4().hex[:12]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield admin_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
