"""Storage: SQLAlchemy 2 over SQLite (embedded default, WAL) or PostgreSQL (by URL).

``Store`` owns the engine and the session factory; repositories (``hub.registry``, the audit log,
feeds, findings) take a ``Store``. Nothing here knows about gRPC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from hub.store import migrate
from hub.store._checkpoint import WalFolder
from hub.store._engine import make_engine, normalise_url, sqlite_url

__all__ = ["Store", "make_engine", "normalise_url", "open_store", "sqlite_url"]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._wal = WalFolder(engine) if engine.dialect.name == "sqlite" else None

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session whose transaction commits on success and rolls back on any error."""
        with self._sessions.begin() as session:
            yield session

    @contextmanager
    def large_write(self) -> Iterator[Session]:
        """``session()`` for a transaction that writes many pages (a comparison run's findings): on SQLite its
        commit does not wait for the WAL to be folded back into the database file (``hub.store._checkpoint``)."""
        if self._wal is None:
            with self.session() as session:
                yield session
            return
        with (
            self.engine.connect() as connection,
            self._wal.deferring(connection),
            Session(bind=connection, expire_on_commit=False) as session,
            session.begin(),
        ):
            yield session

    @contextmanager
    def session_or(self, session: Session | None) -> Iterator[Session]:
        """``session`` when the caller has one (its transaction, its commit), else a new ``session()``."""
        if session is not None:
            yield session
        else:
            with self.session() as own:
                yield own

    @contextmanager
    def joined(self, connection: Connection) -> Iterator[Session]:
        """A session inside a transaction its owner commits (the journal's, say): flushed here, never committed.

        An error rolls the owner's transaction back with it, so an effect and what records it stay one unit.
        """
        with Session(bind=connection, join_transaction_mode="rollback_only", expire_on_commit=False) as session:
            yield session
            session.flush()

    def wait_for_checkpoints(self) -> None:
        """Return once the WAL checkpoints that large writes left to the background are done."""
        if self._wal is not None:
            self._wal.join()

    def dispose(self) -> None:
        self.wait_for_checkpoints()
        self.engine.dispose()


def open_store(url: str, *, upgrade: bool = True) -> Store:
    """Open the database at ``url``; an empty or older database is migrated to head first."""
    engine = make_engine(url)
    if upgrade and migrate.needs_upgrade(engine):
        migrate.upgrade(engine)
    return Store(engine)
