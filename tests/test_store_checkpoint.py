"""A large write on SQLite commits into the WAL and leaves folding it back to a background checkpoint."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from hub.store import Store, open_store
from hub.store._checkpoint import WalFolder

#: Rows of 4 KiB: well past SQLite's auto-checkpoint threshold of 1,000 pages.
ROWS = 1_500


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[tuple[Store, Path]]:
    path = tmp_path / "hub.db"
    store = open_store(f"sqlite:///{path}")
    with store.session() as session:
        session.execute(text("CREATE TABLE scratch (body BLOB)"))
    yield store, path
    store.dispose()


def _fill(session: Session) -> None:
    # INSERT first: the sqlite3 module begins its transaction only before a statement that starts with one.
    session.execute(
        text(
            "INSERT INTO scratch WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :rows) "
            "SELECT randomblob(4000) FROM n"
        ),
        {"rows": ROWS},
    )


def _autocheckpoint(store: Store) -> int:
    with store.engine.connect() as connection:
        raw = connection.connection.driver_connection
        assert raw is not None
        return int(raw.execute("PRAGMA wal_autocheckpoint").fetchone()[0])


def test_a_plain_commit_past_the_threshold_folds_the_wal_while_its_caller_waits(
    sqlite_store: tuple[Store, Path],
) -> None:
    store, path = sqlite_store
    before = path.stat().st_size
    with store.session() as session:
        _fill(session)
    assert path.stat().st_size > before + ROWS * 4000  # the commit itself copied the WAL into the database


def test_a_large_write_commits_into_the_wal_and_a_fold_brings_it_back(
    sqlite_store: tuple[Store, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    store, path = sqlite_store
    started: list[WalFolder] = []
    monkeypatch.setattr(WalFolder, "fold_soon", lambda self: started.append(self))
    before = path.stat().st_size
    with store.large_write() as session:
        _fill(session)
    assert path.stat().st_size == before  # committed, but only into the WAL
    assert len(started) == 1
    with store.session() as session:  # and visible to everyone
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar_one() == ROWS
    assert _autocheckpoint(store) == 1000  # the pooled connection got its setting back
    started[0].fold()
    assert path.stat().st_size > before + ROWS * 4000


def _folding() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "sqlite-wal-checkpoint"]


def test_the_background_fold_can_be_waited_for(sqlite_store: tuple[Store, Path]) -> None:
    store, path = sqlite_store
    with store.large_write() as session:
        _fill(session)
    store.wait_for_checkpoints()
    assert not _folding()
    assert path.stat().st_size > ROWS * 4000


def test_the_background_fold_is_over_once_the_store_is_disposed(tmp_path: Path) -> None:
    path = tmp_path / "hub.db"
    store = open_store(f"sqlite:///{path}")
    with store.session() as session:
        session.execute(text("CREATE TABLE scratch (body BLOB)"))
    with store.large_write() as session:
        _fill(session)
    store.dispose()
    assert not _folding()
    assert path.stat().st_size > ROWS * 4000


def test_a_failed_large_write_leaves_nothing_and_restores_the_connection(sqlite_store: tuple[Store, Path]) -> None:
    store, _ = sqlite_store
    with pytest.raises(RuntimeError), store.large_write() as session:
        _fill(session)
        raise RuntimeError("the run failed")
    with store.session() as session:
        assert session.execute(text("SELECT count(*) FROM scratch")).scalar_one() == 0
    assert _autocheckpoint(store) == 1000


def test_a_large_write_in_memory_has_no_wal_to_fold() -> None:
    store = open_store("sqlite://")
    try:
        with store.large_write() as session:
            session.execute(text("CREATE TABLE scratch (body BLOB)"))
            _fill(session)
        with store.session() as session:
            assert session.execute(text("SELECT count(*) FROM scratch")).scalar_one() == ROWS
        assert not _folding()
    finally:
        store.dispose()


def test_a_large_write_is_an_ordinary_session_elsewhere(store: Store) -> None:
    """PostgreSQL (when configured) and SQLite alike: what is written in a large write is committed."""
    with store.large_write() as session:
        session.execute(text("CREATE TABLE scratch_elsewhere (n INTEGER)"))
        session.execute(text("INSERT INTO scratch_elsewhere VALUES (1), (2)"))
    try:
        with store.session() as session:
            assert session.execute(text("SELECT sum(n) FROM scratch_elsewhere")).scalar_one() == 3
    finally:
        with store.session() as session:
            session.execute(text("DROP TABLE scratch_elsewhere"))
