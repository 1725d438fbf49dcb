"""Every rejection reason through the real server over mutual TLS: status, reason, nothing stored, nobody asked."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable

import grpc
import pytest

from hub import services
from hub.envelope import SigningKey, new_header, seal
from hub.errors import HubError
from hub.grpc.status import CODES
from hub.pki import load_member
from hub.sandbox import Sandbox
from hub.transport import MockTransport
from hub.v1 import verification_pb2
from hub.v1.envelope_pb2 import Envelope, Purpose
from tests.integration.conftest import ANSWERER, ASKER, PURPOSE, run, stored_rows

pytestmark = pytest.mark.integration

Federation = Callable[..., Awaitable[tuple[Sandbox, MockTransport]]]
SERVICE = services.HOUSEHOLD_REGISTRATION


def query_body(name: str = "") -> verification_pb2.HouseholdRegistrationQuery:
    return verification_pb2.HouseholdRegistrationQuery(
        person=verification_pb2.Person(id_number="13062919880512001X", name=name)
    )


def sealed(
    sandbox: Sandbox,
    *,
    signer: SigningKey | None = None,
    sender: str = ASKER,
    recipient: str = "public-security@130629",
    service: str = SERVICE,
    purpose: str = PURPOSE,
    now: dt.datetime | None = None,
    ttl: dt.timedelta = dt.timedelta(minutes=5),
    name: str = "",
) -> Envelope:
    signer = signer or load_member(sandbox.pki_dir, ASKER).signing_key
    header = new_header(
        sender=sender, recipient=recipient, service=service, purpose=Purpose(code=purpose), now=now, ttl=ttl
    )
    return seal(header, query_body(name), signer)


async def rejected(
    federation: Federation, make: Callable[[Sandbox], bytes], *, as_member: str = ASKER, **overrides: object
) -> tuple[HubError, dict[str, int], MockTransport]:
    sandbox, transport = await federation(**overrides)
    try:
        assert sandbox.hub is not None
        before = stored_rows(sandbox.hub.store)
        client = sandbox.client(as_member)
        with pytest.raises(HubError) as raised:
            await client.call_raw(SERVICE, make(sandbox))
        after = stored_rows(sandbox.hub.store)
        assert after == before, "a rejected request must leave nothing behind"
        return raised.value, after, transport
    finally:
        await sandbox.stop()


def assert_rejected(error: HubError, transport: MockTransport, reason: str, code: grpc.StatusCode) -> None:
    assert error.reason == reason, str(error)
    assert CODES[reason] == code
    assert transport.calls == [], "no member may be contacted for a rejected request"


def test_a_good_query_is_answered_and_countersigned(federation: Federation) -> None:
    async def scenario() -> None:
        sandbox, transport = await federation()
        try:
            client = sandbox.client(ASKER, known=[ANSWERER])
            answer = await client.ask(
                SERVICE,
                query_body(),
                verification_pb2.HouseholdRegistrationResult,
                recipient="public-security@130629",
                purpose=Purpose(code=PURPOSE),
            )
            assert answer.body.registered and answer.body.region_code == "130629"
            assert {key.owner for key in answer.verified_by} == {ANSWERER, "hub"}
            assert transport.calls == [(ANSWERER, SERVICE)]
        finally:
            await sandbox.stop()

    run(scenario())


def test_malformed(federation: Federation) -> None:
    error, _, transport = run(rejected(federation, lambda s: b"\x0a\xff\xff definitely not an envelope"))
    assert_rejected(error, transport, "MALFORMED", grpc.StatusCode.INVALID_ARGUMENT)


def test_signature_invalid(federation: Federation) -> None:
    def flipped(sandbox: Sandbox) -> bytes:
        envelope = sealed(sandbox)
        payload = bytearray(envelope.payload)
        payload[-3] ^= 0x40
        envelope.payload = bytes(payload)
        return envelope.SerializeToString()

    error, _, transport = run(rejected(federation, flipped))
    assert_rejected(error, transport, "SIGNATURE_INVALID", grpc.StatusCode.UNAUTHENTICATED)


def test_unknown_sender(federation: Federation) -> None:
    stranger = SigningKey.generate(owner=ASKER)
    error, _, transport = run(rejected(federation, lambda s: sealed(s, signer=stranger).SerializeToString()))
    assert_rejected(error, transport, "UNKNOWN_SENDER", grpc.StatusCode.UNAUTHENTICATED)


def test_key_revoked(federation: Federation) -> None:
    def revoked(sandbox: Sandbox) -> bytes:
        assert sandbox.hub is not None
        sandbox.hub.registry.revoke_key(load_member(sandbox.pki_dir, ASKER).signing_key.keyid)
        sandbox.hub.directory.invalidate()
        return sealed(sandbox).SerializeToString()

    error, _, transport = run(rejected(federation, revoked))
    assert_rejected(error, transport, "KEY_REVOKED", grpc.StatusCode.UNAUTHENTICATED)


def test_revoked_tls_certificate_is_refused(federation: Federation) -> None:
    def revoked(sandbox: Sandbox) -> bytes:
        from hub.pki import fingerprint

        assert sandbox.hub is not None
        sandbox.hub.registry.revoke_certificate(fingerprint(load_member(sandbox.pki_dir, ASKER).cert_pem))
        sandbox.hub.directory.invalidate()
        return sealed(sandbox).SerializeToString()

    error, _, transport = run(rejected(federation, revoked))
    assert_rejected(error, transport, "KEY_REVOKED", grpc.StatusCode.UNAUTHENTICATED)


def test_peer_mismatch(federation: Federation) -> None:
    error, _, transport = run(rejected(federation, lambda s: sealed(s).SerializeToString(), as_member=ANSWERER))
    assert_rejected(error, transport, "PEER_MISMATCH", grpc.StatusCode.UNAUTHENTICATED)


def test_wrong_recipient(federation: Federation) -> None:
    error, _, transport = run(
        rejected(federation, lambda s: sealed(s, recipient="public-security@650100").SerializeToString())
    )
    assert_rejected(error, transport, "WRONG_RECIPIENT", grpc.StatusCode.INVALID_ARGUMENT)


def test_service_mismatch(federation: Federation) -> None:
    error, _, transport = run(
        rejected(federation, lambda s: sealed(s, service=services.RESIDENCE_PERMIT).SerializeToString())
    )
    assert_rejected(error, transport, "SERVICE_MISMATCH", grpc.StatusCode.INVALID_ARGUMENT)


def test_expired(federation: Federation) -> None:
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=2)
    error, _, transport = run(rejected(federation, lambda s: sealed(s, now=past).SerializeToString()))
    assert_rejected(error, transport, "EXPIRED", grpc.StatusCode.FAILED_PRECONDITION)


def test_not_yet_valid(federation: Federation) -> None:
    future = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    error, _, transport = run(rejected(federation, lambda s: sealed(s, now=future).SerializeToString()))
    assert_rejected(error, transport, "NOT_YET_VALID", grpc.StatusCode.FAILED_PRECONDITION)


def test_not_granted(federation: Federation) -> None:
    error, _, transport = run(rejected(federation, lambda s: sealed(s, purpose="marketing").SerializeToString()))
    assert_rejected(error, transport, "NOT_GRANTED", grpc.StatusCode.PERMISSION_DENIED)


def test_too_large(federation: Federation) -> None:
    limit = 16 * 1024
    error, _, transport = run(
        rejected(
            federation,
            lambda s: sealed(s, name="张" * (limit // 3 + 100)).SerializeToString(),
            policy={"max_message_bytes": limit},
        )
    )
    assert_rejected(error, transport, "TOO_LARGE", grpc.StatusCode.RESOURCE_EXHAUSTED)


def test_far_too_large_is_cut_by_grpc_and_still_reads_as_too_large(federation: Federation) -> None:
    limit = 16 * 1024
    error, _, transport = run(
        rejected(
            federation,
            lambda s: sealed(s, name="张" * limit * 2).SerializeToString(),
            policy={"max_message_bytes": limit},
        )
    )
    assert_rejected(error, transport, "TOO_LARGE", grpc.StatusCode.RESOURCE_EXHAUSTED)


def test_replayed(federation: Federation) -> None:
    async def scenario() -> None:
        sandbox, transport = await federation()
        try:
            assert sandbox.hub is not None
            client = sandbox.client(ASKER)
            data = sealed(sandbox).SerializeToString()
            await client.call_raw(SERVICE, data)
            after_first = stored_rows(sandbox.hub.store)
            with pytest.raises(HubError) as raised:
                await client.call_raw(SERVICE, data)
            assert raised.value.reason == "REPLAYED"
            assert CODES["REPLAYED"] == grpc.StatusCode.ALREADY_EXISTS
            assert stored_rows(sandbox.hub.store) == after_first
            assert transport.calls == [(ANSWERER, SERVICE)], "the replay must not reach the member"
        finally:
            await sandbox.stop()

    run(scenario())


def test_replay_is_remembered_across_a_restart(federation: Federation) -> None:
    async def scenario() -> None:
        sandbox, _ = await federation()
        data = sealed(sandbox).SerializeToString()
        try:
            await sandbox.client(ASKER).call_raw(SERVICE, data)
        finally:
            await sandbox.stop()
        transport = MockTransport(lambda *a: (_ for _ in ()).throw(AssertionError("must not be called")))  # type: ignore[arg-type,return-value]
        await sandbox.start(transport=transport, with_nodes=False)
        try:
            with pytest.raises(HubError) as raised:
                await sandbox.client(ASKER).call_raw(SERVICE, data)
            assert raised.value.reason == "REPLAYED"
            assert transport.calls == []
        finally:
            await sandbox.stop()

    run(scenario())
