"""The intake on SQLite and PostgreSQL: receipts, policies, idempotence, resumption, the atomic switch."""

from __future__ import annotations

import hashlib
from typing import Any

import pytest
from sqlalchemy import func, select

from hub.config import FeedSettings
from hub.errors import FailedPrecondition, InvalidArgument, NotFound, NotGranted
from hub.feeds import (
    KINDS,
    FeedIntake,
    Policy,
    RecordKind,
    VersionStatus,
    chunked,
    current_versions,
    encode_rows,
    kind_by_code,
    make_chunk,
    record_tables,
    version_digest,
)
from hub.feeds._tables import FeedChunkRow, FeedRejectionRow, FeedVersionRow
from hub.store import Store
from hub.v1 import feeds_pb2 as pb
from tests.feeds.conftest import (
    OTHER_SUPPLIER,
    SUPPLIER,
    IntakeFactory,
    count_rows,
    meta,
    upload,
    valid_row,
    valid_rows,
)


def current_of(store: Store, kind: str) -> list[str]:
    with store.session() as session:
        keys = current_versions(session, kind)
        return list(session.scalars(select(FeedVersionRow.version_id).where(FeedVersionRow.id.in_(keys))))


def test_a_clean_upload_is_stored_indexed_and_made_current(intake: FeedIntake, store: Store) -> None:
    declared = meta("med-2025-06", records=10)
    chunks = list(chunked(declared, valid_rows("medical_settlement", 10), 4))
    for chunk in chunks:
        ack = intake.receive(chunk, sender=SUPPLIER)
        assert not ack.duplicate and ack.rejected == 0
    receipt = intake.complete("med-2025-06")
    assert receipt.status is VersionStatus.COMPLETE
    assert (receipt.received_records, receipt.accepted_records, receipt.rejected_records) == (10, 10, 0)
    assert receipt.chunks == 3 and receipt.current
    assert receipt.digest == version_digest(c.chunk_sha256 for c in chunks)
    assert count_rows(store, "medical_settlement") == count_rows(store, "medical_settlement", by_person=True) == 10
    assert current_of(store, "medical_settlement") == ["med-2025-06"]
    wire = receipt.to_proto()
    assert wire.status == pb.FEED_VERSION_STATUS_COMPLETE and wire.kind == pb.RECORD_KIND_MEDICAL_SETTLEMENT


@pytest.mark.parametrize("kind", KINDS, ids=lambda k: k.code)
def test_every_kind_uploads_and_refuses_a_bad_row(kind: RecordKind, intake: FeedIntake, store: Store) -> None:
    rows = [valid_row(kind, n) for n in range(6)]
    rows[4] = valid_row(kind, 4, id_number="11010519491231002")  # 17 digits
    receipt = upload(intake, meta(f"{kind.code}-1", kind.code, 6), rows)
    assert (receipt.accepted_records, receipt.rejected_records) == (5, 1)
    (rejection,) = receipt.rejections
    assert (rejection.row_number, rejection.field, rejection.problem) == (5, "id_number", "length")
    assert count_rows(store, kind.code, by_person=True) == 5


def test_rejected_rows_are_listed_up_to_the_limit_and_all_stored(intake: FeedIntake, store: Store) -> None:
    rows = valid_rows("death", 12)
    for n in (1, 3, 5, 7, 9, 11):
        rows[n].region_code = "000000"
    receipt = upload(intake, meta("deaths", "death", 12), rows, size=5)
    assert receipt.rejected_records == 6 and receipt.rejections_truncated
    assert [r.row_number for r in receipt.rejections] == [2, 4, 6, 8, 10]  # limit 5, numbered over all chunks
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(FeedRejectionRow)) == 6
    assert receipt.to_proto().rejections[0].field == "region_code"


def test_reject_version_policy_keeps_the_current_version(intake: FeedIntake, store: Store) -> None:
    upload(intake, meta("may", "death", 4), valid_rows("death", 4))
    rows = valid_rows("death", 8, start=100)
    rows[6].died_on = "2025-13-01"
    receipt = upload(intake, meta("june", "death", 8, policy=Policy.REJECT_VERSION), rows, size=3)
    assert receipt.status is VersionStatus.REJECTED and not receipt.current
    assert (receipt.accepted_records, receipt.rejected_records) == (7, 1)
    assert current_of(store, "death") == ["may"]
    assert count_rows(store, "death") == count_rows(store, "death", by_person=True) == 4  # nothing of june kept
    assert receipt.to_proto().status == pb.FEED_VERSION_STATUS_REJECTED


