"""The migrations and the models describe the same schema, on every backend."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from hub.store import Store, migrate
from hub.store.models import Base


def test_migrations_reach_head(store: Store) -> None:
    assert migrate.current_revision(store.engine) == migrate.head_revision(store.engine)


def _apscheduler_owned(change: object) -> bool:
    """APScheduler creates and owns its job-store table (and its index); Alembic does not manage it."""
    if not isinstance(change, tuple) or change[0] not in ("remove_table", "remove_index"):
        return False
    item = change[1]
    table = item if change[0] == "remove_table" else item.table
    return bool(table.name.startswith("apscheduler"))


def test_migrations_match_models(store: Store) -> None:
    with store.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = [change for change in compare_metadata(context, Base.metadata) if not _apscheduler_owned(change)]
    assert diff == []


def test_sqlite_runs_in_wal_mode(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("WAL is a SQLite setting")
    with store.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
