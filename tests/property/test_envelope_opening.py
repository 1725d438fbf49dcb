"""Properties of opening an envelope, for any input: it returns the signed payload untouched, or raises a typed
``EnvelopeError``; nothing else ever comes out.

The mutation tests are the integrity claim in its general form: whatever is done to the bytes of a sealed
envelope (bits flipped, bytes cut, inserted, moved), opening either refuses or yields exactly the payload
that was signed, so no change can slip a different header or body past the signature.
"""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from hub.envelope import (
    PAYLOAD_TYPE,
    SUITES,
    SigningKey,
    StaticKeyRing,
    countersign,
    new_header,
    open_envelope,
    pae,
    seal,
    sign_payload,
)
from hub.errors import EnvelopeError, PayloadTypeUnsupported, SignatureInvalid, TooLarge
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Purpose, Signature

SENDER = "11110115MB0000007E"
KEYS = {suite: SigningKey.generate(suite, owner=SENDER) for suite in SUITES}
HUB_KEY = SigningKey.generate("ed25519", owner="hub")
RING = StaticKeyRing([key.public for key in KEYS.values()] + [HUB_KEY.public])
LIMIT = 64 * 1024

crypto = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
texts = st.text(max_size=40)
suites = st.sampled_from(sorted(SUITES))


@st.composite
def sealed(draw: st.DrawFn) -> tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey]:
    """A genuine envelope with arbitrary header text and body, signed with any built-in suite."""
    key = KEYS[draw(suites)]
    header = new_header(
        sender=SENDER,
        recipient=draw(texts),
        service=draw(texts),
        purpose=Purpose(code=draw(texts), legal_basis=draw(texts), case_number=draw(texts)),
        consent_ref=draw(texts),
    )
    body = v.HouseholdRegistrationQuery(person=v.Person(id_number=draw(texts), name=draw(texts)))
    return seal(header, body, key), body, key


@crypto
@given(sealed())
def test_what_was_sealed_opens_unchanged(case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey]) -> None:
    envelope, body, key = case
    data = envelope.SerializeToString()
    opened = open_envelope(data, RING, max_bytes=LIMIT)
    assert opened.envelope.payload == envelope.payload
    assert opened.payload_sha256 == hashlib.sha256(envelope.payload).digest()
    assert opened.body(v.HouseholdRegistrationQuery) == body
    assert [signer.keyid for signer in opened.signers] == [key.keyid]


@given(st.binary(max_size=2048))
@example(b"")
@example(b"\x0a\xff\xff\xff\xff\x0f")  # a length prefix far beyond the data
@example(b"\x1a\x00" * 500)  # hundreds of empty signatures
def test_arbitrary_bytes_are_refused_with_a_typed_error(data: bytes) -> None:
    with pytest.raises(EnvelopeError):
        open_envelope(data, RING, max_bytes=LIMIT)


@given(st.integers(0, 512), st.binary(min_size=1, max_size=600))
def test_anything_over_the_limit_is_too_large_before_it_is_parsed(limit: int, data: bytes) -> None:
    if len(data) <= limit:
        data += b"\0" * (limit + 1 - len(data))
    with pytest.raises(TooLarge):
        open_envelope(data, RING, max_bytes=limit)


#: A change to a byte string: what, where (as fractions of its length, because ECDSA signatures and so
#: envelopes vary in length from one run to the next), and bytes to put in.
mutations = st.tuples(
    st.sampled_from(["flip", "cut", "insert", "truncate", "move"]),
    st.floats(0, 1),
    st.floats(0, 1),
    st.binary(min_size=1, max_size=8),
)


def mutate(data: bytes, kind: str, at: float, span: float, extra: bytes) -> bytes:
    start = min(int(at * len(data)), len(data) - 1)
    end = start + int(span * (len(data) - start))
    if kind == "flip":
        return data[:start] + bytes([data[start] ^ (extra[0] or 1)]) + data[start + 1 :]
    if kind == "cut":
        return data[:start] + data[end:]
    if kind == "insert":
        return data[:start] + extra + data[start:]
    if kind == "truncate":
        return data[:start]
    return data[:start] + data[end:] + data[start:end]  # move a range to the end


