"""A hub killed (SIGKILL) in the middle of an upload: after a restart the upload resumes, and the stored version is
complete and holds every row exactly once. The hub is a real ``hubctl serve`` process; every wait is bounded."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub import services
from hub.audit import AuditLog
from hub.demo import Processes
from hub.feeds import FeedUploader, VersionStatus, kind_by_code, record_tables
from hub.feeds._tables import FeedVersionRow
from hub.store import Store, make_engine
from tests.feeds.conftest import SUPPLIER, valid_rows
from tests.feeds.wire import prepared, run, sandbox_at

pytestmark = [pytest.mark.fault, pytest.mark.integration]

ROWS = 40_000
CHUNK_ROWS = 1_000


def version_state(store: Store, version_id: str) -> tuple[str, int] | None:
    with store.session() as session:
        row = session.execute(
            select(FeedVersionRow.status, FeedVersionRow.next_sequence).where(FeedVersionRow.version_id == version_id)
        ).one_or_none()
    return None if row is None else (row[0], row[1])


async def stored_chunks(store: Store, version_id: str, at_least: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        state = version_state(store, version_id)
        if state is not None and state[1] >= at_least:
            return state[1]
        await asyncio.sleep(0.02)
    raise TimeoutError(f"fewer than {at_least} chunks of {version_id} were stored within {timeout} s")


def test_a_hub_killed_mid_upload_resumes_to_a_complete_version_stored_exactly_once(
    tmp_path: Path, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "world"
    postgres = database_url.startswith("postgresql")
    if postgres:
        monkeypatch.setenv("HUB_DATABASE_URL", database_url)
    sandbox = sandbox_at(root, database_url if postgres else "")
    store = Store(make_engine(sandbox.settings().resolved_database_url))
    processes = Processes(root)
    feed = prepared(valid_rows("medical_settlement", ROWS), chunk_rows=CHUNK_ROWS)

    async def scenario() -> None:
        port = await asyncio.to_thread(processes.start, "hub", "serve", "--listen", "127.0.0.1:0")
        sandbox.external_hub_port = port
        client = sandbox.client(SUPPLIER)
        upload = asyncio.create_task(FeedUploader(client, attempts=12, pause=0.2, timeout=60).upload(feed))
        try:
            await stored_chunks(store, feed.version_id, at_least=4, timeout=60)
            hub = processes.children["hub"][0]
            os.kill(hub.pid, signal.SIGKILL)
            await asyncio.to_thread(hub.wait, 10)
            status, killed_at = version_state(store, feed.version_id) or ("", 0)
            assert status == VersionStatus.RECEIVING and 4 <= killed_at < len(feed.chunks), "killed midway"
            assert not upload.done()
            await asyncio.to_thread(processes.start, "hub", "serve", "--listen", f"127.0.0.1:{port}")
            result = await asyncio.wait_for(upload, 120)
        finally:
            upload.cancel()
            await client.aclose()
        assert result.streams >= 2 and result.resumed_from >= killed_at
        receipt = result.receipt
        assert receipt.status == VersionStatus.COMPLETE and receipt.current
        assert (receipt.received_records, receipt.accepted_records, receipt.chunks) == (ROWS, ROWS, len(feed.chunks))
        assert receipt.digest == feed.digest

    try:
        run(scenario(), timeout=240)
    finally:
        codes = processes.stop()
        feed.close()
    assert codes["hub"] == 0, "the restarted hub stops cleanly"
    records, by_person = record_tables(kind_by_code("medical_settlement"))
    with store.session() as session:
        version = session.scalar(select(FeedVersionRow.id).where(FeedVersionRow.version_id == feed.version_id))
        rows, distinct = session.execute(
            select(func.count(), func.count(func.distinct(records.c.row_number))).where(records.c.version == version)
        ).one()
        indexed = session.scalar(select(func.count()).select_from(by_person).where(by_person.c.version == version))
        lowest, highest = session.execute(
            select(func.min(records.c.row_number), func.max(records.c.row_number)).where(records.c.version == version)
        ).one()
    log = AuditLog(store)
    logged = [log.entry(seq).record for seq in range(log.size())]
    store.dispose()
    assert (rows, distinct, indexed) == (ROWS, ROWS, ROWS)
    assert (lowest, highest) == (1, ROWS)
    # Each chunk's message was logged in the transaction that stored the chunk: the chunk the kill cut off
    # left neither rows nor an entry, so the log holds exactly one request per chunk, and the receipt.
    uploads = [r.kind for r in logged if r.service == services.FEED_UPLOAD]
    assert uploads.count("request") == len(feed.chunks) and uploads.count("response") >= 1
