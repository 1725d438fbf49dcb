"""The hub core called directly (no gRPC): routing retries, unreachable members, consent, the fan-out."""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from adapters.testing import OversharingAdapter
from hub import services
from hub.app import HubApp, build_hub
from hub.envelope import SigningKey, StaticKeyRing, new_header, open_envelope, reply_header, seal, timestamp
from hub.errors import HubError, Malformed, MemberUnavailable
from hub.exchange import Peer
from hub.node import Node
from hub.pki import load_member
from hub.registry import Member
from hub.sandbox import MemberSpec, Sandbox
from hub.transport import LocalTransport, MockTransport
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Purpose

ASKER = "11110115MB0000007E"  # 大兴区民政局
POLICE = "11130629MB1234567U"  # 容城县公安局
HRSS = "11110000MB0000040A"  # 北京市人社局 (jurisdiction 11)
HOUSING = "11110000MB0000051F"  # 北京市住建委
MEDICAL = "11110000MB0000062A"  # 北京市医保局
PERSON = "11010519491231002X"
SPOUSE = "440308199901101512"
Handler = Callable[[Member, str, Envelope], Awaitable[Envelope]]


def uscc(base17: str) -> str:
    from hub.identifiers import uscc_check_character

    return base17[:17] + uscc_check_character(base17[:17])


SOURCES = {uscc(HRSS): "hrss", uscc(HOUSING): "housing", uscc(MEDICAL): "medical-insurance"}


def specs() -> list[MemberSpec]:
    grants = tuple(
        (service, "*")
        for service in (
            services.HOUSEHOLD_REGISTRATION,
            services.ENROLMENT_NOTICE,
            services.HOUSEHOLD_CHECK,
            services.CONSENT_REGISTER,
            services.CONSENT_REVOKE,
        )
    )
    members = [
        MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=grants),
        MemberSpec(POLICE, "public-security", "容城县公安局", ("130629",)),
    ]
    members += [MemberSpec(member_id, kind, kind, ("11",)) for member_id, kind in SOURCES.items()]
    return members


class World:
    def __init__(self, root: Path, database_url: str) -> None:
        self.sandbox = Sandbox(
            root, specs(), database_url=database_url, settings_overrides={"routing": {"node_deadline_seconds": 1.0}}
        )
        self.sandbox.provision()
        self.asker = load_member(self.sandbox.pki_dir, ASKER)
        self.peer = Peer(self.asker.fingerprint, ASKER)

    def signer(self, member_id: str) -> SigningKey:
        return load_member(self.sandbox.pki_dir, member_id).signing_key

    def hub(self, handler: Handler | None = None, transport: object | None = None) -> tuple[HubApp, MockTransport]:
        mock = MockTransport(handler or self.answer_registered)
        app = build_hub(self.sandbox.settings(), transport=transport or mock)  # type: ignore[arg-type]
        return app, mock

    async def answer_registered(self, member: Member, service: str, envelope: Envelope) -> Envelope:
        request = open_envelope(envelope, StaticKeyRing([self.sandbox.hub_key()]), required_signers=["hub"])
        body = v.HouseholdRegistrationResult(registered=True, region_code="130629")
        return seal(reply_header(request, sender=member.member_id), body, self.signer(member.member_id))

    def request(
        self,
        service: str,
        body: object,
        *,
        recipient: str = "public-security@130629",
        consent_ref: str = "",
        purpose: str = "dibao.application",
    ) -> bytes:
        header = new_header(
            sender=ASKER, recipient=recipient, service=service, purpose=Purpose(code=purpose), consent_ref=consent_ref
        )
        return seal(header, body, self.asker.signing_key).SerializeToString()  # type: ignore[arg-type]


@pytest.fixture
def world(tmp_path: Path, database_url: str) -> World:
    return World(tmp_path / "world", database_url)


def registration_query() -> v.HouseholdRegistrationQuery:
    return v.HouseholdRegistrationQuery(person=v.Person(id_number=PERSON))


def test_idempotent_queries_are_retried_until_the_member_answers(world: World) -> None:
    attempts = 0

    async def flaky(member: Member, service: str, envelope: Envelope) -> Envelope:
        nonlocal attempts
        attempts += 1
        if attempts < 3:
            raise MemberUnavailable(member.member_id, "connection refused")
        return await world.answer_registered(member, service, envelope)

    app, mock = world.hub(flaky)
    answer = asyncio.run(
        app.core.handle(
            services.HOUSEHOLD_REGISTRATION,
            world.request(services.HOUSEHOLD_REGISTRATION, registration_query()),
            world.peer,
        )
    )
    assert open_envelope(answer, app.directory, required_signers=[POLICE, "hub"]).header.request_hash
    assert len(mock.calls) == 3