def test_the_hub_policy_for_a_feed_overrules_what_its_supplier_would_choose(
    make_intake: IntakeFactory, store: Store, settings: FeedSettings
) -> None:
    strict = make_intake(settings=settings.model_copy(update={"policy": {"public-security": "reject_version"}}))
    with pytest.raises(InvalidArgument, match="death feeds only under reject_version") as raised:
        upload(strict, meta("lenient", "death", 4), valid_rows("death", 4))
    assert raised.value.field == "meta.policy"
    with store.session() as session:  # refused before anything was declared
        assert session.scalar(select(func.count()).select_from(FeedVersionRow)) == 0
    receipt = upload(strict, meta("strict", "death", 4, policy=Policy.REJECT_VERSION), valid_rows("death", 4))
    assert receipt.status is VersionStatus.COMPLETE and receipt.current
    by_kind = settings.model_copy(update={"policy": {"public-security": "reject_version", "death": "accept_valid"}})
    assert upload(make_intake(settings=by_kind), meta("by-kind", "death", 4), valid_rows("death", 4)).current


def test_accept_valid_policy_makes_the_valid_rows_current(intake: FeedIntake, store: Store) -> None:
    upload(intake, meta("may", "death", 4), valid_rows("death", 4))
    rows = valid_rows("death", 5, start=100)
    rows[0].evidence = 0
    receipt = upload(intake, meta("june", "death", 5), rows)
    assert receipt.status is VersionStatus.COMPLETE and receipt.current
    assert current_of(store, "death") == ["june"]
    assert count_rows(store, "death", by_person=True) == 4 + 4


def test_sending_the_same_version_again_changes_nothing(make_intake: IntakeFactory, store: Store) -> None:
    declared = meta("again", "wage", 9)
    rows = valid_rows("wage", 9)
    rows[2].gross_fen = -5
    first = upload(make_intake(), declared, rows)
    counts = (count_rows(store, "wage"), count_rows(store, "wage", by_person=True))
    again = make_intake()
    acks = [again.receive(chunk, sender=SUPPLIER) for chunk in chunked(declared, rows, 4)]
    assert all(ack.duplicate for ack in acks)
    assert [a.rejected for a in acks] == [1, 0, 0]
    assert again.complete("again") == first
    assert (count_rows(store, "wage"), count_rows(store, "wage", by_person=True)) == counts == (8, 8)


def test_a_version_id_cannot_be_reused_for_other_content(intake: FeedIntake) -> None:
    declared = meta("v", "death", 4)
    upload(intake, declared, valid_rows("death", 4))
    with pytest.raises(FailedPrecondition, match="expected_records"):
        intake.begin(meta("v", "death", 5))
    other = encode_rows("death", valid_rows("death", 4, start=50))
    with pytest.raises(FailedPrecondition, match="other content") as caught:
        intake.accept_chunk("v", 0, hashlib.sha256(other).digest(), other)
    assert caught.value.metadata["problem"] == "chunk_conflict"


def test_a_gap_names_the_expected_chunk(intake: FeedIntake) -> None:
    declared = meta("gap", "death", 8)
    chunks = list(chunked(declared, valid_rows("death", 8), 2))
    intake.receive(chunks[0], sender=SUPPLIER)
    with pytest.raises(FailedPrecondition, match="expects chunk 1 next, not 2") as caught:
        intake.receive(chunks[2], sender=SUPPLIER)
    assert caught.value.metadata["expected_sequence"] == "1"


def test_an_interrupted_upload_resumes_with_a_new_intake(make_intake: IntakeFactory, store: Store) -> None:
    declared = meta("resume", "roster", 10)
    rows = valid_rows("roster", 10)
    chunks = list(chunked(declared, rows, 3))
    first = make_intake()
    for chunk in chunks[:2]:
        first.receive(chunk, sender=SUPPLIER)
    del first  # the hub dies; a new process takes over

    second = make_intake()
    assert second.resume_point("resume") == 2
    with pytest.raises(FailedPrecondition, match="incomplete: 6 of 10 records arrived; resume with chunk 2"):
        second.complete("resume")
    for chunk in chunks[second.resume_point("resume") :]:
        second.receive(chunk, sender=SUPPLIER)
    receipt = second.complete("resume")
    assert receipt.accepted_records == 10 and receipt.chunks == 4
    assert count_rows(store, "roster") == count_rows(store, "roster", by_person=True) == 10


