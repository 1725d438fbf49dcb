"""A database that cannot serve now is ``StorageUnavailable``; a fault in a statement stays SQLAlchemy's.

The PostgreSQL restart itself is ``test_postgres_restart.py``; this is the same rule on SQLite, where "cannot
serve now" is a write lock held past the busy timeout.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from hub.errors import StorageUnavailable
from hub.store import make_engine
from hub.store._engine import dbapi_connection


def test_a_lock_held_past_the_timeout_is_storage_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (x INTEGER)"))
    holder = engine.raw_connection()
    try:
        holder.cursor().execute("BEGIN IMMEDIATE")  # another writer holds the lock
        with engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA busy_timeout=50")
            with pytest.raises(StorageUnavailable) as raised:
                connection.execute(text("INSERT INTO t VALUES (1)"))
                connection.commit()
        assert "INSERT" not in str(raised.value) and raised.value.retry_after > 0
        with pytest.raises(StorageUnavailable), dbapi_connection(engine) as raw:
            raw.execute("PRAGMA busy_timeout=50")
            raw.execute("INSERT INTO t VALUES (2)")
    finally:
        holder.rollback()
        holder.close()
        engine.dispose()


def test_a_fault_in_the_statement_is_not_storage_unavailable(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with engine.begin() as connection, pytest.raises(OperationalError):
            connection.execute(text("SELECT * FROM no_such_table"))
    finally:
        engine.dispose()