def test_an_answer_with_an_impossible_time_is_refused_naming_the_member(world: World) -> None:
    """The audit record converts the answer's times; a member's year 99999 must not escape as UNKNOWN."""

    async def from_the_far_future(member: Member, service: str, envelope: Envelope) -> Envelope:
        request = open_envelope(envelope, StaticKeyRing([world.sandbox.hub_key()]), required_signers=["hub"])
        header = reply_header(request, sender=member.member_id)
        header.issued_at.seconds = 3_000_000_000_000
        body = v.HouseholdRegistrationResult(registered=True)
        return seal(header, body, world.signer(member.member_id))

    app, mock = world.hub(from_the_far_future)
    with pytest.raises(Malformed, match=f"answer from {POLICE} carries an impossible issued_at"):
        asyncio.run(
            app.core.handle(
                services.HOUSEHOLD_REGISTRATION,
                world.request(services.HOUSEHOLD_REGISTRATION, registration_query()),
                world.peer,
            )
        )
    assert len(mock.calls) == 1
    audit = app.core.journal.audit
    assert audit is not None and audit.size() == 1 and audit.entry(0).record.outcome == "MALFORMED"


def test_non_idempotent_calls_are_not_retried(world: World) -> None:
    async def down(member: Member, service: str, envelope: Envelope) -> Envelope:
        raise MemberUnavailable(member.member_id, "connection refused")

    app, mock = world.hub(down)
    notice = v.EnrolmentNotice(
        change=v.NEW_ENROLMENT,
        record=v.AssistanceRecord(id_number=PERSON, programme=v.DIBAO, locality="110115", monthly_amount_fen=120000),
    )
    with pytest.raises(MemberUnavailable) as raised:
        asyncio.run(
            app.core.handle(
                services.ENROLMENT_NOTICE,
                world.request(services.ENROLMENT_NOTICE, notice, recipient=POLICE),
                world.peer,
            )
        )
    assert raised.value.member == POLICE
    assert len(mock.calls) == 1


def test_an_unreachable_node_is_named_within_the_deadline(world: World) -> None:
    from hub.grpc.transport import GrpcTransport

    app, _ = world.hub(transport=GrpcTransport(None))
    app.registry.set_endpoint(POLICE, "127.0.0.1:9")  # discard port: nothing listens
    app.directory.invalidate()
    started = time.monotonic()
    with pytest.raises(MemberUnavailable) as raised:
        asyncio.run(
            app.core.handle(
                services.HOUSEHOLD_REGISTRATION,
                world.request(services.HOUSEHOLD_REGISTRATION, registration_query()),
                world.peer,
            )
        )
    assert raised.value.member == POLICE and raised.value.reason == "MEMBER_UNAVAILABLE"
    assert time.monotonic() - started < 1.0 + 0.5


class _GarbledNode:
    """An agency node reached through real bytes; the housing registry's node (and the police's) answer garbage."""

    def __init__(self, owner: World, member_id: str) -> None:
        self.world, self.member_id = owner, member_id

    async def handle(self, service: str, data: bytes) -> bytes:
        if SOURCES.get(self.member_id, "police") in ("housing", "police"):
            return b"\xff\xff\xff"  # not an Envelope: a broken or misconfigured node
        request = open_envelope(data, StaticKeyRing([self.world.sandbox.hub_key()]), required_signers=["hub"])
        body = v.SourceReport(facts=[v.SourceFact(id_number=PERSON, name="monthly_wage_fen", value="350000")])
        answer = seal(reply_header(request, sender=self.member_id), body, self.world.signer(self.member_id))
        return answer.SerializeToString()


def garbled_nodes(world: World) -> LocalTransport:
    return LocalTransport({m: _GarbledNode(world, m) for m in [*SOURCES, POLICE]})


