"""Group commit: the small writes of requests finishing together share one transaction.

Every signed query writes a little (its message id, its audit entries). A commit per request would
dominate the query path; instead each request submits a unit of work and awaits it, and the writes
submitted during one turn of the event loop run as one transaction at the start of the next. The
transaction runs on the event loop itself: handing it to a thread was measured to cost more (a
cross-thread wake-up and GIL hand-offs, ~0.3 ms a batch) than the commit. A unit that fails (a
replayed message id, say) is isolated by re-running the batch one unit per transaction, so one bad
request never fails its neighbours.

On SQLite several hub processes share one write lock. Waiting for it inside SQLite's busy handler
would freeze the event loop in sleeps of 1, 2, 5 … ms, with the process serving nobody meanwhile; so the
writer asks for the lock without waiting (``BEGIN IMMEDIATE`` with no busy timeout) and, when another
process holds it, goes back to serving and asks again a fraction of a millisecond later. The units
submitted in between join the batch, so contention turns into larger batches instead of idle cores.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine

from hub.store._engine import BUSY_TIMEOUT_MS, unavailable

Work = Callable[[Connection], Any]

#: First and longest pause before asking again for a SQLite write lock another process holds (seconds).
_FIRST_PAUSE, _LONGEST_PAUSE = 0.0002, 0.005
#: The writer's commits fold the WAL back into the database after this many pages (SQLite's default: 1,000).
#: A checkpoint writes each page once however often it changed, then syncs twice, with the event loop stopped;
#: every request dirties the same few pages (the log's head and last leaves), so checkpoints ten times rarer
#: cost less in all and stall the loop far less often (signed-query p99 ~20 → ~13 ms on the 2-core machine).
WAL_CHECKPOINT_PAGES = 10_000
#: After this long without the lock, wait for it inside SQLite (its busy timeout decides what happens then).
_GIVE_UP_ASKING = 2.0
#: ``Connection.info`` key, true while a batch runs under the SQLite write lock the writer took (``BEGIN
#: IMMEDIATE``): a unit may then read what it is about to update with a plain read, with no statement of
#: its own to take the lock (the audit log's head: ~10 µs less an append).
WRITE_LOCK_HELD = "hub.write_lock_held"


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._scheduled = False
        self._sqlite = engine.dialect.name == "sqlite"
        #: SQLite: the writer's own connection, kept between batches, with no busy timeout of its own.
        self._kept: Connection | None = None
        self.batches = 0
        self.units = 0
        #: Times the SQLite write lock was held by another process when asked for.
        self.lock_waits = 0

    async def submit(self, work: Work) -> Any:
        """Run ``work(connection)`` inside the next batch's transaction; return its result or raise its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush, 0.0, 0.0)
        return await future

    def _flush(self, pause: float, asking_since: float) -> None:
        """Commit what is pending, batch by batch; on a busy SQLite lock, come back after ``pause`` grows."""
        while self._pending:
            if not self._sqlite:
                batch = self._take()
                try:
                    connection = self.engine.connect()
                except Exception:  # the server cannot be reached: each unit meets the error alone, and the
                    self._run_alone(batch)  # writer lives on for the next batch (an escape would stop it for good)
                    continue
                self._commit(connection, batch)
                continue
            blocking = bool(asking_since) and time.monotonic() - asking_since >= _GIVE_UP_ASKING
            try:
                connection = self._sqlite_connection()
                locked = _lock_sqlite(connection, blocking=blocking)
            except Exception:  # the database failed (not merely busy): each unit meets the error alone
                self.close()
                self._run_alone(self._take())
                continue
            if not locked:
                self.lock_waits += 1
                pause = min(_LONGEST_PAUSE, max(_FIRST_PAUSE, pause * 2))
                asyncio.get_running_loop().call_later(pause, self._flush, pause, asking_since or time.monotonic())
                return
            self._commit(connection, self._take(), keep=True)
            pause, asking_since = 0.0, 0.0
        self._scheduled = False

    def _sqlite_connection(self) -> Connection:
        if self._kept is None:
            connection = self.engine.connect()
            raw = connection.connection.driver_connection
            assert raw is not None
            raw.execute("PRAGMA busy_timeout = 0")
            raw.execute(f"PRAGMA wal_autocheckpoint = {WAL_CHECKPOINT_PAGES}")
            self._kept = connection
        return self._kept

    def _take(self) -> list[tuple[Work, asyncio.Future[Any]]]:
        batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
        return batch

    def _commit(
        self, connection: Connection, batch: list[tuple[Work, asyncio.Future[Any]]], *, keep: bool = False
    ) -> None:
        self.batches += 1
        self.units += len(batch)
        try:
            with _marked_locked(connection, keep), connection.begin():
                results = [work(connection) for work, _ in batch]
        except Exception:
            if keep:
                self.close()  # the next batch starts on a fresh connection, whatever state this one is in
            self._run_alone(batch)
            return
        finally:
            if not keep:
                connection.close()
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _run_alone(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        for work, future in batch:
            self._alone(work, future)

    def _alone(self, work: Work, future: asyncio.Future[Any]) -> None:
        dbapi = self.engine.dialect.loaded_dbapi
        try:
            with self.engine.begin() as connection:
                result = work(connection)
        except dbapi.Error as error:  # from a plain DBAPI statement: translate as the engine's hook would
            if not future.done():
                future.set_exception(unavailable(error, dbapi) or error)
        except Exception as error:  # handed to the awaiting request, which maps it
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)

    def close(self) -> None:
        """Let the kept connection go (pending work is flushed by the event loop before its awaiters resume)."""
        kept, self._kept = self._kept, None
        if kept is not None:
            kept.close()


@contextmanager
def _marked_locked(connection: Connection, locked: bool) -> Iterator[None]:
    """``WRITE_LOCK_HELD`` on the connection while the batch's transaction runs (``locked``: the SQLite path,
    where ``_lock_sqlite`` took the lock), and off again before the connection can be closed or reused."""
    if not locked:
        yield
        return
    info = connection.info  # the dict itself: a connection that failed may refuse to hand it out again
    info[WRITE_LOCK_HELD] = True
    try:
        yield
    finally:
        info.pop(WRITE_LOCK_HELD, None)


def _lock_sqlite(connection: Connection, *, blocking: bool) -> bool:
    """Take SQLite's write lock now (``BEGIN IMMEDIATE``), or report that another connection holds it.

    The writer's connection has no busy timeout; ``blocking`` waits inside SQLite for the engine's usual one.
    """
    raw = connection.connection.driver_connection
    assert raw is not None
    if blocking:
        raw.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        try:
            raw.execute("BEGIN IMMEDIATE")
        finally:
            raw.execute("PRAGMA busy_timeout = 0")
        return True
    try:
        raw.execute("BEGIN IMMEDIATE")
    except connection.dialect.loaded_dbapi.OperationalError as error:
        if not str(getattr(error, "sqlite_errorname", "")).startswith("SQLITE_BUSY"):
            raise
        return False
    return True
