"""Shared by the reliability tests: a federation where every in-scope RPC has a good request (``RPCS``), an
exact "nothing was stored" check (``snapshot``), and raw gRPC outcomes (status, ErrorInfo, BadRequest, RetryInfo).

The catalogue world is started once per module on one event loop (``loop``), so a few hundred bad-input
rows cost one start-up, not one each. The hub as a process of its own (killed, restarted, flooded) comes
from ``bench.load``, which the load test shares.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import itertools
import os
import shutil
import uuid
from collections.abc import Callable, Coroutine, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import grpc
import pytest
from google.protobuf.message import Message as ProtoMessage
from google.rpc import error_details_pb2
from grpc_status import rpc_status
from sqlalchemy import func, select, text

from hub import services
from hub.envelope import SigningKey, StaticKeyRing, new_header, open_envelope, reply_header, seal, timestamp
from hub.errors import HubError
from hub.feeds import FEED_PURPOSE
from hub.findings import DatabaseFindingSink
from hub.findings._models import FindingRow
from hub.grpc.client import HubClient
from hub.grpc.server import method_paths
from hub.grpc.status import error_info, from_rpc_error
from hub.identifiers import uscc_check_character
from hub.pki import load_member
from hub.registry import Member
from hub.sandbox import MemberSpec, Sandbox
from hub.store import Store, make_engine
from hub.store.models import Base
from hub.transport import MockTransport
from hub.v1 import admin_pb2, audit_pb2, feeds_pb2, findings_pb2, jobs_pb2
from hub.v1 import verification_pb2 as v
from hub.v1.envelope_pb2 import Envelope, Purpose

T = TypeVar("T")


def uscc(first17: str) -> str:
    """A unified social credit code with its check character (GB 32100)."""
    return first17 + uscc_check_character(first17)


ASKER = "11110115MB0000007E"  # 大兴区民政局: asks everything
POLICE = "11130629MB1234567U"  # 容城县公安局: answers 户籍 and 居住证
CIVIL = "11130629MB0000027U"  # 容城县民政局: answers 函询 and 转接
HRSS = uscc("11110000MB0000040")  # 北京市人社局: a household-check source
REVOKED_KEY = uscc("11110115MB0000099")  # a member whose signing key is revoked
GONE = uscc("11130629MB0000088")  # a revoked member
NEIGHBOUR = uscc("11110108MB0000015")  # 海淀区民政局: another asker, for rate limits
MEDICAL = uscc("11130600MB0000031")  # 保定市医保局: supplies the catalogue's medical-insurance feed
MEDICAL_NEIGHBOUR = uscc("11110000MB0000062")  # 北京市医保局: another medical-insurance supplier
#: Who sends a service's requests by default: a feed comes from a member of its department.
FEED_SERVICES = frozenset({services.FEED_UPLOAD, services.FEED_STATUS})


def default_sender(service: str) -> str:
    return MEDICAL if service in FEED_SERVICES else ASKER


PURPOSE = "dibao.application"
PERSON = "13062919880512001X"
SPOUSE = "440308199901101512"
HUB = "hub"

#: Every service the catalogue's asker is granted (with ``PURPOSE`` only, so another purpose is NOT_GRANTED).
GRANTED = (
    *sorted(services.ROUTED),
    services.HOUSEHOLD_CHECK,
    services.CONSENT_REGISTER,
    services.CONSENT_REVOKE,
    services.ADMIN_LIST_MEMBERS,
    services.ADMIN_ADD_MEMBER,
    services.ADMIN_GRANT,
    services.ADMIN_REVOKE,
    services.AUDIT_LATEST_CHECKPOINT,
    services.AUDIT_INCLUSION_PROOF,
    services.AUDIT_CONSISTENCY_PROOF,
    services.AUDIT_ACCESS_REPORT,
    services.JOBS_LIST,
    services.JOBS_HISTORY,
    services.JOBS_RUN_NOW,
    services.FEED_UPLOAD,
    services.FEED_STATUS,
    services.FINDINGS_RUN,
    services.FINDINGS_LIST,
    services.FINDINGS_REVIEW,
    services.FINDINGS_EXPORT,
)

#: Answers a member gives through the mock transport, per service.
ANSWERS: dict[str, Callable[[], ProtoMessage]] = {
    services.HOUSEHOLD_REGISTRATION: lambda: v.HouseholdRegistrationResult(registered=True, region_code="130629"),
    services.RESIDENCE_PERMIT: lambda: v.ResidencePermitResult(valid=True, address_region_code="110115"),
    services.ASSISTANCE_INQUIRY: lambda: v.AssistanceAnswer(not_found=[SPOUSE]),
    services.ENROLMENT_NOTICE: lambda: v.EnrolmentAck(recorded=True, reference="RC-1"),
    services.HOUSEHOLD_CHECK: lambda: v.SourceReport(facts=[v.SourceFact(id_number=PERSON, name="wage", value="1")]),
}


def members() -> list[MemberSpec]:
    grants = tuple((service, PURPOSE) for service in GRANTED)
    # A supplier's own client (``FeedUploader``) uploads and resumes under the feed purpose.
    grants += ((services.FEED_UPLOAD, FEED_PURPOSE.code), (services.FEED_STATUS, FEED_PURPOSE.code))
    return [
        MemberSpec(ASKER, "civil-affairs", "大兴区民政局", ("110115",), grants=grants),
        MemberSpec(NEIGHBOUR, "civil-affairs", "海淀区民政局", ("110108",), grants=grants),
        MemberSpec(POLICE, "public-security", "容城县公安局", ("130629",)),
        MemberSpec(CIVIL, "civil-affairs", "容城县民政局", ("130629",)),
        MemberSpec(HRSS, "hrss", "北京市人社局", ("11",)),
        MemberSpec(REVOKED_KEY, "civil-affairs", "a bureau whose key was revoked", ("110108",), grants=grants),
        MemberSpec(GONE, "housing", "a revoked bureau", ("130629",)),
        MemberSpec(MEDICAL, "medical-insurance", "保定市医疗保障局", ("1306",), grants=grants),
        MemberSpec(MEDICAL_NEIGHBOUR, "medical-insurance", "北京市医疗保障局", ("11",), grants=grants),
    ]


# --- the event loop and the database, once per module ---------------------------------------------------


@pytest.fixture(scope="module")
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    """One event loop for a module's tests, so a server started by a module fixture outlives each test."""
    loop = asyncio.new_event_loop()
    try:
        yield loop
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