def test_an_answer_that_is_not_an_envelope_is_the_members_failure_and_is_journaled(world: World) -> None:
    """The asker's request was fine: it sees UNAVAILABLE naming the member, not a parse error of its own."""
    app, _ = world.hub(transport=garbled_nodes(world))
    with pytest.raises(MemberUnavailable, match="not a readable envelope") as raised:
        asyncio.run(
            app.core.handle(
                services.HOUSEHOLD_REGISTRATION,
                world.request(services.HOUSEHOLD_REGISTRATION, registration_query()),
                world.peer,
            )
        )
    assert raised.value.member == POLICE
    audit = app.core.journal.audit
    assert audit is not None and audit.entry(audit.size() - 1).record.outcome == "MEMBER_UNAVAILABLE"


def consent(
    world: World, app: HubApp, *, scopes: tuple[str, ...], covered: tuple[str, ...] = (PERSON, SPOUSE), days: int = 30
) -> str:
    registration = v.ConsentRegistration(
        signer_id_numbers=[PERSON],
        covered_id_numbers=list(covered),
        scopes=list(scopes),
        valid_until=timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=days)),
        document_sha256=hashlib.sha256("scanned 核查授权书".encode()).digest(),
    )
    answer = asyncio.run(
        app.core.handle(
            services.CONSENT_REGISTER,
            world.request(services.CONSENT_REGISTER, registration, recipient="hub"),
            world.peer,
        )
    )
    return open_envelope(answer, app.directory).body(v.ConsentReceipt).consent_ref


def check(
    world: World, app: HubApp, consent_ref: str, sources: tuple[str, ...] = (), deadline_ms: int = 300
) -> v.HouseholdCheckReport:
    body = v.HouseholdCheckRequest(
        members=[v.Person(id_number=PERSON), v.Person(id_number=SPOUSE)], sources=list(sources), deadline_ms=deadline_ms
    )
    answer = asyncio.run(
        app.core.handle(
            services.HOUSEHOLD_CHECK,
            world.request(services.HOUSEHOLD_CHECK, body, recipient="hub", consent_ref=consent_ref),
            world.peer,
        )
    )
    return open_envelope(answer, app.directory, required_signers=["hub"]).body(v.HouseholdCheckReport)


def reason_of(call: Callable[[], object]) -> str:
    with pytest.raises(HubError) as raised:
        call()
    return raised.value.reason


def test_household_check_needs_a_valid_in_scope_consent(world: World) -> None:
    app, mock = world.hub()
    assert reason_of(lambda: check(world, app, "")) == "CONSENT_MISSING"
    assert reason_of(lambda: check(world, app, "00000000-0000-0000-0000-000000000000")) == "CONSENT_MISSING"
    narrow = consent(world, app, scopes=("hrss",))
    assert reason_of(lambda: check(world, app, narrow, sources=("hrss", "housing"))) == "CONSENT_OUT_OF_SCOPE"
    only_one = consent(world, app, scopes=("hrss",), covered=(PERSON,))
    assert reason_of(lambda: check(world, app, only_one, sources=("hrss",))) == "CONSENT_OUT_OF_SCOPE"
    revoked = consent(world, app, scopes=("hrss",))
    from hub.v1.verification_pb2 import ConsentRevocation

    asyncio.run(
        app.core.handle(
            services.CONSENT_REVOKE,
            world.request(services.CONSENT_REVOKE, ConsentRevocation(consent_ref=revoked), recipient="hub"),
            world.peer,
        )
    )
    assert reason_of(lambda: check(world, app, revoked, sources=("hrss",))) == "CONSENT_EXPIRED"
    assert mock.calls == [], "no source may be asked without consent"


def test_consent_registration_is_validated(world: World) -> None:
    app, _ = world.hub()
    assert reason_of(lambda: consent(world, app, scopes=())) == "INVALID_ARGUMENT"
    assert reason_of(lambda: consent(world, app, scopes=("hrss",), covered=(SPOUSE,))) == "INVALID_ARGUMENT"
    assert reason_of(lambda: consent(world, app, scopes=("hrss",), days=-1)) == "INVALID_ARGUMENT"


