"""Edge validation of request bodies: every ID number and region code is checked before routing.

A bad value is refused at the hub with ``INVALID_ARGUMENT`` naming the field (``persons[1].id_number``),
so no agency is asked a question it could not answer. Legacy 15-digit numbers are accepted here
(the answering adapter upgrades them); the signed payload is never rewritten.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator

from google.protobuf.message import Message as ProtoMessage
from google.protobuf.timestamp_pb2 import Timestamp

from hub import services
from hub.envelope import to_datetime
from hub.errors import InvalidArgument
from hub.identifiers import validate_id_number, validate_region_code
from hub.v1 import audit_pb2
from hub.v1 import verification_pb2 as v

Validator = Callable[[ProtoMessage], list[str]]


#: The range a ``google.protobuf.Timestamp`` may hold: 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999999999Z.
EARLIEST_SECONDS, LATEST_SECONDS = -62_135_596_800, 253_402_300_799

#: The longest a household check may ask the hub to wait for one source: a registry slower than this is down
#: for the asker's purposes, and an unbounded wait would hold the call and its fan-out open for days.
MAX_SOURCE_DEADLINE_MS = 60_000


def check_timestamp(stamp: Timestamp, field: str) -> None:
    """Refuse a Timestamp outside years 1-9999 with ``INVALID_ARGUMENT`` naming ``field``.

    A signed message can carry any int64 there, and converting such a value to a ``datetime`` raises a bare
    ``ValueError`` that would escape as gRPC UNKNOWN. Two integer comparisons, cheap enough for every header.
    """
    if not (EARLIEST_SECONDS <= stamp.seconds <= LATEST_SECONDS and 0 <= stamp.nanos <= 999_999_999):
        raise InvalidArgument(field, "a time between the years 1 and 9999 is required")


def moment(stamp: Timestamp, field: str) -> dt.datetime:
    """``stamp`` from a request as an aware UTC ``datetime``, or ``InvalidArgument`` naming ``field``."""
    check_timestamp(stamp, field)
    return to_datetime(stamp)


def _ids(pairs: Iterator[tuple[str, str]]) -> list[str]:
    """Validate (field, value) ID pairs; return the normalised 18-digit numbers (the subjects)."""
    return [validate_id_number(value, field) for field, value in pairs]


def _region(field: str, value: str, *, required: bool) -> None:
    if value or required:
        if not value:
            raise InvalidArgument(field, "a region code is required")
        validate_region_code(value, field)


def _household_registration(body: ProtoMessage) -> list[str]:
    assert isinstance(body, v.HouseholdRegistrationQuery)
    return _ids(iter([("person.id_number", body.person.id_number)]))


def _residence_permit(body: ProtoMessage) -> list[str]:
    assert isinstance(body, v.ResidencePermitQuery)
    _region("region_code", body.region_code, required=False)
    return _ids(iter([("person.id_number", body.person.id_number)]))


def _assistance_inquiry(body: ProtoMessage) -> list[str]:
    assert isinstance(body, v.AssistanceInquiry)
    if not body.persons:
        raise InvalidArgument("persons", "name at least one person to ask about")
    _region("household_region_code", body.household_region_code, required=False)
    return _ids((f"persons[{i}].id_number", p.id_number) for i, p in enumerate(body.persons))


def _enrolment_notice(body: ProtoMessage) -> list[str]:
    assert isinstance(body, v.EnrolmentNotice)
    if body.change == v.ENROLMENT_CHANGE_UNSPECIFIED:
        raise InvalidArgument("change", "say whether this is a new enrolment, a change or an exit")
    if body.record.programme == v.PROGRAMME_UNSPECIFIED:
        raise InvalidArgument("record.programme", "name the programme (低保, 特困, ...)")
    _region("record.locality", body.record.locality, required=True)
    if body.record.monthly_amount_fen < 0:
        raise InvalidArgument("record.monthly_amount_fen", "an amount cannot be negative")
    for name in ("since", "until"):  # the answering adapter converts them to dates
        if body.record.HasField(name):
            check_timestamp(getattr(body.record, name), f"record.{name}")
    return _ids(iter([("record.id_number", body.record.id_number)]))


def _household_check(body: ProtoMessage) -> list[str]:
    assert isinstance(body, v.HouseholdCheckRequest)
    if not body.members:
        raise InvalidArgument("members", "name every household member to check")
    if not 0 <= body.deadline_ms <= MAX_SOURCE_DEADLINE_MS:
        raise InvalidArgument(
            "deadline_ms", f"a source's deadline is 0 (the hub's default) to {MAX_SOURCE_DEADLINE_MS:,} ms"
        )
    return _ids((f"members[{i}].id_number", p.id_number) for i, p in enumerate(body.members))


def _access_report(body: ProtoMessage) -> list[str]:
    assert isinstance(body, audit_pb2.AccessReportRequest)
    return _ids(iter([("id_number", body.id_number)]))


VALIDATORS: dict[str, Validator] = {
    services.AUDIT_ACCESS_REPORT: _access_report,
    services.HOUSEHOLD_REGISTRATION: _household_registration,
    services.RESIDENCE_PERMIT: _residence_permit,
    services.ASSISTANCE_INQUIRY: _assistance_inquiry,
    services.ENROLMENT_NOTICE: _enrolment_notice,
    services.HOUSEHOLD_CHECK: _household_check,
}


#: Request body types the hub reads at the edge: what agencies answer, plus the hub's own person-centred RPCs.
REQUEST_TYPES: dict[str, type[ProtoMessage]] = {
    **{service: types[0] for service, types in services.BODY_TYPES.items()},
    services.AUDIT_ACCESS_REPORT: audit_pb2.AccessReportRequest,
}


def subjects(service: str, body: ProtoMessage) -> list[str]:
    """Validate ``body`` for ``service``; return the normalised ID numbers it is about."""
    validator = VALIDATORS.get(service)
    return validator(body) if validator is not None else []
