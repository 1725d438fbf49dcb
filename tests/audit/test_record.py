"""The canonical entry encoding and the records built from envelopes."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib

import pytest

from hub.audit import (
    decode_entry,
    encode_entry,
    prepare_envelope,
    prepare_opened,
    record_from_envelope,
    record_from_opened,
)
from hub.audit._record import GENESIS_HASH, encode_entry_at, entry_hash
from hub.envelope import SigningKey, StaticKeyRing, new_header, open_envelope, seal
from hub.errors import InvalidArgument, Malformed
from hub.v1.audit_pb2 import CheckpointRequest
from hub.v1.envelope_pb2 import Purpose

from .conftest import make_record, token

RECORDED = dt.datetime(2025, 3, 14, 9, 30, 0, 123456, tzinfo=dt.UTC)


def test_encoding_round_trips_and_hashes_what_it_encodes() -> None:
    record = make_record(7, tokens=(token(1), token(2)))
    encoded = encode_entry(7, GENESIS_HASH, RECORDED, record)
    entry = decode_entry(encoded)
    assert entry.seq == 7 and entry.prev_hash == GENESIS_HASH and entry.recorded_at == RECORDED
    assert entry.record == record
    assert entry.entry_hash == hashlib.sha256(encoded).digest() == entry_hash(7, GENESIS_HASH, RECORDED, record)
    assert encoded.startswith(b"hub.audit.entry.v1\n")


@pytest.mark.parametrize(
    "change",
    [
        {"case_number": "容民救〔2025〕8号"},
        {"outcome": "NOT_GRANTED"},
        {"subject_tokens": (token(9),)},
        {"signatures": ()},
        {"issued_at": dt.datetime(2025, 3, 14, 8, 0, 1, tzinfo=dt.UTC)},
    ],
)
def test_every_field_is_covered_by_the_hash(change: dict[str, object]) -> None:
    record = make_record(1, tokens=(token(1),))
    changed = dataclasses.replace(record, **change)  # type: ignore[arg-type]
    assert entry_hash(1, GENESIS_HASH, RECORDED, record) != entry_hash(1, GENESIS_HASH, RECORDED, changed)


def test_the_payload_is_covered_by_its_hash_only() -> None:
    with_body, without = make_record(1), make_record(1, payload=False)
    assert entry_hash(1, GENESIS_HASH, RECORDED, with_body) == entry_hash(1, GENESIS_HASH, RECORDED, without)


def test_place_and_chain_are_covered() -> None:
    record = make_record(1)
    base = entry_hash(1, GENESIS_HASH, RECORDED, record)
    assert base != entry_hash(2, GENESIS_HASH, RECORDED, record)
    assert base != entry_hash(1, b"\x01" * 32, RECORDED, record)
    assert base != entry_hash(1, GENESIS_HASH, RECORDED + dt.timedelta(microseconds=1), record)


def test_records_refuse_what_the_log_must_never_hold() -> None:
    with pytest.raises(InvalidArgument, match="subject_tokens"):
        make_record(1, tokens=(b"11010519491231002X",))  # a raw ID number is not a token
    with pytest.raises(InvalidArgument, match="payload"):
        dataclasses.replace(make_record(1), payload=b"another body")
    with pytest.raises(InvalidArgument, match="kind"):
        dataclasses.replace(make_record(1), kind="Request; DROP")
    with pytest.raises(InvalidArgument, match="issued_at"):
        dataclasses.replace(make_record(1), issued_at=dt.datetime(2025, 1, 1))


def test_decoding_rejects_damaged_bytes() -> None:
    encoded = encode_entry(1, GENESIS_HASH, RECORDED, make_record(1))
    with pytest.raises(Malformed):
        decode_entry(encoded[:-3])
    with pytest.raises(Malformed):
        decode_entry(encoded + b"\x00")
    with pytest.raises(Malformed):
        decode_entry(b"hub.audit.entry.v2\n" + encoded[19:])


def _sealed() -> tuple[SigningKey, object]:
    key = SigningKey.generate(owner="11130629MB1234567X")
    header = new_header(
        sender="11130629MB1234567X",
        recipient="hub",
        service="hub.v1.Verification/HouseholdRegistration",
        purpose=Purpose(code="dibao.application", legal_basis="社会救助暂行办法 第五十八条", case_number="A-1"),
        consent_ref="consent-1",
    )
    return key, seal(header, CheckpointRequest(), key)


def test_record_from_opened_keeps_header_hash_signatures_and_payload() -> None:
    key, envelope = _sealed()
    opened = open_envelope(envelope, StaticKeyRing([key.public]))  # type: ignore[arg-type]
    record = record_from_opened(opened, kind="request", subject_tokens=[token(1)])
    header = opened.header
    assert (record.message_id, record.sender, record.service) == (header.message_id, header.sender, header.service)
    assert (record.purpose_code, record.legal_basis, record.case_number, record.consent_ref) == (
        "dibao.application",
        "社会救助暂行办法 第五十八条",
        "A-1",
        "consent-1",
    )
    assert record.payload_sha256 == opened.payload_sha256
    assert record.signatures == ((key.keyid, opened.envelope.signatures[0].sig),)
    assert record.payload == opened.envelope.payload
    assert record.issued_at.microsecond == header.issued_at.nanos // 1000
    lean = record_from_opened(opened, kind="request", subject_tokens=[], keep_payload=False, outcome="REPLAYED")
    assert lean.payload is None and lean.outcome == "REPLAYED" and lean.payload_sha256 == record.payload_sha256


def test_record_from_envelope_matches_the_opened_record() -> None:
    key, envelope = _sealed()
    opened = open_envelope(envelope, StaticKeyRing([key.public]))  # type: ignore[arg-type]
    assert record_from_envelope(opened.envelope, kind="response", subject_tokens=[]) == record_from_opened(
        opened, kind="response", subject_tokens=[]
    )


def test_the_query_paths_prepared_records_encode_exactly_as_records_do() -> None:
    """The fast road (header → prepared) and the record's road must give the same bytes and column values."""
    key, envelope = _sealed()
    opened = open_envelope(envelope, StaticKeyRing([key.public]))  # type: ignore[arg-type]
    tokens = [token(1), token(2)]
    for kind, outcome in (("request", "ok"), ("response", "MEMBER_UNAVAILABLE")):
        fast = prepare_opened(opened, kind=kind, subject_tokens=tokens, outcome=outcome)
        record = record_from_opened(opened, kind=kind, subject_tokens=tokens, outcome=outcome, keep_payload=False)
        assert fast == record.prepared
        assert prepare_envelope(opened.envelope, kind=kind, subject_tokens=tokens, outcome=outcome) == fast
        at = dt.datetime(2025, 1, 31, 8, tzinfo=dt.UTC)
        assert encode_entry(7, bytes(32), at, record) == encode_entry_at(
            7, bytes(32), b"2025-01-31T08:00:00.000000Z", fast.tail
        )


def test_the_prepared_road_refuses_what_a_record_refuses() -> None:
    key, envelope = _sealed()
    opened = open_envelope(envelope, StaticKeyRing([key.public]))  # type: ignore[arg-type]
    with pytest.raises(InvalidArgument, match="subject token"):
        prepare_opened(opened, kind="request", subject_tokens=[b"110101199003070011"])
    with pytest.raises(InvalidArgument, match="kind"):
        prepare_opened(opened, kind="Request!", subject_tokens=[])