def test_fan_out_reports_slow_and_down_sources_without_waiting_for_them(world: World) -> None:
    async def sources(member: Member, service: str, envelope: Envelope) -> Envelope:
        kind = SOURCES[member.member_id]
        if kind == "housing":
            await asyncio.sleep(5)  # a registry that answers in days
        if kind == "medical-insurance":
            raise MemberUnavailable(member.member_id, "connection refused")
        request = open_envelope(envelope, StaticKeyRing([world.sandbox.hub_key()]), required_signers=["hub"])
        fact = v.SourceFact(id_number=PERSON, name="monthly_wage_fen", value="350000")
        return seal(
            reply_header(request, sender=member.member_id), v.SourceReport(facts=[fact]), world.signer(member.member_id)
        )

    app, _ = world.hub(sources)
    ref = consent(world, app, scopes=("hrss", "housing", "medical-insurance"))
    started = time.monotonic()
    report = check(world, app, ref, sources=("hrss", "housing", "medical-insurance"), deadline_ms=300)
    assert time.monotonic() - started < 2.0, "a slow source must not hold up the report"
    by_kind = {s.source: s for s in report.sources}
    assert by_kind["hrss"].status == v.SOURCE_OK and by_kind["hrss"].facts[0].value == "350000"
    assert by_kind["housing"].status == v.SOURCE_TIMED_OUT
    assert by_kind["medical-insurance"].status == v.SOURCE_UNAVAILABLE
    assert not report.complete
    # Every question the hub asked on the household's behalf is in the audit log, with its outcome.
    from hub.privacy import load_secrets

    assert app.core.journal.audit is not None
    token = load_secrets(world.sandbox.root).tokenizer.token(PERSON)
    asked = app.core.journal.audit.access_report(token, kinds=("request",))
    outcomes = {(e.asker, e.recipient): e.outcome for e in asked if e.asker == "hub"}
    assert outcomes == {
        ("hub", uscc(HRSS)): "ok",
        ("hub", uscc(HOUSING)): "TIMED_OUT",
        ("hub", uscc(MEDICAL)): "MEMBER_UNAVAILABLE",
    }
    # The hrss answer travels signed by hrss itself, verifiable without trusting the hub:
    (signed,) = report.source_answers
    assert open_envelope(
        signed, StaticKeyRing([world.signer(uscc(HRSS)).public]), required_signers=[uscc(HRSS)]
    ).sender == uscc(HRSS)


def test_minimum_necessary_fields_never_leave_the_node(world: World) -> None:
    adapter = OversharingAdapter()
    node = Node(POLICE, world.signer(POLICE), world.sandbox.hub_key(), adapter)
    app, _ = world.hub(transport=LocalTransport({POLICE: node}))

    def ask(purpose: str) -> v.HouseholdRegistrationResult:
        data = world.request(services.HOUSEHOLD_REGISTRATION, registration_query(), purpose=purpose)
        answer = asyncio.run(app.core.handle(services.HOUSEHOLD_REGISTRATION, data, world.peer))
        return open_envelope(answer, app.directory).body(v.HouseholdRegistrationResult)

    plain = ask("residence.verification")
    assert plain.registered and plain.region_code == "130629"
    assert not plain.members and not plain.household_id, "fields outside the purpose's allow-list are dropped"
    full = ask("dibao.application")  # this purpose needs the household composition
    assert full.household_id and len(full.members) == 1


def test_invalid_id_numbers_are_refused_at_the_edge_naming_the_field(world: World) -> None:
    app, mock = world.hub()
    bad = v.HouseholdRegistrationQuery(person=v.Person(id_number="110105194912310021"))
    with pytest.raises(HubError) as raised:
        asyncio.run(
            app.core.handle(
                services.HOUSEHOLD_REGISTRATION, world.request(services.HOUSEHOLD_REGISTRATION, bad), world.peer
            )
        )
    assert raised.value.reason == "INVALID_ARGUMENT" and raised.value.metadata["field"] == "person.id_number"
    assert "110105194912310021" not in str(raised.value)
    assert mock.calls == []


def _consent_rows(app: HubApp) -> int:
    from sqlalchemy import func, select

    from hub.store.models import ConsentRow

    with app.store.session() as session:
        return int(session.scalar(select(func.count()).select_from(ConsentRow)) or 0)


def test_a_consent_registration_commits_with_its_audit_entries(world: World) -> None:
    app, _ = world.hub()
    audit = app.core.journal.audit
    assert audit is not None
    consent_ref = consent(world, app, scopes=("hrss",))
    entries = [audit.entry(seq) for seq in range(audit.size())]
    assert [(e.record.kind, e.record.service) for e in entries] == [
        ("request", services.CONSENT_REGISTER),
        ("response", services.CONSENT_REGISTER),
    ]
    assert _consent_rows(app) == 1 and consent_ref