def test_a_stream_that_resends_from_the_start_is_acknowledged(make_intake: IntakeFactory, store: Store) -> None:
    declared = meta("resend", "death", 6)
    chunks = list(chunked(declared, valid_rows("death", 6), 2))
    make_intake().receive(chunks[0], sender=SUPPLIER)
    second = make_intake()
    assert [second.receive(c, sender=SUPPLIER).duplicate for c in chunks] == [True, False, False]
    assert second.complete("resend").accepted_records == 6
    assert count_rows(store, "death") == 6


def test_a_failing_chunk_transaction_leaves_nothing(
    intake: FeedIntake, store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    declared = meta("broken", "wage", 6)
    chunks = list(chunked(declared, valid_rows("wage", 6), 3))
    intake.receive(chunks[0], sender=SUPPLIER)
    real_insert = intake._writer.insert

    def insert_then_die(*args: Any) -> None:
        real_insert(*args)
        raise ConnectionError("connection lost mid-chunk")

    monkeypatch.setattr(intake._writer, "insert", insert_then_die)
    with pytest.raises(ConnectionError):
        intake.receive(chunks[1], sender=SUPPLIER)
    monkeypatch.undo()
    assert count_rows(store, "wage") == 3
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(FeedChunkRow)) == 1
    assert intake.resume_point("broken") == 1
    intake.receive(chunks[1], sender=SUPPLIER)
    assert intake.complete("broken").accepted_records == 6


def test_a_stale_intake_yields_to_the_stream_that_stored_the_chunk(make_intake: IntakeFactory) -> None:
    declared = meta("race", "death", 6)
    chunks = list(chunked(declared, valid_rows("death", 6), 2))
    slow, fast = make_intake(), make_intake()
    slow.receive(chunks[0], sender=SUPPLIER)  # slow now remembers "chunk 1 next"
    fast.receive(chunks[1], sender=SUPPLIER)
    assert slow.receive(chunks[1], sender=SUPPLIER).duplicate
    assert slow.receive(chunks[2], sender=SUPPLIER).next_sequence == 3
    assert fast.complete("race").received_records == 6


def test_readers_see_the_old_version_until_the_switch(make_intake: IntakeFactory, store: Store) -> None:
    intake = make_intake()
    upload(intake, meta("old", "property", 3), valid_rows("property", 3))
    declared = meta("new", "property", 6)
    chunks = list(chunked(declared, valid_rows("property", 6, start=10), 2))
    for chunk in chunks[:2]:
        intake.receive(chunk, sender=SUPPLIER)
    _, by_person = record_tables(kind_by_code("property"))
    with store.session() as session:
        (old,) = current_versions(session, "property")
        visible = session.scalar(select(func.count()).select_from(by_person).where(by_person.c.version == old))
        partial = session.scalar(select(func.count()).select_from(by_person).where(by_person.c.version != old))
    assert (current_of(store, "property"), visible, partial) == (["old"], 3, 0)
    intake.receive(chunks[2], sender=SUPPLIER)
    intake.complete("new")
    assert current_of(store, "property") == ["new"]


def test_a_version_for_an_earlier_period_does_not_take_over(intake: FeedIntake, store: Store) -> None:
    june = (meta("june", "death", 2).period_start, meta("june", "death", 2).period_end)
    upload(intake, meta("july", "death", 2, period=(june[1], june[1].replace(month=7, day=31))), valid_rows("death", 2))
    late = upload(intake, meta("june", "death", 2, period=june), valid_rows("death", 2, start=5))
    assert late.status is VersionStatus.COMPLETE and not late.current
    assert current_of(store, "death") == ["july"]


def test_feeds_of_two_suppliers_are_current_side_by_side(intake: FeedIntake, store: Store) -> None:
    upload(intake, meta("a", "death", 2), valid_rows("death", 2))
    upload(intake, meta("b", "death", 2, supplier=OTHER_SUPPLIER), valid_rows("death", 2))
    assert sorted(current_of(store, "death")) == ["a", "b"]


def test_an_empty_version_is_one_empty_chunk(intake: FeedIntake, store: Store) -> None:
    receipt = upload(intake, meta("nobody", "death", 0), [])
    assert (receipt.chunks, receipt.accepted_records, receipt.current) == (1, 0, True)


