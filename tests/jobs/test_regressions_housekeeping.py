"""Regressions: a home owned jointly is one home, retention below the legal minimum, answers before a refusal."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from hub import services
from hub.audit import AuditLog
from hub.audit._models import AuditEntryRow
from hub.envelope import SigningKey
from hub.errors import NotGranted
from hub.jobs import CrossCheck, FeedFacts, JobRunner, MemoryFindingSink, RosterEnrolments, RunStatus
from hub.registry import Member
from hub.v1 import feeds_pb2 as fpb
from hub.v1.envelope_pb2 import Envelope
from tests.jobs.conftest import Federation, job_settings, run
from tests.jobs.conftest import roster_row as row


def home(number: str, certificate: str) -> fpb.PropertyRow:
    return fpb.PropertyRow(
        id_number=number,
        certificate_number=certificate,
        region_code="110115",
        property_kind=fpb.PROPERTY_KIND_RESIDENTIAL,
        registered_on="2019-05-01",
        floor_area_cm2=8_000_000,
    )


def test_a_home_owned_jointly_by_a_couple_is_one_home(federation: Federation) -> None:
    """The property feed has a row per owner; the rules count distinct certificates, and so must the re-check."""
    a, spouse = (federation.demo.persons[label].id_number for label in ("A", "A.spouse"))
    federation.properties([home(a, "C-1"), home(spouse, "C-1")])
    facts = FeedFacts(federation.store, federation.secrets.tokenizer)
    found = facts.of([a, spouse])
    assert facts.findings(a, [a, spouse], found) == []
    federation.properties([home(a, "C-1"), home(spouse, "C-1"), home(spouse, "C-2")], version="property-2")
    (second,) = facts.findings(a, [a, spouse], facts.of([a, spouse]))
    assert second.kind == "property" and second.evidence["residential"] == 2


def test_answers_received_before_a_bureau_refuses_are_counted_and_audited(
    federation: Federation, tmp_path: Path
) -> None:
    """The 户籍 police answered, then the 户籍 bureau refused: the item fails, but that answer was received."""
    a = federation.demo.persons["A"].id_number  # 户籍 in 容城县, paid by 大兴区
    federation.roster([row(a, a)])
    transport = federation.transport
    deliver = transport.deliver

    async def refusing(member: Member, service: str, envelope: Envelope, *, timeout: float) -> Envelope:
        if service == services.ASSISTANCE_INQUIRY:
            transport.asked.append((member.member_id, service, ""))
            raise NotGranted("the bureau does not answer this purpose")
        return await deliver(member, service, envelope, timeout=timeout)

    transport.deliver = refusing  # type: ignore[method-assign]
    audit = AuditLog(federation.store, SigningKey.generate("ed25519", "hub"))
    job = CrossCheck(
        federation.questions,
        federation.directory,
        RosterEnrolments(federation.store, federation.secrets.cipher),
        MemoryFindingSink(),
        federation.secrets.tokenizer,
        audit=audit,
    )
    record = run(JobRunner(federation.store, {job.name: job}, job_settings(tmp_path), holder="h").run_now(job.name))
    assert record.status is RunStatus.SUCCEEDED, record.error
    assert (record.report["failed"], record.report["questions"]) == (1, 1)
    assert [service for _, service, _ in transport.asked] == [
        services.HOUSEHOLD_REGISTRATION,
        services.ASSISTANCE_INQUIRY,
    ]
    with federation.store.session() as session:
        responses = session.scalar(
            select(func.count()).select_from(AuditEntryRow).where(AuditEntryRow.kind == "response")
        )
    assert responses == 1  # the police's answer, with the person's token
