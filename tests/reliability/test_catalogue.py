"""The bad-input catalogue: every in-scope RPC × every way an envelope can be wrong, through the real server.

Each row asserts the gRPC status, the machine-readable reason (``ErrorInfo``), that nothing in the database
changed (a digest of every table) and that no member was contacted. Generic rows apply to every RPC in
``RPCS``; body rows apply where the RPC carries the value (an ID number, a region code, a consent).
A new RPC joins by adding its ``Rpc`` to ``RPCS`` (streaming RPCs, like Feeds/Upload, are sent as one-message
streams) and its own body rows here. A bad value in a feed row is no refusal (the version is accepted without the
row, listed in the receipt): ``test_bad_value_in_a_feed_row``. A cancelled upload: ``test_upload_cut.py``.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp

from hub import services
from hub.envelope import SigningKey, StaticKeyRing, open_envelope, sign_payload
from hub.findings import Action, FindingBook
from hub.grpc.status import CODES
from hub.identifiers import id_check_character
from hub.v1 import admin_pb2, audit_pb2, feeds_pb2, findings_pb2, jobs_pb2
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Message, Signature
from tests.reliability.conftest import (
    ASKER,
    CIVIL,
    GONE,
    HUB,
    MEDICAL,
    MEDICAL_NEIGHBOUR,
    NEIGHBOUR,
    PERSON,
    POLICE,
    REVOKED_KEY,
    RPCS,
    SPOUSE,
    LeftATrace,
    Outcome,
    Rpc,
    World,
    changed,
    consent_registration,
    default_sender,
    drive,
    feed_chunk,
    raise_finding,
    rpc_param,
    settlement,
    snapshot,
)

pytestmark = pytest.mark.integration

Make = Callable[[World, Rpc], bytes]
C = grpc.StatusCode


@dataclass(frozen=True)
class Bad:
    """One way to be wrong: the bytes to send, as whom, and the status and reason the hub must answer."""

    name: str
    make: Make
    reason: str
    code: grpc.StatusCode
    #: Who sends it; ``None``: the service's usual sender (``default_sender``).
    as_member: str | None = None
    field: str = ""
    #: The status comes from gRPC itself (over its own size limit): no ErrorInfo on the wire.
    native: bool = False
    #: The fault is in the body, which the hub reads after the header checks.
    body: bool = False


def refuse(loop: asyncio.AbstractEventLoop, world: World, rpc: Rpc, bad: Bad, data: bytes | None = None) -> Outcome:
    """Send a bad request; assert the status, reason and field; raise ``LeftATrace`` if anything was stored."""
    data = bad.make(world, rpc) if data is None else data
    before, asked = snapshot(world.store), len(world.transport.calls)
    outcome = drive(loop, world.call(rpc.service, data, as_member=bad.as_member))
    trace = changed(before, snapshot(world.store))
    assert outcome.code == bad.code, f"{outcome.code.name} {outcome.reason}: {outcome.details}"
    assert outcome.reason == ("" if bad.native else bad.reason), outcome.details
    assert outcome.error is not None and outcome.error.reason == bad.reason, outcome.error
    if bad.field:
        assert outcome.field == bad.field, outcome.details
    assert world.transport.calls[asked:] == [], "no member may be contacted for a refused request"
    assert PERSON not in outcome.details and SPOUSE not in outcome.details, "an ID number was echoed"
    if trace:
        raise LeftATrace(f"the refused request changed {trace}")
    return outcome


# --- envelope-level breakage, the same for every RPC ------------------------------------------------------


def good(world: World, rpc: Rpc, **overrides: Any) -> bytes:
    return rpc.seal(world, **overrides).SerializeToString()


def resigned(world: World, rpc: Rpc, payload: Callable[[bytes], bytes], payload_type: str | None = None) -> bytes:
    """A genuine signature by the asker over a payload that is wrong in some other way."""
    envelope = rpc.seal(world)
    kwargs = {"payload_type": payload_type} if payload_type is not None else {}
    return sign_payload(
        payload(envelope.payload), [world.key(default_sender(rpc.service))], **kwargs
    ).SerializeToString()


def padded(world: World, rpc: Rpc, size: int) -> bytes:
    envelope = rpc.seal(world)
    envelope.signatures.append(Signature(keyid="padding", sig=b"\0" * size))
    return envelope.SerializeToString()


def edited(world: World, rpc: Rpc, edit: Callable[[Any], None]) -> bytes:
    envelope = rpc.seal(world)
    edit(envelope)
    return envelope.SerializeToString()


def reheadered(world: World, rpc: Rpc, edit: Callable[[Any], None]) -> bytes:
    """A genuine signature over a message whose header was edited before signing."""
    message = Message()
    message.ParseFromString(rpc.seal(world).payload)
    edit(message.header)
    return sign_payload(message.SerializeToString(), [world.key(default_sender(rpc.service))]).SerializeToString()


def out_of_range(header: Any) -> None:
    header.issued_at.seconds = 2**40  # far beyond year 9999: no datetime can hold it
    header.expires_at.seconds = 2**40 + 60


def flip_payload(envelope: Any) -> None:
    payload = bytearray(envelope.payload)
    payload[len(payload) // 2] ^= 0x01
    envelope.payload = bytes(payload)


def flip_signature(envelope: Any) -> None:
    sig = bytearray(envelope.signatures[0].sig)
    sig[-1] ^= 0x01
    envelope.signatures[0].sig = bytes(sig)


def other_service(rpc: Rpc) -> str:
    return services.ADMIN_LIST_MEMBERS if rpc.service != services.ADMIN_LIST_MEMBERS else services.RESIDENCE_PERMIT


def misaddressed(rpc: Rpc) -> str:
    """A routed RPC addressed to the hub itself, or an RPC the hub answers addressed to a member."""
    return HUB if rpc.answered_by and rpc.recipient != HUB else POLICE


STRANGER = SigningKey.generate(owner=ASKER)
NOW = dt.datetime.now
UTC = dt.UTC

ENVELOPE_ROWS: tuple[Bad, ...] = (
    Bad("garbage", lambda w, r: b"\x0a\xff\xff definitely not an envelope", "MALFORMED", C.INVALID_ARGUMENT),
    Bad("empty", lambda w, r: b"", "PAYLOAD_TYPE_UNSUPPORTED", C.INVALID_ARGUMENT),
    Bad("truncated", lambda w, r: good(w, r)[: len(good(w, r)) // 2], "MALFORMED", C.INVALID_ARGUMENT),
    Bad(
        "signed-truncated-payload",
        lambda w, r: resigned(w, r, lambda p: p[: len(p) // 2]),
        "MALFORMED",
        C.INVALID_ARGUMENT,
    ),
    Bad(
        "signed-junk-payload",
        lambda w, r: resigned(w, r, lambda p: b"\xff\xff\xff\xff"),
        "MALFORMED",
        C.INVALID_ARGUMENT,
    ),
    Bad(
        "signed-message-without-header",
        lambda w, r: resigned(w, r, lambda p: Message().SerializeToString()),
        "MALFORMED",
        C.INVALID_ARGUMENT,
    ),
    Bad(
        "signed-other-payload-type",
        lambda w, r: resigned(w, r, lambda p: p, payload_type="application/json"),
        "PAYLOAD_TYPE_UNSUPPORTED",
        C.INVALID_ARGUMENT,
    ),
    Bad("oversized", lambda w, r: padded(w, r, w.max_message_bytes), "TOO_LARGE", C.RESOURCE_EXHAUSTED),
    Bad(
        "far-oversized",
        lambda w, r: padded(w, r, 3 * w.max_message_bytes),
        "TOO_LARGE",
        C.RESOURCE_EXHAUSTED,
        native=True,
    ),
    Bad(
        "no-signature",
        lambda w, r: edited(w, r, lambda e: e.ClearField("signatures")),
        "SIGNATURE_INVALID",
        C.UNAUTHENTICATED,
    ),
    Bad("payload-flipped", lambda w, r: edited(w, r, flip_payload), "SIGNATURE_INVALID", C.UNAUTHENTICATED),
    Bad("signature-flipped", lambda w, r: edited(w, r, flip_signature), "SIGNATURE_INVALID", C.UNAUTHENTICATED),
    Bad(
        "signed-by-another-member",
        lambda w, r: good(w, r, signer=w.key(POLICE)),
        "SIGNATURE_INVALID",
        C.UNAUTHENTICATED,
    ),
    Bad("unknown-key", lambda w, r: good(w, r, signer=STRANGER), "UNKNOWN_SENDER", C.UNAUTHENTICATED),
    Bad(
        "revoked-key",
        lambda w, r: good(w, r, sender=REVOKED_KEY),
        "KEY_REVOKED",
        C.UNAUTHENTICATED,
        as_member=REVOKED_KEY,
    ),
    Bad("revoked-member", lambda w, r: good(w, r, sender=GONE), "KEY_REVOKED", C.UNAUTHENTICATED, as_member=GONE),
    Bad("tls-peer-is-another-member", lambda w, r: good(w, r), "PEER_MISMATCH", C.UNAUTHENTICATED, as_member=POLICE),
    Bad("expired", lambda w, r: good(w, r, now=NOW(UTC) - dt.timedelta(hours=2)), "EXPIRED", C.FAILED_PRECONDITION),
    Bad(
        "from-the-future",
        lambda w, r: good(w, r, now=NOW(UTC) + dt.timedelta(hours=1)),
        "NOT_YET_VALID",
        C.FAILED_PRECONDITION,
    ),
    Bad(
        "valid-too-long",
        lambda w, r: good(w, r, ttl=dt.timedelta(hours=6)),
        "INVALID_ARGUMENT",
        C.INVALID_ARGUMENT,
        field="header.expires_at",
    ),
    Bad(
        "no-issued-at",
        lambda w, r: reheadered(w, r, lambda h: h.ClearField("issued_at")),
        "INVALID_ARGUMENT",
        C.INVALID_ARGUMENT,
        field="header.issued_at",
    ),
    Bad("times-out-of-range", lambda w, r: reheadered(w, r, out_of_range), "INVALID_ARGUMENT", C.INVALID_ARGUMENT),
    Bad(
        "no-message-id",
        lambda w, r: reheadered(w, r, lambda h: h.ClearField("message_id")),
        "MALFORMED",
        C.INVALID_ARGUMENT,
    ),
    Bad("other-service", lambda w, r: good(w, r, service=other_service(r)), "SERVICE_MISMATCH", C.INVALID_ARGUMENT),
    Bad(
        "unknown-recipient",
        lambda w, r: good(w, r, recipient="public-security@650100"),
        "WRONG_RECIPIENT",
        C.INVALID_ARGUMENT,
    ),
    Bad("misaddressed", lambda w, r: good(w, r, recipient=misaddressed(r)), "WRONG_RECIPIENT", C.INVALID_ARGUMENT),
    Bad("revoked-recipient", lambda w, r: good(w, r, recipient=GONE), "WRONG_RECIPIENT", C.INVALID_ARGUMENT),
    Bad("purpose-not-granted", lambda w, r: good(w, r, purpose="marketing"), "NOT_GRANTED", C.PERMISSION_DENIED),
    Bad(
        "body-of-another-type",
        lambda w, r: r.seal(w, v.Person(name="x")).SerializeToString(),
        "MALFORMED",
        C.INVALID_ARGUMENT,
        body=True,
    ),
)


def row(rpc: Rpc, bad: Bad) -> Any:
    return pytest.param(rpc, bad, id=f"{rpc.name}-{bad.name}")


#: On PostgreSQL the envelope rows run for one RPC of each kind: they are refused before the database is read
#: (the replay, value, consent and rule rows, which reach it, run for every RPC on both databases).
POSTGRES_SAMPLE = frozenset({services.HOUSEHOLD_REGISTRATION, services.HOUSEHOLD_CHECK, services.CONSENT_REGISTER})


@pytest.mark.parametrize(("rpc", "bad"), [row(rpc, bad) for rpc in RPCS for bad in ENVELOPE_ROWS])
def test_bad_envelope(loop: asyncio.AbstractEventLoop, world: World, rpc: Rpc, bad: Bad) -> None:
    if world.store.dialect == "postgresql" and rpc.service not in POSTGRES_SAMPLE and bad.name != "misaddressed":
        pytest.skip("envelope rows on PostgreSQL: a sample of RPCs (see POSTGRES_SAMPLE)")
    refuse(loop, world, rpc, bad)


# --- replays ----------------------------------------------------------------------------------------------


#: Jobs/RunNow's good call starts a run that writes in the background, racing the comparison of the rows after it.
REPLAYED = [rpc_param(rpc) for rpc in RPCS if rpc.service != services.JOBS_RUN_NOW]


@pytest.mark.parametrize("rpc", REPLAYED)
def test_replay(loop: asyncio.AbstractEventLoop, world: World, rpc: Rpc) -> None:
    data = good(world, rpc)
    first = drive(loop, world.call(rpc.service, data))
    assert first.ok, f"the good request was refused: {first.reason} {first.details}"
    refuse(loop, world, rpc, Bad("replay", lambda w, r: data, "REPLAYED", C.ALREADY_EXISTS), data)


# --- bad values in the body -------------------------------------------------------------------------------


def with_check(first17: str) -> str:
    return first17 + id_check_character(first17)


BAD_IDS = {
    "wrong-check-character": PERSON[:17] + "3",
    "birth-date-30-february": with_check("13062919880230001"),
    "birth-date-in-the-future": with_check("13062921990512001"),
    "unknown-province": with_check("99062919880512001"),
    "letters": "13062919880512ABCX",
    "too-short": "1306291988",
    "empty": "",
    "legacy-15-digit-bad-date": "130629881332001",
}
BAD_REGIONS = {"five-digits": "13062", "unknown-province": "990629", "letters": "13O629", "prefecture-99": "139929"}


def value_rows() -> list[Any]:
    params = []
    for rpc in RPCS:
        if rpc.with_id is not None:
            for name, number in BAD_IDS.items():
                bad = Bad(
                    f"id-{name}",
                    _with_id(number),
                    "INVALID_ARGUMENT",
                    C.INVALID_ARGUMENT,
                    field=rpc.id_field,
                    body=True,
                )
                params.append(row(rpc, bad))
        if rpc.with_region is not None:
            for name, code in BAD_REGIONS.items():
                bad = Bad(
                    f"region-{name}",
                    _with_region(code),
                    "INVALID_ARGUMENT",
                    C.INVALID_ARGUMENT,
                    field=rpc.region_field,
                    body=True,
                )
                params.append(row(rpc, bad))
    return params


def _with_id(number: str) -> Make:
    def make(world: World, rpc: Rpc) -> bytes:
        assert rpc.with_id is not None
        return rpc.seal(world, rpc.with_id(world, number)).SerializeToString()

    return make


def _with_region(code: str) -> Make:
    def make(world: World, rpc: Rpc) -> bytes:
        assert rpc.with_region is not None
        return rpc.seal(world, rpc.with_region(world, code)).SerializeToString()

    return make


@pytest.mark.parametrize(("rpc", "bad"), value_rows())
def test_bad_value(loop: asyncio.AbstractEventLoop, world: World, rpc: Rpc, bad: Bad) -> None:
    outcome = refuse(loop, world, rpc, bad)
    assert outcome.metadata.get("field") == bad.field


# --- consent (核查授权书) for the household check ---------------------------------------------------------

CHECK = next(rpc for rpc in RPCS if rpc.service == services.HOUSEHOLD_CHECK)


def _consent_ref(world: World, ref: str, body: v.HouseholdCheckRequest | None = None) -> bytes:
    return CHECK.seal(world, body, consent_ref=ref).SerializeToString()


def _revoked_consent(world: World) -> str:
    ref = world.register_consent(scopes=("hrss",))
    world.hub.core.consents.revoke(ref, ASKER, "withdrawn by the household")
    return ref


def _expired_consent(world: World) -> str:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(days=10)
    registration = consent_registration()
    registration.valid_until.FromDatetime(past + dt.timedelta(days=1))
    return str(world.hub.core.consents.register(ASKER, registration, now=past))


def _others_consent(world: World) -> str:
    return str(world.hub.core.consents.register(POLICE, consent_registration()))


CONSENT_ROWS = (
    Bad("consent-missing", lambda w, r: _consent_ref(w, ""), "CONSENT_MISSING", C.PERMISSION_DENIED),
    Bad("consent-unknown", lambda w, r: _consent_ref(w, str(uuid.uuid4())), "CONSENT_MISSING", C.PERMISSION_DENIED),
    Bad(
        "consent-of-another-member",
        lambda w, r: _consent_ref(w, _others_consent(w)),
        "CONSENT_MISSING",
        C.PERMISSION_DENIED,
    ),
    Bad("consent-revoked", lambda w, r: _consent_ref(w, _revoked_consent(w)), "CONSENT_EXPIRED", C.PERMISSION_DENIED),
    Bad("consent-expired", lambda w, r: _consent_ref(w, _expired_consent(w)), "CONSENT_EXPIRED", C.PERMISSION_DENIED),
    Bad(
        "consent-does-not-cover-the-source",
        lambda w, r: _consent_ref(
            w, w.consent_ref, v.HouseholdCheckRequest(members=[v.Person(id_number=PERSON)], sources=["housing"])
        ),
        "CONSENT_OUT_OF_SCOPE",
        C.PERMISSION_DENIED,
    ),
    Bad(
        "consent-does-not-cover-the-person",
        lambda w, r: _consent_ref(
            w,
            w.register_consent(scopes=("hrss",), covered=(PERSON,)),
            v.HouseholdCheckRequest(members=[v.Person(id_number=PERSON), v.Person(id_number=SPOUSE)], sources=["hrss"]),
        ),
        "CONSENT_OUT_OF_SCOPE",
        C.PERMISSION_DENIED,
    ),
)


@pytest.mark.parametrize("bad", [pytest.param(bad, id=bad.name) for bad in CONSENT_ROWS])
def test_bad_consent(loop: asyncio.AbstractEventLoop, world: World, bad: Bad) -> None:
    data = bad.make(world, CHECK)  # made before the snapshot: registering the consent is the set-up
    refuse(loop, world, CHECK, bad, data)


# --- request bodies that break a rule of their RPC --------------------------------------------------------


def _body(make: Callable[[World], Any]) -> Make:
    return lambda world, rpc: rpc.seal(world, make(world)).SerializeToString()


def _rpc(service: str) -> Rpc:
    return next(rpc for rpc in RPCS if rpc.service == service)


def _consent_with(**changes: Any) -> Callable[[World], v.ConsentRegistration]:
    def make(world: World) -> v.ConsentRegistration:
        registration = consent_registration()
        for name, value in changes.items():
            if name == "valid_until":
                registration.valid_until.FromDatetime(value)
            elif name == "valid_until_seconds":
                registration.valid_until.seconds = value
            else:
                registration.ClearField(name)
                getattr(registration, name).extend(value) if isinstance(value, list) else setattr(
                    registration, name, value
                )
        return registration

    return make


def _already_revoked(world: World) -> v.ConsentRevocation:
    return v.ConsentRevocation(consent_ref=_revoked_consent(world))


def rule(service: str, name: str, body: Callable[[World], Any], reason: str, field: str = "") -> tuple[Rpc, Bad]:
    """A body that breaks a rule of its RPC (the hub reads the body after the header checks)."""
    bad = Bad(name, _body(body), reason, CODES[reason], field=field, body=True)
    return _rpc(service), bad


def _notice_with(**record: Any) -> Callable[[World], v.EnrolmentNotice]:
    change = record.pop("change", v.EXIT)
    fields = {"id_number": PERSON, "programme": v.DIBAO, "locality": "110115", **record}
    return lambda w: v.EnrolmentNotice(change=change, record=v.AssistanceRecord(**fields))


def _check_with(**fields: Any) -> Callable[[World], v.HouseholdCheckRequest]:
    values = {"members": [v.Person(id_number=PERSON)], "sources": ["hrss"], **fields}
    return lambda w: v.HouseholdCheckRequest(**values)


def _chunk_with(*, rehash: bool = False, **changes: Any) -> feeds_pb2.FeedChunk:
    chunk = feed_chunk()
    for name, value in changes.items():
        chunk.ClearField(name) if value is None else setattr(chunk, name, value)
    if rehash:
        chunk.chunk_sha256 = hashlib.sha256(chunk.rows).digest()
    return chunk


def _review_of(finding_id: int, **fields: Any) -> findings_pb2.FindingReview:
    values = {"action": findings_pb2.REVIEW_ACTION_START, "reviewer": "张三", **fields}
    return findings_pb2.FindingReview(finding_id=finding_id, **values)


def _under_review(world: World) -> int:
    finding_id = raise_finding(world)
    FindingBook(world.store).review(finding_id, Action.START, reviewer="张三", bureau=ASKER, member=ASKER)
    return finding_id


R = services
RULE_ROWS: tuple[tuple[Rpc, Bad], ...] = (
    rule(R.ASSISTANCE_INQUIRY, "no-persons", lambda w: v.AssistanceInquiry(), "INVALID_ARGUMENT", "persons"),
    rule(R.ENROLMENT_NOTICE, "change-unspecified", _notice_with(change=0), "INVALID_ARGUMENT", "change"),
    rule(
        R.ENROLMENT_NOTICE, "programme-unspecified", _notice_with(programme=0), "INVALID_ARGUMENT", "record.programme"
    ),
    rule(
        R.ENROLMENT_NOTICE,
        "negative-amount",
        _notice_with(monthly_amount_fen=-1),
        "INVALID_ARGUMENT",
        "record.monthly_amount_fen",
    ),
    rule(
        R.ENROLMENT_NOTICE,
        "since-out-of-range",
        _notice_with(since=Timestamp(seconds=2**40)),
        "INVALID_ARGUMENT",
        "record.since",
    ),
    rule(R.HOUSEHOLD_CHECK, "no-members", _check_with(members=[]), "INVALID_ARGUMENT", "members"),
    rule(R.HOUSEHOLD_CHECK, "unknown-source", _check_with(sources=["banks"]), "INVALID_ARGUMENT", "sources"),
    rule(R.HOUSEHOLD_CHECK, "negative-deadline", _check_with(deadline_ms=-5), "INVALID_ARGUMENT", "deadline_ms"),
    rule(
        R.CONSENT_REGISTER,
        "signer-not-covered",
        _consent_with(covered_id_numbers=[SPOUSE]),
        "INVALID_ARGUMENT",
        "signer_id_numbers",
    ),
    rule(R.CONSENT_REGISTER, "no-scopes", _consent_with(scopes=[]), "INVALID_ARGUMENT", "scopes"),
    rule(
        R.CONSENT_REGISTER,
        "already-expired",
        _consent_with(valid_until=dt.datetime(2020, 1, 1, tzinfo=dt.UTC)),
        "INVALID_ARGUMENT",
        "valid_until",
    ),
    rule(
        R.CONSENT_REGISTER,
        "document-hash-not-sha256",
        _consent_with(document_sha256=b"md5!"),
        "INVALID_ARGUMENT",
        "document_sha256",
    ),
    rule(
        R.CONSENT_REGISTER,
        "valid-until-out-of-range",
        _consent_with(valid_until_seconds=2**40),
        "INVALID_ARGUMENT",
        "valid_until",
    ),
    rule(
        R.CONSENT_REVOKE,
        "unknown-consent",
        lambda w: v.ConsentRevocation(consent_ref=str(uuid.uuid4())),
        "CONSENT_MISSING",
    ),
    rule(R.CONSENT_REVOKE, "already-revoked", _already_revoked, "FAILED_PRECONDITION"),
    rule(
        R.ADMIN_ADD_MEMBER,
        "bad-member-id",
        lambda w: admin_pb2.MemberInfo(member_id="11130629MB0000000?", kind="housing"),
        "INVALID_ARGUMENT",
    ),
    rule(
        R.ADMIN_ADD_MEMBER,
        "unknown-kind",
        lambda w: admin_pb2.MemberInfo(member_id=w.fresh_member_id(), kind="banks"),
        "INVALID_ARGUMENT",
        "kind",
    ),
    rule(
        R.ADMIN_ADD_MEMBER,
        "not-a-public-key",  # refused after the member itself was checked: nothing of it may be stored
        lambda w: admin_pb2.MemberInfo(
            member_id=w.fresh_member_id(),
            kind="housing",
            signing_keys=[admin_pb2.SigningKeyInfo(public_key_pem=b"-----BEGIN PUBLIC KEY-----\nnot a key")],
        ),
        "INVALID_ARGUMENT",
        "signing_keys[0].public_key_pem",
    ),
    rule(
        R.ADMIN_ADD_MEMBER,
        "re-adding-a-revoked-member",
        lambda w: admin_pb2.MemberInfo(member_id=GONE, kind="housing"),
        "FAILED_PRECONDITION",
    ),
    rule(
        R.ADMIN_GRANT,
        "unknown-member",
        lambda w: admin_pb2.GrantRequest(member_id=w.fresh_member_id(), service=R.RESIDENCE_PERMIT),
        "UNKNOWN_MEMBER",
    ),
    rule(
        R.ADMIN_GRANT,
        "not-a-service",
        lambda w: admin_pb2.GrantRequest(member_id=POLICE, service="everything"),
        "INVALID_ARGUMENT",
        "service",
    ),
    rule(R.ADMIN_REVOKE, "unknown-keyid", lambda w: admin_pb2.RevocationRequest(keyid="ab" * 32), "NOT_FOUND"),
    rule(
        R.ADMIN_REVOKE,
        "another-members-key",
        lambda w: admin_pb2.RevocationRequest(member_id=CIVIL, keyid=w.key(POLICE).keyid),
        "NOT_FOUND",
    ),
    rule(
        R.ADMIN_REVOKE,
        "unknown-member",
        lambda w: admin_pb2.RevocationRequest(member_id=w.fresh_member_id()),
        "UNKNOWN_MEMBER",
    ),
    rule(
        R.AUDIT_INCLUSION_PROOF,
        "unknown-message",
        lambda w: audit_pb2.InclusionProofRequest(message_id=str(uuid.uuid4())),
        "NOT_FOUND",
    ),
    rule(
        R.AUDIT_CONSISTENCY_PROOF,
        "first-beyond-the-log",
        lambda w: audit_pb2.ConsistencyProofRequest(first=10**9),
        "INVALID_ARGUMENT",
    ),
    # --- jobs, feeds and findings -------------------------------------------------------------------------
    rule(R.JOBS_RUN_NOW, "unknown-job", lambda w: jobs_pb2.JobRunRequest(name="no_such_job"), "NOT_FOUND"),
    rule(
        R.FEED_UPLOAD,
        "version-id-not-allowed",
        lambda w: _chunk_with(version_id="版本 1"),
        "INVALID_ARGUMENT",
        "version_id",
    ),
    rule(
        R.FEED_UPLOAD,
        "in-the-name-of-another-supplier",
        lambda w: feed_chunk(supplier=POLICE),
        "NOT_GRANTED",
    ),
    rule(
        R.FEED_UPLOAD,
        "kind-of-another-department",
        lambda w: feed_chunk(kind=feeds_pb2.RECORD_KIND_WAGE),
        "INVALID_ARGUMENT",
        "meta.kind",
    ),
    rule(  # an education feed, consistent in itself, from a medical-insurance member
        R.FEED_UPLOAD,
        "department-not-the-suppliers",
        lambda w: feed_chunk(department=feeds_pb2.DEPARTMENT_EDUCATION, kind=feeds_pb2.RECORD_KIND_ENROLMENT),
        "NOT_GRANTED",
    ),
    rule(
        R.FEED_UPLOAD,
        "period-ends-before-it-starts",
        lambda w: feed_chunk(period_end="2025-05-31"),
        "INVALID_ARGUMENT",
        "meta.period_end",
    ),
    rule(
        R.FEED_UPLOAD,
        "period-30-february",
        lambda w: feed_chunk(period_end="2025-02-30"),
        "INVALID_ARGUMENT",
        "meta.period_end",
    ),
    rule(
        R.FEED_UPLOAD,
        "policy-unspecified",
        lambda w: feed_chunk(policy=feeds_pb2.REJECTION_POLICY_UNSPECIFIED),
        "INVALID_ARGUMENT",
        "meta.policy",
    ),
    rule(
        R.FEED_UPLOAD,
        "negative-expected-records",
        lambda w: feed_chunk(expected_records=-1),
        "INVALID_ARGUMENT",
        "meta.expected_records",
    ),
    rule(
        R.FEED_UPLOAD,
        "hash-not-of-the-rows",
        lambda w: _chunk_with(chunk_sha256=bytes(32)),
        "INVALID_ARGUMENT",
        "chunk_sha256",
    ),
    rule(
        R.FEED_UPLOAD,
        "rows-of-another-kind",
        lambda w: _chunk_with(rows=feeds_pb2.FeedRows(deaths=feeds_pb2.DeathRows()).SerializeToString(), rehash=True),
        "INVALID_ARGUMENT",
        "rows",
    ),
    rule(
        R.FEED_UPLOAD,
        "more-rows-than-declared",
        lambda w: feed_chunk([settlement(n=1), settlement(SPOUSE, n=2)], expected_records=1),
        "INVALID_ARGUMENT",
    ),
    rule(R.FEED_UPLOAD, "chunk-0-without-meta", lambda w: _chunk_with(meta=None), "INVALID_ARGUMENT", "meta"),
    rule(
        R.FEED_STATUS,
        "unknown-version",
        lambda w: feeds_pb2.FeedStatusQuery(version_id="catalogue-never-uploaded"),
        "NOT_FOUND",
    ),
    rule(
        R.FINDINGS_RUN,
        "as-of-30-february",
        lambda w: findings_pb2.ComparisonRun(as_of="2025-02-30"),
        "INVALID_ARGUMENT",
        "as_of",
    ),
    rule(
        R.FINDINGS_LIST,
        "negative-page-size",
        lambda w: findings_pb2.FindingQuery(page_size=-1),
        "INVALID_ARGUMENT",
        "page_size",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "unknown-finding",
        lambda w: _review_of(10**9),
        "NOT_FOUND",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "finding-of-another-bureau",
        lambda w: _review_of(raise_finding(w, NEIGHBOUR, "110108")),
        "NOT_FOUND",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "no-reviewer",
        lambda w: _review_of(raise_finding(w), reviewer="  "),
        "INVALID_ARGUMENT",
        "reviewer",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "dismissed-without-a-reason",
        lambda w: _review_of(_under_review(w), action=findings_pb2.REVIEW_ACTION_DISMISS),
        "INVALID_ARGUMENT",
        "reason",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "action-unspecified",
        lambda w: _review_of(raise_finding(w), action=findings_pb2.REVIEW_ACTION_UNSPECIFIED),
        "INVALID_ARGUMENT",
        "action",
    ),
    rule(
        R.FINDINGS_REVIEW,
        "confirmed-before-it-was-reviewed",
        lambda w: _review_of(raise_finding(w), action=findings_pb2.REVIEW_ACTION_CONFIRM, reason="属实"),
        "FAILED_PRECONDITION",
    ),
    rule(
        R.FINDINGS_EXPORT,
        "format-unspecified",
        lambda w: findings_pb2.FindingExportRequest(),
        "INVALID_ARGUMENT",
        "format",
    ),
    rule(
        R.FINDINGS_EXPORT,
        "negative-page-size",
        lambda w: findings_pb2.FindingExportRequest(
            format=findings_pb2.EXPORT_FORMAT_CSV, query=findings_pb2.FindingQuery(page_size=-1)
        ),
        "INVALID_ARGUMENT",
        "page_size",
    ),
)


@pytest.mark.parametrize(("rpc", "bad"), [row(rpc, bad) for rpc, bad in RULE_ROWS])
def test_broken_rule(loop: asyncio.AbstractEventLoop, world: World, rpc: Rpc, bad: Bad) -> None:
    data = bad.make(world, rpc)
    refuse(loop, world, rpc, bad, data)


def test_the_catalogue_covers_every_rpc_the_hub_serves(world: World) -> None:
    """A new RPC wired into the hub must get its row in ``RPCS`` (streaming ones included)."""
    served = set(world.hub.core.services())
    covered = {rpc.service for rpc in RPCS}
    assert served - covered == set(), "RPCs served without a row in the bad-input catalogue"
    assert covered - served == set(), "rows for RPCs the hub does not serve"


# --- what a feed upload or a finding query does with values it cannot use, without refusing ---------------

B = TypeVar("B", bound=ProtoMessage)


def answer(loop: asyncio.AbstractEventLoop, world: World, service: str, body: ProtoMessage, answer_type: type[B]) -> B:
    """A good request's answer, opened as the hub's signed envelope."""
    envelope = world.seal(service, body, recipient=HUB)
    outcome = drive(loop, world.call(service, envelope.SerializeToString()))
    assert outcome.ok, f"{outcome.code.name} {outcome.reason}: {outcome.details}"
    opened = open_envelope(
        Envelope.FromString(outcome.answer), StaticKeyRing([world.sandbox.hub_key()]), required_signers=[HUB]
    )
    return opened.body(answer_type)


def feed_row_values() -> list[Any]:
    cases = [pytest.param("id_number", settlement(number=n), id=f"id-{name}") for name, n in BAD_IDS.items()]
    cases += [pytest.param("region_code", settlement(region=c), id=f"region-{name}") for name, c in BAD_REGIONS.items()]
    return cases


@pytest.mark.parametrize(("field", "bad_row"), feed_row_values())
def test_bad_value_in_a_feed_row(
    loop: asyncio.AbstractEventLoop, world: World, field: str, bad_row: feeds_pb2.MedicalSettlementRow
) -> None:
    """A bad value in a row is not a refusal of the upload: under accept-valid the version becomes current without
    the row, which the receipt lists (number and field, never the value); under reject-version nothing of it is
    kept and the current version stays."""
    rows = [settlement(n=1), bad_row, settlement(SPOUSE, n=3)]
    accepted = feed_chunk(rows)
    receipt = answer(loop, world, services.FEED_UPLOAD, accepted, feeds_pb2.FeedReceipt)
    assert receipt.status == feeds_pb2.FEED_VERSION_STATUS_COMPLETE and receipt.current
    assert (receipt.received_records, receipt.accepted_records, receipt.rejected_records) == (3, 2, 1)
    assert [(r.row_number, r.field) for r in receipt.rejections] == [(2, field)]
    if len(bad_row.id_number) >= 14:
        assert bad_row.id_number[6:14] not in receipt.rejections[0].reason, "the value was echoed"

    strict = feed_chunk(rows, policy=feeds_pb2.REJECTION_POLICY_REJECT_VERSION)
    rejected = answer(loop, world, services.FEED_UPLOAD, strict, feeds_pb2.FeedReceipt)
    assert rejected.status == feeds_pb2.FEED_VERSION_STATUS_REJECTED and not rejected.current
    assert [(r.row_number, r.field) for r in rejected.rejections] == [(2, field)]
    query = feeds_pb2.FeedStatusQuery(department=feeds_pb2.DEPARTMENT_MEDICAL_INSURANCE)
    report = answer(loop, world, services.FEED_STATUS, query, feeds_pb2.FeedStatusReport)
    assert {(f.supplier, f.version_id, f.accepted_records) for f in report.feeds} >= {(MEDICAL, accepted.version_id, 2)}
    assert strict.version_id not in {f.version_id for f in report.feeds}


def test_the_progress_of_another_suppliers_upload_is_not_found(loop: asyncio.AbstractEventLoop, world: World) -> None:
    chunk = feed_chunk(supplier=MEDICAL_NEIGHBOUR)
    theirs = world.seal(services.FEED_UPLOAD, chunk, recipient=HUB, sender=MEDICAL_NEIGHBOUR).SerializeToString()
    assert drive(loop, world.call(services.FEED_UPLOAD, theirs, as_member=MEDICAL_NEIGHBOUR)).ok
    query = feeds_pb2.FeedStatusQuery(version_id=chunk.version_id)
    bad = Bad("another-suppliers-version", _body(lambda w: query), "NOT_FOUND", C.NOT_FOUND, body=True)
    refuse(loop, world, _rpc(services.FEED_STATUS), bad)


def test_findings_of_another_bureau_are_neither_listed_nor_exported(
    loop: asyncio.AbstractEventLoop, world: World
) -> None:
    """The calling bureau is the envelope's sender: naming another bureau's finding, or its locality, finds nothing."""
    theirs, mine = raise_finding(world, NEIGHBOUR, "110108"), raise_finding(world)
    for query in (findings_pb2.FindingQuery(finding_ids=[theirs]), findings_pb2.FindingQuery(locality_prefix="110108")):
        listed = answer(loop, world, services.FINDINGS_LIST, query, findings_pb2.FindingList)
        assert list(listed.findings) == []
        request = findings_pb2.FindingExportRequest(format=findings_pb2.EXPORT_FORMAT_CSV, query=query)
        assert answer(loop, world, services.FINDINGS_EXPORT, request, findings_pb2.FindingExport).rows == 0
    both = findings_pb2.FindingQuery(finding_ids=[theirs, mine])
    listed = answer(loop, world, services.FINDINGS_LIST, both, findings_pb2.FindingList)
    assert [f.finding_id for f in listed.findings] == [mine]  # the query works: it is the bureau that filters
