"""Feed uploads through the real server over mutual TLS: receipts, idempotence, rejections, status, bad streams."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from hub import services
from hub.envelope import open_envelope
from hub.errors import FailedPrecondition, HubError, InvalidArgument, NotFound, NotGranted, PeerMismatch
from hub.feeds import DEPARTMENTS, FEED_PURPOSE, FeedUploader, Policy, VersionStatus, record_tables
from hub.feeds._kinds import kind_by_code
from hub.feeds._tables import FeedChunkRow
from hub.sandbox import Sandbox
from hub.store import Store
from hub.store.models import AuditEntryRow
from hub.v1 import feeds_pb2 as pb
from tests.feeds.conftest import OTHER_SUPPLIER, SUPPLIER, count_rows, person, valid_rows
from tests.feeds.wire import prepared, run, sandbox_at, send_chunks, signer_of, status

pytestmark = pytest.mark.integration

Scenario = Callable[[Sandbox], Awaitable[None]]


@pytest.fixture
def within(tmp_path: Path, database_url: str) -> Callable[[Scenario], None]:
    """Run a scenario against a started hub (SQLite, and PostgreSQL when configured)."""

    def go(scenario: Scenario, **settings: Any) -> None:
        async def main() -> None:
            sandbox = sandbox_at(tmp_path / "world", database_url, **settings)
            await sandbox.start(with_nodes=False)
            try:
                await scenario(sandbox)
            finally:
                await sandbox.stop()

        run(main())

    return go


def store_of(sandbox: Sandbox) -> Store:
    assert sandbox.hub is not None
    return sandbox.hub.store


def test_an_upload_gets_a_receipt_signed_by_the_hub(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 23), chunk_rows=5) as feed:
            result = await FeedUploader(client).upload(feed)
            receipt = result.receipt
            assert receipt.status == VersionStatus.COMPLETE and receipt.current
            assert (receipt.expected_records, receipt.received_records, receipt.accepted_records) == (23, 23, 23)
            assert receipt.chunks == 5 == len(feed.chunks) and receipt.digest == feed.digest
            assert [key.owner for key in result.signed_by] == ["hub"]
            assert result.signed_by[0].keyid == sandbox.hub_key().keyid
            assert (result.streams, result.resumed_from) == (1, 0)
        assert count_rows(store_of(sandbox), "medical_settlement") == 23
        assert count_rows(store_of(sandbox), "medical_settlement", by_person=True) == 23

    within(scenario)


def test_the_receipt_answers_the_last_chunk_and_verifies_offline(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 7), chunk_rows=3) as feed:
            chunks = [feed.chunk(n) for n in range(len(feed.chunks))]
            data = await send_chunks(client, chunks)
        from hub.envelope import StaticKeyRing
        from hub.v1.envelope_pb2 import Envelope

        answer = open_envelope(Envelope.FromString(data), StaticKeyRing([sandbox.hub_key()]), required_signers=["hub"])
        receipt = answer.body(pb.FeedReceipt)
        assert answer.header.recipient == SUPPLIER and answer.header.request_hash
        assert receipt.accepted_records == 7 and receipt.status == pb.FEED_VERSION_STATUS_COMPLETE
        with store_of(sandbox).session() as session:  # every chunk's envelope, and the receipt, are in the audit log
            kinds = session.scalars(select(AuditEntryRow.kind)).all()
        assert kinds.count("request") == 3 and kinds.count("response") == 1

    within(scenario)


def test_sending_the_same_data_again_changes_nothing(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        rows = valid_rows("medical_settlement", 12)
        with prepared(rows) as feed:
            first = await FeedUploader(client).upload(feed)
        with prepared(rows) as again:  # prepared afresh from the same data: the same version
            assert again.version_id == first.receipt.version_id
            second = await FeedUploader(client).upload(again)
        assert second.receipt == first.receipt
        assert second.resumed_from == len(again.chunks) - 1  # only the last chunk, to be given the receipt
        store = store_of(sandbox)
        assert count_rows(store, "medical_settlement") == 12
        with store.session() as session:
            assert session.scalar(select(func.count()).select_from(FeedChunkRow)) == len(again.chunks)
        with prepared(rows, policy=Policy.REJECT_VERSION) as other:  # declared differently: another version
            assert other.version_id != first.receipt.version_id

    within(scenario)


def test_rejected_rows_are_listed_with_number_field_and_reason(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        rows = valid_rows("medical_settlement", 20)
        rows[6].id_number = person(6)[:-1] + ("0" if person(6)[-1] != "0" else "1")  # wrong check character
        rows[11].region_code = "990000"
        with prepared(rows) as feed:
            receipt = (await FeedUploader(sandbox.client(SUPPLIER)).upload(feed)).receipt
        assert (receipt.accepted_records, receipt.rejected_records) == (18, 2)
        listed = [(r.row_number, r.field) for r in receipt.rejections]
        assert listed == [(7, "id_number"), (12, "region_code")]
        assert receipt.rejections[0].problem == "check_character"
        assert person(6)[6:14] not in receipt.rejections[0].reason  # never the number itself
        assert receipt.status == VersionStatus.COMPLETE and receipt.current
        assert count_rows(store_of(sandbox), "medical_settlement") == 18

    within(scenario)


def test_under_reject_version_one_bad_row_keeps_nothing(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        rows = valid_rows("medical_settlement", 10)
        rows[3].out_of_pocket_fen = rows[3].total_fen + 1
        with prepared(rows, policy=Policy.REJECT_VERSION) as feed:
            receipt = (await FeedUploader(sandbox.client(SUPPLIER)).upload(feed)).receipt
        assert receipt.status == VersionStatus.REJECTED and not receipt.current
        assert [(r.row_number, r.field, r.problem) for r in receipt.rejections] == [(4, "out_of_pocket_fen", "order")]
        assert count_rows(store_of(sandbox), "medical_settlement") == 0

    within(scenario)


def test_status_shows_freshness_and_only_the_asker_own_progress(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 9)) as feed:
            await FeedUploader(client).upload(feed)
            report = await status(client, feed.version_id, DEPARTMENTS["medical-insurance"])
            assert report.upload.next_sequence == 2 and report.upload.status == pb.FEED_VERSION_STATUS_COMPLETE
            [fresh] = report.feeds
            assert (fresh.supplier, fresh.version_id, fresh.accepted_records) == (SUPPLIER, feed.version_id, 9)
            assert not fresh.stale and fresh.max_age_seconds == 35 * 86_400
            with pytest.raises(NotFound):
                await status(sandbox.client(OTHER_SUPPLIER), feed.version_id)
        assert list((await status(client, department=DEPARTMENTS["education"])).feeds) == []

    within(scenario)


# --- bad streams ----------------------------------------------------------------------------------------


def test_a_chunk_whose_hash_does_not_match_its_rows_is_refused(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 4)) as feed:
            chunk = feed.chunk(0)
        chunk.chunk_sha256 = bytes(32)
        with pytest.raises(InvalidArgument) as raised:
            await send_chunks(client, [chunk])
        assert raised.value.field == "chunk_sha256"
        with pytest.raises(NotFound):  # the refused first chunk left no declaration behind
            await status(client, feed.version_id)
        assert count_rows(store_of(sandbox), "medical_settlement") == 0

    within(scenario)


def test_a_sequence_gap_is_refused_naming_the_chunk_expected(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 15)) as feed:
            with pytest.raises(FailedPrecondition) as raised:
                await send_chunks(client, [feed.chunk(0), feed.chunk(2)])
            assert raised.value.metadata["expected_sequence"] == "1"
            assert (await status(client, feed.version_id)).upload.next_sequence == 1
            receipt = (await FeedUploader(client).upload(feed)).receipt  # and it resumes from there
        assert receipt.accepted_records == 15
        assert count_rows(store_of(sandbox), "medical_settlement") == 15

    within(scenario)


def test_a_chunk_repeated_within_a_stream_is_stored_once(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        with prepared(valid_rows("medical_settlement", 12)) as feed:
            chunks = [feed.chunk(0), feed.chunk(1), feed.chunk(1), feed.chunk(0), feed.chunk(1), feed.chunk(2)]
            await send_chunks(sandbox.client(SUPPLIER), chunks)
        assert count_rows(store_of(sandbox), "medical_settlement") == 12

    within(scenario)


def test_a_chunk_for_another_members_version_is_refused(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client, other = sandbox.client(SUPPLIER), sandbox.client(OTHER_SUPPLIER)
        with prepared(valid_rows("medical_settlement", 10)) as feed:
            with pytest.raises(FailedPrecondition):  # the supplier sends chunk 0 only: incomplete
                await send_chunks(client, [feed.chunk(0)])
            with pytest.raises(NotGranted, match="belongs to"):  # another member continues it, signing as itself
                await send_chunks(other, [feed.chunk(1)])
            with pytest.raises(NotGranted, match="in the name of"):  # or declares it in the supplier's name
                await send_chunks(other, [feed.chunk(0)])
            with pytest.raises(PeerMismatch):  # or signs as the other member over the supplier's connection
                await send_chunks(
                    client, [feed.chunk(1)], signer=signer_of(sandbox, OTHER_SUPPLIER), sender=OTHER_SUPPLIER
                )
            assert (await status(client, feed.version_id)).upload.next_sequence == 1
        assert count_rows(store_of(sandbox), "medical_settlement") == 5

    within(scenario)


def test_a_stream_that_stops_midway_resumes_and_stores_each_row_once(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        with prepared(valid_rows("medical_settlement", 24)) as feed:
            with pytest.raises(FailedPrecondition, match="incomplete") as raised:
                await send_chunks(client, [feed.chunk(n) for n in range(3)])  # then the supplier stops
            assert raised.value.metadata["expected_sequence"] == "3"
            assert count_rows(store_of(sandbox), "medical_settlement") == 15
            assert not (await status(client, department=DEPARTMENTS["medical-insurance"])).feeds  # nothing current
            result = await FeedUploader(client).upload(feed)
        assert result.resumed_from == 3 and result.receipt.accepted_records == 24
        table, _ = record_tables(kind_by_code("medical_settlement"))
        with store_of(sandbox).session() as session:
            numbers = session.scalars(select(table.c.row_number).order_by(table.c.row_number)).all()
        assert numbers == list(range(1, 25))

    within(scenario)


def test_one_stream_carries_one_version(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        client = sandbox.client(SUPPLIER)
        first = prepared(valid_rows("medical_settlement", 3))
        second = prepared(valid_rows("medical_settlement", 4, 50))
        with first, second, pytest.raises(InvalidArgument) as raised:
            await send_chunks(client, [first.chunk(0), second.chunk(0)])
        assert raised.value.field == "version_id"

    within(scenario)


def test_a_member_without_the_grant_cannot_upload(within: Callable[[Scenario], None]) -> None:
    async def scenario(sandbox: Sandbox) -> None:
        assert sandbox.hub is not None
        sandbox.hub.registry.revoke_grant(SUPPLIER, services.FEED_UPLOAD, FEED_PURPOSE.code)
        sandbox.hub.directory.invalidate()
        with prepared(valid_rows("medical_settlement", 3)) as feed, pytest.raises(HubError) as raised:
            await send_chunks(sandbox.client(SUPPLIER), [feed.chunk(0)])
        assert raised.value.reason == "NOT_GRANTED"

    within(scenario)