def test_a_consent_registration_whose_audit_append_fails_leaves_nothing(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hub.audit import AuditLog

    app, _ = world.hub()
    audit = app.core.journal.audit
    assert audit is not None

    def broken(*args: object, **kwargs: object) -> list[int]:
        raise OSError("the audit log cannot be written")

    monkeypatch.setattr(AuditLog, "append_on", broken)
    with pytest.raises(OSError):
        consent(world, app, scopes=("hrss",))
    monkeypatch.undo()
    assert _consent_rows(app) == 0, "the authorisation must not be stored without its audit entries"
    assert audit.size() == 0
    # and the message id was not used up: the same kind of registration goes through afterwards
    consent(world, app, scopes=("hrss",))
    assert _consent_rows(app) == 1 and audit.size() == 2


def test_a_refused_consent_registration_leaves_no_trace(world: World) -> None:
    app, _ = world.hub()
    audit = app.core.journal.audit
    assert audit is not None
    assert reason_of(lambda: consent(world, app, scopes=("hrss",), days=-1)) == "INVALID_ARGUMENT"
    assert _consent_rows(app) == 0 and audit.size() == 0


def test_with_the_audit_log_on_the_log_is_the_replay_memory(world: World) -> None:
    """One durable trace per accepted request: its entry. A second hub process (a fresh app on the same
    database, nothing in memory) refuses the same message, and no ``seen_messages`` row was written."""
    from sqlalchemy import func, select

    from hub.errors import Replayed
    from hub.policy import remembered_ids
    from hub.store.models import SeenMessageRow

    first, _ = world.hub()
    data = world.request(services.HOUSEHOLD_REGISTRATION, registration_query())
    asyncio.run(first.core.handle(services.HOUSEHOLD_REGISTRATION, data, world.peer))
    second, mock = world.hub()
    with pytest.raises(Replayed):
        asyncio.run(second.core.handle(services.HOUSEHOLD_REGISTRATION, data, world.peer))
    assert mock.calls == [], "the replay was refused before the member was asked"
    with first.store.session() as session:
        assert session.scalar(select(func.count()).select_from(SeenMessageRow)) == 0
        message_id = open_envelope(Envelope.FromString(data), first.directory).header.message_id
        assert remembered_ids(session) == {message_id}


def test_two_processes_settling_one_request_at_once_log_it_once(world: World) -> None:
    """Both pass the read check (neither has committed yet); the id is settled under the log's lock."""
    from hub.errors import Replayed

    first, _ = world.hub()
    second, _ = world.hub()
    data = world.request(services.HOUSEHOLD_REGISTRATION, registration_query())
    opened = [app.core.admit(services.HOUSEHOLD_REGISTRATION, data, world.peer) for app in (first, second)]
    for app, request in zip((first, second), opened, strict=True):
        app.core.journal.check_fresh(request)  # both fresh: nothing is committed yet
    asyncio.run(first.core.journal.settle(opened[0], None, "ok", [PERSON]))
    with pytest.raises(Replayed):
        asyncio.run(second.core.journal.settle(opened[1], None, "ok", [PERSON]))
    audit = first.core.journal.audit
    assert audit is not None and audit.size() == 1, "the loser wrote nothing"


def test_a_source_answering_unreadable_bytes_is_reported_and_the_others_still_answer(world: World) -> None:
    app, _ = world.hub(transport=garbled_nodes(world))
    ref = consent(world, app, scopes=("hrss", "housing"))
    report = check(world, app, ref, sources=("hrss", "housing"))
    by_kind = {s.source: s for s in report.sources}
    assert by_kind["hrss"].status == v.SOURCE_OK
    assert by_kind["housing"].status == v.SOURCE_UNAVAILABLE and "not a readable envelope" in by_kind["housing"].detail
    assert not report.complete


@pytest.mark.parametrize("deadline_ms", [-1, 60_001, 2_000_000_000])
def test_a_household_check_deadline_outside_its_range_is_refused_naming_the_field(
    world: World, deadline_ms: int
) -> None:
    app, _ = world.hub(transport=garbled_nodes(world))
    ref = consent(world, app, scopes=("hrss",))
    with pytest.raises(HubError) as refused:
        check(world, app, ref, sources=("hrss",), deadline_ms=deadline_ms)
    assert refused.value.reason == "INVALID_ARGUMENT" and refused.value.field == "deadline_ms"
