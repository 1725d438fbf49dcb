"""Request bodies for the adapter tests, one builder per service, over the demo's persons."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Sequence
from typing import Any

from google.protobuf import text_format
from google.protobuf.message import Message

from adapters import Adapter, QueryContext
from hub import services
from hub.v1 import verification_pb2 as pb

ID_PATTERN = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")


def context(service: str, purpose: str = "dibao.application", deadline: float | None = None) -> QueryContext:
    return QueryContext(
        requester="11110115MB0000001X", service=service, purpose_code=purpose, correlation_id="c-1", deadline=deadline
    )


def request(service: str, id_numbers: Sequence[str]) -> Message:
    """A body for ``service`` about ``id_numbers`` (one person for the single-person services)."""
    persons = [pb.Person(id_number=n) for n in id_numbers]
    if service == services.HOUSEHOLD_REGISTRATION:
        return pb.HouseholdRegistrationQuery(person=persons[0])
    if service == services.RESIDENCE_PERMIT:
        return pb.ResidencePermitQuery(person=persons[0], region_code="110115")
    if service == services.ASSISTANCE_INQUIRY:
        return pb.AssistanceInquiry(persons=persons, household_region_code="130629")
    if service == services.ENROLMENT_NOTICE:
        record = pb.AssistanceRecord(id_number=id_numbers[0], programme=pb.DIBAO, locality="110115", status=pb.ACTIVE)
        return pb.EnrolmentNotice(change=pb.NEW_ENROLMENT, record=record, reason="居住地申办")
    if service == services.HOUSEHOLD_CHECK:
        return pb.HouseholdCheckRequest(members=persons)
    raise AssertionError(f"no request builder for {service}")


#: The field an invalid ID number is reported under, per service (first person).
ID_FIELD = {
    services.HOUSEHOLD_REGISTRATION: "person.id_number",
    services.RESIDENCE_PERMIT: "person.id_number",
    services.ASSISTANCE_INQUIRY: "persons[0].id_number",
    services.ENROLMENT_NOTICE: "record.id_number",
    services.HOUSEHOLD_CHECK: "members[0].id_number",
}


def ask(adapter: Adapter, service: str, id_numbers: Sequence[str], purpose: str = "dibao.application") -> Any:
    """The answer body (typed ``Any`` so tests read its fields directly)."""
    return asyncio.run(adapter.answer(request(service, id_numbers), context(service, purpose)))


def answer(adapter: Adapter, body: Message, service: str, **options: Any) -> Any:
    """``adapter.answer(body, context(service, ...))`` run to completion (typed ``Any`` for tests)."""
    return asyncio.run(adapter.answer(body, context(service, **options)))


def ids_in(message: Message) -> set[str]:
    """Every ID-number-like string anywhere in ``message``."""
    return set(ID_PATTERN.findall(text_format.MessageToString(message, as_utf8=True)))


def facts_of(report: pb.SourceReport) -> dict[tuple[str, str], str]:
    """``(id_number, fact name) → value``; fails on a repeated fact."""
    found: dict[tuple[str, str], str] = {}
    for fact in report.facts:
        key = (fact.id_number, fact.name)
        assert key not in found, f"fact {fact.name} repeated"
        found[key] = fact.value
    return found
