"""Sealing, counter-signing and opening envelopes, called on the core directly."""

from __future__ import annotations

import datetime as dt

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric import ed448
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes, PublicKeyTypes
from google.protobuf.timestamp_pb2 import Timestamp

from hub.envelope import (
    SUITES,
    SigningKey,
    StaticKeyRing,
    countersign,
    new_header,
    open_envelope,
    pae,
    register_suite,
    reply_header,
    seal,
    timestamp,
)
from hub.errors import Malformed, SignatureInvalid, TooLarge, UnknownSender
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Envelope

SENDER = "11130629MB1234567X"


def query(signer: SigningKey, recipient: str = "hub") -> Envelope:
    header = new_header(sender=SENDER, recipient=recipient, service="hub.v1.Verification/HouseholdRegistration")
    body = verification_pb2.HouseholdRegistrationQuery(person=verification_pb2.Person(id_number="11010519491231002X"))
    return seal(header, body, signer)


def test_pae_matches_the_dsse_specification_example() -> None:
    assert pae("http://example.com/HelloWorld", b"hello world") == (
        b"DSSEv1 29 http://example.com/HelloWorld 11 hello world"
    )


def test_open_returns_verified_body_and_header() -> None:
    key = SigningKey.generate(owner=SENDER)
    opened = open_envelope(query(key).SerializeToString(), StaticKeyRing([key.public]))
    assert opened.sender == SENDER
    assert opened.body(verification_pb2.HouseholdRegistrationQuery).person.id_number == "11010519491231002X"
    assert len(opened.header.message_id) == 36 and opened.header.message_id[14] == "7"  # UUIDv7


def test_reading_the_body_as_another_type_is_malformed() -> None:
    key = SigningKey.generate(owner=SENDER)
    opened = open_envelope(query(key), StaticKeyRing([key.public]))
    with pytest.raises(Malformed, match=r"expected hub\.v1\.ResidencePermitQuery"):
        opened.body(verification_pb2.ResidencePermitQuery)


def test_size_limit_is_checked_before_anything_else() -> None:
    key = SigningKey.generate(owner=SENDER)
    data = query(key).SerializeToString()
    with pytest.raises(TooLarge):
        open_envelope(data, StaticKeyRing(), max_bytes=len(data) - 1)


def test_garbage_is_malformed_not_a_crash() -> None:
    with pytest.raises(Malformed):
        open_envelope(b"\xff\xff\xff not protobuf", StaticKeyRing())


def test_an_envelope_without_signatures_is_rejected() -> None:
    key = SigningKey.generate(owner=SENDER)
    envelope = query(key)
    del envelope.signatures[:]
    with pytest.raises(SignatureInvalid, match="no signature"):
        open_envelope(envelope, StaticKeyRing([key.public]))


def test_countersigned_answer_verifies_for_both_signers_offline() -> None:
    asker = SigningKey.generate(owner=SENDER)
    answerer = SigningKey.generate("ecdsa-p256", owner="11110115MB0000001X")
    hub = SigningKey.generate(owner="hub")
    request = open_envelope(query(asker), StaticKeyRing([asker.public]))
    answer = seal(
        reply_header(request, sender="11110115MB0000001X"),
        verification_pb2.HouseholdRegistrationResult(registered=True, region_code="110105"),
        answerer,
    )
    countersign(answer, hub)
    # A third party years later, holding only the two public keys:
    opened = open_envelope(
        answer.SerializeToString(),
        StaticKeyRing([answerer.public, hub.public]),
        required_signers=["11110115MB0000001X", "hub"],
    )
    assert opened.header.request_hash == request.payload_sha256
    assert {key.owner for key in opened.signers} == {"11110115MB0000001X", "hub"}


def test_required_signer_missing_is_rejected() -> None:
    asker = SigningKey.generate(owner=SENDER)
    with pytest.raises(SignatureInvalid, match="not signed by hub"):
        open_envelope(query(asker), StaticKeyRing([asker.public]), required_signers=["hub"])


def test_unknown_extra_signature_is_ignored_when_a_known_one_verifies() -> None:
    asker = SigningKey.generate(owner=SENDER)
    stranger = SigningKey.generate(owner="someone")
    envelope = countersign(query(asker), stranger)
    assert open_envelope(envelope, StaticKeyRing([asker.public])).sender == SENDER
    with pytest.raises(UnknownSender):
        open_envelope(envelope, StaticKeyRing())


class Ed448Suite:
    """A third suite, registered from outside: callers do not change."""

    name = "test-ed448"

    def generate(self) -> PrivateKeyTypes:
        return ed448.Ed448PrivateKey.generate()

    def owns(self, key: PrivateKeyTypes | PublicKeyTypes) -> bool:
        return isinstance(key, ed448.Ed448PrivateKey | ed448.Ed448PublicKey)

    def sign(self, private_key: PrivateKeyTypes, data: bytes) -> bytes:
        assert isinstance(private_key, ed448.Ed448PrivateKey)
        return private_key.sign(data)

    def verify(self, public_key: PublicKeyTypes, signature: bytes, data: bytes) -> None:
        assert isinstance(public_key, ed448.Ed448PublicKey)
        try:
            public_key.verify(signature, data)
        except InvalidSignature:
            raise SignatureInvalid("Ed448 signature does not match") from None


def test_a_third_suite_plugs_in_without_touching_callers() -> None:
    register_suite(Ed448Suite())
    try:
        key = SigningKey.generate("test-ed448", owner=SENDER)
        opened = open_envelope(query(key), StaticKeyRing([key.public]))
        assert opened.signers[0].suite.name == "test-ed448"
    finally:
        SUITES.pop("test-ed448")


@pytest.mark.parametrize(
    "value",
    [
        dt.datetime(2025, 3, 14, 8, 0, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 14, 8, 0, 0, 999999, tzinfo=dt.timezone(dt.timedelta(hours=8))),
        dt.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=dt.UTC),  # before the epoch: nanos stay positive
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        dt.datetime(2025, 3, 14, 8, 0, 0, 1),  # naive: local time, as protobuf takes it
    ],
)
def test_timestamps_are_what_protobuf_makes_of_the_datetime(value: dt.datetime) -> None:
    expected = Timestamp()
    expected.FromDatetime(value.astimezone(dt.UTC))
    assert timestamp(value) == expected