@crypto
@given(sealed(), mutations)
def test_any_change_is_refused_or_leaves_the_signed_payload_intact(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey], mutation: tuple[str, float, float, bytes]
) -> None:
    envelope, _, _ = case
    original = envelope.SerializeToString()
    changed = mutate(original, *mutation)
    try:
        opened = open_envelope(changed, RING, max_bytes=LIMIT)
    except EnvelopeError:
        return
    assert opened.envelope.payload == envelope.payload, "a changed payload opened as genuine"


@crypto
@given(sealed(), st.data())
def test_every_bit_of_the_payload_is_covered_by_the_signature(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey], data: st.DataObject
) -> None:
    envelope, _, _ = case
    position = data.draw(st.integers(0, 8 * 2**16)) % (len(envelope.payload) * 8)
    payload = bytearray(envelope.payload)
    payload[position // 8] ^= 1 << (position % 8)
    envelope.payload = bytes(payload)
    with pytest.raises(SignatureInvalid):
        open_envelope(envelope, RING)


@crypto
@given(sealed(), st.text(max_size=60).filter(lambda t: t != PAYLOAD_TYPE))
def test_a_payload_signed_under_another_type_is_refused(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey], payload_type: str
) -> None:
    envelope, _, key = case
    resigned = sign_payload(envelope.payload, [key], payload_type=payload_type)
    with pytest.raises(PayloadTypeUnsupported):
        open_envelope(resigned, RING)


@crypto
@given(
    sealed(),
    st.lists(st.tuples(st.text(max_size=70), st.binary(max_size=80)), max_size=4),
    st.data(),
)
def test_signatures_by_unknown_keys_change_nothing_wherever_they_stand(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey],
    strangers: list[tuple[str, bytes]],
    data: st.DataObject,
) -> None:
    envelope, body, key = case
    known_ids = {k.keyid for k in KEYS.values()} | {HUB_KEY.keyid}
    for keyid, sig in strangers:
        if keyid in known_ids:
            continue
        place = data.draw(st.integers(0, 8)) % (len(envelope.signatures) + 1)
        envelope.signatures.insert(place, Signature(keyid=keyid, sig=sig))
    opened = open_envelope(envelope, RING)
    assert opened.body(v.HouseholdRegistrationQuery) == body
    assert [signer.keyid for signer in opened.signers] == [key.keyid]


@crypto
@given(sealed(), st.binary(max_size=80), st.data())
def test_a_bad_signature_by_a_known_key_rejects_the_envelope_wherever_it_stands(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey], sig: bytes, data: st.DataObject
) -> None:
    """A forged counter-signature cannot ride along on a genuine envelope."""
    envelope, _, _ = case
    place = data.draw(st.integers(0, 1))
    envelope.signatures.insert(place, Signature(keyid=HUB_KEY.keyid, sig=sig))
    with pytest.raises(SignatureInvalid):
        open_envelope(envelope, RING)


@crypto
@given(sealed(), st.permutations(range(2)))
def test_a_countersigned_envelope_opens_for_both_signers_in_any_order(
    case: tuple[Envelope, v.HouseholdRegistrationQuery, SigningKey], order: list[int]
) -> None:
    envelope, _, key = case
    countersign(envelope, HUB_KEY)
    signatures = list(envelope.signatures)
    envelope.ClearField("signatures")
    envelope.signatures.extend(signatures[i] for i in order)
    opened = open_envelope(envelope, RING, required_signers=[SENDER, "hub"])
    assert {signer.keyid for signer in opened.signers} == {key.keyid, HUB_KEY.keyid}


@given(st.text(max_size=20), st.binary(max_size=40), st.text(max_size=20), st.binary(max_size=40))
@example("a", b" 1 b", "a 1 b", b"")  # the classic ambiguity of naive concatenation
def test_pae_never_maps_two_messages_to_the_same_bytes(t1: str, p1: bytes, t2: str, p2: bytes) -> None:
    if (t1, p1) != (t2, p2):
        assert pae(t1, p1) != pae(t2, p2)
