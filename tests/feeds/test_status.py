"""Freshness per department × supplier × kind, and the supplier-side chunk helpers."""

from __future__ import annotations

import datetime as dt

import pytest

from hub.config import FeedSettings
from hub.errors import InvalidArgument, NotFound
from hub.feeds import FeedIntake, FeedMeta, Policy, chunked, encode_rows, feed_status, version_digest
from hub.store import Store
from hub.v1 import feeds_pb2 as pb
from tests.feeds.conftest import NOW, OTHER_SUPPLIER, SUPPLIER, IntakeFactory, meta, upload, valid_rows


def test_status_shows_the_current_version_its_age_and_counts(make_intake: IntakeFactory, store: Store) -> None:
    month_ago = make_intake(clock=lambda: NOW - dt.timedelta(days=30))
    upload(month_ago, meta("may-deaths", "death", 3), valid_rows("death", 3))
    intake = make_intake()
    upload(intake, meta("june-deaths", "death", 2), valid_rows("death", 2))
    refused = valid_rows("death", 2)
    refused[1].died_on = "someday"
    upload(intake, meta("refused-deaths", "death", 2, policy=Policy.REJECT_VERSION), refused)
    settlements = valid_rows("medical_settlement", 4)
    settlements[0].total_fen = -1
    upload(month_ago, meta("med", "medical_settlement", 4, supplier=OTHER_SUPPLIER), settlements)

    feeds = {f.kind: f for f in intake.status()}
    assert set(feeds) == {"death", "medical_settlement"}
    deaths, medical = feeds["death"], feeds["medical_settlement"]
    assert (deaths.version_id, deaths.age, deaths.accepted_records, deaths.stale) == (
        "june-deaths",
        dt.timedelta(0),
        2,
        False,
    )
    assert (medical.supplier, medical.accepted_records, medical.rejected_records) == (OTHER_SUPPLIER, 3, 1)
    assert (medical.age, medical.stale) == (dt.timedelta(days=30), False)
    wire = medical.to_proto()
    assert wire.department == pb.DEPARTMENT_MEDICAL_INSURANCE and wire.max_age_seconds == 35 * 86_400
    assert (wire.age_seconds, wire.stale) == (30 * 86_400, False)


def test_the_status_report_answers_the_status_rpc(intake: FeedIntake) -> None:
    upload(intake, meta("deaths", "death", 2), valid_rows("death", 2))
    upload(intake, meta("wages", "wage", 2), valid_rows("wage", 2))
    declared = meta("half", "wage", 4, period=(dt.date(2025, 7, 1), dt.date(2025, 7, 31)))
    intake.receive(next(iter(chunked(declared, valid_rows("wage", 4), 2))), sender=SUPPLIER)
    report = intake.status_report(pb.FeedStatusQuery(department=pb.DEPARTMENT_HRSS, version_id="half"))
    assert [(f.version_id, f.kind) for f in report.feeds] == [("wages", pb.RECORD_KIND_WAGE)]
    assert (report.upload.version_id, report.upload.next_sequence) == ("half", 1)
    assert report.as_of.ToDatetime(dt.UTC) == NOW
    everything = intake.status_report(pb.FeedStatusQuery())
    assert len(everything.feeds) == 2 and not everything.HasField("upload")
    with pytest.raises(NotFound):
        intake.status_report(pb.FeedStatusQuery(version_id="never-sent"))


def test_old_feeds_are_flagged_with_per_department_limits(make_intake: IntakeFactory, store: Store) -> None:
    upload(make_intake(clock=lambda: NOW - dt.timedelta(days=10)), meta("deaths", "death", 1), valid_rows("death", 1))
    upload(make_intake(clock=lambda: NOW - dt.timedelta(days=40)), meta("wages", "wage", 1), valid_rows("wage", 1))
    settings = FeedSettings(max_age_days_by_department={"public-security": 7})
    status = {f.kind: f for f in feed_status(store, settings, now=NOW)}
    assert status["death"].stale and status["death"].max_age == dt.timedelta(days=7)
    assert status["wage"].stale and status["wage"].age == dt.timedelta(days=40)
    assert [f.kind for f in feed_status(store, settings, "hrss", now=NOW)] == ["wage"]
    assert feed_status(store, settings, "education", now=NOW) == []
    with pytest.raises(InvalidArgument, match="not a department"):
        feed_status(store, settings, "health-ministry", now=NOW)


def test_chunked_declares_on_chunk_zero_only_and_hashes_the_bytes_sent() -> None:
    declared = meta("v", "death", 5)
    chunks = list(chunked(declared, valid_rows("death", 5), 2))
    assert [c.sequence for c in chunks] == [0, 1, 2]
    assert [c.HasField("meta") for c in chunks] == [True, False, False]
    assert FeedMeta.from_proto("v", chunks[0].meta) == declared
    assert chunks[1].rows == encode_rows("death", valid_rows("death", 2, start=2))
    assert len(pb.FeedRows.FromString(chunks[2].rows).deaths.rows) == 1
    assert version_digest(c.chunk_sha256 for c in chunks) != version_digest(c.chunk_sha256 for c in chunks[::-1])


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"department": 0}, "meta.department"),
        ({"kind": pb.RECORD_KIND_WAGE}, "meta.kind"),
        ({"policy": 0}, "meta.policy"),
        ({"period_end": "2025-05-31"}, "meta.period_end"),
        ({"period_start": "June"}, "meta.period_start"),
        ({"expected_records": -1}, "meta.expected_records"),
        ({"supplier": "someone"}, "meta.supplier"),
    ],
)
def test_a_bad_declaration_names_its_field(change: dict[str, object], field: str) -> None:
    wire = meta("v", "death", 5).to_proto()
    for name, value in change.items():
        setattr(wire, name, value)
    with pytest.raises(InvalidArgument) as caught:
        FeedMeta.from_proto("v", wire)
    assert caught.value.field == field


def test_a_version_id_is_a_short_plain_name() -> None:
    wire = meta("v", "death", 5).to_proto()
    for bad in ("", "x" * 65, "has space", "ünïcode"):
        with pytest.raises(InvalidArgument) as caught:
            FeedMeta.from_proto(bad, wire)
        assert caught.value.field == "version_id"
