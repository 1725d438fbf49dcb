"""Engines for the embedded default (SQLite in WAL mode) and for PostgreSQL by URL.

Every engine made here turns a driver error that means "the database cannot serve now" (the server
restarting, a connection lost, a lock held past the timeout) into ``hub.errors.StorageUnavailable``, in one
place (``unavailable``, hooked into the engine's ``handle_error`` event), so the gRPC boundary answers
UNAVAILABLE with a retry delay instead of UNKNOWN with the driver's message. Errors in a statement itself
(a constraint, a missing table) stay SQLAlchemy's, for the code that expects them.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.pool import StaticPool

from hub.errors import StorageUnavailable

log = logging.getLogger(__name__)

#: PostgreSQL SQLSTATE classes that mean "not now" rather than "wrong": connection exception, insufficient
#: resources, operator intervention (shutdown, restart, "starting up"), system (I/O) error.
_UNAVAILABLE_SQLSTATE_CLASSES = frozenset({"08", "53", "57", "58"})
#: SQLite result codes (and their extended forms) that mean the same: locked past busy_timeout, I/O failure.
_UNAVAILABLE_SQLITE_CODES = ("SQLITE_BUSY", "SQLITE_LOCKED", "SQLITE_IOERR", "SQLITE_CANTOPEN", "SQLITE_FULL")
#: How long a SQLite statement waits for another connection's write lock before failing as unavailable.
BUSY_TIMEOUT_MS = 10_000
#: Seconds a caller is told to wait before retrying: about what a PostgreSQL restart takes.
RETRY_AFTER = 1.0


def sqlite_url(data_dir: Path) -> str:
    return f"sqlite:///{(data_dir / 'hub.db').resolve()}"


def normalise_url(url: str) -> str:
    """Use psycopg 3 for plain ``postgresql://`` URLs (SQLAlchemy would default to psycopg2)."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.close()


def unavailable(error: BaseException, dbapi: Any, *, disconnect: bool = False) -> StorageUnavailable | None:
    """``StorageUnavailable`` if ``error`` (raised by the DBAPI module ``dbapi``) means the database cannot
    serve now, else ``None``.

    A lost connection always does; otherwise the driver's code decides (PostgreSQL's SQLSTATE, SQLite's
    result code), and an operational error with no code at all is the client failing to reach the server.
    The driver's message is logged here, since the caller is told nothing internal.
    """
    sqlstate = getattr(error, "sqlstate", None)  # psycopg; None for failures on the client side
    sqlite_code = getattr(error, "sqlite_errorname", None)
    if disconnect:
        matched = True
    elif isinstance(sqlite_code, str):
        matched = sqlite_code.startswith(_UNAVAILABLE_SQLITE_CODES)
    elif isinstance(sqlstate, str):
        matched = sqlstate[:2] in _UNAVAILABLE_SQLSTATE_CLASSES
    else:
        matched = isinstance(error, (dbapi.OperationalError, dbapi.InterfaceError))
    return _logged(error) if matched else None


def _logged(error: BaseException) -> StorageUnavailable:
    detail = str(error).strip().partition("\n")[0]
    log.warning("database unavailable", extra={"error": type(error).__name__, "detail": detail})
    unavailable = StorageUnavailable(retry_after=RETRY_AFTER)
    unavailable.detail = detail
    return unavailable


def _translate(context: ExceptionContext) -> BaseException | None:
    """The ``handle_error`` hook: raised instead of SQLAlchemy's wrapper; the pool still drops a dead connection.

    A failed pre-ping is left alone: the pool reconnects by itself and the caller never sees it.
    """
    if context.is_pre_ping:
        return None
    return unavailable(context.original_exception, context.dialect.loaded_dbapi, disconnect=context.is_disconnect)


@contextmanager
def dbapi_connection(engine: Engine) -> Iterator[Any]:
    """A pooled DBAPI connection for the few hot statements that skip SQLAlchemy's bookkeeping.

    The engine's hook does not see errors on a raw connection, so they are translated here by the same rule;
    a connection the error left broken is dropped from the pool rather than handed to the next caller.
    """
    connection = _checkout(engine)
    try:
        yield connection
    except engine.dialect.loaded_dbapi.Error as error:
        raise _translated(engine, connection, error) from error
    finally:
        connection.close()


class PinnedConnection:
    """One DBAPI connection a hot path keeps between uses, on SQLite: checking a connection out of the
    pool and back costs more (≈ 25 µs) than the primary-key read it serves. On other databases each use
    borrows from the pool, exactly as ``dbapi_connection``.

    Errors are translated by the same rule; a connection an error touched is closed and replaced on next use.
    Single-threaded: meant for code on the event loop. ``close`` before disposing of the engine.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._pinned = engine.dialect.name == "sqlite"
        self._kept: Any = None

    @contextmanager
    def use(self) -> Iterator[Any]:
        if not self._pinned:
            with dbapi_connection(self.engine) as borrowed:
                yield borrowed
            return
        if self._kept is None:
            self._kept = _checkout(self.engine)
        try:
            yield self._kept.dbapi_connection
        except self.engine.dialect.loaded_dbapi.Error as error:
            kept, self._kept = self._kept, None
            translated = _translated(self.engine, kept, error)
            kept.close()
            raise translated from error

    def close(self) -> None:
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()


def _checkout(engine: Engine) -> Any:
    try:
        return engine.raw_connection()
    except engine.dialect.loaded_dbapi.Error as error:  # not even connected: the server is down or refusing
        raise _logged(error) from error


def _translated(engine: Engine, connection: Any, error: Any) -> BaseException:
    """What to raise for a driver error on a raw pooled connection; invalidates it if the error broke it."""
    disconnect = engine.dialect.is_disconnect(error, connection.dbapi_connection, None)
    if disconnect:
        connection.invalidate(error)
    return unavailable(error, engine.dialect.loaded_dbapi, disconnect=disconnect) or error


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    # A failed statement's message would list its bound values: a feed row's or a roster's ID numbers among them.
    kwargs.setdefault("hide_parameters", True)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            kwargs.setdefault("poolclass", StaticPool)
        else:
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        kwargs.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        kwargs.setdefault("pool_pre_ping", True)
        engine = create_engine(url, **kwargs)
    event.listen(engine, "handle_error", _translate)
    return engine