def drive(loop: asyncio.AbstractEventLoop, coroutine: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    return loop.run_until_complete(asyncio.wait_for(coroutine, timeout))


def truncate_all(url: str) -> None:
    engine = make_engine(url)
    tables = ", ".join(f'"{table.name}"' for table in Base.metadata.sorted_tables)
    with engine.begin() as connection:
        connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def module_database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Like the shared ``database_url``, for a whole module: a copy of the migrated SQLite template, or the
    session's PostgreSQL database emptied first."""
    if request.param == "sqlite":
        template: Path = request.getfixturevalue("sqlite_template")
        target = tmp_path_factory.mktemp("reliability-db") / "hub.db"
        shutil.copyfile(template, target)
        return f"sqlite:///{target}"
    url: str = request.getfixturevalue("postgres_url")
    truncate_all(url)
    return url


# --- what a request left behind ---------------------------------------------------------------------------


def snapshot(store: Store) -> dict[str, str]:
    """Row count and a digest of the content of every table: an update shows, not only an insert."""
    result: dict[str, str] = {}
    tables = Base.metadata.sorted_tables
    with store.engine.connect() as connection:
        if store.dialect == "postgresql":  # one round trip: the server digests each table's rows
            parts = [
                f"SELECT '{t.name}', count(*), md5(coalesce(string_agg(r::text, '|' ORDER BY r::text), '')) "
                f'FROM "{t.name}" r'
                for t in tables
            ]
            rows = connection.execute(text(" UNION ALL ".join(parts))).all()
            return {name: f"{count} rows {digest[:12]}" for name, count, digest in rows}
        parts = []  # SQLite: one round trip too, each row spelled with quote() and hashed here
        for t in tables:
            spelled = " || ',' || ".join(f'quote("{c.name}")' for c in t.columns)
            order = ", ".join(f'"{c.name}"' for c in t.primary_key.columns)
            parts.append(
                f"SELECT '{t.name}', (SELECT count(*) FROM \"{t.name}\"), "
                f"(SELECT group_concat(x, '|') FROM (SELECT {spelled} AS x FROM \"{t.name}\" ORDER BY {order}))"
            )
        for name, count, spelled_rows in connection.execute(text(" UNION ALL ".join(parts))).all():
            digest = hashlib.sha256((spelled_rows or "").encode()).hexdigest()[:12]
            result[name] = f"{count} rows {digest}"
    return result


def changed(before: Mapping[str, str], after: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    return {name: (before[name], after[name]) for name in before if before[name] != after.get(name)}


class LeftATrace(AssertionError):
    """A rejected request changed the database (kept apart so a known bug can be ``xfail``-ed on exactly this)."""


# --- raw outcomes of a call -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """A call as the wire saw it: the status, the ErrorInfo reason, BadRequest field, RetryInfo delay."""

    code: grpc.StatusCode
    reason: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    field: str = ""
    retry_delay: float | None = None
    details: str = ""
    answer: bytes = b""
    error: HubError | None = None

    @property
    def ok(self) -> bool:
        return self.code == grpc.StatusCode.OK


def outcome_of(error: grpc.aio.AioRpcError, member: str = HUB) -> Outcome:
    info = error_info(error)
    bad_field, delay = "", None
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status is not None else ():
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            request = error_details_pb2.BadRequest()
            detail.Unpack(request)
            bad_field = request.field_violations[0].field if request.field_violations else ""
        if detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            delay = retry.retry_delay.ToNanoseconds() / 1e9
    return Outcome(
        code=error.code(),
        reason=info.reason if info is not None else "",
        metadata=dict(info.metadata) if info is not None else {},
        field=bad_field,
        retry_delay=delay,
        details=error.details() or "",
        error=from_rpc_error(error, member),
    )


async def call_raw(client: HubClient, service: str, data: bytes, *, timeout: float = 10.0) -> Outcome:
    """Send bytes as they are, unary or (one message) client-streaming as the contract says."""
    try:
        if method_paths().get(service):

            async def one() -> Any:
                yield data

            stream = client.channel.stream_unary(f"/{service}", request_serializer=None, response_deserializer=None)
            answer = await stream(one(), timeout=timeout)
        else:
            unary = client.channel.unary_unary(f"/{service}", request_serializer=None, response_deserializer=None)
            answer = await unary(data, timeout=timeout)
    except grpc.aio.AioRpcError as error:
        return outcome_of(error)
    return Outcome(code=grpc.StatusCode.OK, answer=answer)


# --- the catalogue's world --------------------------------------------------------------------------------


def answering_handler(sandbox: Sandbox) -> Callable[[Member, str, Envelope], Coroutine[Any, Any, Envelope]]:
    """Plays every member's node: checks the hub's counter-signature, answers signed with the member's key."""
    ring = StaticKeyRing([sandbox.hub_key()])
    keys: dict[str, SigningKey] = {}

    async def handler(member: Member, service: str, envelope: Envelope) -> Envelope:
        request = open_envelope(envelope, ring, required_signers=[HUB])
        if member.member_id not in keys:
            keys[member.member_id] = load_member(sandbox.pki_dir, member.member_id).signing_key
        return seal(reply_header(request, sender=member.member_id), ANSWERS[service](), keys[member.member_id])

    return handler


class World:
    """The hub over mutual TLS with a mock transport standing in for every agency node."""

    def __init__(self, root: Path, database_url: str, **overrides: Any) -> None:
        settings: dict[str, Any] = {
            "rate_limits": {"per_member_per_second": 0, "per_purpose_per_second": 0},
            "policy": {"max_message_bytes": 64 * 1024},
            "routing": {"node_deadline_seconds": 2.0},
            "jobs": {"enabled": False},  # no scheduled run may write while a row compares the tables
            **overrides,
        }
        self.sandbox = Sandbox(root, members(), database_url=database_url, settings_overrides=settings)
        self.sandbox.provision()
        self.transport = MockTransport(answering_handler(self.sandbox))
        self._clients: dict[str, HubClient] = {}
        self._keys: dict[str, SigningKey] = {}
        self._serial = itertools.count(1)
        self.consent_ref = ""
        self.max_message_bytes: int = settings["policy"]["max_message_bytes"]

    async def start(self) -> None:
        await self.sandbox.start(transport=self.transport, with_nodes=False)
        registry = self.registry
        registry.revoke_key(self.key(REVOKED_KEY).keyid)
        registry.revoke_member(GONE, "merged into another bureau")
        self.consent_ref = self.register_consent(scopes=("hrss",))
        self.hub.directory.invalidate()
        # One exchange and a signed checkpoint, so the audit RPCs have something to prove.
        query = self.seal(
            services.HOUSEHOLD_REGISTRATION,
            v.HouseholdRegistrationQuery(person=v.Person(id_number=PERSON)),
            recipient="public-security@130629",
        )
        outcome = await self.call(services.HOUSEHOLD_REGISTRATION, query.SerializeToString())
        assert outcome.ok, outcome
        self.hub.core.journal.audit.checkpoint()

    async def restart(self) -> None:
        """Stop the hub and start it again on the same database (clients reconnect)."""
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()
        self.sandbox.clients.clear()
        assert self.sandbox.hub is not None
        await self.sandbox.hub.stop(grace=0.5)
        self.sandbox.hub = None
        await self.sandbox.start(transport=self.transport, with_nodes=False)

    async def stop(self) -> None:
        self._clients.clear()
        await self.sandbox.stop()

    @property
    def hub(self) -> Any:
        assert self.sandbox.hub is not None
        return self.sandbox.hub

    @property
    def registry(self) -> Any:
        return self.hub.registry

    @property
    def store(self) -> Store:
        store: Store = self.hub.store
        return store

    def key(self, member_id: str) -> SigningKey:
        if member_id not in self._keys:
            self._keys[member_id] = load_member(self.sandbox.pki_dir, member_id).signing_key
        return self._keys[member_id]

    def client(self, member_id: str = ASKER) -> HubClient:
        if member_id not in self._clients:
            self._clients[member_id] = self.sandbox.client(member_id)
        return self._clients[member_id]

    def fresh_member_id(self) -> str:
        return uscc(f"11650100MB{next(self._serial):07d}")  # 乌鲁木齐: no fixed member lives there

    def register_consent(self, *, scopes: tuple[str, ...], covered: tuple[str, ...] = (PERSON, SPOUSE)) -> str:
        """An authorisation (核查授权书) registered straight into the hub's consent book."""
        book = self.hub.core.consents
        return str(book.register(ASKER, consent_registration(scopes=scopes, covered=covered)))

    def seal(
        self,
        service: str,
        body: ProtoMessage,
        *,
        recipient: str,
        sender: str | None = None,
        signer: SigningKey | None = None,
        purpose: str = PURPOSE,
        consent_ref: str = "",
        now: dt.datetime | None = None,
        ttl: dt.timedelta = dt.timedelta(minutes=5),
    ) -> Envelope:
        sender = sender or default_sender(service)
        header = new_header(
            sender=sender,
            recipient=recipient,
            service=service,
            purpose=Purpose(code=purpose, legal_basis="社会救助暂行办法 第五十八条"),
            consent_ref=consent_ref,
            now=now,
            ttl=ttl,
        )
        return seal(header, body, signer or self.key(sender))

    async def call(self, service: str, data: bytes, *, as_member: str | None = None, timeout: float = 10.0) -> Outcome:
        return await call_raw(self.client(as_member or default_sender(service)), service, data, timeout=timeout)


def consent_registration(
    *, scopes: tuple[str, ...] = ("hrss",), covered: tuple[str, ...] = (PERSON, SPOUSE), days: int = 30
) -> v.ConsentRegistration:
    return v.ConsentRegistration(
        signer_id_numbers=[covered[0]],
        covered_id_numbers=list(covered),
        scopes=list(scopes),
        valid_until=timestamp(dt.datetime.now(dt.UTC) + dt.timedelta(days=days)),
        document_sha256=hashlib.sha256("扫描件: 核查授权书".encode()).digest(),
    )


@pytest.fixture(scope="module")
def world(
    loop: asyncio.AbstractEventLoop, module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[World]:
    world = World(tmp_path_factory.mktemp("world"), module_database_url)
    drive(loop, world.start())
    try:
        yield world
    finally:
        drive(loop, world.stop())


# --- the catalogue's RPCs: how a good request to each looks ----------------------------------------------


Body = Callable[[World], ProtoMessage]


@dataclass(frozen=True)
class Rpc:
    """One RPC of the catalogue. Feeds, jobs and findings join as further rows of ``RPCS``.

    ``id_field`` / ``region_field`` name where the body carries a citizen ID number / a region code,
    and ``with_id`` / ``with_region`` build the good body with that value replaced.
    """

    service: str
    recipient: str
    body: Body
    answered_by: str = ""
    consent: bool = False
    id_field: str = ""
    with_id: Callable[[World, str], ProtoMessage] | None = None
    region_field: str = ""
    with_region: Callable[[World, str], ProtoMessage] | None = None

    @property
    def name(self) -> str:
        return self.service.removeprefix("hub.v1.")

    def seal(self, world: World, body: ProtoMessage | None = None, **overrides: Any) -> Envelope:
        options: dict[str, Any] = {
            "service": self.service,
            "sender": default_sender(self.service),  # also when ``overrides`` name another service
            "recipient": self.recipient,
            "consent_ref": world.consent_ref if self.consent else "",
        }
        return world.seal(body=body if body is not None else self.body(world), **(options | overrides))


def _person(number: str = PERSON) -> v.Person:
    return v.Person(id_number=number)


def _registration(world: World, number: str = PERSON) -> ProtoMessage:
    return v.HouseholdRegistrationQuery(person=_person(number))


def _permit(world: World, number: str = PERSON, region: str = "110115") -> ProtoMessage:
    return v.ResidencePermitQuery(person=_person(number), region_code=region)


def _inquiry(world: World, number: str = SPOUSE, region: str = "130629") -> ProtoMessage:
    return v.AssistanceInquiry(persons=[_person(PERSON), _person(number)], household_region_code=region)


def _notice(world: World, number: str = PERSON, region: str = "110115") -> ProtoMessage:
    record = v.AssistanceRecord(id_number=number, programme=v.DIBAO, locality=region, monthly_amount_fen=129_000)
    return v.EnrolmentNotice(change=v.NEW_ENROLMENT, record=record, reason="居住地申办")


def _check(world: World, number: str = PERSON) -> ProtoMessage:
    return v.HouseholdCheckRequest(members=[_person(number), _person(SPOUSE)], sources=["hrss"], deadline_ms=2000)


def _consent(world: World, number: str = PERSON) -> ProtoMessage:
    registration = consent_registration()
    registration.signer_id_numbers[0] = number
    return registration


def _add_member(world: World, region: str = "11") -> ProtoMessage:
    return admin_pb2.MemberInfo(
        member_id=world.fresh_member_id(), kind="housing", name="住建局", jurisdictions=[region]
    )


def _revoke_member(world: World) -> ProtoMessage:
    member_id = world.fresh_member_id()
    world.registry.add_member(member_id, kind="housing", name="to be revoked")
    return admin_pb2.RevocationRequest(member_id=member_id, reason="test")


# Feeds (部门数据): a medical-insurance member supplies a one-chunk version, complete in one message.


def settlement(number: str = PERSON, region: str = "130629", n: int = 1) -> feeds_pb2.MedicalSettlementRow:
    """A valid medical-insurance settlement row (June 2025)."""
    return feeds_pb2.MedicalSettlementRow(
        id_number=number,
        settlement_id=f"S{n:08d}",
        region_code=region,
        settled_on="2025-06-10",
        care_kind=feeds_pb2.CARE_KIND_INPATIENT,
        total_fen=100_000,
        fund_paid_fen=60_000,
        out_of_pocket_fen=40_000,
    )


def feed_chunk(
    rows: list[feeds_pb2.MedicalSettlementRow] | None = None,
    *,
    policy: int = feeds_pb2.REJECTION_POLICY_ACCEPT_VALID,
    supplier: str = MEDICAL,
    **meta: Any,
) -> feeds_pb2.FeedChunk:
    """Chunk 0 of a fresh feed version declaring exactly ``rows``: the whole version in one message."""
    rows = [settlement()] if rows is None else rows
    data = feeds_pb2.FeedRows(medical_settlements=feeds_pb2.MedicalSettlementRows(rows=rows)).SerializeToString()
    declared: dict[str, Any] = {
        "department": feeds_pb2.DEPARTMENT_MEDICAL_INSURANCE,
        "kind": feeds_pb2.RECORD_KIND_MEDICAL_SETTLEMENT,
        "supplier": supplier,
        "period_start": "2025-06-01",
        "period_end": "2025-06-30",
        "expected_records": len(rows),
        "policy": policy,
        **meta,
    }
    return feeds_pb2.FeedChunk(
        version_id=f"catalogue-{uuid.uuid4().hex}",
        sequence=0,
        chunk_sha256=hashlib.sha256(data).digest(),
        meta=feeds_pb2.FeedVersionMeta(**declared),
        rows=data,
    )


# Findings (预警线索): a finding raised straight into the hub's table, routed to one bureau.


def raise_finding(world: World, bureau: str = ASKER, locality: str = "110115") -> int:
    """A fresh open finding of ``bureau``; returns its id."""
    sink = DatabaseFindingSink(world.store)
    subject = os.urandom(16)
    assert sink.raise_finding("member_died", subject, bureau, {"died_on": "2025-05-01"}, "catalogue", locality=locality)
    with world.store.session() as session:
        finding_id = session.scalar(select(func.max(FindingRow.id)).where(FindingRow.subject == subject))
    assert finding_id is not None
    return int(finding_id)


def _review(world: World) -> ProtoMessage:
    return findings_pb2.FindingReview(
        finding_id=raise_finding(world), action=findings_pb2.REVIEW_ACTION_START, reviewer="张三"
    )


def _comparison(world: World, region: str = "110115") -> ProtoMessage:
    return findings_pb2.ComparisonRun(region_code=region, as_of="2025-06-30")


RPCS: tuple[Rpc, ...] = (
    Rpc(
        services.HOUSEHOLD_REGISTRATION,
        "public-security@130629",
        _registration,
        answered_by=POLICE,
        id_field="person.id_number",
        with_id=_registration,
    ),
    Rpc(
        services.RESIDENCE_PERMIT,
        "public-security@130629",
        _permit,
        answered_by=POLICE,
        id_field="person.id_number",
        with_id=_permit,
        region_field="region_code",
        with_region=lambda w, r: _permit(w, region=r),
    ),
    Rpc(
        services.ASSISTANCE_INQUIRY,
        "civil-affairs@130629",
        _inquiry,
        answered_by=CIVIL,
        id_field="persons[1].id_number",
        with_id=_inquiry,
        region_field="household_region_code",
        with_region=lambda w, r: _inquiry(w, region=r),
    ),
    Rpc(
        services.ENROLMENT_NOTICE,
        CIVIL,
        _notice,
        answered_by=CIVIL,
        id_field="record.id_number",
        with_id=_notice,
        region_field="record.locality",
        with_region=lambda w, r: _notice(w, region=r),
    ),
    Rpc(
        services.HOUSEHOLD_CHECK,
        HUB,
        _check,
        answered_by=HRSS,
        consent=True,
        id_field="members[0].id_number",
        with_id=_check,
    ),
    Rpc(services.CONSENT_REGISTER, HUB, _consent, id_field="signer_id_numbers[0]", with_id=_consent),
    Rpc(services.CONSENT_REVOKE, HUB, lambda w: v.ConsentRevocation(consent_ref=w.register_consent(scopes=("hrss",)))),
    Rpc(services.ADMIN_LIST_MEMBERS, HUB, lambda w: admin_pb2.ListMembersRequest(kind="public-security")),
    Rpc(
        services.ADMIN_ADD_MEMBER,
        HUB,
        _add_member,
        region_field="jurisdiction",
        with_region=lambda w, r: _add_member(w, region=r),
    ),
    Rpc(
        services.ADMIN_GRANT,
        HUB,
        lambda w: admin_pb2.GrantRequest(member_id=POLICE, service=services.RESIDENCE_PERMIT, purpose_code=PURPOSE),
    ),
    Rpc(services.ADMIN_REVOKE, HUB, _revoke_member),
    Rpc(services.AUDIT_LATEST_CHECKPOINT, HUB, lambda w: audit_pb2.CheckpointRequest()),
    Rpc(services.AUDIT_INCLUSION_PROOF, HUB, lambda w: audit_pb2.InclusionProofRequest(seq=0)),
    Rpc(services.AUDIT_CONSISTENCY_PROOF, HUB, lambda w: audit_pb2.ConsistencyProofRequest(first=1)),
    Rpc(services.JOBS_LIST, HUB, lambda w: jobs_pb2.JobListRequest()),
    Rpc(services.JOBS_HISTORY, HUB, lambda w: jobs_pb2.JobHistoryRequest(limit=5)),
    Rpc(
        services.AUDIT_ACCESS_REPORT,
        HUB,
        lambda w: audit_pb2.AccessReportRequest(id_number=PERSON),
        id_field="id_number",
        with_id=lambda w, n: audit_pb2.AccessReportRequest(id_number=n),
    ),
    # Refused before anything runs in every catalogue row; a started run writes in the background (not replayed).
    Rpc(services.JOBS_RUN_NOW, HUB, lambda w: jobs_pb2.JobRunRequest(name="audit_checkpoint")),
    # Client-streaming: sent as a one-message stream. An ID number or region in a row is not a refusal: the
    # row is rejected and listed in the receipt (see ``test_catalogue.test_bad_value_in_a_feed_row``).
    Rpc(services.FEED_UPLOAD, HUB, lambda w: feed_chunk()),
    Rpc(services.FEED_STATUS, HUB, lambda w: feeds_pb2.FeedStatusQuery(department=feeds_pb2.DEPARTMENT_EDUCATION)),
    Rpc(
        services.FINDINGS_RUN,
        HUB,
        _comparison,
        region_field="region_code",
        with_region=_comparison,
    ),
    Rpc(services.FINDINGS_LIST, HUB, lambda w: findings_pb2.FindingQuery(statuses=[findings_pb2.FINDING_STATUS_OPEN])),
    Rpc(services.FINDINGS_REVIEW, HUB, _review),
    Rpc(
        services.FINDINGS_EXPORT,
        HUB,
        lambda w: findings_pb2.FindingExportRequest(format=findings_pb2.EXPORT_FORMAT_CSV),
    ),
)


def rpc_param(rpc: Rpc) -> Any:
    return pytest.param(rpc, id=rpc.name)
