"""Group commit: the small writes of requests finishing together share one transaction.

Every signed query writes a little (its message id, its audit entries). A commit per request would
dominate the query path; instead each request submits a unit of work and awaits it, and the writes
submitted during one turn of the event loop run as one transaction at the start of the next. The
transaction runs on the event loop itself: handing it to a thread was measured to cost more (a
cross-thread wake-up and GIL hand-offs, ~0.3 ms a batch) than the commit. A unit that fails (a
replayed message id, say) is isolated by re-running the batch one unit per transaction, so one bad
request never fails its neighbours.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, Engine

Work = Callable[[Connection], Any]


class GroupCommitWriter:
    def __init__(self, engine: Engine, *, max_batch: int = 512) -> None:
        self.engine = engine
        self.max_batch = max_batch
        self._pending: list[tuple[Work, asyncio.Future[Any]]] = []
        self._scheduled = False
        self.batches = 0
        self.units = 0

    async def submit(self, work: Work) -> Any:
        """Run ``work(connection)`` inside the next batch's transaction; return its result or raise its error."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._pending.append((work, future))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._flush)
        return await future

    def _flush(self) -> None:
        self._scheduled = False
        while self._pending:
            batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._commit(batch)

    def _commit(self, batch: list[tuple[Work, asyncio.Future[Any]]]) -> None:
        self.batches += 1
        self.units += len(batch)
        try:
            with self.engine.begin() as connection:
                results = [work(connection) for work, _ in batch]
        except Exception:
            for item in batch:
                self._alone(*item)
            return
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)

    def _alone(self, work: Work, future: asyncio.Future[Any]) -> None:
        try:
            with self.engine.begin() as connection:
                result = work(connection)
        except Exception as error:  # handed to the awaiting request, which maps it
            if not future.done():
                future.set_exception(error)
        else:
            if not future.done():
                future.set_result(result)

    def close(self) -> None:
        """Nothing to stop: pending work is flushed by the event loop before its awaiters resume."""