BAD_CHUNKS = [
    ("a wrong hash", {"chunk_sha256": b"\x00" * 32}, InvalidArgument, "chunk_sha256"),
    ("bytes that are no FeedRows", {"rows": b"\xff\xff\xff"}, InvalidArgument, "rows"),
    ("rows of another kind", {"rows": encode_rows("wage", valid_rows("wage", 2))}, InvalidArgument, "rows"),
    ("more rows than declared", {"rows": encode_rows("death", valid_rows("death", 5))}, InvalidArgument, "rows"),
    (
        "more rows than a chunk may carry",
        {"rows": encode_rows("death", valid_rows("death", 501))},
        InvalidArgument,
        "rows",
    ),
]


@pytest.mark.parametrize(("label", "change", "error", "field"), BAD_CHUNKS, ids=[c[0] for c in BAD_CHUNKS])
def test_a_bad_chunk_is_refused_whole(
    label: str, change: dict[str, bytes], error: type[Exception], field: str, intake: FeedIntake, store: Store
) -> None:
    intake.begin(meta("bad", "death", 4))
    rows = change.get("rows", encode_rows("death", valid_rows("death", 2)))
    digest = change.get("chunk_sha256", hashlib.sha256(rows).digest())
    with pytest.raises(error) as caught:
        intake.accept_chunk("bad", 0, digest, rows)
    assert getattr(caught.value, "field", None) == field
    assert intake.resume_point("bad") == 0 and count_rows(store, "death") == 0


def test_only_the_supplier_may_send_its_version(intake: FeedIntake) -> None:
    declared = meta("mine", "death", 4)
    chunks = list(chunked(declared, valid_rows("death", 4), 2))
    with pytest.raises(NotGranted):
        intake.receive(chunks[0], sender=OTHER_SUPPLIER)
    intake.receive(chunks[0], sender=SUPPLIER)
    with pytest.raises(NotGranted):
        intake.receive(chunks[1], sender=OTHER_SUPPLIER)


def test_chunk_zero_must_declare_the_version(intake: FeedIntake) -> None:
    rows = encode_rows("death", valid_rows("death", 2))
    with pytest.raises(InvalidArgument, match="declare"):
        intake.receive(make_chunk("undeclared", 0, rows), sender=SUPPLIER)
    with pytest.raises(NotFound):
        intake.receive(make_chunk("undeclared", 1, rows), sender=SUPPLIER)


def test_finished_versions_take_no_new_chunks(intake: FeedIntake) -> None:
    declared = meta("done", "death", 2)
    upload(intake, declared, valid_rows("death", 2))
    rows = encode_rows("death", [])
    with pytest.raises(FailedPrecondition, match="complete; it takes no more chunks"):
        intake.accept_chunk("done", 1, hashlib.sha256(rows).digest(), rows)


def test_progress_reports_where_an_upload_stands(intake: FeedIntake) -> None:
    declared = meta("half", "death", 4)
    intake.receive(next(iter(chunked(declared, valid_rows("death", 4), 2))), sender=SUPPLIER)
    progress = intake.progress("half").to_proto()
    assert (progress.next_sequence, progress.received_records, progress.expected_records) == (1, 2, 4)
    assert progress.status == pb.FEED_VERSION_STATUS_RECEIVING
    with pytest.raises(FailedPrecondition, match="no receipt"):
        intake.receipt("half")


def test_a_text_with_a_nul_character_refuses_its_row_only(intake: FeedIntake, store: Store) -> None:
    # PostgreSQL text cannot hold U+0000: such a row must be refused, not fail the chunk on every retry
    kind = kind_by_code("medical_settlement")
    rows = [valid_row(kind, 0), valid_row(kind, 1, settlement_id="JS\x001"), valid_row(kind, 2)]
    receipt = upload(intake, meta("med-nul", records=3), rows)
    assert (receipt.accepted_records, receipt.rejected_records) == (2, 1)
    [rejection] = receipt.rejections
    assert (rejection.row_number, rejection.field, rejection.problem) == (2, "settlement_id", "charset")
    assert count_rows(store, "medical_settlement") == 2


def test_a_refused_number_with_a_nul_character_is_reported(intake: FeedIntake, store: Store) -> None:
    # the reason shows the number masked, its last four characters kept: a NUL among them must not reach the table
    kind = kind_by_code("death")
    rows = [valid_row(kind, 0), valid_row(kind, 1, id_number="11010519491231\x0002X"), valid_row(kind, 2)]
    receipt = upload(intake, meta("death-nul", kind="death", records=3), rows)
    assert (receipt.accepted_records, receipt.rejected_records) == (2, 1)
    [rejection] = receipt.rejections
    assert (rejection.row_number, rejection.field, rejection.problem) == (2, "id_number", "charset")
    assert "\x00" not in rejection.reason
