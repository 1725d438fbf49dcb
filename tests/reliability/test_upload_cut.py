"""A feed upload whose client cancels the stream midway, through the real server.

Unlike ``tests/feeds/test_upload_wire.py::test_a_stream_that_stops_midway_resumes_and_stores_each_row_once``
(the supplier half-closes the stream early and is told it is incomplete) and ``tests/feeds/test_upload_faults.py``
(the hub is killed), here the client goes away: the call is cancelled (an HTTP/2 reset) while the hub is still
reading it. Readers must see no partial version, and the supplier's resumed upload must complete it exactly once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import grpc
import pytest
from sqlalchemy import select

from hub import services
from hub.envelope import new_header, seal
from hub.feeds import FEED_PURPOSE, FeedUploader, VersionStatus, current_versions, kind_by_code, record_tables
from hub.feeds._tables import FeedVersionRow
from hub.grpc.client import HubClient
from hub.store import Store
from tests.feeds.conftest import valid_rows
from tests.feeds.wire import prepared
from tests.reliability.conftest import MEDICAL, World, drive

pytestmark = pytest.mark.integration

ROWS, CHUNK_ROWS, SENT = 40, 5, 4  # eight chunks; the client sends four, then cancels


def progress(store: Store, version_id: str) -> tuple[str, int] | None:
    with store.session() as session:
        found = session.execute(
            select(FeedVersionRow.status, FeedVersionRow.next_sequence).where(FeedVersionRow.version_id == version_id)
        ).one_or_none()
    return None if found is None else (found[0], found[1])


def test_a_cancelled_upload_leaves_no_partial_version_and_resumes_exactly_once(
    loop: asyncio.AbstractEventLoop, world: World
) -> None:
    async def in_the_loop() -> HubClient:  # a channel belongs to the loop it is made in: the fixture's
        return world.client(MEDICAL)

    client, store = drive(loop, in_the_loop()), world.store
    feed = prepared(valid_rows("medical_settlement", ROWS), supplier=MEDICAL, chunk_rows=CHUNK_ROWS)
    kind = kind_by_code("medical_settlement")

    async def cut() -> int:
        held = asyncio.Event()  # never set: the client holds the stream open after its chunks

        async def messages() -> AsyncIterator[bytes]:
            for sequence in range(SENT):
                header = new_header(
                    sender=MEDICAL, recipient=client.hub_id, service=services.FEED_UPLOAD, purpose=FEED_PURPOSE
                )
                yield seal(header, feed.chunk(sequence), client.signer).SerializeToString()
            await held.wait()

        stream = client.channel.stream_unary(
            f"/{services.FEED_UPLOAD}", request_serializer=None, response_deserializer=None
        )
        call = stream(messages(), timeout=30)
        deadline = time.monotonic() + 20
        while (state := progress(store, feed.version_id)) is None or state[1] < SENT - 1:
            assert time.monotonic() < deadline, f"the hub stored too little of the stream: {state}"
            await asyncio.sleep(0.02)  # chunk n is written once n + 1 is in hand: the last one sent is pending
        assert not call.done(), "the hub must still be reading the stream when the client goes away"
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        assert await call.code() == grpc.StatusCode.CANCELLED
        await asyncio.sleep(0.3)  # a chunk the hub had in hand commits or not, alone
        status, stored = progress(store, feed.version_id) or ("", 0)
        assert status == VersionStatus.RECEIVING and SENT - 1 <= stored <= SENT, (status, stored)
        return stored

    try:
        stored = drive(loop, cut())
        records, _ = record_tables(kind)
        with store.session() as session:  # what every reader (the comparisons, Status) goes by
            version = session.scalar(select(FeedVersionRow.id).where(FeedVersionRow.version_id == feed.version_id))
            assert version not in current_versions(session, kind.code), "a partial version became current"
            made_current = session.scalar(select(FeedVersionRow.made_current).where(FeedVersionRow.id == version))
        assert not made_current

        result = drive(loop, FeedUploader(client).upload(feed))
    finally:
        feed.close()
    assert (result.streams, result.resumed_from) == (1, stored), "the resumed upload starts where the hub stopped"
    receipt = result.receipt
    assert receipt.status == VersionStatus.COMPLETE and receipt.current
    assert (receipt.received_records, receipt.accepted_records, receipt.chunks) == (ROWS, ROWS, len(feed.chunks))
    assert receipt.digest == feed.digest
    with store.session() as session:
        numbers = session.scalars(
            select(records.c.row_number).where(records.c.version == version).order_by(records.c.row_number)
        ).all()
        assert version in current_versions(session, kind.code)
    assert numbers == list(range(1, ROWS + 1)), "every row stored exactly once"
