"""The group-commit writer: batches share a transaction, a failing unit fails alone, and on SQLite a write
lock held by another process never freezes the event loop."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest
from sqlalchemy import Connection, text

from hub.errors import StorageUnavailable
from hub.store import Store, make_engine
from hub.store._writer import WAL_CHECKPOINT_PAGES, GroupCommitWriter


def _remember(message_id: str) -> object:
    def work(connection: Connection) -> str:
        connection.execute(
            text("INSERT INTO seen_messages (message_id, sender, expires_at) VALUES (:m, 'x', CURRENT_TIMESTAMP)"),
            {"m": message_id},
        )
        return message_id

    return work


def _remembered(store: Store) -> list[str]:
    with store.engine.connect() as connection:
        return sorted(connection.execute(text("SELECT message_id FROM seen_messages")).scalars())


def test_units_submitted_together_share_one_transaction_and_a_failing_one_fails_alone(store: Store) -> None:
    writer = GroupCommitWriter(store.engine)

    async def main() -> list[object]:
        units = [_remember("a"), _remember("b"), _remember("a"), _remember("c")]  # the second "a" collides
        return await asyncio.gather(*(writer.submit(unit) for unit in units), return_exceptions=True)  # type: ignore[arg-type]

    try:
        results = asyncio.run(main())
    finally:
        writer.close()
    assert results[:2] == ["a", "b"] and results[3] == "c"
    assert isinstance(results[2], Exception), "the colliding unit gets its own error"
    assert _remembered(store) == ["a", "b", "c"]


def test_a_sqlite_write_lock_held_elsewhere_is_waited_for_without_blocking_the_event_loop(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite's database-wide write lock")
    other = sqlite3.connect(store.engine.url.database or "", isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another hub process in the middle of its commit
    writer = GroupCommitWriter(store.engine)
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            await asyncio.sleep(0.001)
            ticks += 1

    async def main() -> str:
        loop = asyncio.get_running_loop()
        loop.call_later(0.2, other.execute, "COMMIT")
        ticking = asyncio.create_task(ticker())
        try:
            return str(await writer.submit(_remember("late")))  # type: ignore[arg-type]
        finally:
            ticking.cancel()

    try:
        assert asyncio.run(main()) == "late"
    finally:
        writer.close()
        other.close()
    assert writer.lock_waits > 0
    assert ticks >= 20, f"the event loop kept serving while the lock was held ({ticks} ticks in 0.2 s)"
    assert _remembered(store) == ["late"]


def test_the_sqlite_writer_folds_the_wal_back_rarely(store: Store) -> None:
    """Checkpoints stop the event loop (two syncs); the writer's commits leave them ten times rarer than SQLite's
    default of 1,000 pages, so 1,500 pages of commits are all still in the WAL."""
    if store.dialect != "sqlite":
        pytest.skip("a SQLite setting")
    writer = GroupCommitWriter(store.engine)

    def many(batch: int) -> object:
        def work(connection: Connection) -> None:
            rows = [{"m": f"{batch}-{i}-" + "x" * 400} for i in range(100)]  # ~40 kB: about a dozen pages
            connection.execute(
                text("INSERT INTO seen_messages (message_id, sender, expires_at) VALUES (:m, 'x', CURRENT_TIMESTAMP)"),
                rows,
            )

        return work

    async def main() -> None:
        for batch in range(130):
            await writer.submit(many(batch))  # type: ignore[arg-type]

    other = sqlite3.connect(store.engine.url.database or "", isolation_level=None)
    try:
        other.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        asyncio.run(main())
        _, frames, _ = other.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
    finally:
        writer.close()
        other.close()
    assert WAL_CHECKPOINT_PAGES > frames > 1_500, f"{frames} pages in the WAL"


def test_a_server_that_cannot_be_reached_fails_each_unit_and_the_writer_lives_on() -> None:
    """A client-server database refusing connections (a PostgreSQL restart): every unit fails with the storage
    error, and later units are still taken, not left waiting behind a writer that stopped."""
    engine = make_engine("postgresql://postgres@127.0.0.1:1/nowhere")  # nothing listens on port 1
    writer = GroupCommitWriter(engine)

    async def main() -> list[object]:
        first = await asyncio.wait_for(
            asyncio.gather(writer.submit(_remember("a")), writer.submit(_remember("b")), return_exceptions=True),  # type: ignore[arg-type]
            timeout=20,
        )
        later = await asyncio.wait_for(asyncio.gather(writer.submit(_remember("c")), return_exceptions=True), 20)  # type: ignore[arg-type]
        return [*first, *later]

    try:
        results = asyncio.run(main())
    finally:
        engine.dispose()
    assert [type(result) for result in results] == [StorageUnavailable] * 3
